import { generateKeyPairSync } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory } from '../src/inventory/index.js';
import { modelsDiscoverer } from '../src/inventory/models/index.js';
import type { Finding } from '../src/inventory/types.js';
import { runGate } from '../src/gate/gate.js';
import { runCli, tempDir } from './helpers/cli.js';
import { ggufBytes, onnxBytes, osSystemPickle, safetensorsBytes, stateDictPickle, torchZipCheckpoint, zipBytes } from './helpers/model-files.js';
import { writeTree } from './helpers/models.js';
import { cleanEnv } from './helpers/sign.js';

/**
 * Pickles hidden from the gate (outside attack report, findings 1, 3, 4, 7):
 * - named like another format (.safetensors, .gguf, .onnx, .h5, .keras...): torch.load and
 *   pickle.load read the bytes, not the name;
 * - in folders the walk skips (node_modules, .git, a virtualenv) below the default models/;
 * - in compressions aibom cannot decode (zstd, lz4...): unscannable, so the gate fails closed;
 * - behind a symbolic link that leaves the scanned folder, or beside a virtualenv's layout.
 * Each through buildInventory / runGate in-process, and one CLI gate run per class.
 */

let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  tmp = await tempDir('aibom-hidden-pickles-');
});
afterAll(() => tmp?.cleanup());

const EVIL = osSystemPickle('id');
const ZSTD = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x1b, 0xd9, 0x00]), Buffer.from('compressed pickle bytes')]);
const ZSTD_SKIPPABLE = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]), ZSTD]);
const LZ4 = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7]), Buffer.from('lz4 block of a joblib pickle')]);
const LZIP = Buffer.concat([Buffer.from('LZIP\x01\x0c', 'latin1'), Buffer.alloc(20, 7)]);
const RAR = Buffer.concat([Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'), Buffer.alloc(20, 1)]);

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(tmp.dir, `p${++n}`);
  await writeTree(dir, { 'package.json': JSON.stringify({ name: 'rel', version: '1.0.0' }), ...files });
  return dir;
}

async function findings(dir: string): Promise<Finding[]> {
  const inv = await buildInventory(dir, { config: undefined }, [modelsDiscoverer]);
  return inv.findings;
}

/** The gate's failures, as `rule subject` strings, for the default policy. */
async function gate(dir: string, policy?: string): Promise<{ passed: boolean; failures: Array<{ rule: string; subject: string; message: string }> }> {
  const opts: Parameters<typeof runGate>[0] = { root: dir };
  if (policy) opts.policy = policy;
  return runGate(opts);
}

const rulesFor = (r: Awaited<ReturnType<typeof gate>>, subject: string) => r.failures.filter((f) => f.subject === subject).map((f) => f.rule);

describe('finding 1: a pickle named like another format is scanned by content', () => {
  const cases: Array<[string, Record<string, string | Buffer>, string]> = [
    ['folder model.safetensors', { 'models/clf/model.safetensors': EVIL, 'models/clf/config.json': '{"architectures":["X"]}' }, 'model:models/clf'],
    ['models/m.safetensors', { 'models/m.safetensors': EVIL }, 'model:models/m.safetensors'],
    ['models/m.gguf', { 'models/m.gguf': EVIL }, 'model:models/m.gguf'],
    ['models/m.onnx', { 'models/m.onnx': EVIL }, 'model:models/m.onnx'],
    ['models/m.h5', { 'models/m.h5': EVIL }, 'model:models/m.h5'],
    ['data/m.keras (outside models/)', { 'data/m.keras': EVIL }, 'model:data/m.keras'],
    ['data/w.safetensors (outside models/)', { 'data/w.safetensors': EVIL }, 'model:data/w.safetensors'],
    ['top-level m.msgpack', { 'm.msgpack': EVIL }, 'model:m.msgpack'],
    ['a torch zip named .h5', { 'models/w.h5': torchZipCheckpoint(EVIL) }, 'model:models/w.h5'],
    ['a zstd stream named .safetensors', { 'models/z.safetensors': ZSTD }, 'model:models/z.safetensors'],
  ];
  for (const [name, files, subject] of cases) {
    it(`${name}: pickle-model and pickle-risky-import fail the default gate`, async () => {
      const dir = await project(files);
      const fs = await findings(dir);
      expect(fs.filter((f) => f.component === subject).map((f) => f.code)).toContain('pickle-disguised');
      const r = await gate(dir);
      expect(r.passed).toBe(false);
      const rules = rulesFor(r, subject);
      expect(rules).toContain('pickle-model');
      expect(rules).toContain('pickle-risky-import');
      expect(r.failures.find((f) => f.subject === subject && /holds a pickle/.test(f.message))?.message).toMatch(/named like .* but holds a pickle/);
    });
  }

  it('an ONNX/pickle polyglot the ONNX parser accepts is still a pickle', async () => {
    // 'J' (BININT) is protobuf field 9, length-delimited: ONNX skips the bytes the pickle runs.
    const payload = Buffer.concat([Buffer.from([0x30]), osSystemPickle('id').subarray(2)]);
    const polyglot = Buffer.concat([Buffer.from([0x4a, 3 + payload.length, 0, 0, 0]), payload, Buffer.from([0x08, 0x08])]);
    const { readOnnx } = await import('../src/inventory/models/onnx.js');
    const dir = await project({ 'models/p.onnx': polyglot });
    expect((await readOnnx(join(dir, 'models', 'p.onnx'))).irVersion).toBe(8);
    const r = await gate(dir);
    expect(rulesFor(r, 'model:models/p.onnx')).toEqual(expect.arrayContaining(['pickle-model', 'pickle-risky-import']));
  });

  it('a benign pickle under a disguise still fails (the disguise is the finding)', async () => {
    const dir = await project({ 'models/m.safetensors': stateDictPickle() });
    const r = await gate(dir);
    expect(rulesFor(r, 'model:models/m.safetensors')).toEqual(expect.arrayContaining(['pickle-model', 'pickle-risky-import']));
  });

  it('real safetensors, GGUF, ONNX and a .keras zip are no pickle', async () => {
    // A header whose length opens with 0x80 0x02 (PROTO 2) sniffs like a pickle: the parser decides.
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(640, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(640n);
    const st = Buffer.concat([len, header, Buffer.alloc(4)]);
    expect([...st.subarray(0, 2)]).toEqual([0x80, 0x02]);
    const dir = await project({
      'models/a/model.safetensors': st,
      'models/a/config.json': '{"architectures":["X"]}',
      'models/b.gguf': ggufBytes({ metadata: [['general.architecture', { type: 'string', value: 'llama' }]], tensors: [] }),
      'models/c.onnx': onnxBytes({ irVersion: 8, opsets: [{ version: 17 }], inputs: [], outputs: [], nodes: [], initializers: [] }),
      'models/d.keras': zipBytes([
        { name: 'config.json', data: Buffer.from('{"class_name":"Sequential"}') },
        { name: 'model.weights.h5', data: Buffer.from('\x89HDF\r\n\x1a\n\0\0\0\0', 'latin1') },
      ]),
      'data/e.keras': zipBytes([{ name: 'metadata.json', data: Buffer.from('{}') }]),
    });
    const fs = await findings(dir);
    expect(fs.filter((f) => /^pickle/.test(f.code)).map((f) => `${f.component} ${f.code}`)).toEqual([]);
  });

  it('CLI: a signed model folder with a pickle named model.safetensors fails the gate', async () => {
    const dir = await project({ 'models/clf/model.safetensors': EVIL, 'models/clf/config.json': '{"architectures":["X"]}' });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const priv = join(dir, '..', `k${n}.pem`);
    const pub = join(dir, 'publisher.pub');
    await writeFile(priv, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
    const s = await runCli(['sign', join(dir, 'models', 'clf'), '--key', priv], { env: cleanEnv() });
    expect(s.code, s.stderr).toBe(0);
    await writeFile(join(dir, 'policy.yaml'), 'version: 1\npublishers:\n  - match: "clf"\n    key: publisher.pub\n');
    const r = await runCli(['gate', '--root', dir, '--policy', join(dir, 'policy.yaml'), '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; subject: string }> };
    const rules = res.failures.filter((f) => f.subject === 'model:models/clf').map((f) => f.rule);
    expect(rules).toContain('pickle-model');
    expect(rules).toContain('pickle-risky-import');
    expect(rules).not.toContain('model-signed');
  });
});

describe('finding 3: nothing is skipped below the default models/ folder', () => {
  const venv = (p: string): Record<string, string | Buffer> => ({
    [`${p}/pyvenv.cfg`]: 'home = /usr/bin\n',
    [`${p}/bin/python`]: '#!/bin/sh\n',
    [`${p}/lib/python3.11/site-packages/.keep`]: '',
  });
  const cases: Array<[string, Record<string, string | Buffer>, string]> = [
    ['models/node_modules/intent.pt', { 'models/node_modules/intent.pt': EVIL }, 'models/node_modules/intent.pt'],
    ['models/.git/intent.pt', { 'models/.git/intent.pt': EVIL }, 'models/.git/intent.pt'],
    ['models/__pycache__/x.pkl', { 'models/__pycache__/x.pkl': EVIL }, 'models/__pycache__/x.pkl'],
    ['a virtualenv layout in models/env', { ...venv('models/env'), 'models/env/clf.pkl': EVIL }, 'models/env/clf.pkl'],
    ['a venv deep in models/', { ...venv('models/env'), 'models/env/lib/python3.11/site-packages/w.pkl': EVIL }, 'models/env/lib/python3.11/site-packages/w.pkl'],
    ['app/models/node_modules/x.pkl (a nested models/)', { 'app/models/node_modules/x.pkl': EVIL }, 'app/models/node_modules/x.pkl'],
    ['plugins/tools/node_modules/w.pkl', { 'plugins/tools/node_modules/w.pkl': EVIL }, 'plugins/tools/node_modules/w.pkl'],
  ];
  for (const [name, files, file] of cases) {
    it(`${name} is scanned and fails the gate`, async () => {
      const dir = await project(files);
      const r = await gate(dir);
      expect(r.passed).toBe(false);
      const mine = r.failures.filter((f) => f.subject.startsWith('model:') && file.startsWith(f.subject.slice('model:'.length)));
      expect(mine.map((f) => f.rule)).toEqual(expect.arrayContaining(['pickle-model', 'pickle-risky-import']));
    });
  }

  it('outside the model and plugin folders the skipped folders stay skipped', async () => {
    const dir = await project({ 'node_modules/x/w.pkl': EVIL, '.git/objects/w.pkl': EVIL });
    const inv = await buildInventory(dir, {}, [modelsDiscoverer]);
    expect(inv.components).toEqual([]);
  });

  it('CLI: models/node_modules/intent.pt fails the gate', async () => {
    const dir = await project({ 'models/node_modules/intent.pt': EVIL });
    const r = await runCli(['gate', '--root', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; subject: string }> };
    // models/node_modules is a model folder under models/ (each subfolder holding weights is one).
    expect(res.failures.filter((f) => f.subject === 'model:models/node_modules').map((f) => f.rule)).toContain('pickle-risky-import');
  });
});

describe('finding 4: a compression aibom cannot decode fails closed', () => {
  const cases: Array<[string, Buffer]> = [
    ['models/clf.pkl.zst', ZSTD],
    ['models/clf.tar.zst', ZSTD],
    ['models/clf.joblib', LZ4],
    ['models/w.bin', LZ4],
    ['models/sub/blob', ZSTD_SKIPPABLE],
    ['models/w.pt', LZIP],
    ['models/w.dat', RAR],
    ['data/clf.pkl.zst', ZSTD],
    ['data/clf.joblib.lz4', LZ4],
  ];
  for (const [file, bytes] of cases) {
    it(`${file}: unscannable, the gate fails and says why`, async () => {
      const dir = await project({ [file]: bytes });
      const fs = await findings(dir);
      const subject = fs.find((f) => f.code === 'pickle-unscanned')?.component;
      expect(subject, JSON.stringify(fs)).toBeDefined();
      expect(file.startsWith(subject!.slice('model:'.length))).toBe(true);
      expect(fs.find((f) => f.code === 'pickle-unscanned')?.message).toMatch(/(compression|archive); aibom does not decode it/);
      expect(fs.some((f) => f.code === 'pickle-not-a-pickle')).toBe(false);
      const r = await gate(dir);
      expect(rulesFor(r, subject!)).toEqual(expect.arrayContaining(['pickle-model', 'pickle-risky-import']));
    });
  }

  it('a zstd file outside model locations, not named like a pickle, is no model', async () => {
    const dir = await project({ 'logs/run.txt.zst': ZSTD, 'assets/bundle.lz4': LZ4 });
    const inv = await buildInventory(dir, {}, [modelsDiscoverer]);
    expect(inv.components).toEqual([]);
  });

  it('CLI: models/clf.pkl.zst fails the gate, naming the compression', async () => {
    const dir = await project({ 'models/clf.pkl.zst': ZSTD });
    const r = await runCli(['gate', '--root', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; subject: string; message: string }> };
    const risky = res.failures.find((f) => f.subject === 'model:models/clf.pkl.zst' && f.rule === 'pickle-risky-import');
    expect(risky?.message).toMatch(/zstd compression; aibom does not decode it/);
  });
});

describe('finding 7: links out of the folder and files beside a virtualenv', () => {
  async function withLink(files: Record<string, string | Buffer>, link: string, target: string): Promise<string> {
    const dir = await project(files);
    await mkdir(join(dir, ...link.split('/').slice(0, -1)), { recursive: true });
    await symlink(target, join(dir, ...link.split('/')));
    return dir;
  }
  const outside = () => {
    const p = join(tmp.dir, `outside${++n}.pkl`);
    return writeFile(p, EVIL).then(() => p);
  };

  it('models/clf.pkl -> a file outside the folder fails model-hashed, saying why', async () => {
    const dir = await withLink({}, 'models/clf.pkl', await outside());
    const r = await gate(dir);
    const f = r.failures.find((x) => x.subject === 'models/clf.pkl');
    expect(f?.rule).toBe('model-hashed');
    expect(f?.message).toMatch(/symbolic link .* leaves the scanned folder/);
  });

  it('a link named like weights outside models/, a broken link, a linked models/ subfolder and models/ itself a link fail too', async () => {
    for (const [link, target] of [
      ['data/w.safetensors', await outside()],
      ['models/gone.pt', join(tmp.dir, 'no-such-file.pt')],
      ['models/clf', tmp.dir],
      ['models', tmp.dir],
      ['app/models', tmp.dir],
    ] as const) {
      const dir = await withLink({}, link, target);
      const r = await gate(dir);
      expect(rulesFor(r, link), link).toContain('model-hashed');
    }
  });

  it('a configured model path that is a link out of the folder fails', async () => {
    const dir = await withLink({ 'aibom.config.json': JSON.stringify({ models: { paths: ['weights/prod'] } }) }, 'weights', tmp.dir);
    const r = await gate(dir);
    expect(rulesFor(r, 'weights')).toContain('model-hashed');
  });

  it('a link in a model folder to a file outside fails the model', async () => {
    const dir = await withLink(
      { 'models/clf/model.safetensors': safetensorsBytes({ w: { dtype: 'F32', shape: [1] } }), 'models/clf/config.json': '{"architectures":["X"]}' },
      'models/clf/extra.bin',
      await outside(),
    );
    const r = await gate(dir);
    expect(r.failures.find((f) => f.subject === 'model:models/clf' && f.rule === 'model-hashed')?.message).toMatch(/symbolic link/);
  });

  it('a pickle anywhere in a virtualenv but its site-packages is scanned', async () => {
    const dir = await project({
      'env/pyvenv.cfg': 'home = /usr/bin\n',
      'env/bin/python': '#!/bin/sh\n',
      'env/bin/clf.pkl': EVIL,
      'env/lib/python3.11/site-packages/dep/w.pkl': EVIL,
      'env/lib/python3.11/w.pt': EVIL,
      'env/clf.pkl': EVIL,
      'env/stash/deep.pt': EVIL,
    });
    await symlink(process.execPath, join(dir, 'env', 'bin', 'python3'));
    const inv = await buildInventory(dir, {}, [modelsDiscoverer]);
    expect(inv.components.map((c) => c.ref).sort()).toEqual(['model:env/bin/clf.pkl', 'model:env/clf.pkl', 'model:env/lib/python3.11/w.pt', 'model:env/stash/deep.pt']);
    expect(inv.findings.find((f) => f.code === 'virtualenv-skipped')?.location?.file).toBe('env');
    // The interpreter link points outside by design: no finding.
    expect(inv.findings.filter((f) => /symlink/.test(f.code))).toEqual([]);
    const r = await gate(dir);
    expect(rulesFor(r, 'model:env/clf.pkl')).toContain('pickle-risky-import');
  });

  it('CLI: a model behind a link out of the folder fails the gate', async () => {
    const dir = await withLink({}, 'models/clf.pkl', await outside());
    const r = await runCli(['gate', '--root', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; subject: string }> };
    expect(res.failures.filter((f) => f.subject === 'models/clf.pkl').map((f) => f.rule)).toEqual(['model-hashed']);
  });
});
