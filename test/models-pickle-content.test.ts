import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory } from '../src/inventory/index.js';
import { modelsDiscoverer } from '../src/inventory/models/index.js';
import type { Component, Finding } from '../src/inventory/types.js';
import { tempDir } from './helpers/cli.js';
import { zipBytes } from './helpers/model-files.js';
import { writeTree } from './helpers/models.js';
import { frame, global, long1, proto, reduce1, STOP, str } from './helpers/pickle-bytes.js';

/**
 * Pickles wherever they hide (issue: model scanning you can trust). Two parts:
 * - the labelled corpus test/corpus/pickles (made by scripts/pickle-corpus/generate.py, each
 *   sample loaded for real with a canary payload): every malicious sample fails the gate's
 *   pickle rule (a high or critical pickle finding), no benign one does;
 * - crafted files for each attack class and each false alarm, in one scanned folder.
 */

const CORPUS = join(import.meta.dirname, 'corpus', 'pickles');
const blocking = (fs: Finding[]) => fs.filter((f) => /^pickle/.test(f.code) && (f.severity === 'high' || f.severity === 'critical'));

async function scan(dir: string) {
  const inv = await buildInventory(dir, { config: {} }, [modelsDiscoverer]);
  const byModel = new Map<string, Finding[]>();
  for (const f of inv.findings) {
    if (!f.component?.startsWith('model:')) continue;
    const rel = f.component.slice('model:'.length);
    byModel.set(rel, [...(byModel.get(rel) ?? []), f]);
  }
  const comps = new Map<string, Component>(inv.components.map((c) => [c.ref.replace(/^model:/, ''), c]));
  return { findings: (rel: string) => byModel.get(rel) ?? [], component: (rel: string) => comps.get(rel) };
}

const prop = (c: Component | undefined, name: string) => c?.properties?.filter((p) => p.name === name).map((p) => p.value) ?? [];

describe('pickle corpus: canary-labelled samples', () => {
  const { samples } = JSON.parse(readFileSync(join(CORPUS, 'labels.json'), 'utf8')) as {
    samples: Array<{ file: string; class: string; label: 'malicious' | 'benign' }>;
  };
  let result: Awaited<ReturnType<typeof scan>>;
  beforeAll(async () => {
    result = await scan(CORPUS);
  });

  it('covers every class the scanner must handle, with malicious and benign samples', () => {
    const classes = new Set(samples.map((s) => s.class));
    for (const c of ['raw-pickle', 'second-pickle', 'frame-overrun', 'bin-any-start', 'zip-archive', '7z-archive', 'compressed', 'numpy-object', 'named', 'joblib', 'tar-archive']) {
      expect(samples.some((s) => s.class === c && s.label === 'malicious'), c).toBe(true);
    }
    for (const c of ['hf-torch', 'torchscript', 'sklearn-joblib', 'numpy', 'plain-pickles', 'not-a-pickle', 'zip-trailing']) {
      expect(samples.some((s) => s.class === c && s.label === 'benign'), c).toBe(true);
    }
    expect(classes.size).toBeGreaterThanOrEqual(18);
  });

  it('every malicious sample fails the pickle rule', () => {
    const missed = samples.filter((s) => s.label === 'malicious' && blocking(result.findings(s.file)).length === 0).map((s) => s.file);
    expect(missed).toEqual([]);
  });

  it('no benign sample fails it', () => {
    const alarms = samples
      .filter((s) => s.label === 'benign')
      .flatMap((s) => blocking(result.findings(s.file)).map((f) => `${s.file}: ${f.severity} ${f.code}: ${f.message}`));
    expect(alarms).toEqual([]);
  });

  it('TorchScript is recognised: its __torch__ classes are no finding, the TorchScript code is a medium one', () => {
    const fs = result.findings('torchscript/scripted.pt');
    expect(fs.find((f) => f.code === 'pickle-torchscript')?.severity).toBe('medium');
    expect(fs.filter((f) => /import/.test(f.code))).toEqual([]);
    expect(prop(result.component('torchscript/scripted.pt'), 'aibom:pickle:container')).toEqual(['torchscript/scripted.pt: zip (TorchScript)']);
  });

  it('joblib arrays are read as joblib reads them, compressed or not', () => {
    for (const f of ['sklearn-joblib/forest.joblib', 'sklearn-joblib/logreg-zlib.joblib', 'sklearn-joblib/logreg-bz2.joblib', 'sklearn-joblib/logreg-xz.joblib']) {
      expect(result.findings(f).filter((x) => x.code === 'pickle-unscanned' || x.code === 'pickle-anomaly'), f).toEqual([]);
      expect(prop(result.component(f), 'aibom:pickle:container')[0], f).toMatch(/\(joblib, \d+ arrays\)$/);
    }
    const evil = result.findings('joblib/model-xz.joblib');
    expect(evil.some((f) => f.severity === 'critical' && /posix\.system|os\.system/.test(f.message))).toBe(true);
  });

  it('a zip with bytes after it (torch.load accepts them) is still scanned', () => {
    expect(prop(result.component('zip-trailing/trailing.pt'), 'aibom:pickle:imports')[0]).toContain('torch._utils._rebuild_tensor_v2');
  });

  it('a PNG named .pt says "not a pickle" (low), not a pickle risk', () => {
    const fs = result.findings('not-a-pickle/image.pt');
    expect(fs.map((f) => [f.code, f.severity])).toEqual([['pickle-not-a-pickle', 'low']]);
    expect(fs[0]!.message).toMatch(/is not a pickle: its bytes are a PNG image/);
  });
});

describe('crafted pickles: each attack class and each false alarm', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let result: Awaited<ReturnType<typeof scan>>;
  const CMD = 'touch /tmp/pwned';
  const payload = Buffer.concat([global('os', 'system'), str(CMD), reduce1(), STOP]);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('aibom-pickle-content-'));
    const benign = Buffer.concat([proto(2), Buffer.from('}q\x00.', 'latin1')]);
    let nested = zipBytes([{ name: 'x.pkl', data: payload }]);
    for (let i = 0; i < 6; i++) nested = zipBytes([{ name: `level${i}.zip`, data: nested }]);
    await writeTree(dir, {
      // An argument that runs past its FRAME: the C unpickler reading a file (io.BytesIO, as
      // torch reads data.pkl) takes it from after the frame and then runs os.system.
      'frames/long1.pkl': Buffer.concat([proto(4), frame(Buffer.concat([long1(payload.length), Buffer.from('NNN')])), payload, Buffer.from('0'), payload]),
      // A GLOBAL whose module line does not end within its frame.
      'frames/line.pkl': Buffer.concat([proto(4), frame(Buffer.from('cxx')), Buffer.from('os\nsystem\n'), str(CMD), reduce1(), STOP]),
      // A second pickle after STOP opening with INT, not PROTO.
      'after/stop.pkl': Buffer.concat([benign, Buffer.from('I1\n0'), payload]),
      // A .bin whose first opcode is a SHORT_BINUNICODE (torch.load unpickles any non-zip file).
      'bins/odd.bin': Buffer.concat([str('x'), Buffer.from('0'), payload]),
      // Found by content, whatever the name.
      'data/weights.dat': Buffer.concat([proto(4), payload]),
      'export/model.pkl.gz': gzipSync(Buffer.concat([proto(2), payload])),
      'notes/readme.txt': 'copyright 2024\nall rights reserved\n',
      'notes/archive.gz': gzipSync(Buffer.from('plain text, no pickle\n')),
      // Harmless imports: a __main__ class rebuilt with NEWOBJ, builtins.len referenced, a datetime.
      'plain/config.pkl': Buffer.concat([
        proto(4),
        Buffer.from('}('),
        str('cfg'),
        global('__main__', 'Config'),
        Buffer.from(')\x81}', 'latin1'),
        str('lr'),
        Buffer.from('K\x01sb'),
        str('len'),
        global('builtins', 'len'),
        str('when'),
        global('datetime', 'date'),
        Buffer.from('C\x04\x07\xe8\x05\x01', 'latin1'),
        reduce1(),
        Buffer.from('u'),
        STOP,
      ]),
      // An unvetted function called with the pickle's own arguments.
      'plain/unknown-call.pkl': Buffer.concat([proto(4), global('mylib.helpers', 'run'), str('x'), reduce1(), STOP]),
      // Protocol 0: copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state).
      'plain/reconstructor.pkl': Buffer.from("ccopy_reg\n_reconstructor\n(cmylib.jobs\nRunner\ncmylib.jobs\nRunner\nS'cmd'\ntR.", 'latin1'),
      // Archives nested deeper than the bound.
      'nested/deep.zip': nested,
      // A truncated xz stream.
      'broken/model.pkl.xz': Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46, 0x02, 0x00]),
    });
    result = await scan(dir);
  });
  afterAll(() => cleanup());

  it('FRAME: what only the C unpickler reading a file runs is found, and the divergence is flagged', () => {
    for (const f of ['frames/long1.pkl', 'frames/line.pkl']) {
      const fs = result.findings(f);
      expect(fs.some((x) => x.code === 'pickle-unsafe-import' && x.severity === 'critical' && /os\.system/.test(x.message)), f).toBe(true);
      expect(fs.some((x) => x.code === 'pickle-anomaly' && /runs past the end of its FRAME/.test(x.message)), f).toBe(true);
    }
  });

  it('a pickle after STOP is scanned whatever its first byte; so is a .bin a pickle reader accepts', () => {
    for (const f of ['after/stop.pkl', 'bins/odd.bin']) {
      expect(blocking(result.findings(f)).some((x) => /os\.system/.test(x.message)), f).toBe(true);
    }
  });

  it('pickles are found by content wherever they are; text and archives without pickles are not models', () => {
    for (const f of ['data/weights.dat', 'export/model.pkl.gz']) {
      expect(blocking(result.findings(f)).some((x) => /os\.system/.test(x.message)), f).toBe(true);
    }
    expect(result.component('notes/readme.txt')).toBeUndefined();
    expect(result.component('notes/archive.gz')).toBeUndefined();
  });

  it('harmless imports are no gate failure; unknown ones stay visible, and an unknown call is high', () => {
    const fs = result.findings('plain/config.pkl');
    expect(blocking(fs)).toEqual([]);
    expect(fs.find((f) => f.code === 'pickle-unknown-import')?.message).toMatch(/__main__\.Config/);
    expect(fs.some((f) => /builtins\.len|datetime\.date/.test(f.message))).toBe(false);
    const call = result.findings('plain/unknown-call.pkl');
    expect(call.find((f) => f.code === 'pickle-unsafe-import')).toMatchObject({ severity: 'high' });
    expect(call.find((f) => f.code === 'pickle-unsafe-import')?.message).toMatch(/mylib\.helpers\.run and calls it/);
    const base = result.findings('plain/reconstructor.pkl').find((f) => f.code === 'pickle-unsafe-import');
    expect(base).toMatchObject({ severity: 'high' });
    expect(base?.message).toMatch(/mylib\.jobs\.Runner/);
  });

  it('hostile containers stay bounded and fail closed', () => {
    const deep = result.findings('nested/deep.zip');
    expect(deep.find((f) => f.code === 'pickle-unscanned')?.message).toMatch(/nested more than 4 deep/);
    const xz = result.findings('broken/model.pkl.xz');
    expect(xz.find((f) => f.code === 'pickle-unscanned')).toMatchObject({ severity: 'high' });
  });
});
