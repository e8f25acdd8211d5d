import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/cli.js';
import {
  ggufBytes,
  osSystemPickle,
  PickleWriter,
  safetensorsBytes,
  safetensorsWithHeaderLength,
  torchZipCheckpoint,
  zipBytes,
} from './helpers/model-files.js';
import { type Built, buildBoth, component, findingsOf, props, writeTree } from './helpers/models.js';

/**
 * Hostile and broken model files, all in one folder next to a good model: each gives a clear
 * finding on its model, nothing crashes, nothing allocates from a length field, and the BOM of
 * everything else still builds (exit 0, schema-valid for 1.6 and 1.7).
 */
describe('aibom build: bad model input', () => {
  let dir: string;
  let outside: string;
  let cleanup: () => Promise<void>;
  let cleanupOutside: () => Promise<void>;
  let built: Built;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('aibom-badmodels-'));
    ({ dir: outside, cleanup: cleanupOutside } = await tempDir('aibom-outside-'));
    await writeFile(join(outside, 'secret.safetensors'), safetensorsBytes({ w: { dtype: 'F32', shape: [4] } }));
    const good = safetensorsBytes({ w: { dtype: 'F32', shape: [4, 4] } });
    const manyEntries = Array.from({ length: 100_000 }, (_, i) => ({ name: `archive/data/${i}`, data: Buffer.alloc(0) }));
    await writeTree(dir, {
      'models/good/model.safetensors': good,
      'models/good/config.json': JSON.stringify({ model_type: 'tiny', architectures: ['TinyModel'] }),
      // A safetensors file cut off inside its header, and one claiming a 2^63-byte header.
      'models/truncated.safetensors': safetensorsBytes({ w: { dtype: 'F32', shape: [64] } }).subarray(0, 40),
      'models/huge-header.safetensors': safetensorsWithHeaderLength(2n ** 63n),
      // Header fine, but a tensor's bytes run past the end of the file.
      'models/short-data.safetensors': safetensorsBytes({ w: { dtype: 'F32', shape: [64] } }).subarray(0, -16),
      // A GGUF claiming 2^40 tensors (and one claiming a 2^60-byte metadata string).
      'models/bomb.gguf': ggufBytes({ metadata: [], tensors: [], claimTensors: 2n ** 40n }),
      'models/longstring.gguf': Buffer.concat([
        Buffer.from('GGUF'),
        u32(3),
        u64(0n),
        u64(1n),
        u64(12n),
        Buffer.from('general.name'),
        u32(8),
        u64(2n ** 60n),
        Buffer.from('short'),
      ]),
      // A pickle storing to and reading from absurd memo indices.
      'ckpt/memo.pkl': new PickleWriter().proto(2).none().longBinput(0xffffffff).longBinget(0xfffffffe).tuple2().stop().bytes(),
      // A zip checkpoint with 100,000 entries (ZIP64), and one with a path-traversal entry name.
      'ckpt/many.pt': zipBytes([{ name: 'archive/data.pkl', data: osSystemPickle() }, ...manyEntries]),
      'ckpt/traversal.pt': torchZipCheckpoint(undefined, [{ name: '../../../../tmp/evil.pkl', data: osSystemPickle('id') }]),
      // A pickle cut off in the middle.
      'ckpt/cut.pkl': osSystemPickle().subarray(0, 12),
      // A model card whose YAML is invalid.
      'models/badcard/model.safetensors': good,
      'models/badcard/config.json': JSON.stringify({ model_type: 'tiny' }),
      'models/badcard/README.md': '---\nlicense: [apache-2.0\ntags: {unclosed\n---\n# card\n',
      // A card built to make YAML parsers crawl: a 256 KiB line of '}' (one error per character).
      'models/slowcard/model.safetensors': good,
      'models/slowcard/config.json': JSON.stringify({ model_type: 'tiny' }),
      'models/slowcard/README.md': `---\nlicense: mit\nx: ${'}'.repeat(256 * 1024)}\n---\n`,
      // A config.json that is not JSON.
      'models/badconfig/model.safetensors': good,
      'models/badconfig/config.json': '{"model_type": "tiny",',
      // A model folder with a link out of the scanned folder.
      'models/linked/model.safetensors': good,
      'models/linked/config.json': JSON.stringify({ model_type: 'tiny' }),
    });
    await symlink(join(outside, 'secret.safetensors'), join(dir, 'models', 'linked', 'extra.safetensors'));
    await mkdir(join(dir, 'elsewhere'), { recursive: true });
    await symlink(outside, join(dir, 'elsewhere', 'outside-dir'));
    built = await buildBoth(dir, dir);
  }, 180_000);
  afterAll(async () => {
    await cleanup?.();
    await cleanupOutside?.();
  });

  function only(code: string, ref: string) {
    const list = findingsOf(built, code).filter((f) => f.component === ref);
    expect(list.length, `${code} on ${ref}: ${JSON.stringify(built.findings.filter((f) => f.component === ref))}`).toBeGreaterThan(0);
    return list[0]!;
  }

  it('the good model is described in full despite its neighbours', () => {
    const c = component(built.bom, 'model:models/good');
    expect(props(c, 'aibom:model:parameter-count')).toEqual(['16']);
    expect(props(c, 'aibom:folder-digest')[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('truncated safetensors, a 2^63 header length and short tensor data are clear findings', () => {
    expect(only('safetensors-invalid', 'model:models/truncated.safetensors').message).toMatch(/header length \d+ runs past the end of the file \(40 bytes; truncated\?\)/);
    expect(only('safetensors-invalid', 'model:models/huge-header.safetensors').message).toContain('header length 9223372036854775808 is over the 104857600-byte limit');
    expect(only('safetensors-invalid', 'model:models/short-data.safetensors').message).toMatch(/tensor "w" ends at byte 256 of a 240-byte data section/);
    // Still in the BOM, hashed, marked as safetensors.
    const c = component(built.bom, 'model:models/truncated.safetensors');
    expect(props(c, 'aibom:serialization')).toEqual(['safetensors']);
    expect(c.hashes[0].alg).toBe('SHA-256');
  });

  it('a GGUF claiming 2^40 tensors or a 2^60-byte string is refused without allocating', () => {
    expect(only('gguf-invalid', 'model:models/bomb.gguf').message).toContain('claims 1099511627776 tensors, more than a');
    expect(only('gguf-invalid', 'model:models/longstring.gguf').message).toBe(
      'invalid GGUF file: value of general.name length 1152921504606846976 is larger than the whole file (61 bytes)',
    );
  });

  it('a pickle with a huge memo index is an anomaly, not a crash', () => {
    const a = findingsOf(built, 'pickle-anomaly').filter((f) => f.component === 'model:ckpt/memo.pkl');
    expect(a.map((f) => f.message).join('\n')).toContain('memo index 4294967295 far beyond');
    expect(a.map((f) => f.message).join('\n')).toContain('reads memo entry 4294967294 that was never stored');
  });

  it('a zip checkpoint with 100,000 entries is not scanned and says so (high)', () => {
    const f = only('pickle-zip-too-many-entries', 'model:ckpt/many.pt');
    expect(f.severity).toBe('high');
    expect(f.message).toContain('100001 entries, over the 65536 limit');
    expect(only('pickle-unscanned', 'model:ckpt/many.pt').severity).toBe('high');
  });

  it('a path-traversal entry name is reported and the entry is still scanned', () => {
    const f = only('pickle-zip-path-traversal', 'model:ckpt/traversal.pt');
    expect(f.message).toContain('"../../../../tmp/evil.pkl" climbs out of the archive');
    const unsafe = findingsOf(built, 'pickle-unsafe-import').find((x) => x.component === 'model:ckpt/traversal.pt');
    expect(unsafe?.severity).toBe('critical');
    expect(unsafe?.message).toContain('posix.system');
  });

  it('a truncated pickle fails closed: high, not scanned', () => {
    const f = only('pickle-unscanned', 'model:ckpt/cut.pkl');
    expect(f.severity).toBe('high');
    expect(f.message).toMatch(/end of (file|data)/);
  });

  it('an invalid model card YAML or config.json is a finding; the rest of the folder is still described', () => {
    const card = only('model-card-invalid', 'model:models/badcard');
    expect(card.message).toMatch(/^model card front matter is not valid YAML \(line \d+\)/);
    expect(card.location?.file).toBe('models/badcard/README.md');
    const c = component(built.bom, 'model:models/badcard');
    expect(c.modelCard.modelParameters.architectureFamily).toBe('tiny');
    expect(c.licenses).toBeUndefined();
    expect(only('model-card-invalid', 'model:models/slowcard').message).toMatch(/^model card front matter is not valid YAML \(line 3\)/);
    expect(only('model-config-invalid', 'model:models/badconfig').message).toContain('invalid config.json: not valid JSON');
    expect(props(component(built.bom, 'model:models/badconfig'), 'aibom:serialization')).toEqual(['safetensors']);
  });

  it('symlinks out of the folder are recorded, not followed, and left out of the digest', () => {
    const f = only('model-symlink', 'model:models/linked');
    expect(f.severity).toBe('high');
    expect(f.message).toContain('extra.safetensors');
    expect(f.message).toContain('outside the scanned folder; not followed');
    const c = component(built.bom, 'model:models/linked');
    expect((c.components as Array<{ name: string }>).map((n) => n.name)).toEqual(['config.json', 'model.safetensors']);
    expect(props(c, 'aibom:symlink')[0]).toMatch(/^extra\.safetensors -> /);
    // The linked file is not a model of its own, and nothing from outside is in the BOM.
    expect(built.bom.components?.some((x) => String(x['bom-ref']).includes('secret'))).toBe(false);
    expect(built.findings.some((x) => x.code === 'symlink-outside-root' && x.location?.file === 'elsewhere/outside-dir')).toBe(true);
  });

  it('no stack traces, and the warnings name the files', () => {
    expect(built.stderr).not.toMatch(/\n\s+at /);
    expect(built.stderr).toContain('models/bomb.gguf');
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
