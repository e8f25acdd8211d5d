/**
 * Rollback with reproducible BOMs (no timestamp, no serial): the agent's version stays, only a
 * plugin changes between two signed releases. After the newer one started here, putting back
 * the older signed BOM with its older plugins must be refused (bom-rollback): the state records
 * the BOM's digest, and a different BOM that cannot be proven newer is refused unless the
 * operator accepts that exact BOM. The same BOM re-verified passes.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerifyPluginsResult, verifyPlugins } from '../src/runtime/index.js';
import { buildBom, copyTree, EXAMPLE_AGENT, type KeyFiles, makeKey, signBom } from './helpers/agent-release.js';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let key: KeyFiles;
let n = 0;
const NO_SIGNATURES = 'version: 1\nrequirePublisherSignature: false\n';
const stateOf = (i: number) => join(tmp.dir, `state-${i}`);
const env = (i: number) => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined, AIBOM_STATE_DIR: stateOf(i) });

interface Release {
  bom: Buffer;
  bundle: Buffer;
  manifest: Buffer;
}
let first: { dir: string; r1: Release; r2: Release };

beforeAll(async () => {
  tmp = await tempDir('aibom-reissue-');
  key = await makeKey(tmp.dir, 'release');
  const dir = join(tmp.dir, 'agent');
  await copyTree(EXAMPLE_AGENT, dir);
  await rm(join(dir, 'plugins', 'web-search', 'model.sig'), { force: true });
  await writeFile(join(dir, 'aibom-policy.yaml'), NO_SIGNATURES);
  const manifest = join(dir, 'plugins', 'calculator', '.claude-plugin', 'plugin.json');
  const snap = async (): Promise<Release> => ({
    bom: await readFile(join(dir, 'aibom.cdx.json')),
    bundle: await readFile(join(dir, 'aibom.cdx.json.sigstore.json')),
    manifest: await readFile(manifest),
  });
  await buildBom(dir, ['--reproducible'], env(0));
  await signBom(dir, key, env(0));
  const r1 = await snap();
  // Release 2: the agent keeps 1.4.0, only the calculator moves 1.2.0 -> 1.2.1.
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"version": "1.2.0"', '"version": "1.2.1"'));
  await buildBom(dir, ['--reproducible'], env(0));
  await signBom(dir, key, env(0));
  first = { dir, r1, r2: await snap() };
}, 240_000);

afterAll(async () => {
  await tmp?.cleanup();
});

async function agentAt(rel: Release): Promise<string> {
  const dir = join(tmp.dir, `agent-${++n}`);
  await copyTree(first.dir, dir);
  await put(dir, rel);
  return dir;
}
async function put(dir: string, rel: Release): Promise<void> {
  await writeFile(join(dir, 'aibom.cdx.json'), rel.bom);
  await writeFile(join(dir, 'aibom.cdx.json.sigstore.json'), rel.bundle);
  await writeFile(join(dir, 'plugins', 'calculator', '.claude-plugin', 'plugin.json'), rel.manifest);
}
const check = (dir: string, state: number, acceptBom?: string): Promise<VerifyPluginsResult> =>
  verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, key: key.pub, policy: join(dir, 'aibom-policy.yaml'), env: env(state), ...(acceptBom ? { acceptBom } : {}) });
const sha = async (rel: Release) => (await import('node:crypto')).createHash('sha256').update(rel.bom).digest('hex');

describe('reproducible releases with the same version', () => {
  it('both BOMs are reproducible and carry the same release version', () => {
    const a = JSON.parse(first.r1.bom.toString('utf8'));
    const b = JSON.parse(first.r2.bom.toString('utf8'));
    expect([a.serialNumber, a.metadata.timestamp, b.serialNumber, b.metadata.timestamp]).toEqual([undefined, undefined, undefined, undefined]);
    expect(a.metadata.component.version).toBe(b.metadata.component.version);
    expect(first.r1.bom.equals(first.r2.bom)).toBe(false);
  });

  it('the older signed BOM with its older plugin, after the newer one started: refused bom-rollback (library)', async () => {
    const s = ++n;
    const dir = await agentAt(first.r2);
    expect((await check(dir, s)).ok).toBe(true);
    await put(dir, first.r1);
    const res = await check(dir, s);
    expect(res.ok).toBe(false);
    expect(res.bom.verified).toBe(true);
    expect(res.bom.rollback).toMatch(/is as old as the release that already started here .* but is another BOM, so it cannot be proven newer/);
    expect(res.bom.rollback).toContain(`--accept-bom sha256:${await sha(first.r1)}`);
    expect(res.plugins.length).toBeGreaterThan(0);
    expect(res.plugins.every((p) => p.status === 'refused' && p.reasons[0]!.code === 'bom-rollback')).toBe(true);
  });

  it('the newer BOM after the older one (same version) is refused as well: it cannot be proven newer either', async () => {
    const s = ++n;
    const dir = await agentAt(first.r1);
    expect((await check(dir, s)).ok).toBe(true);
    await put(dir, first.r2);
    expect((await check(dir, s)).bom.rollback).toMatch(/but is another BOM/);
  });

  it('the same BOM re-verified passes, again and again', async () => {
    const s = ++n;
    const dir = await agentAt(first.r2);
    for (let i = 0; i < 3; i++) expect((await check(dir, s)).ok).toBe(true);
    const [file] = await readdir(join(stateOf(s), 'releases'));
    const state = JSON.parse(await readFile(join(stateOf(s), 'releases', file!), 'utf8'));
    expect(state.high.digest).toBe(await sha(first.r2));
  });

  it('accepting that exact BOM lets it start and records it; another digest, or a malformed one, does not', async () => {
    const s = ++n;
    const dir = await agentAt(first.r1);
    expect((await check(dir, s)).ok).toBe(true);
    await put(dir, first.r2);
    expect((await check(dir, s, `sha256:${await sha(first.r1)}`)).bom.rollback).toMatch(/but is another BOM/);
    // A malformed digest is a usage error, never a silent no-op.
    await expect(check(dir, s, 'sha256:not-hex')).rejects.toThrow(/acceptBom \(--accept-bom, AIBOM_ACCEPT_BOM\) must be sha256:<64 hex digits>.*"sha256:not-hex"/);
    expect((await check(dir, s, `sha256:${await sha(first.r2)}`)).ok).toBe(true);
    // Now the mark is release 2: it passes without the flag, and release 1 is refused.
    expect((await check(dir, s)).ok).toBe(true);
    await put(dir, first.r1);
    expect((await check(dir, s)).bom.rollback).toMatch(/but is another BOM/);
  });

  it('a state file from before digests were recorded is refused, not trusted (fail closed)', async () => {
    const s = ++n;
    const dir = await agentAt(first.r2);
    expect((await check(dir, s)).ok).toBe(true);
    const [file] = await readdir(join(stateOf(s), 'releases'));
    await writeFile(join(stateOf(s), 'releases', file!), JSON.stringify({ format: 1, high: { version: '1.4.0' } }));
    await expect(check(dir, s)).rejects.toThrow(/the rollback state does not parse/);
    await writeFile(join(stateOf(s), 'releases', file!), JSON.stringify({ format: 2, high: { version: '1.4.0', digest: 'zz' } }));
    await expect(check(dir, s)).rejects.toThrow(/the rollback state does not parse/);
  });

  it('through the CLI: exit 1 with bom-rollback; --accept-bom with the printed digest starts it', async () => {
    const s = ++n;
    const dir = await agentAt(first.r2);
    const args = ['verify-plugins', '--bom', 'aibom.cdx.json', '--key', key.pub, '--policy', 'aibom-policy.yaml'];
    expect((await runCli(args, { cwd: dir, env: env(s) })).code).toBe(0);
    await put(dir, first.r1);
    const r = await runCli(args, { cwd: dir, env: env(s) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bom-rollback: rollback: this BOM .* but is another BOM/);
    const accepted = await runCli([...args, '--accept-bom', `sha256:${await sha(first.r1)}`], { cwd: dir, env: env(s) });
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    const malformed = await runCli([...args, '--accept-bom', 'sha256:xyz'], { cwd: dir, env: env(s) });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--accept-bom.* must be sha256:<64 hex digits>.*"sha256:xyz"/);
  });
});

describe('the hook reads the acceptance from its environment', () => {
  it('AIBOM_ACCEPT_BOM becomes acceptBom', async () => {
    const { loadRuntimeConfig } = await import('../src/runtime/config.js');
    const digest = `sha256:${'a'.repeat(64)}`;
    const cfg = await loadRuntimeConfig({ AIBOM_BOM: 'aibom.cdx.json', AIBOM_ACCEPT_BOM: digest }, tmp.dir, join(tmp.dir, 'agent.mjs'));
    expect(cfg.options.acceptBom).toBe(digest);
    expect(cfg.options.root).toBe(tmp.dir);
    // Not a digest: refused before anything is checked (the hook exits 2), never ignored.
    const garbage = await loadRuntimeConfig({ AIBOM_BOM: 'aibom.cdx.json', AIBOM_ACCEPT_BOM: 'garbage' }, tmp.dir, join(tmp.dir, 'agent.mjs'));
    const { verifyPlugins } = await import('../src/runtime/verify-plugins.js');
    const err = (await verifyPlugins(garbage.options).catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(/must be sha256:<64 hex digits>.*; got "garbage"/);
  });
});

describe('the high-water mark in-process (RollbackState)', () => {
  const lockOf = (release: { timestamp?: string; version?: string }) => ({
    project: release.version ? { version: release.version } : {},
    plugins: [],
    pluginPaths: [],
    pathFiles: new Map(),
    release: release.timestamp ? { timestamp: release.timestamp } : {},
  });
  const bytes = (s: string) => new TextEncoder().encode(s);
  async function state(dir: string) {
    const { RollbackState } = await import('../src/runtime/rollback.js');
    return RollbackState.open(dir, '/agent', 'identity');
  }

  it('BOMs with neither timestamp nor version: the first is recorded, another is refused unless accepted, the same passes', async () => {
    const { markOf } = await import('../src/runtime/rollback.js');
    const dir = join(tmp.dir, 'unit-1');
    const a = markOf(lockOf({}) as never, bytes('bom A'));
    const b = markOf(lockOf({}) as never, bytes('bom B'));
    expect(await (await state(dir)).refusal(a)).toBeUndefined();
    await (await state(dir)).advance(a);
    expect(await (await state(dir)).refusal(a)).toBeUndefined();
    expect(await (await state(dir)).refusal(b)).toMatch(/cannot be ordered against the release that already started here.*--accept-bom sha256:[0-9a-f]{64}/);
    expect(await (await state(dir)).refusal(b, `sha256:${b!.digest}`)).toBeUndefined();
    await (await state(dir)).advance(b);
    expect(await (await state(dir)).refusal(a)).toMatch(/cannot be ordered/);
    expect(await (await state(dir)).refusal(b)).toBeUndefined();
  });

  it('a newer version moves the mark without acceptance; an older one never does, even when "accepted"', async () => {
    const { markOf } = await import('../src/runtime/rollback.js');
    const dir = join(tmp.dir, 'unit-2');
    const v1 = markOf(lockOf({ version: '1.0.0' }) as never, bytes('v1'));
    const v2 = markOf(lockOf({ version: '1.1.0' }) as never, bytes('v2'));
    await (await state(dir)).advance(v1);
    expect(await (await state(dir)).refusal(v2)).toBeUndefined();
    await (await state(dir)).advance(v2);
    expect(await (await state(dir)).refusal(v1, `sha256:${v1!.digest}`)).toMatch(/is older than the release that already started here/);
    await (await state(dir)).advance(v1);
    expect(await (await state(dir)).refusal(v2)).toBeUndefined();
  });
});
