/**
 * Time of check vs time of use (issue 10, item 7): after `node --import aibom/register` has
 * verified the plugins, the agent goes on loading modules; every module loaded from a plugin
 * folder must still be the bytes the check verified. Each scenario is an agent that attacks
 * after the check (it stands in for an attacker racing the agent): swap a file, write through
 * a hard link made beforehand, load a file that appeared later, require() instead of import,
 * a plugin import that resolves between the plugin folders and the agent root, a worker.
 * Through the hook (subprocess) and the library (guardPluginLoads, in a subprocess too: hooks
 * are per process), always from the build (dist/): under tsx the loads would be tsx's, not Node's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBom, copyTree, EXAMPLE_AGENT, type KeyFiles, makeKey, signBom } from './helpers/agent-release.js';
import { REPO, tempDir, USE_DIST } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let release: string;
let key: KeyFiles;
let n = 0;

/** The agent: after the check, it runs the attack named by SCENARIO, then loads a plugin and says what happened. */
const AGENT = `import { appendFileSync, writeFileSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
const s = process.env.SCENARIO;
const say = (m) => process.stdout.write(m + '\\n');
try {
  if (s === 'symlink-out') {
    writeFileSync(process.env.OUTSIDE, 'globalThis.pwned = 1; export const tool = { name: "outside" };\\n');
    unlinkSync('plugins/web-search/index.js');
    symlinkSync(process.env.OUTSIDE, 'plugins/web-search/index.js');
  }
  if (s === 'swap') writeFileSync('plugins/web-search/index.js', 'globalThis.pwned = 1; export const tool = { name: "evil" };\\n');
  if (s === 'hardlink') appendFileSync(process.env.HARDLINK, '\\nglobalThis.pwned = 1;\\n');
  if (s === 'late') writeFileSync('plugins/calculator/late.js', 'globalThis.pwned = 1; export const tool = { name: "late" };\\n');
  if (s === 'beside') writeFileSync('plugins/web-search.js', 'globalThis.pwned = 1; export const tool = { name: "beside" };\\n');
  if (s === 'require') writeFileSync('plugins/calculator/helper.cjs', 'globalThis.pwned = 1; module.exports = 1;\\n');
  if (s === 'between') writeFileSync('vendor/index.js', 'globalThis.pwned = 1; export default 1;\\n');
  if (s === 'between2') writeFileSync('vendor/extra.js', 'globalThis.pwned = 1; export default 1;\\n');
  if (s === 'hash-workers') {
    // aibom's folder digest under the hook: a folder over 32 MiB is hashed in its worker threads.
    mkdirSync('big', { recursive: true });
    writeFileSync('big/a.bin', Buffer.alloc(40 * 1024 * 1024, 1));
    const { folderManifest } = await import(process.env.DIGEST_MODULE);
    const m = await folderManifest('big');
    say('hashed ' + m.resources.length + ' file(s): ' + m.resources[0].digest.slice(0, 12));
    process.exit(0);
  }
  if (s.startsWith('worker-')) {
    // After the check: a plugin file swapped, then a worker loads it (from a worker file in
    // another folder, from code, or with its own execArgv).
    writeFileSync('plugins/web-search/index.js', 'globalThis.pwned = 1; export const tool = { name: "evil" };\\n');
    mkdirSync('workers', { recursive: true });
    writeFileSync('workers/w.mjs', "await import('../plugins/web-search/index.js'); process.stdout.write('worker loaded the plugin\\\\n');\\n");
    const url = new URL('./workers/w.mjs', import.meta.url);
    let w;
    try {
      w = s === 'worker-eval' ? new Worker('import(' + JSON.stringify(new URL('./plugins/web-search/index.js', import.meta.url).href) + ')', { eval: true })
        : new Worker(url, s === 'worker-execargv' ? { execArgv: [] } : {});
    } catch (e) { say('worker not started: ' + e.name + ': ' + e.message); process.exit(0); }
    await new Promise((res) => { w.on('error', (e) => { say('worker refused: ' + e.message); res(); }); w.on('exit', () => res()); });
    process.exit(0);
  }
  if (s === 'worker') {
    writeFileSync('plugins/web-search/index.js', 'globalThis.pwned = 1; export const tool = { name: "evil" };\\n');
    const w = new Worker(new URL('./plugins/web-search/index.js', import.meta.url));
    await new Promise((res) => { w.on('error', (e) => { say('worker refused: ' + e.message); res(); }); w.on('exit', () => res()); });
    say('pwned=' + String(globalThis.pwned));
    process.exit(0);
  }
  const m = s === 'late' ? await import('./plugins/calculator/late.js')
    : s === 'beside' ? await import('./plugins/web-search.js')
    : s === 'require' ? { tool: { name: 'helper ' + createRequire(import.meta.url)('./plugins/calculator/helper.cjs') } }
    : s.includes('between') ? await import('./vendor/plugins/tool/index.js')
    : await import('./plugins/web-search/index.js');
  say('loaded ' + m.tool.name);
} catch (e) {
  say('refused: ' + e.name + ': ' + e.message);
}
say('pwned=' + String(globalThis.pwned));
`;

const env = (extra: Record<string, string | undefined> = {}) =>
  cleanEnv({
    AIBOM_CACHE_DIR: join(tmp.dir, 'cache'),
    AIBOM_STATE_DIR: join(tmp.dir, `state-${n}`),
    XDG_CACHE_HOME: undefined,
    AIBOM_CONFIG: undefined,
    AIBOM_ROOT: undefined,
    AIBOM_BUNDLE: undefined,
    AIBOM_TRUSTED_ROOT: undefined,
    AIBOM_CERTIFICATE_IDENTITY: undefined,
    AIBOM_CERTIFICATE_OIDC_ISSUER: undefined,
    AIBOM_VERBOSE: undefined,
    AIBOM_BOM: 'aibom.cdx.json',
    AIBOM_KEY: key.pub,
    AIBOM_POLICY: 'aibom-policy.yaml',
    ...extra,
  });

beforeAll(async () => {
  if (!existsSync(join(BUILT, 'register.js'))) throw new Error('build first (npm run build): these tests run the built hook');
  tmp = await tempDir('aibom-loadhook-');
  key = await makeKey(tmp.dir, 'release');
  release = join(tmp.dir, 'release');
  await copyTree(EXAMPLE_AGENT, release);
  await writeFile(join(release, 'agent.mjs'), AGENT);
  await writeFile(join(release, 'aibom-policy.yaml'), 'version: 1\nrequirePublisherSignature: false\n');
  // A second plugin folder, nested: vendor/ lies between it and the agent root.
  await writeFile(join(release, 'aibom.config.yaml'), 'plugins:\n  paths: [plugins, vendor/plugins]\n');
  await mkdir(join(release, 'vendor', 'plugins', 'tool'), { recursive: true });
  await writeFile(join(release, 'vendor', 'plugins', 'tool', 'package.json'), JSON.stringify({ name: 'tool', version: '1.0.0', type: 'module' }));
  await writeFile(
    join(release, 'vendor', 'plugins', 'tool', 'index.js'),
    "import '../../index.js';\nexport let extra;\ntry { extra = await import('../../extra.js'); } catch (e) { if (e.name === 'ModuleRefusedError') throw e; }\nexport const tool = { name: 'tool' };\n",
  );
  await writeFile(join(release, 'vendor', 'index.js'), 'export default 0;\n');
  await buildBom(release, [], env());
  await signBom(release, key, env());
}, 180_000);

afterAll(async () => {
  await tmp?.cleanup();
});

async function copyRelease(): Promise<string> {
  const dir = join(tmp.dir, `agent-${++n}`);
  await copyTree(release, dir);
  if (USE_DIST) {
    await mkdir(join(dir, 'node_modules'));
    await symlink(REPO, join(dir, 'node_modules', 'aibom'));
  }
  return dir;
}

function run(dir: string, args: string[], extra: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env(extra) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// Always the built hook: under tsx, tsx's own loader compiles and require()s modules outside
// Node's module hooks (see README, threat model), so the check would not see plain Node's loads.
const BUILT = join(REPO, 'dist', 'runtime');
const hook = () => ['--import', USE_DIST ? 'aibom/register' : join(BUILT, 'register.js')];
const runHooked = (dir: string, scenario: string, extra: Record<string, string | undefined> = {}) => run(dir, [...hook(), 'agent.mjs'], { SCENARIO: scenario, ...extra });

/** The same through the library: assertPlugins, then guardPluginLoads, then the agent. */
async function runLibrary(dir: string, scenario: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const lib = USE_DIST ? 'aibom/runtime' : join(BUILT, 'index.js');
  await writeFile(
    join(dir, 'main.mjs'),
    `const { assertPlugins, guardPluginLoads } = await import(${JSON.stringify(lib)});
guardPluginLoads(await assertPlugins({ bom: 'aibom.cdx.json', key: process.env.AIBOM_KEY, policy: 'aibom-policy.yaml' }));
await import('./agent.mjs');
`,
  );
  return run(dir, ['main.mjs'], { SCENARIO: scenario });
}

describe('every module loaded from a plugin folder is checked on the bytes Node evaluates', () => {
  it('honest: the verified plugins load under the hook and the library guard', async () => {
    const dir = await copyRelease();
    const r = await runHooked(dir, 'none');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('loaded web_search\npwned=undefined\n');
    const l = await runLibrary(dir, 'none');
    expect(l.stdout, l.stderr).toBe('loaded web_search\npwned=undefined\n');
    const between = await runHooked(dir, 'none-between');
    expect(between.stdout, between.stderr).toBe('loaded tool\npwned=undefined\n');
  });

  it('a file swapped after the check', async () => {
    const dir = await copyRelease();
    for (const r of [await runHooked(dir, 'swap'), await runLibrary(await copyRelease(), 'swap')]) {
      expect(r.stdout, r.stderr).toMatch(/^refused: ModuleRefusedError: refused to load .*plugins\/web-search\/index\.js: its bytes changed since the start-up check verified them/m);
      expect(r.stdout).toMatch(/pwned=undefined/);
    }
  });

  it('a plugin file replaced after the check by a symbolic link to a file outside the plugin folders', async () => {
    const r = await runHooked(await copyRelease(), 'symlink-out', { OUTSIDE: join(tmp.dir, `outside-${n}.js`) });
    expect(r.stdout, r.stderr).toMatch(/refused: ModuleRefusedError: refused to load .*plugins\/web-search\/index\.js: it resolves through a symbolic link to .*outside-\d+\.js, outside the plugin folders/);
    expect(r.stdout).toMatch(/pwned=undefined/);
  });

  it('a file written later through a hard link made before the check', async () => {
    const dir = await copyRelease();
    const hard = join(tmp.dir, `hardlink-${n}.js`);
    await link(join(dir, 'plugins', 'web-search', 'index.js'), hard);
    const r = await runHooked(dir, 'hardlink', { HARDLINK: hard });
    expect(r.stdout, r.stderr).toMatch(/refused: ModuleRefusedError: .*its bytes changed since the start-up check/);
    expect(r.stdout).toMatch(/pwned=undefined/);
  });

  it('a file that appeared after the check, loaded lazily (import, require, plugins/x.js beside plugins/x/)', async () => {
    for (const scenario of ['late', 'require', 'beside']) {
      const r = await runHooked(await copyRelease(), scenario);
      expect(r.stdout, r.stderr).toMatch(/refused: ModuleRefusedError: .*is in a plugin folder and the start-up check did not verify it/);
      expect(r.stdout).toMatch(/pwned=undefined/);
    }
    const l = await runLibrary(await copyRelease(), 'late');
    expect(l.stdout, l.stderr).toMatch(/refused: ModuleRefusedError: .*did not verify it/);
  });

  it("a plugin's import that resolves between the plugin folders and the agent root: a pinned file changed, an unpinned file planted", async () => {
    const r = await runHooked(await copyRelease(), 'between');
    expect(r.stdout, r.stderr).toMatch(/refused: ModuleRefusedError: refused to load .*vendor\/index\.js: its bytes changed since the start-up check/);
    expect(r.stdout).toMatch(/pwned=undefined/);
    const r2 = await runHooked(await copyRelease(), 'between2');
    expect(r2.stdout, r2.stderr).toMatch(/refused: ModuleRefusedError: refused to load .*vendor\/extra\.js: a plugin's import "\.\.\/\.\.\/extra\.js" resolves between the plugin folders and the agent root/);
    expect(r2.stdout).toMatch(/pwned=undefined/);
  });

  it('a worker started from a file in another folder checks the agent root, not its own folder', async () => {
    const r = await runHooked(await copyRelease(), 'worker-file');
    expect(r.stdout, r.stderr).toMatch(/worker refused: .*start-up check failed in a worker thread/);
    expect(r.stderr).toMatch(/REFUSED plugins\/web-search/);
    expect(r.stdout).not.toMatch(/worker loaded the plugin/);
    // With its own execArgv (no --import), the hook is added back.
    const own = await runHooked(await copyRelease(), 'worker-execargv');
    expect(own.stdout, own.stderr).toMatch(/worker refused: .*start-up check failed in a worker thread/);
    expect(own.stdout).not.toMatch(/worker loaded the plugin/);
  });

  it("aibom's own hashing workers still run under the hook (the one worker from code allowed)", async () => {
    // The digest module itself (what the library's folderManifest is), not the whole library.
    const r = await runHooked(await copyRelease(), 'hash-workers', { DIGEST_MODULE: pathToFileURL(join(REPO, 'dist', 'src', 'digest', 'digest.js')).href });
    expect(r.stdout, r.stderr).toMatch(/^hashed 1 file\(s\): [0-9a-f]{12}$/m);
  });

  it('a worker from code (eval: true), which Node starts without --import, is refused', async () => {
    const r = await runHooked(await copyRelease(), 'worker-eval');
    expect(r.stdout, r.stderr).toMatch(/worker not started: ModuleRefusedError: refused to load a worker from code \(eval: true\): Node starts it without the start-up check and the load-time guard; start the worker from a file/);
    expect(r.stdout).not.toMatch(/pwned=1/);
  });

  it('a worker thread loading a swapped file', async () => {
    const r = await runHooked(await copyRelease(), 'worker');
    expect(r.stdout, r.stderr).toMatch(/worker refused: .*start-up check failed in a worker thread/);
    expect(r.stdout).toMatch(/pwned=undefined/);
  });
});

describe('configuration and trust material only from places nobody else can write (item 6)', () => {
  const bare = { AIBOM_BOM: undefined, AIBOM_KEY: undefined, AIBOM_POLICY: undefined };

  it('aibom.runtime.json in the working directory is never read; the one in the agent root is', async () => {
    const dir = await copyRelease();
    // The attacker's working directory: a config naming their own key (any BOM they sign would pass).
    const evil = join(tmp.dir, `evil-cwd-${n}`);
    await mkdir(evil);
    const attacker = await makeKey(evil, 'attacker');
    await writeFile(join(evil, 'aibom.runtime.json'), JSON.stringify({ bom: join(dir, 'aibom.cdx.json'), key: attacker.pub, root: dir }));
    // Started from the attacker's folder (the hook by path: there is no node_modules there).
    const fromEvil = ['--import', join(BUILT, 'register.js'), join(dir, 'agent.mjs')];
    const r = await run(evil, fromEvil, { ...bare, SCENARIO: 'none' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/start-up check failed: nothing to verify/);
    // The agent root's own config is read, wherever the agent is started from; its folder is the root.
    await writeFile(join(dir, 'aibom.runtime.json'), JSON.stringify({ bom: 'aibom.cdx.json', key: key.pub, policy: 'aibom-policy.yaml' }));
    const ok = await run(evil, fromEvil, { ...bare, SCENARIO: 'none' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('loaded web_search\npwned=undefined\n');
  });

  it('a runtime config others can write is refused, and the agent never runs', async () => {
    const dir = await copyRelease();
    const conf = join(dir, 'aibom.runtime.json');
    await writeFile(conf, JSON.stringify({ bom: 'aibom.cdx.json', key: key.pub, policy: 'aibom-policy.yaml' }));
    await chmod(conf, 0o666);
    const r = await runHooked(dir, 'none', bare);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/aibom\.runtime\.json: refusing the runtime config: anyone can write to it/);
    await chmod(conf, 0o644);
    const viaEnv = await runHooked(dir, 'none', { ...bare, AIBOM_CONFIG: conf });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toBe('loaded web_search\npwned=undefined\n');
  });

  it('a trusted root, release key or policy others can write is refused (hook)', async () => {
    for (const [name, variable] of [
      ['release.pub', 'AIBOM_KEY'],
      ['policy.yaml', 'AIBOM_POLICY'],
      ['trusted_root.json', 'AIBOM_TRUSTED_ROOT'],
    ] as const) {
      const dir = await copyRelease();
      const file = join(dir, name);
      await copyTree(variable === 'AIBOM_KEY' ? key.pub : variable === 'AIBOM_POLICY' ? join(dir, 'aibom-policy.yaml') : join(REPO, 'package.json'), file);
      await chmod(file, 0o646);
      const r = await runHooked(dir, 'none', { [variable]: file });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${name.replace('.', '\\.')}: refusing the (release key|policy|trusted root): anyone can write to it`));
    }
  });
});
