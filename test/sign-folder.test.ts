/**
 * `aibom sign DIR`: folders in the OpenSSF model_signing v1.0 format. The statement is compared
 * field by field with the model_signing v1.0 statement, the folder digest with an independent
 * computation, and the bundle is checked the way model_signing verifies a key-signed folder
 * (test/helpers/model-signing.ts) and by `aibom verify`; keyless folder bundles verify with
 * @sigstore/verify. The comparisons with model_signing's own vectors (third-party data) are in
 * the conformance suite: test/conformance/sign-folder-vectors.test.ts.
 */
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { modelSigningVerifyKey } from './helpers/model-signing.js';
import { cleanEnv, readJson, statementOf, verifyKeyless } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let keyPem: string;
let pubPem: string;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-sign-folder-');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  keyPem = join(tmp.dir, 'signing-key.pem');
  pubPem = k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(keyPem, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(tmp.dir, 'signing-key.pub'), pubPem);
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

/** A model folder: weights, config, a tokenizer in a subfolder, and git clutter. */
async function makeModel(name: string): Promise<string> {
  const dir = join(tmp.dir, name);
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  await mkdir(join(dir, '.git'), { recursive: true });
  await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(300_000, 7));
  await writeFile(join(dir, 'config.json'), '{"hidden_size": 64}\n');
  await writeFile(join(dir, 'tokenizer', 'vocab.txt'), 'a\nb\nc\n');
  await writeFile(join(dir, 'tokenizer', '.gitignore'), '*.tmp\n');
  await writeFile(join(dir, 'README.md'), '# model\n');
  await writeFile(join(dir, '.gitignore'), '*.bak\n');
  await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return dir;
}

describe('aibom sign DIR', () => {
  it('key: writes DIR/model.sig in the model_signing format, field by field as model_signing writes it', async () => {
    const dir = await makeModel('classifier');
    const r = await runCli(['sign', dir, '--key', keyPem, '--json'], { env: cleanEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bundle = await readJson(join(dir, 'model.sig'));
    const ours = statementOf(bundle);
    // The model_signing v1.0 statement: the same keys at every level as model_signing writes
    // (test/conformance/sign-folder-vectors.test.ts compares with its own vector).
    expect(Object.keys(ours).sort()).toEqual(['_type', 'predicate', 'predicateType', 'subject']);
    expect(Object.keys(ours.subject[0]).sort()).toEqual(['digest', 'name']);
    expect(Object.keys(ours.predicate).sort()).toEqual(['resources', 'serialization']);
    expect(Object.keys(ours.predicate.resources[0]).sort()).toEqual(['algorithm', 'digest', 'name']);
    expect(ours._type).toBe('https://in-toto.io/Statement/v1');
    expect(ours.predicateType).toBe('https://model_signing/signature/v1.0');
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(ours.subject[0].name).toBe('classifier');
    expect(ours.predicate.serialization).toEqual({
      method: 'files',
      hash_type: 'sha256',
      allow_symlinks: false,
      ignore_paths: ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig'],
    });
    // One sha256 per file, sorted; nested .gitignore is hashed (model_signing leaves out top-level git paths only).
    expect(ours.predicate.resources.map((x: any) => x.name)).toEqual([
      'README.md',
      'config.json',
      'model.safetensors',
      'tokenizer/.gitignore',
      'tokenizer/vocab.txt',
    ]);
    expect(ours.predicate.resources.every((x: any) => x.algorithm === 'sha256' && /^[0-9a-f]{64}$/.test(x.digest))).toBe(true);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kind: 'folder', files: 5, sha256: ours.subject[0].digest.sha256, bundle: join(dir, 'model.sig') });
    const check = await modelSigningVerifyKey(dir, bundle, pubPem);
    expect(check.problems).toEqual([]);
  });

  it('the folder digest is the SHA-256 of the file digests in name order, as model_signing computes it', async () => {
    const copy = join(tmp.dir, 'two-files');
    await mkdir(copy);
    const files: Record<string, Buffer> = { 'signme-2': Buffer.from('second\n'), 'signme-1': Buffer.from('first\n') };
    for (const [n, b] of Object.entries(files)) await writeFile(join(copy, n), b);
    const r = await runCli(['sign', copy, '--key', keyPem], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    const ours = statementOf(await readJson(join(copy, 'model.sig')));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const names = Object.keys(files).sort();
    const digest = createHash('sha256');
    for (const n of names) digest.update(sha(files[n]!));
    expect(ours.subject).toEqual([{ name: 'two-files', digest: { sha256: digest.digest('hex') } }]);
    expect(ours.predicate.resources).toEqual(names.map((n) => ({ name: n, algorithm: 'sha256', digest: sha(files[n]!).toString('hex') })));
  });

  it('aibom verify accepts the key-signed folder; any change (changed, added, removed file) is caught', async () => {
    const dir = await makeModel('verify-me');
    expect((await runCli(['sign', dir, '--key', keyPem], { env: cleanEnv() })).code).toBe(0);
    const ok = await runCli(['verify', dir, '--key', join(tmp.dir, 'signing-key.pub')], { env: cleanEnv() });
    expect(ok.stdout + ok.stderr).toMatch(/OK/);
    expect(ok.code).toBe(0);
    await writeFile(join(dir, 'extra.bin'), 'x');
    const added = await runCli(['verify', dir, '--key', join(tmp.dir, 'signing-key.pub')], { env: cleanEnv() });
    expect(added.code).toBe(1);
    expect(added.stdout + added.stderr).toContain('extra.bin');
    const bundle = await readJson(join(dir, 'model.sig'));
    expect((await modelSigningVerifyKey(dir, bundle, pubPem)).problems).toEqual(['extra file extra.bin']);
    await rm(join(dir, 'extra.bin'));
    await rm(join(dir, 'README.md'));
    expect((await modelSigningVerifyKey(dir, bundle, pubPem)).problems).toEqual(['missing file README.md']);
  });

  it('keyless: the DSSE bundle carries certificate, dsse log entry and timestamp, and verifies for the identity', async () => {
    const dir = await makeModel('keyless-model');
    const sub = 'https://github.com/acme/models/.github/workflows/sign.yml@refs/heads/main';
    const r = await runCli(['sign', dir, '--identity-token', stack.mintToken({ sub }), '--signing-config', stack.signingConfigPath], {
      env: cleanEnv(),
    });
    expect(r.code).toBe(0);
    const bundle = await readJson(join(dir, 'model.sig'));
    expect(Object.keys(bundle.verificationMaterial).sort()).toEqual(['certificate', 'timestampVerificationData', 'tlogEntries']);
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    await verifyKeyless(stack, join(dir, 'model.sig'), undefined, { subjectAlternativeName: sub });
    const v = await runCli(
      ['verify', dir, '--certificate-identity', sub, '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath],
      { env: cleanEnv() },
    );
    expect(v.stdout + v.stderr).toContain(sub);
    expect(v.code).toBe(0);
  });

  it('model.sig is never hashed: signing again gives the same statement', async () => {
    const dir = await makeModel('twice');
    expect((await runCli(['sign', dir, '--key', keyPem], { env: cleanEnv() })).code).toBe(0);
    const first = statementOf(await readJson(join(dir, 'model.sig')));
    expect((await runCli(['sign', dir, '--key', keyPem], { env: cleanEnv() })).code).toBe(0);
    const second = statementOf(await readJson(join(dir, 'model.sig')));
    expect(second).toEqual(first);
    expect(second.predicate.resources.some((x: any) => x.name === 'model.sig')).toBe(false);
  });

  it('--bundle elsewhere: not recorded as ignored; --bundle inside a subfolder: recorded and left out', async () => {
    const dir = await makeModel('bundle-places');
    const outside = join(tmp.dir, 'bundle-places.sig');
    expect((await runCli(['sign', dir, '--key', keyPem, '--bundle', outside], { env: cleanEnv() })).code).toBe(0);
    expect(statementOf(await readJson(outside)).predicate.serialization.ignore_paths).toEqual(['.git', '.gitattributes', '.github', '.gitignore']);
    const inside = join(dir, 'tokenizer', 'sig.json');
    expect((await runCli(['sign', dir, '--key', keyPem, '--bundle', inside], { env: cleanEnv() })).code).toBe(0);
    const st = statementOf(await readJson(inside));
    expect(st.predicate.serialization.ignore_paths).toContain('tokenizer/sig.json');
    expect(st.predicate.resources.map((x: any) => x.name)).not.toContain('tokenizer/sig.json');
    expect((await modelSigningVerifyKey(dir, await readJson(inside), pubPem)).problems).toEqual([]);
  });

  it('--ignore-paths relative to the folder and to the working directory are left out and recorded', async () => {
    const dir = await makeModel('ignores');
    await writeFile(join(dir, 'notes.txt'), 'scratch');
    const r = await runCli(['sign', 'ignores', '--key', keyPem, '--ignore-paths', 'README.md', 'ignores/tokenizer', '--json'], {
      cwd: tmp.dir,
      env: cleanEnv(),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = statementOf(await readJson(join(dir, 'model.sig')));
    expect(st.predicate.resources.map((x: any) => x.name)).toEqual(['config.json', 'model.safetensors', 'notes.txt']);
    expect(st.predicate.serialization.ignore_paths).toEqual(
      expect.arrayContaining(['README.md', 'tokenizer', 'model.sig', '.git']),
    );
    // A verifier that honours the recorded paths needs no flags.
    expect((await modelSigningVerifyKey(dir, await readJson(join(dir, 'model.sig')), pubPem)).problems).toEqual([]);
    const v = await runCli(['verify', dir, '--key', join(tmp.dir, 'signing-key.pub')], { env: cleanEnv() });
    expect(v.code).toBe(0);
  });

  it('--no-ignore-git-paths hashes .git and .gitignore too', async () => {
    const dir = await makeModel('with-git');
    const r = await runCli(['sign', dir, '--key', keyPem, '--no-ignore-git-paths'], { env: cleanEnv() });
    expect(r.code).toBe(0);
    const st = statementOf(await readJson(join(dir, 'model.sig')));
    expect(st.predicate.resources.map((x: any) => x.name)).toEqual(expect.arrayContaining(['.git/HEAD', '.gitignore']));
    expect(st.predicate.serialization.ignore_paths).toEqual(['model.sig']);
    expect((await modelSigningVerifyKey(dir, await readJson(join(dir, 'model.sig')), pubPem, { ignoreGitPaths: false })).problems).toEqual([]);
  });

  it('symlinks: refused by default (exit 2, no model.sig); hashed with --allow-symlinks and recorded', async () => {
    const dir = await makeModel('links');
    await symlink('config.json', join(dir, 'config-link.json'));
    const refused = await runCli(['sign', dir, '--key', keyPem], { env: cleanEnv() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('config-link.json');
    await expect(readFile(join(dir, 'model.sig'))).rejects.toThrow();
    const allowed = await runCli(['sign', dir, '--key', keyPem, '--allow-symlinks'], { env: cleanEnv() });
    expect(allowed.code).toBe(0);
    const st = statementOf(await readJson(join(dir, 'model.sig')));
    expect(st.predicate.serialization.allow_symlinks).toBe(true);
    const link = st.predicate.resources.find((x: any) => x.name === 'config-link.json');
    const target = st.predicate.resources.find((x: any) => x.name === 'config.json');
    expect(link.digest).toBe(target.digest);
  });

  it('refuses an empty folder, and folder-only flags on a file, and --in-toto on a folder (exit 2)', async () => {
    const empty = join(tmp.dir, 'empty-model');
    await mkdir(join(empty, '.git'), { recursive: true });
    await writeFile(join(empty, '.git', 'HEAD'), 'x');
    const r1 = await runCli(['sign', empty, '--key', keyPem], { env: cleanEnv() });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('no files to sign');
    const file = join(tmp.dir, 'plain.txt');
    await writeFile(file, 'x');
    const r2 = await runCli(['sign', file, '--key', keyPem, '--ignore-paths', 'x'], { env: cleanEnv() });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('for signing folders');
    const r3 = await runCli(['sign', empty, '--key', keyPem, '--in-toto'], { env: cleanEnv() });
    expect(r3.code).toBe(2);
    expect(basename(empty)).toBe('empty-model');
  });
});
