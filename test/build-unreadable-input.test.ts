/**
 * An input the build cannot read fails the build in every entry point: never a BOM that
 * silently lacks the packages of a lockfile (or the settings of a config) and then gets signed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { buildInventory } from '../src/inventory/index.js';
import { runGate } from '../src/gate/gate.js';
import { runCli, tempDir } from './helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

const LOCK = JSON.stringify({
  name: 'a',
  version: '1.0.0',
  lockfileVersion: 3,
  packages: { '': { name: 'a', version: '1.0.0' }, 'node_modules/x': { version: '1.0.0', integrity: `sha512-${'A'.repeat(86)}==` } },
});

async function project(setup: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(tmp.dir, `p${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }));
  await setup(dir);
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<AibomError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AibomError);
  return err as AibomError;
}

const cases: Array<[string, (dir: string) => Promise<void>, RegExp]> = [
  ['a lockfile that is a broken symbolic link', (d) => symlink('missing-lock.json', join(d, 'package-lock.json')), /package-lock\.json.*broken symbolic link/],
  [
    'a lockfile that is a symbolic link out of the folder',
    async (d) => {
      await writeFile(join(tmp.dir, `outside-${n}.json`), LOCK);
      await symlink(join(tmp.dir, `outside-${n}.json`), join(d, 'package-lock.json'));
    },
    /package-lock\.json.*outside/,
  ],
  ['a lockfile that is a named pipe', async (d) => void execFileSync('mkfifo', [join(d, 'yarn.lock')]), /yarn\.lock.*not a regular file/],
  ['a lockfile that is a folder', (d) => mkdir(join(d, 'poetry.lock')), /poetry\.lock.*folder/],
  ['a lockfile that is not JSON', (d) => writeFile(join(d, 'package-lock.json'), '{"lockfileVersion": 3,'), /package-lock\.json/],
  ['a lockfile with duplicate keys', (d) => writeFile(join(d, 'package-lock.json'), LOCK.replace('"lockfileVersion":3', '"lockfileVersion":3,"packages":{}')), /duplicate key "packages"/],
  ['a UTF-16 requirements.txt', (d) => writeFile(join(d, 'requirements.txt'), Buffer.from('requests==2.0.0\n', 'utf16le')), /requirements\.txt.*NUL/],
  ['a config that is a broken symbolic link', (d) => symlink('nowhere.yaml', join(d, 'aibom.config.yaml')), /aibom\.config\.yaml.*not a regular file/],
  ['a config that is a folder', (d) => mkdir(join(d, 'aibom.config.json')), /aibom\.config\.json.*not a regular file/],
  ['a config with duplicate keys', (d) => writeFile(join(d, 'aibom.config.json'), '{"exclude": ["a"], "exclude": []}'), /duplicate key "exclude"/],
];

describe('the library: buildInventory throws a typed error', () => {
  for (const [label, setup, message] of cases) {
    it(label, async () => {
      const dir = await project(setup);
      const e = await rejection(buildInventory(dir, {}));
      expect(e.code).toBe('INPUT');
      expect(`${e.file ?? ''}: ${e.message}`).toMatch(message);
    });
  }
  it('keepGoing returns the inventory with the unreadable input as a fatal finding', async () => {
    const dir = await project((d) => symlink('missing-lock.json', join(d, 'package-lock.json')));
    const inv = await buildInventory(dir, { keepGoing: true });
    expect(inv.findings.some((f) => f.fatal && f.location?.file === 'package-lock.json')).toBe(true);
  });
  it('the gate building from a folder refuses too', async () => {
    const dir = await project((d) => symlink('missing-lock.json', join(d, 'package-lock.json')));
    const e = await rejection(runGate({ root: dir }));
    expect(e.code).toBe('INPUT');
  });
});

describe('the CLI: exit 2 and no output file', () => {
  for (const [label, setup] of [cases[0]!, cases[3]!, cases[7]!]) {
    it(label, async () => {
      const dir = await project(setup);
      const out = join(tmp.dir, `out-${n++}.json`);
      const r = await runCli(['build', dir, '-o', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/aibom: .*(lockfile|config|not a regular file|broken symbolic link)/);
      expect(existsSync(out)).toBe(false);
      const g = await runCli(['gate', '--root', dir]);
      expect(g.code).toBe(2);
    });
  }
});
