import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.js';
import { runCli, tempDir } from './helpers/cli.js';

describe('aibom audit --format html in a real headless Chromium', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let page: string;
  beforeAll(async () => {
    work = await tempDir();
    page = join(work.dir, 'inventory.html');
    const r = await runCli(['audit', 'examples/agent', '--format', 'html', '-o', page]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => work?.cleanup());

  it('is self-contained, filters, shows the dependency graph, and renders a screenshot', async () => {
    const html = await readFile(page, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    const browser = await launchChromium();
    try {
      const ctx = await browser.newContext();
      const requests: string[] = [];
      ctx.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      const tab = await ctx.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      await tab.goto(`file://${page}`);
      const total = await tab.locator('#inv tbody tr').count();
      expect(total).toBeGreaterThan(10);
      await expect.poll(() => tab.locator('#count').textContent()).toBe(`${total} of ${total} shown`);
      // Filter by text: only the MCP SDK package remains.
      await tab.fill('#q', 'modelcontextprotocol/sdk');
      const visible = await tab.locator('#inv tbody tr:visible').count();
      expect(visible).toBe(1);
      expect(await tab.locator('#count').textContent()).toBe(`1 of ${total} shown`);
      // Selecting it shows its dependencies in the graph section.
      await tab.locator('#inv tbody tr:visible').first().click();
      const deps = await tab.locator('#tree h3').allTextContents();
      expect(deps[0]).toContain('@modelcontextprotocol/sdk');
      expect(deps.some((d) => /^depends on \(\d+\)$/.test(d) && !d.includes('(0)'))).toBe(true);
      await tab.fill('#q', '');
      await tab.selectOption('#kind', 'package');
      expect(await tab.locator('#inv tbody tr:visible').count()).toBe(await tab.locator('#inv tbody tr').filter({ hasText: /^package/ }).count());
      const shot = join(work.dir, 'inventory.png');
      await tab.screenshot({ path: shot, fullPage: false });
      expect((await stat(shot)).size).toBeGreaterThan(5000);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('renders hostile BOM text as text, never as HTML', async () => {
    const { writeFile } = await import('node:fs/promises');
    const bomFile = join(work.dir, 'evil.json');
    await writeFile(
      bomFile,
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        version: 1,
        metadata: { component: { type: 'application', name: '</script><img src=x onerror=alert(1)>' } },
        components: [{ type: 'library', name: '<b id="pwn">x</b>', version: '1' }],
      }),
    );
    const out = join(work.dir, 'evil.html');
    expect((await runCli(['audit', bomFile, '--format', 'html', '-o', out])).code).toBe(0);
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      let dialog = false;
      tab.on('dialog', async (d) => {
        dialog = true;
        await d.dismiss();
      });
      await tab.goto(`file://${out}`);
      expect(await tab.locator('#pwn').count()).toBe(0);
      expect(await tab.locator('#inv tbody td').nth(1).textContent()).toBe('<b id="pwn">x</b>');
      expect(dialog).toBe(false);
    } finally {
      await browser.close();
    }
  });

  it('risks first, fits a laptop screen, n/a where no hash can exist, rows reachable by keyboard', async () => {
    // Built with the example's policy: the web-search plugin's publisher key is pinned.
    const bom = join(work.dir, 'pinned.cdx.json');
    const pinnedPage = join(work.dir, 'pinned.html');
    const b = await runCli(['build', 'examples/agent', '--policy', 'examples/agent/aibom-policy.yaml', '-o', bom]);
    expect(b.code, b.stderr).toBe(0);
    expect((await runCli(['audit', bom, '--format', 'html', '-o', pinnedPage])).code).toBe(0);
    const browser = await launchChromium();
    try {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const tab = await ctx.newPage();
      await tab.goto(`file://${pinnedPage}`);
      // Risks first: a risks section above the table, and risky rows lead the table.
      const risksTop = await tab.locator('#risks').evaluate((e) => e.getBoundingClientRect().top);
      const tableTop = await tab.locator('#inv').evaluate((e) => e.getBoundingClientRect().top);
      expect(risksTop).toBeLessThan(tableTop);
      expect(await tab.locator('#risks li').count()).toBeGreaterThan(0);
      const riskCells = await tab.locator('#inv tbody tr td:nth-child(3)').allTextContents();
      const firstClean = riskCells.indexOf('');
      expect(firstClean).toBeGreaterThan(0);
      expect(riskCells.slice(firstClean).every((t) => t === '')).toBe(true);
      expect(await tab.locator('#inv thead th').allTextContents()).toEqual(['kind', 'name', 'risks', 'version', 'pinned', 'hashed', 'signed', 'provenance', 'license']);
      // Fits: no horizontal scrolling at 1366 px; fingerprints shortened (the full value in the tooltip).
      expect(await tab.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1366);
      const signed = tab.locator('#inv tbody td:nth-child(7)', { hasText: 'key sha256:' }).first();
      expect(await signed.textContent({ timeout: 5000 })).toMatch(/^key sha256:[0-9a-f]{12}…$/);
      expect(await signed.getAttribute('title')).toMatch(/^key sha256:[0-9a-f]{64}$/);
      // n/a for a service: nothing to hash.
      const service = tab.locator('#inv tbody tr', { has: tab.locator('td:first-child', { hasText: /^service$/ }) }).first();
      expect(await service.locator('td:nth-child(6)').textContent()).toBe('n/a');
      // Keyboard: Tab reaches a row, Enter selects it and shows its dependencies.
      await tab.locator('#risky').focus();
      let focused = '';
      for (let i = 0; i < 30 && focused !== 'TR'; i++) {
        await tab.keyboard.press('Tab');
        focused = await tab.evaluate<string>("document.activeElement ? document.activeElement.tagName : ''");
      }
      expect(focused).toBe('TR');
      const name = await tab.evaluate<string>('document.activeElement.cells[1].textContent');
      await tab.keyboard.press('Enter');
      expect(await tab.locator('#tree h3').first().textContent()).toContain(name);
    } finally {
      await browser.close();
    }
  });
});
