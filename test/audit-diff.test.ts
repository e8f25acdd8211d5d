import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';

const require = createRequire(import.meta.url);

/** A tiny npm project: a v3 lockfile with the given packages (name → [version, integrity, extra]). */
async function npmProject(dir: string, pkgs: Record<string, { version: string; integrity?: string; resolved?: string }>) {
  await mkdir(dir, { recursive: true });
  const deps = Object.fromEntries(Object.entries(pkgs).map(([n, p]) => [n, p.version]));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'demo', version: '1.0.0', dependencies: deps }));
  const packages: Record<string, unknown> = { '': { name: 'demo', version: '1.0.0', dependencies: deps } };
  for (const [n, p] of Object.entries(pkgs)) {
    const e: Record<string, unknown> = { version: p.version };
    if (p.integrity) e.integrity = p.integrity;
    if (p.resolved) e.resolved = p.resolved;
    packages[`node_modules/${n}`] = e;
  }
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify({ name: 'demo', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

const sri = (seed: string) => `sha512-${Buffer.from(seed.repeat(64).slice(0, 64)).toString('base64')}`;

describe('aibom audit', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let bom: string;
  beforeAll(async () => {
    work = await tempDir();
    const proj = join(work.dir, 'proj');
    await npmProject(proj, {
      left: { version: '1.0.0', integrity: sri('a') },
      gitdep: { version: '2.0.0', resolved: 'git+ssh://git@example.test/o/r.git#main' },
    });
    bom = join(work.dir, 'bom.json');
    const r = await runCli(['build', proj, '-o', bom]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => work.cleanup());

  it('prints counts and a table that fits 80 columns, without colour off a TTY', async () => {
    const r = await runCli(['audit', bom]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 components: 2 packages');
    expect(r.stdout).toContain('pinned 1, unpinned 1');
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/gitdep@2\.0\.0\s+no/);
  });

  it('--json lists every component with pinned/hashed facts; --filter narrows it', async () => {
    const r = await runCli(['audit', bom, '--json']);
    const j = JSON.parse(r.stdout) as { summary: { total: number }; components: Array<{ name: string; pinned: boolean; unpinnedReason?: string }> };
    expect(j.summary.total).toBe(2);
    const git = j.components.find((c) => c.name === 'gitdep');
    expect(git?.pinned).toBe(false);
    expect(git?.unpinnedReason).toContain('not a commit');
    const f = await runCli(['audit', bom, '--json', '--filter', 'unpinned']);
    expect((JSON.parse(f.stdout) as { components: unknown[] }).components).toHaveLength(1);
    const bad = await runCli(['audit', bom, '--filter', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown --filter');
  });

  it('audits a folder directly and writes markdown', async () => {
    const r = await runCli(['audit', 'examples/agent', '--format', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| kind | name | version | pinned |');
  });

  it('SARIF output validates against the SARIF 2.1.0 schema', async () => {
    const r = await runCli(['audit', bom, '--format', 'sarif']);
    expect(r.code).toBe(0);
    const log = JSON.parse(r.stdout);
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    // The official schema is draft-04 style (`id`); ajv 8 reads the same thing as `$id`.
    delete schema.$schema;
    schema.$id = schema.id;
    delete schema.id;
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    const ok = ajv.validate(schema, log);
    expect(ajv.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The validator is real: a log with a wrong version is rejected.
    expect(ajv.validate(schema, { ...log, version: '9.9.9' })).toBe(false);
  });

  it('a file that is not a BOM is an input error', async () => {
    const r = await runCli(['audit', 'package.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('package.json: not a CycloneDX JSON BOM');
  });
});

describe('BOMs written by other tools', () => {
  const REAL = join(FIXTURES, 'boms-real-world');

  it('audit lists nested components (cyclonedx-npm) and counts distribution digests as hashes', async () => {
    const r = await runCli(['audit', join(REAL, 'cyclonedx-npm-nested.cdx.json'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { summary: { total: number; hashed: number }; components: Array<{ name: string; version: string }> };
    expect(j.components.map((c) => `${c.name}@${c.version}`)).toEqual([
      'bundle-dependencies@1.0.2',
      'ansi-regex@2.0.0',
      'builtin-modules@1.1.1',
      'is-obj@3.0.0',
    ]);
    expect(j.summary).toMatchObject({ total: 4, hashed: 4 });
  });

  it('diff of the nested and the flat layout of one project finds no change', async () => {
    const r = await runCli(['diff', join(REAL, 'cyclonedx-npm-nested.cdx.json'), join(REAL, 'cyclonedx-npm-flat.cdx.json'), '--fail-on', 'suspicious,removed,added']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('no changes');
  });

  it('a nested package whose digest changed between two BOMs is suspicious', async () => {
    const t = await tempDir();
    try {
      const text = await readFile(join(REAL, 'cyclonedx-npm-nested.cdx.json'), 'utf8');
      const tampered = join(t.dir, 'tampered.json');
      await writeFile(tampered, text.replace('c5061b6e0ef8a81775e50f5d66151bf6bf371107', 'ffffffffffffffffffffffffffffffffffffffff'));
      const r = await runCli(['diff', join(REAL, 'cyclonedx-npm-nested.cdx.json'), tampered, '--fail-on', 'suspicious']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/suspicious\s+package\s+ansi-regex@2\.0\.0/);
    } finally {
      await t.cleanup();
    }
  });
});

describe('aibom diff', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let oldBom: string;
  let newBom: string;
  beforeAll(async () => {
    work = await tempDir();
    await npmProject(join(work.dir, 'old'), {
      up: { version: '1.0.0', integrity: sri('u1') },
      down: { version: '2.0.0', integrity: sri('d2') },
      gone: { version: '1.0.0', integrity: sri('g') },
      same: { version: '1.0.0', integrity: sri('s') },
      tampered: { version: '3.1.4', integrity: sri('t-original') },
    });
    await npmProject(join(work.dir, 'new'), {
      up: { version: '1.1.0', integrity: sri('u2') },
      down: { version: '1.9.0', integrity: sri('d1') },
      fresh: { version: '0.1.0', integrity: sri('f') },
      same: { version: '1.0.0', integrity: sri('s') },
      tampered: { version: '3.1.4', integrity: sri('t-evil') },
    });
    oldBom = join(work.dir, 'old.json');
    newBom = join(work.dir, 'new.json');
    expect((await runCli(['build', join(work.dir, 'old'), '-o', oldBom])).code).toBe(0);
    expect((await runCli(['build', join(work.dir, 'new'), '-o', newBom])).code).toBe(0);
  });
  afterAll(() => work.cleanup());

  it('reports added, removed, upgraded, downgraded and the suspicious same-version hash change', async () => {
    const r = await runCli(['diff', oldBom, newBom, '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { changes: Array<{ kind: string; name: string; from?: string; to?: string }> };
    const by = (name: string) => res.changes.find((c) => c.name === name);
    expect(by('up')).toMatchObject({ kind: 'upgraded', from: '1.0.0', to: '1.1.0' });
    expect(by('down')).toMatchObject({ kind: 'downgraded', from: '2.0.0', to: '1.9.0' });
    expect(by('gone')?.kind).toBe('removed');
    expect(by('fresh')?.kind).toBe('added');
    expect(by('tampered')).toMatchObject({ kind: 'suspicious', from: '3.1.4', to: '3.1.4' });
    expect(by('same')).toBeUndefined();
  });

  it('--fail-on suspicious exits 1; identical BOMs exit 0', async () => {
    const r = await runCli(['diff', oldBom, newBom, '--fail-on', 'suspicious']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/! suspicious\s+package\s+tampered@3\.1\.4/);
    const same = await runCli(['diff', oldBom, oldBom, '--fail-on', 'suspicious,downgraded']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no changes');
    const bad = await runCli(['diff', oldBom, newBom, '--fail-on', 'nonsense']);
    expect(bad.code).toBe(2);
  });
});
