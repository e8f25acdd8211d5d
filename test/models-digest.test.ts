import { createHash } from 'node:crypto';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/cli.js';
import { safetensorsBytes } from './helpers/model-files.js';
import { type Built, buildBoth, component, findingsOf, props, writeTree } from './helpers/models.js';

/**
 * Folder digests and where models came from: the digest aibom records must be the one OpenSSF
 * model_signing signs (computed independently here; test/conformance/models-digest-vectors.test.ts
 * checks it against model_signing's own vectors), large folders hashed across
 * worker threads must give the same answer as a plain computation, and hub cache / download
 * metadata layouts give a purl pinned to a commit (and catch files changed after download).
 */

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** model_signing's "files" digest, independently: names sorted, raw file digests concatenated. */
function manifest(files: Record<string, Buffer>): string {
  const h = createHash('sha256');
  for (const n of Object.keys(files).sort()) h.update(createHash('sha256').update(files[n]!).digest());
  return h.digest('hex');
}

describe('aibom build: folder digests and model origins', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let built: Built;
  const commit = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
  const dlCommit = '1234567890abcdef1234567890abcdef12345678';
  const big1 = safetensorsBytes({ 'w.big': { dtype: 'F32', shape: [9 * 1024 * 1024] } });
  const big2 = safetensorsBytes({ 'w.small': { dtype: 'F32', shape: [2 * 1024 * 1024] } });
  const bigConfig = Buffer.from(JSON.stringify({ model_type: 'big', architectures: ['BigModel'] }));
  const hubWeights = safetensorsBytes({ w: { dtype: 'F32', shape: [8, 8] } });
  const hubConfig = Buffer.from(JSON.stringify({ model_type: 'tiny' }));
  const dlWeights = safetensorsBytes({ w: { dtype: 'F16', shape: [16] } });
  const vendor1 = Buffer.from('first resource\n');
  const vendor2 = Buffer.alloc(70_000, 9);
  const card = '---\nlicense: mit\nmodel-index:\n  - name: acme/dl-model\n    results: []\n---\n';

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('aibom-digest-'));
    await writeTree(dir, {
      // Signed folders as model_signing lays them out: the files and model.sig beside them.
      'vendor/cert-model/signme-1': vendor1,
      'vendor/cert-model/signme-2': vendor2,
      'vendor/cert-model/model.sig': '{}',
      'vendor/ec/signme-1': vendor1,
      'vendor/ec/model.sig': '{}',
      'aibom.config.json': JSON.stringify(
        { models: { paths: ['vendor/cert-model', 'vendor/ec/signme-1', 'models', 'vendor/missing'], exclude: ['models/skipped'] } },
        null,
        2,
      ),
      'models/skipped/model.safetensors': safetensorsBytes({ w: { dtype: 'F32', shape: [2] } }),
      'models/big/model-00001-of-00002.safetensors': big1,
      'models/big/model-00002-of-00002.safetensors': big2,
      'models/big/config.json': bigConfig,
      // huggingface_hub's cache: snapshot files are links into blobs/.
      [`hub/models--acme--tiny-chat/blobs/${sha256(hubWeights)}`]: hubWeights,
      [`hub/models--acme--tiny-chat/blobs/${sha256(hubConfig)}`]: hubConfig,
      'hub/models--acme--tiny-chat/refs/main': commit,
      // huggingface-cli download --local-dir: per-file commit and ETag (LFS: the SHA-256).
      'models/dl/model.safetensors': dlWeights,
      'models/dl/config.json': '{"model_type":"tiny"}',
      'models/dl/README.md': card,
      'models/dl/.cache/huggingface/download/model.safetensors.metadata': `${dlCommit}\n${sha256(dlWeights)}\n1712656091.123\n`,
      'models/dl/.cache/huggingface/download/config.json.metadata': `${dlCommit}\n${'b'.repeat(40)}\n1712656091.123\n`,
      'models/dl-tampered/model.safetensors': dlWeights,
      'models/dl-tampered/config.json': '{"model_type":"tiny"}',
      'models/dl-tampered/.cache/huggingface/download/model.safetensors.metadata': `${dlCommit}\n${'c'.repeat(64)}\n1712656091.123\n`,
    });
    const snap = join(dir, 'hub', 'models--acme--tiny-chat', 'snapshots', commit);
    await mkdir(snap, { recursive: true });
    await symlink(`../../blobs/${sha256(hubWeights)}`, join(snap, 'model.safetensors'));
    await symlink(`../../blobs/${sha256(hubConfig)}`, join(snap, 'config.json'));
    built = await buildBoth(dir, dir);
  }, 180_000);
  afterAll(async () => cleanup?.());

  it("a folder's digest equals model_signing's signed digest (certificate vector, model.sig left out)", async () => {
    const c = component(built.bom, 'model:vendor/cert-model');
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${manifest({ 'signme-1': vendor1, 'signme-2': vendor2 })}`]);
    expect(props(c, 'aibom:signature-bundle')).toEqual(['vendor/cert-model/model.sig']);
    expect((c.components as Array<{ name: string }>).map((f) => f.name)).toEqual(['signme-1', 'signme-2']);
  });

  it("a single file's digest equals model_signing's (elliptic-key vector: one resource named '.')", async () => {
    const c = component(built.bom, 'model:vendor/ec/signme-1');
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${manifest({ '.': vendor1 })}`]);
    expect(c.hashes).toEqual([{ alg: 'SHA-256', content: sha256(vendor1) }]);
  });

  it('a folder big enough for worker-thread hashing gives the same digests as a plain computation', () => {
    const c = component(built.bom, 'model:models/big');
    const files = { 'config.json': bigConfig, 'model-00001-of-00002.safetensors': big1, 'model-00002-of-00002.safetensors': big2 };
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${manifest(files)}`]);
    const nested = c.components as Array<{ name: string; hashes: Array<{ content: string }> }>;
    for (const n of nested) expect(n.hashes[0]!.content, n.name).toBe(sha256(files[n.name as keyof typeof files]));
    expect(props(c, 'aibom:size')).toEqual([String(big1.length + big2.length + bigConfig.length)]);
    expect(props(c, 'aibom:model:parameter-count')).toEqual([String(11 * 1024 * 1024)]);
  });

  it('a hub cache snapshot is one model named by its repository and pinned to its commit', () => {
    const ref = `model:hub/models--acme--tiny-chat/snapshots/${commit}`;
    const c = component(built.bom, ref);
    expect(c.name).toBe('tiny-chat');
    expect(c.group).toBe('acme');
    expect(c.version).toBe(commit);
    expect(c.purl).toBe(`pkg:huggingface/acme/tiny-chat@${commit}`);
    expect(props(c, 'aibom:pinned')).toEqual(['true']);
    expect(props(c, 'aibom:huggingface:origin')).toEqual(['hub-cache']);
    expect(props(c, 'aibom:folder-digest:symlinks')).toEqual(['followed']);
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${manifest({ 'config.json': hubConfig, 'model.safetensors': hubWeights })}`]);
    expect(findingsOf(built, 'model-symlink')).toEqual([]);
    // The blobs are not models of their own.
    const models = (built.bom.components ?? []).filter((x) => x.type === 'machine-learning-model' && String(x['bom-ref']).startsWith('model:hub/'));
    expect(models.map((m) => m['bom-ref'])).toEqual([ref]);
  });

  it('models.paths and models.exclude from aibom.config are honoured; a missing path is a finding at its line', () => {
    expect(built.bom.components?.some((c) => String(c['bom-ref']).startsWith('model:models/skipped'))).toBe(false);
    const missing = findingsOf(built, 'model-path-missing');
    expect(missing.map((f) => f.message)).toEqual(['model path vendor/missing not found']);
    expect(missing[0]!.location).toEqual({ file: 'aibom.config.json', line: 7 });
  });

  it('download metadata pins the commit, names the repo from the card, and checks the recorded SHA-256', () => {
    const c = component(built.bom, 'model:models/dl');
    expect(c.purl).toBe(`pkg:huggingface/acme/dl-model@${dlCommit}`);
    expect(props(c, 'aibom:huggingface:origin')).toEqual(['download-metadata']);
    expect(props(c, 'aibom:huggingface:verified-files')).toEqual(['1']);
    expect(findingsOf(built, 'model-file-modified').filter((f) => f.component === 'model:models/dl')).toEqual([]);
    const t = component(built.bom, 'model:models/dl-tampered');
    expect(t.purl).toBeUndefined();
    expect(props(t, 'aibom:huggingface:commit')).toEqual([dlCommit]);
    expect(props(t, 'aibom:pinned')).toEqual(['false']);
    const f = findingsOf(built, 'model-file-modified').find((x) => x.component === 'model:models/dl-tampered');
    expect(f?.severity).toBe('high');
    expect(f?.message).toContain(`its SHA-256 is ${sha256(dlWeights)}, the download recorded ${'c'.repeat(64)}`);
  });
});

describe('model hashing progress (library)', () => {
  it('reports bytes hashed up to the total, in order, while worker threads hash the model', async () => {
    const { buildInventory } = await import('../src/inventory/index.js');
    const { dir, cleanup } = await tempDir('aibom-progress-');
    try {
      const a = safetensorsBytes({ a: { dtype: 'F32', shape: [6 * 1024 * 1024] } });
      const b = safetensorsBytes({ b: { dtype: 'F32', shape: [4 * 1024 * 1024] } });
      await writeTree(dir, { 'models/m/a.safetensors': a, 'models/m/b.safetensors': b, 'models/m/config.json': '{"model_type":"x"}' });
      const events: Array<{ bytes: number; totalBytes: number }> = [];
      const inv = await buildInventory(dir, {
        onProgress: (e) => {
          if (e.phase === 'hashing models' && e.totalBytes !== undefined) events.push({ bytes: e.bytes ?? 0, totalBytes: e.totalBytes });
        },
      });
      const total = a.length + b.length + '{"model_type":"x"}'.length;
      expect(events.length).toBeGreaterThan(1);
      expect(events.every((e) => e.totalBytes === total)).toBe(true);
      for (let i = 1; i < events.length; i++) expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
      expect(events.at(-1)!.bytes).toBe(total);
      const m = inv.components.find((c) => c.ref === 'model:models/m');
      expect(m?.hashes).toEqual([{ alg: 'SHA-256', content: manifest({ 'a.safetensors': a, 'b.safetensors': b, 'config.json': Buffer.from('{"model_type":"x"}') }) }]);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
