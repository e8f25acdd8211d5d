/**
 * The folder walk cannot be steered into hiding things: a virtualenv is skipped only when it
 * has a virtualenv's layout, never inside the configured model or plugin folders; a plugin
 * folder named like something the walk skips is still a plugin; a plugin entry that is a
 * symbolic link fails the gate.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory } from '../src/inventory/index.js';
import type { Inventory } from '../src/inventory/types.js';
import { walk } from '../src/inventory/walk.js';
import { runGate } from '../src/gate/gate.js';
import { tempDir } from './helpers/cli.js';
import { osSystemPickle } from './helpers/model-files.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

async function write(path: string, data: string | Buffer) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(tmp.dir, `p${n++}`);
  await write(join(dir, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0' }));
  for (const [rel, data] of Object.entries(files)) await write(join(dir, ...rel.split('/')), data);
  return dir;
}

/** A real virtualenv's layout under `at` (POSIX or Windows). */
function venvLayout(at: string, windows = false): Record<string, string> {
  return windows
    ? { [`${at}/pyvenv.cfg`]: 'home = C:\\Python312\n', [`${at}/Scripts/python.exe`]: 'MZ', [`${at}/Lib/site-packages/six.py`]: '' }
    : { [`${at}/pyvenv.cfg`]: 'home = /usr/bin\n', [`${at}/bin/python`]: '#!', [`${at}/lib/python3.12/site-packages/six.py`]: '' };
}

const pickles = (inv: Inventory) =>
  inv.components.filter((c) => c.properties.some((p) => p.name === 'aibom:serialization' && p.value === 'pickle')).map((c) => c.name);
const plugins = (inv: Inventory) =>
  inv.components.filter((c) => c.properties.some((p) => p.name === 'aibom:kind' && p.value === 'plugin'));

describe('virtualenvs: by layout, not by one marker file or a name', () => {
  it('a lone pyvenv.cfg does not hide its folder', async () => {
    const dir = await project({ 'weights/pyvenv.cfg': 'home = /usr/bin\n', 'weights/model.pkl': osSystemPickle() });
    expect((await walk(dir)).files.some((f) => f.rel === 'weights/model.pkl')).toBe(true);
    expect(pickles(await buildInventory(dir, {})).length).toBeGreaterThan(0);
  });
  it('pyvenv.cfg with bin/python but no site-packages does not hide it', async () => {
    const dir = await project({ 'w/pyvenv.cfg': '', 'w/bin/python': '', 'w/model.pkl': osSystemPickle() });
    expect((await walk(dir)).files.some((f) => f.rel === 'w/model.pkl')).toBe(true);
  });
  it('a folder named venv or .venv without the layout is walked', async () => {
    const dir = await project({ 'venv/model.pkl': osSystemPickle(), '.venv/evil.pkl': osSystemPickle() });
    const files = (await walk(dir)).files.map((f) => f.rel);
    expect(files).toContain('venv/model.pkl');
    expect(files).toContain('.venv/evil.pkl');
  });
  it('a real virtualenv (POSIX or Windows layout, any name) is skipped and reported', async () => {
    const dir = await project({ ...venvLayout('env'), ...venvLayout('winenv', true), 'env/lib/python3.12/site-packages/x.pkl': osSystemPickle() });
    const w = await walk(dir);
    expect(w.files.some((f) => f.rel.startsWith('env/') || f.rel.startsWith('winenv/'))).toBe(false);
    expect(w.findings.filter((f) => f.code === 'virtualenv-skipped').map((f) => f.location?.file).sort()).toEqual(['env', 'winenv']);
  });
  it('a virtualenv inside a configured model path is walked', async () => {
    const dir = await project({
      'aibom.config.json': JSON.stringify({ models: { paths: ['models'] } }),
      ...venvLayout('models/bert/.venv'),
      'models/bert/.venv/model.pkl': osSystemPickle(),
    });
    expect(pickles(await buildInventory(dir, {})).length).toBeGreaterThan(0);
  });
  it('a virtualenv inside the plugin folder is walked (the plugin is recorded)', async () => {
    const dir = await project({ ...venvLayout('plugins/calc'), 'plugins/calc/package.json': JSON.stringify({ name: 'calc', version: '1.0.0' }) });
    expect(plugins(await buildInventory(dir, {})).map((c) => c.name)).toContain('calc');
  });
});

describe('plugin folders named like skipped folders are plugins', () => {
  for (const name of ['venv', '.venv', 'node_modules', '__pycache__', '.git', '.tox']) {
    it(`plugins/${name}`, async () => {
      const dir = await project({ [`plugins/${name}/index.js`]: 'module.exports = 1;\n' });
      expect(plugins(await buildInventory(dir, {})).map((c) => c.properties.find((p) => p.name === 'aibom:install-path')?.value)).toContain(`plugins/${name}`);
    });
  }
  it('in a configured plugin path too', async () => {
    const dir = await project({ 'aibom.config.json': JSON.stringify({ plugins: { paths: ['ext'] } }), 'ext/venv/pyvenv.cfg': '', 'ext/venv/index.js': '' });
    expect(plugins(await buildInventory(dir, {})).map((c) => c.ref)).toContain('plugin:ext/venv');
  });
});

describe('a plugin entry that is a symbolic link fails the gate', () => {
  const cases: Array<[string, (dir: string) => Promise<void>]> = [
    ['to a folder inside the project', async (d) => symlink('../lib/real', join(d, 'plugins', 'linked'))],
    ['to a folder outside the project', async (d) => symlink(tmp.dir, join(d, 'plugins', 'linked'))],
    ['broken', async (d) => symlink('nowhere', join(d, 'plugins', 'linked'))],
    ['a file entry', async (d) => symlink('../lib/real/index.js', join(d, 'plugins', 'linked.js'))],
  ];
  for (const [label, make] of cases) {
    it(label, async () => {
      const dir = await project({ 'lib/real/index.js': 'module.exports = 1;\n', 'plugins/ok/package.json': JSON.stringify({ name: 'ok', version: '1.0.0' }) });
      await make(dir);
      const inv = await buildInventory(dir, {});
      const linked = plugins(inv).find((c) => c.properties.some((p) => p.name === 'aibom:plugin:entry-symlink'));
      expect(linked).toBeDefined();
      const res = await runGate({ root: dir });
      expect(res.failures.some((f) => f.rule === 'plugin-pinned' && /symbolic link/.test(f.message) && f.subject === linked!.ref)).toBe(true);
    });
  }
  it('a plugin path that is itself a link', async () => {
    const dir = await project({ 'lib/real/tool/index.js': '' });
    await symlink('lib/real', join(dir, 'plugins'));
    const res = await runGate({ root: dir });
    expect(res.failures.some((f) => f.rule === 'plugin-pinned' && /symbolic link/.test(f.message))).toBe(true);
  });
  it('followed with --follow-symlinks, still a failure', async () => {
    const dir = await project({ 'lib/real/index.js': '', 'lib/real/package.json': JSON.stringify({ name: 'r', version: '1.0.0' }), 'plugins/ok/index.js': '' });
    await symlink('../lib/real', join(dir, 'plugins', 'linked'));
    const inv = await buildInventory(dir, { followSymlinks: true });
    expect(plugins(inv).some((c) => c.ref === 'plugin:plugins/linked' && c.properties.some((p) => p.name === 'aibom:plugin:entry-symlink'))).toBe(true);
  });
});

describe("inside a plugin's node_modules", () => {
  it('a pickle is found; lockfiles and MCP configs shipped by dependencies are not read as the agent’s', async () => {
    const dir = await project({
      'plugins/calc/package.json': JSON.stringify({ name: 'calc', version: '1.0.0' }),
      'plugins/calc/node_modules/dep/package.json': JSON.stringify({ name: 'dep', version: '1.0.0' }),
      'plugins/calc/node_modules/dep/yarn.lock': 'this is not a yarn lockfile {{{',
      'plugins/calc/node_modules/dep/.mcp.json': JSON.stringify({ mcpServers: { x: { command: 'npx', args: ['evil'] } } }),
      'plugins/calc/node_modules/dep/weights.pkl': osSystemPickle(),
    });
    const inv = await buildInventory(dir, {});
    expect(pickles(inv).length).toBeGreaterThan(0);
    expect(inv.components.some((c) => c.properties.some((p) => p.name === 'aibom:mcp:server'))).toBe(false);
  });
});
