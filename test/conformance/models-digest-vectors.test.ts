/**
 * The folder digest `aibom build` records is the one OpenSSF model_signing signs: checked against
 * model_signing's own v1.0 vectors (third-party data from the conformance folder, never
 * committed), for a folder (certificate vector, model.sig left out) and a single file (elliptic-key
 * vector: one resource named '.').
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { type Built, buildBoth, component, props, writeTree } from '../helpers/models.js';
import { MODEL_SIGNING, requireConformanceData } from '../helpers/verify.js';

/** The subject digest of a model_signing v1.0 signature (DSSE payload inside a Sigstore bundle). */
async function signedDigest(sigFile: string): Promise<string> {
  const bundle = JSON.parse(await readFile(sigFile, 'utf8')) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
    predicateType: string;
    subject: Array<{ digest: { sha256: string } }>;
  };
  expect(statement.predicateType).toBe('https://model_signing/signature/v1.0');
  return statement.subject[0]!.digest.sha256;
}

describe('aibom build: folder digests equal model_signing vectors', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let built: Built;

  beforeAll(async () => {
    requireConformanceData();
    ({ dir, cleanup } = await tempDir('aibom-digest-vectors-'));
    // The interoperability vectors, copied as they are.
    for (const [from, to] of [
      ['v1.0.0-certificate', 'vendor/cert-model'],
      ['v1.0.0-elliptic-key', 'vendor/ec'],
    ] as const) {
      await mkdir(join(dir, to), { recursive: true });
      for (const f of await readdir(join(MODEL_SIGNING, from))) await copyFile(join(MODEL_SIGNING, from, f), join(dir, to, f));
    }
    await writeTree(dir, { 'aibom.config.json': JSON.stringify({ models: { paths: ['vendor/cert-model', 'vendor/ec/signme-1'] } }) });
    built = await buildBoth(dir, dir);
  }, 180_000);
  afterAll(async () => cleanup?.());

  it("a folder's digest equals model_signing's signed digest (certificate vector, model.sig left out)", async () => {
    const c = component(built.bom, 'model:vendor/cert-model');
    const expected = await signedDigest(join(MODEL_SIGNING, 'v1.0.0-certificate', 'model.sig'));
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${expected}`]);
    expect(props(c, 'aibom:signature-bundle')).toEqual(['vendor/cert-model/model.sig']);
    expect((c.components as Array<{ name: string }>).map((f) => f.name)).toEqual(['signme-1', 'signme-2']);
  });

  it("a single file's digest equals model_signing's (elliptic-key vector: one resource named '.')", async () => {
    const c = component(built.bom, 'model:vendor/ec/signme-1');
    const expected = await signedDigest(join(MODEL_SIGNING, 'v1.0.0-elliptic-key', 'model.sig'));
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${expected}`]);
    const file = await readFile(join(MODEL_SIGNING, 'v1.0.0-elliptic-key', 'signme-1'));
    expect(c.hashes).toEqual([{ alg: 'SHA-256', content: createHash('sha256').update(file).digest('hex') }]);
  });
});
