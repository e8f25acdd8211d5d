/**
 * `aibom sign DIR` against OpenSSF model_signing's own v1.0 vectors (third-party data from the
 * conformance folder, never committed): the statement has model_signing's shape, the folder digest
 * and resources equal theirs for the same files, and the test stand-in for model_signing's
 * verifier (test/helpers/model-signing.ts) accepts the vector model_signing wrote.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { modelSigningVerifyKey } from '../helpers/model-signing.js';
import { cleanEnv, readJson, statementOf } from '../helpers/sign.js';
import { MODEL_SIGNING as VECTORS, requireConformanceData } from '../helpers/verify.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let keyPem: string;

beforeAll(async () => {
  requireConformanceData();
  tmp = await tempDir('aibom-sign-vectors-');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  keyPem = join(tmp.dir, 'signing-key.pem');
  await writeFile(keyPem, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
});
afterAll(async () => {
  await tmp?.cleanup();
});

function publicPemFromVector(text: string): string {
  const m = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----\n?/.exec(text);
  if (!m) throw new Error('no PEM public key in the vector key file');
  return m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
}

describe('the model_signing stand-in used by the tests', () => {
  it('accepts the vector model_signing wrote, and refuses it after a file changes', async () => {
    const vector = join(VECTORS, 'v1.0.0-certificate');
    const pem = publicPemFromVector(await readFile(join(VECTORS, 'keys', 'signing-key-pub.pem'), 'utf8'));
    const bundle = await readJson(join(vector, 'model.sig'));
    const ok = await modelSigningVerifyKey(vector, bundle, pem, { ignorePaths: ['model.sig'] });
    expect(ok.problems).toEqual([]);
    const copy = join(tmp.dir, 'vector-copy');
    await cp(vector, copy, { recursive: true });
    await writeFile(join(copy, 'signme-2'), 'changed');
    const bad = await modelSigningVerifyKey(copy, bundle, pem, { ignorePaths: ['model.sig'] });
    expect(bad.problems).toEqual(['changed file signme-2']);
  });
});

describe('aibom sign DIR, compared with model_signing', () => {
  it('the statement has the same keys at every level as model_signing writes', async () => {
    const dir = join(tmp.dir, 'classifier');
    await mkdir(join(dir, 'tokenizer'), { recursive: true });
    await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(1000, 7));
    await writeFile(join(dir, 'tokenizer', 'vocab.txt'), 'a\nb\n');
    const r = await runCli(['sign', dir, '--key', keyPem], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    const ours = statementOf(await readJson(join(dir, 'model.sig')));
    const theirs = statementOf(await readJson(join(VECTORS, 'v1.0.0-certificate', 'model.sig')));
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(Object.keys(ours.subject[0]).sort()).toEqual(Object.keys(theirs.subject[0]).sort());
    expect(Object.keys(ours.predicate).sort()).toEqual(Object.keys(theirs.predicate).sort());
    expect(Object.keys(ours.predicate.resources[0]).sort()).toEqual(Object.keys(theirs.predicate.resources[0]).sort());
    expect(ours._type).toBe(theirs._type);
    expect(ours.predicateType).toBe(theirs.predicateType);
  });

  it('the folder digest and resources equal those model_signing computed for the same files', async () => {
    const vector = join(VECTORS, 'v1.0.0-certificate');
    const copy = join(tmp.dir, 'v1.0.0-certificate');
    await mkdir(copy);
    for (const f of ['signme-1', 'signme-2']) await cp(join(vector, f), join(copy, f));
    const r = await runCli(['sign', copy, '--key', keyPem], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    const ours = statementOf(await readJson(join(copy, 'model.sig')));
    const theirs = statementOf(await readJson(join(vector, 'model.sig')));
    expect(ours.subject).toEqual(theirs.subject);
    const byName = (xs: any[]) => xs.map((x) => ({ name: x.name, algorithm: x.algorithm, digest: x.digest }));
    expect(byName(ours.predicate.resources)).toEqual(byName(theirs.predicate.resources));
  });
});
