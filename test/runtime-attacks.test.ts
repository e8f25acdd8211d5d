/**
 * Attacks on the start-up check around the plugins (issue 10, items 1–3 and 5): what Node can
 * load beside a plugin, configured plugin folders that were absent or empty at build time,
 * renames the model_signing digest cannot see, and exceptions matched on names the attacker
 * writes. Each attack runs through the library and `aibom verify-plugins`; each must be refused
 * for its reason. The release here pins no publisher (the policy does not require one), so
 * nothing but the lock itself stands between the attack and the agent.
 */
import { appendFile, chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PluginResult, type VerifyPluginsResult, verifyPlugins } from '../src/runtime/index.js';
import { buildBom, copyTree, EXAMPLE_AGENT, type KeyFiles, makeKey, signBom } from './helpers/agent-release.js';
import { prop, runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let release: string;
let key: KeyFiles;
let n = 0;
const NO_SIGNATURES = 'version: 1\nrequirePublisherSignature: false\n';

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined, AIBOM_STATE_DIR: join(tmp.dir, `state-${n}`) });

beforeAll(async () => {
  tmp = await tempDir('aibom-attacks-');
  key = await makeKey(tmp.dir, 'release');
  release = join(tmp.dir, 'release');
  await copyTree(EXAMPLE_AGENT, release);
  // Configured plugin folders: one with a plain file beside the plugins, one empty, one absent.
  await appendFile(join(release, 'aibom.config.yaml'), 'plugins:\n  paths: [plugins, empty-plugins, tools/plugins]\n');
  await mkdir(join(release, 'empty-plugins'));
  await writeFile(join(release, 'plugins', 'README.md'), '# Plugins\n');
  // The calculator ships a maintenance script and a non-ASCII (NFC) file name.
  await writeFile(join(release, 'plugins', 'calculator', 'cleanup.js'), 'globalThis.wipe = true; // maintenance: wipes the ledger\n');
  await mkdir(join(release, 'plugins', 'calculator', 'lib'));
  await writeFile(join(release, 'plugins', 'calculator', 'lib', 'r\u00fcnde.js'), 'export const round = (x) => x;\n');
  await writeFile(join(release, 'plugins', 'calculator', 'lib', 'z.js'), 'export const z = 1;\n');
  await rm(join(release, 'plugins', 'web-search', 'model.sig'));
  await writeFile(join(release, 'aibom-policy.yaml'), NO_SIGNATURES);
  await buildBom(release, [], env());
  await signBom(release, key, env());
}, 240_000);

afterAll(async () => {
  await tmp?.cleanup();
});

async function copyRelease(): Promise<string> {
  const dir = join(tmp.dir, `agent-${++n}`);
  await copyTree(release, dir);
  return dir;
}

const check = (dir: string, policy = join(dir, 'aibom-policy.yaml')) =>
  verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, key: key.pub, policy, env: env() });

async function cli(dir: string, policy = 'aibom-policy.yaml'): Promise<{ code: number; json: VerifyPluginsResult }> {
  const r = await runCli(['verify-plugins', '--bom', 'aibom.cdx.json', '--key', key.pub, '--policy', policy, '--json'], { cwd: dir, env: env() });
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as VerifyPluginsResult };
  } catch {
    throw new Error(`no JSON from verify-plugins (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

function plugin(res: VerifyPluginsResult, path: string): PluginResult {
  const p = res.plugins.find((x) => x.path === path);
  if (!p) throw new Error(`no result for ${path}: ${JSON.stringify(res.plugins.map((x) => [x.path, x.status]))}`);
  return p;
}

const codes = (p: PluginResult) => [...new Set(p.reasons.map((r) => r.code))].sort();

/** Refused by the library and the CLI for these reasons; everything else still verified. */
async function expectRefused(dir: string, path: string, expected: string[], message: RegExp, policy?: string): Promise<void> {
  const res = await check(dir, policy);
  expect(res.ok).toBe(false);
  const p = plugin(res, path);
  expect(p.status, JSON.stringify(p)).toBe('refused');
  expect(codes(p)).toEqual(expected);
  expect(p.reasons.map((r) => r.message).join('\n')).toMatch(message);
  for (const other of res.plugins.filter((x) => x.path !== path)) expect(other.status, JSON.stringify(other)).toBe('verified');
  const c = await cli(dir, policy);
  expect(c.code).toBe(1);
  expect(codes(plugin(c.json, path))).toEqual(expected);
}

describe('the honest release', () => {
  it('verifies, and the BOM records every configured plugin folder, present or not, and the files beside the plugins', async () => {
    const res = await check(release);
    expect(res.ok, JSON.stringify(res.plugins)).toBe(true);
    expect(res.plugins.map((p) => [p.path, p.status])).toEqual([
      ['plugins/calculator', 'verified'],
      ['plugins/reports', 'verified'],
      ['plugins/web-search', 'verified'],
    ]);
    const bom = JSON.parse(await readFile(join(release, 'aibom.cdx.json'), 'utf8'));
    const props = bom.metadata.component.properties as Array<{ name: string; value: string }>;
    expect(props.filter((p) => p.name === 'aibom:plugin-path').map((p) => p.value)).toEqual(['empty-plugins', 'plugins', 'tools/plugins']);
    expect(props.filter((p) => p.name === 'aibom:plugin-path-file').map((p) => p.value)).toEqual([
      expect.stringMatching(/^plugins\/README\.md sha256:[0-9a-f]{64}$/),
    ]);
    const calc = bom.components.find((c: { 'bom-ref': string }) => c['bom-ref'] === 'plugin:plugins/calculator');
    expect(prop(calc, 'aibom:files-digest')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(prop(calc, 'aibom:folder-digest')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await cli(release)).code).toBe(0);
  });
});

describe('what Node can load around a plugin (item 1)', () => {
  it('plugins/x.js beside plugins/x/: require("./plugins/x") would load the file first', async () => {
    const dir = await copyRelease();
    await writeFile(join(dir, 'plugins', 'calculator.js'), 'globalThis.pwned = true;\n');
    await expectRefused(dir, 'plugins/calculator.js', ['unlisted'], /plugins\/calculator\.js is a file in a plugin folder.*not pinned/);
  });

  it('a package.json in the plugins folder (a bare import becomes a self-reference; "type" flips)', async () => {
    const dir = await copyRelease();
    await writeFile(join(dir, 'plugins', 'package.json'), JSON.stringify({ name: 'lodash', exports: './evil.js', type: 'commonjs' }));
    await expectRefused(dir, 'plugins/package.json', ['unlisted'], /not pinned/);
  });

  it('node_modules and index files in the plugins folder', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'plugins', 'node_modules', 'lodash'), { recursive: true });
    await writeFile(join(dir, 'plugins', 'node_modules', 'lodash', 'index.js'), 'globalThis.pwned = true;\n');
    await expectRefused(dir, 'plugins/node_modules', ['unlisted'], /deny by default/);
    const dir2 = await copyRelease();
    await writeFile(join(dir2, 'plugins', 'index.mjs'), 'globalThis.pwned = true;\n');
    await expectRefused(dir2, 'plugins/index.mjs', ['unlisted'], /not pinned/);
  });

  it('a pinned file beside the plugins, changed or replaced by a folder', async () => {
    const dir = await copyRelease();
    await appendFile(join(dir, 'plugins', 'README.md'), 'require("child_process")\n');
    await expectRefused(dir, 'plugins/README.md', ['digest-mismatch'], /is not what the BOM pins/);
    const dir2 = await copyRelease();
    await rm(join(dir2, 'plugins', 'README.md'));
    await mkdir(join(dir2, 'plugins', 'README.md'));
    await expectRefused(dir2, 'plugins/README.md', ['digest-mismatch'], /is not what the BOM pins/);
  });

  it('a package.json or node_modules in a folder between the plugins and the agent root', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'tools'));
    await writeFile(join(dir, 'tools', 'package.json'), JSON.stringify({ name: 'x', type: 'module' }));
    await expectRefused(dir, 'tools/package.json', ['unlisted'], /between a plugin folder and the agent root/);
    const dir2 = await copyRelease();
    await mkdir(join(dir2, 'tools', 'node_modules', 'x'), { recursive: true });
    await expectRefused(dir2, 'tools/node_modules', ['unlisted'], /between a plugin folder and the agent root/);
  });
});

describe('configured plugin folders absent or empty at build time (item 2)', () => {
  it('a plugin appearing in a configured folder that was absent', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'tools', 'plugins', 'evil'), { recursive: true });
    await writeFile(join(dir, 'tools', 'plugins', 'evil', 'index.js'), 'globalThis.pwned = true;\n');
    await expectRefused(dir, 'tools/plugins/evil', ['unlisted'], /deny by default/);
  });

  it('a folder or a file appearing in a configured folder that was empty', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'empty-plugins', 'evil'));
    await expectRefused(dir, 'empty-plugins/evil', ['unlisted'], /deny by default/);
    const dir2 = await copyRelease();
    await writeFile(join(dir2, 'empty-plugins', 'evil.js'), 'globalThis.pwned = true;\n');
    await expectRefused(dir2, 'empty-plugins/evil.js', ['unlisted'], /not pinned/);
  });

  it('a configured plugin folder replaced by a file', async () => {
    const dir = await copyRelease();
    await rm(join(dir, 'empty-plugins'), { recursive: true });
    await writeFile(join(dir, 'empty-plugins'), 'x');
    await expectRefused(dir, 'empty-plugins', ['not-a-folder'], /configured plugin folder .* is not a folder/);
  });
});

describe('renames the model_signing digest cannot see (item 3)', () => {
  it('a shipped maintenance script renamed to the entry point (same order, same digests)', async () => {
    const dir = await copyRelease();
    const calc = join(dir, 'plugins', 'calculator');
    await rename(join(calc, 'index.js'), join(calc, 'index.js.bak'));
    await rename(join(calc, 'cleanup.js'), join(calc, 'index.js'));
    await expectRefused(dir, 'plugins/calculator', ['digest-mismatch'], /file names are not what the BOM pins/);
  });

  it('an NFC file name renamed to its NFD twin', async () => {
    const dir = await copyRelease();
    const lib = join(dir, 'plugins', 'calculator', 'lib');
    await rename(join(lib, 'r\u00fcnde.js'), join(lib, 'ru\u0308nde.js'));
    await expectRefused(dir, 'plugins/calculator', ['digest-mismatch'], /file names are not what the BOM pins/);
  });

  it('a BOM without the full-manifest pin is refused, not trusted on the folder digest alone', async () => {
    const dir = await copyRelease();
    const bomFile = join(dir, 'aibom.cdx.json');
    const bom = JSON.parse(await readFile(bomFile, 'utf8'));
    for (const c of bom.components) c.properties = c.properties?.filter((p: { name: string }) => p.name !== 'aibom:files-digest');
    await writeFile(bomFile, JSON.stringify(bom));
    await signBom(dir, key, env());
    const res = await check(dir);
    expect(plugin(res, 'plugins/calculator').reasons.map((r) => r.code)).toContain('not-pinned');
    expect(plugin(res, 'plugins/calculator').reasons.map((r) => r.message).join()).toMatch(/no full manifest/);
  });
});

describe('exceptions bind to what the signed release pinned (item 5)', () => {
  const policy = async (dir: string, exceptions: string) => {
    const f = join(dir, 'exceptions.yaml');
    await writeFile(f, `${NO_SIGNATURES}exceptions:\n${exceptions}`);
    return f;
  };
  it('a glob exception with the default rules never admits an unlisted folder', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'plugins', 'evil'));
    await writeFile(join(dir, 'plugins', 'evil', 'index.js'), 'globalThis.pwned = true;\n');
    for (const component of ['"plugins/*"', '"*"', 'evil', '"plugin:plugins/evil"']) {
      const p = await policy(dir, `  - component: ${component}\n    reason: tolerated\n    expires: "2999-12-31"\n`);
      await expectRefused(dir, 'plugins/evil', ['unlisted'], /deny by default/, p);
    }
    const star = await policy(dir, `  - component: "plugins/evil"\n    rules: ["*"]\n    reason: tolerated\n    expires: "2999-12-31"\n`);
    await expectRefused(dir, 'plugins/evil', ['unlisted'], /deny by default/, star);
  });

  it('an exception naming plugin-unlisted explicitly, for that path, admits it', async () => {
    const dir = await copyRelease();
    await mkdir(join(dir, 'plugins', 'scratch'));
    const p = await policy(dir, `  - component: "plugins/scratch"\n    rules: [plugin-unlisted]\n    reason: developer scratch folder\n    expires: "2999-12-31"\n`);
    const res = await check(dir, p);
    expect(plugin(res, 'plugins/scratch').status).toBe('excepted');
    expect(res.ok).toBe(true);
  });

  it('a manifest name copying an excepted plugin does not inherit its exception', async () => {
    const dir = await copyRelease();
    // The attacker's plugin got into a release with the excepted plugin's name.
    await mkdir(join(dir, 'plugins', 'calc-helper', '.claude-plugin'), { recursive: true });
    await writeFile(join(dir, 'plugins', 'calc-helper', '.claude-plugin', 'plugin.json'), JSON.stringify({ name: 'calculator', version: '1.2.0' }));
    await writeFile(join(dir, 'plugins', 'calc-helper', 'index.js'), 'globalThis.pwned = true;\n');
    await buildBom(dir, [], env());
    await signBom(dir, key, env());
    await appendFile(join(dir, 'plugins', 'calc-helper', 'index.js'), '// changed after release\n');
    const p = await policy(dir, `  - component: calculator\n    rules: [plugin-digest]\n    reason: hotfix under review\n    expires: "2999-12-31"\n`);
    const res = await check(dir, p);
    const evil = plugin(res, 'plugins/calc-helper');
    expect(evil.status).toBe('refused');
    expect(evil.exception).toBeUndefined();
    // By path, the exception binds to exactly the pinned plugin.
    const byPath = await policy(dir, `  - component: "plugin:plugins/calc-helper"\n    rules: [plugin-digest]\n    reason: hotfix under review\n    expires: "2999-12-31"\n`);
    expect(plugin(await check(dir, byPath), 'plugins/calc-helper').status).toBe('excepted');
  });
});

describe('whole-release rollback (item 4)', () => {
  /** The release, then a newer one (1.5.0, the calculator changed) built and signed in the same folder; returns the older BOM's files. */
  async function twoReleases(): Promise<{ dir: string; old: { bom: Buffer; bundle: Buffer; calc: Buffer } }> {
    const dir = await copyRelease();
    const old = {
      bom: await readFile(join(dir, 'aibom.cdx.json')),
      bundle: await readFile(join(dir, 'aibom.cdx.json.sigstore.json')),
      calc: await readFile(join(dir, 'plugins', 'calculator', 'index.js')),
    };
    const pkg = join(dir, 'package.json');
    await writeFile(pkg, (await readFile(pkg, 'utf8')).replace('"version": "1.4.0"', '"version": "1.5.0"'));
    await appendFile(join(dir, 'plugins', 'calculator', 'index.js'), '// 1.5.0: fixes the rounding hole\n');
    await buildBom(dir, [], env());
    await signBom(dir, key, env());
    return { dir, old };
  }
  const putBack = async (dir: string, old: { bom: Buffer; bundle: Buffer; calc: Buffer }) => {
    await writeFile(join(dir, 'aibom.cdx.json'), old.bom);
    await writeFile(join(dir, 'aibom.cdx.json.sigstore.json'), old.bundle);
    await writeFile(join(dir, 'plugins', 'calculator', 'index.js'), old.calc);
  };

  it('an older signed BOM with its older plugins, after the newer release started here: library and CLI', async () => {
    const { dir, old } = await twoReleases();
    expect((await check(dir)).ok).toBe(true);
    await putBack(dir, old);
    const res = await check(dir);
    expect(res.ok).toBe(false);
    expect(res.bom.verified).toBe(true);
    expect(res.bom.rollback).toMatch(/^rollback: this BOM \(version 1\.4\.0, made .*\) is older than the release that already started here \(version 1\.5\.0, made /);
    expect(res.plugins.every((p) => p.status === 'refused' && p.reasons[0]!.code === 'bom-rollback')).toBe(true);
    const c = await cli(dir);
    expect(c.code).toBe(1);
    expect(c.json.bom.rollback).toMatch(/older than the release that already started here/);
    // The newer release still starts; the mark never moves down.
    const again = await check(dir);
    expect(again.ok).toBe(false);
  });

  it('the same timestamp but another BOM is refused; the same BOM again passes', async () => {
    const dir = await copyRelease();
    expect((await check(dir)).ok).toBe(true);
    expect((await check(dir)).ok).toBe(true);
    const bomFile = join(dir, 'aibom.cdx.json');
    const bom = JSON.parse(await readFile(bomFile, 'utf8'));
    bom.serialNumber = 'urn:uuid:00000000-0000-4000-8000-000000000000';
    await writeFile(bomFile, JSON.stringify(bom));
    await signBom(dir, key, env());
    expect((await check(dir)).bom.rollback).toMatch(/is as old as the release that already started here .* but is another BOM/);
  });

  it('policy minimums hold on a fresh machine: release.minVersion and release.notBefore', async () => {
    const dir = await copyRelease();
    const p = join(dir, 'minimums.yaml');
    await writeFile(p, `${NO_SIGNATURES}release:\n  key: ${key.pub}\n  minVersion: 1.5.0\n`);
    const res = await check(dir, p);
    expect(res.ok).toBe(false);
    expect(res.bom.rollback).toMatch(/this BOM is release 1\.4\.0, below release\.minVersion 1\.5\.0 in the policy/);
    expect((await cli(dir, p)).code).toBe(1);
    await writeFile(p, `${NO_SIGNATURES}release:\n  key: ${key.pub}\n  notBefore: "2999-01-01T00:00:00Z"\n`);
    expect((await check(dir, p)).bom.rollback).toMatch(/before release\.notBefore 2999-01-01T00:00:00Z in the policy: an older release/);
    await writeFile(p, `${NO_SIGNATURES}release:\n  key: ${key.pub}\n  minVersion: 1.4.0\n  notBefore: "2020-01-01T00:00:00Z"\n`);
    expect((await check(dir, p)).ok).toBe(true);
  });

  it('a rollback state that others can write, or that does not parse, is refused (fail closed)', async () => {
    const dir = await copyRelease();
    const state = join(tmp.dir, 'shared-state');
    await mkdir(state);
    await chmod(state, 0o777);
    await expect(verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, key: key.pub, policy: join(dir, 'aibom-policy.yaml'), env: env(), stateDir: state })).rejects.toThrow(
      /refusing the rollback state folder: anyone can write to it/,
    );
    await chmod(state, 0o700);
    expect((await verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, key: key.pub, policy: join(dir, 'aibom-policy.yaml'), env: env(), stateDir: state })).ok).toBe(true);
    const [file] = await readdir(join(state, 'releases'));
    expect((await stat(join(state, 'releases', file!))).mode & 0o777).toBe(0o600);
    await writeFile(join(state, 'releases', file!), '{"format":1,"high":');
    await expect(verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, key: key.pub, policy: join(dir, 'aibom-policy.yaml'), env: env(), stateDir: state })).rejects.toThrow(
      /the rollback state does not parse/,
    );
  });
});

describe('trust material (item 6)', () => {
  it('a planted cached trusted root (no TUF chain from the built-in root) is refused: library and CLI', async () => {
    const dir = await copyRelease();
    const cache = join(tmp.dir, 'cache', 'trust');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'trusted_root.json'), await readFile(join(dir, 'aibom.cdx.json.sigstore.json')));
    try {
      const res = await check(dir);
      expect(res.ok).toBe(false);
      expect(res.bom.verified).toBe(false);
      expect(res.bom.reason).toMatch(/the cached trusted root does not verify against the TUF metadata anchored in the built-in Sigstore root/);
      const c = await cli(dir);
      expect(c.code).toBe(1);
      expect(c.json.bom.reason).toMatch(/does not verify against the TUF metadata/);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
