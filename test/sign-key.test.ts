/**
 * Key signing through the CLI: ECDSA P-256 / P-384 message signatures and DSSE, Ed25519 DSSE,
 * a public-key hint (the SHA-256 of the public key's PEM, as model_signing writes it), an
 * optional TSA timestamp; and the refusals (wrong key types, public keys, encrypted keys
 * without a password, Ed25519 for a message signature, key + Rekor).
 */
import { createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv, readJson, statementOf } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
const keys: Record<string, { priv: string; pub: string; pubKey: KeyObject }> = {};

async function writeKey(name: string, pair: { privateKey: KeyObject; publicKey: KeyObject }, passphrase?: string) {
  const priv = join(tmp.dir, `${name}.pem`);
  const pub = join(tmp.dir, `${name}.pub`);
  await writeFile(
    priv,
    pair.privateKey.export(
      passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' },
    ),
  );
  await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  keys[name] = { priv, pub, pubKey: pair.publicKey };
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-sign-key-');
  await writeKey('p256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  await writeKey('p384', generateKeyPairSync('ec', { namedCurve: 'P-384' }));
  await writeKey('ed25519', generateKeyPairSync('ed25519'));
  await writeKey('p521', generateKeyPairSync('ec', { namedCurve: 'P-521' }));
  await writeKey('rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }));
  await writeKey('p256enc', generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'correct horse battery');
  // SEC1 ("EC PRIVATE KEY"), as openssl ecparam -genkey writes it.
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(tmp.dir, 'sec1.pem'), sec1.privateKey.export({ type: 'sec1', format: 'pem' }));
  keys.sec1 = { priv: join(tmp.dir, 'sec1.pem'), pub: '', pubKey: sec1.publicKey };
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

function hintOf(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'pem' }).toString()).digest('hex');
}

function paeOf(bundle: any): Buffer {
  const type = bundle.dsseEnvelope.payloadType as string;
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);
}

/** @sigstore/verify with a public key (message signatures, and DSSE with SHA-256 / Ed25519 keys). */
function verifyWithKey(bundle: any, pub: KeyObject, artifact?: Buffer, options: { timestamps?: number } = {}) {
  const root = TrustedRoot.fromJSON(
    options.timestamps ? stack.trustedRoot : { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
  );
  const trust = toTrustMaterial(root, (hint: string) => {
    if (hint !== hintOf(pub)) throw new Error(`unknown key ${hint}`);
    return { publicKey: pub, validFor: () => true };
  });
  return new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: options.timestamps ?? 0 }).verify(
    toSignedEntity(bundleFromJSON(bundle), artifact),
  );
}

async function artifact(name: string, content = `release file ${name}\n`): Promise<string> {
  const p = join(tmp.dir, name);
  await writeFile(p, content);
  return p;
}

const statementJson = JSON.stringify({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'app.tgz', digest: { sha256: 'c'.repeat(64) } }],
  predicateType: 'https://example.com/p/v1',
  predicate: {},
});

describe('aibom sign --key', () => {
  it('P-256: a message-signature bundle with the key hint; verifies with the public key; no CA or log asked', async () => {
    const file = await artifact('p256.tgz');
    const before = { ...stack.requests };
    const r = await runCli(['sign', file, '--key', keys.p256!.priv, '--no-tlog-upload', '--json'], { env: cleanEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.publicKey).toEqual({ hint: hintOf(keys.p256!.pubKey) });
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    // One fingerprint everywhere: the SHA-256 of the DER SubjectPublicKeyInfo (the bundle keeps model_signing's hint).
    const der = createHash('sha256').update(keys.p256!.pubKey.export({ format: 'der', type: 'spki' })).digest('hex');
    expect(JSON.parse(r.stdout).signer).toEqual({ method: 'key', keyType: 'ecdsa-p256', keyFingerprint: `sha256:${der}`, keyHint: hintOf(keys.p256!.pubKey) });
    verifyWithKey(bundle, keys.p256!.pubKey, await readFile(file));
    expect(() => verifyWithKey(bundle, keys.p256!.pubKey, Buffer.from('tampered'))).toThrow();
    expect(stack.requests).toEqual(before);
    expect((await runCli(['verify', file, '--key', keys.p256!.pub], { env: cleanEnv() })).code).toBe(0);
    expect((await runCli(['verify', file, '--key', keys.p384!.pub], { env: cleanEnv() })).code).toBe(1);
  });

  it('P-384 message signature: SHA-384 (PKIX_ECDSA_P384_SHA_384), the bundle messageDigest says so, verifies', async () => {
    const file = await artifact('p384.bin');
    const r = await runCli(['sign', file, '--key', keys.p384!.priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(r.code).toBe(0);
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(bundle.messageSignature.messageDigest.algorithm).toBe('SHA2_384');
    const data = await readFile(file);
    expect(Buffer.from(bundle.messageSignature.messageDigest.digest, 'base64')).toEqual(createHash('sha384').update(data).digest());
    const sig = Buffer.from(bundle.messageSignature.signature, 'base64');
    expect(cryptoVerify('sha384', data, keys.p384!.pubKey, sig)).toBe(true);
    expect(cryptoVerify('sha256', data, keys.p384!.pubKey, sig)).toBe(false);
    verifyWithKey(bundle, keys.p384!.pubKey, data);
    expect((await runCli(['verify', file, '--key', keys.p384!.pub], { env: cleanEnv() })).code).toBe(0);
    const digest = createHash('sha384').update(data).digest('hex');
    expect((await runCli(['verify', `sha384:${digest}`, '--bundle', `${file}.sigstore.json`, '--key', keys.p384!.pub], { env: cleanEnv() })).code).toBe(0);
  });

  it('P-384 DSSE (--in-toto) signs the PAE with SHA-384, as PKIX_ECDSA_P384_SHA_384 and model_signing expect', async () => {
    const file = await artifact('p384-statement.json', statementJson);
    const r = await runCli(['sign', file, '--in-toto', '--key', keys.p384!.priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(r.code).toBe(0);
    const bundle = await readJson(`${file}.sigstore.json`);
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
    expect(cryptoVerify('sha384', paeOf(bundle), keys.p384!.pubKey, sig)).toBe(true);
    expect(cryptoVerify('sha256', paeOf(bundle), keys.p384!.pubKey, sig)).toBe(false);
    // aibom verify agrees (by the statement's subject digest).
    const v = await runCli(['verify', `sha256:${'c'.repeat(64)}`, '--bundle', `${file}.sigstore.json`, '--key', keys.p384!.pub], { env: cleanEnv() });
    expect(v.code).toBe(0);
    const other = await runCli(['verify', `sha256:${'d'.repeat(64)}`, '--bundle', `${file}.sigstore.json`, '--key', keys.p384!.pub], { env: cleanEnv() });
    expect(other.code).toBe(1);
  });

  it('Ed25519 signs DSSE (--in-toto and attest); the bundles verify with the public key', async () => {
    const file = await artifact('ed-statement.json', statementJson);
    const r = await runCli(['sign', file, '--in-toto', '--key', keys.ed25519!.priv, '--no-tlog-upload', '--json'], { env: cleanEnv() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).signer.keyType).toBe('ed25519');
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(statementOf(bundle)).toEqual(JSON.parse(statementJson));
    verifyWithKey(bundle, keys.ed25519!.pubKey);

    const bom = join(tmp.dir, 'bom.json');
    await writeFile(bom, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 }));
    const a = await artifact('ed-app.tgz');
    const out = join(tmp.dir, 'ed-attest.sigstore.json');
    const r2 = await runCli(['attest', '--predicate', bom, '--bundle', out, '--key', keys.ed25519!.priv, '--no-tlog-upload', a], { env: cleanEnv() });
    expect(r2.stderr).toContain('aibom: signed');
    expect(r2.code).toBe(0);
    verifyWithKey(await readJson(out), keys.ed25519!.pubKey);
  });

  it('Ed25519 cannot make a message signature: clear usage error, nothing written', async () => {
    const file = await artifact('ed-message.txt');
    const r = await runCli(['sign', file, '--key', keys.ed25519!.priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Ed25519 key can only sign DSSE/);
    await expect(readFile(`${file}.sigstore.json`)).rejects.toThrow();
  });

  it('--tsa-url adds a signed timestamp that verifies against the TSA in the trusted root', async () => {
    const file = await artifact('tsa.txt');
    const before = stack.requests.tsa;
    const r = await runCli(['sign', file, '--key', keys.p256!.priv, '--no-tlog-upload', '--tsa-url', stack.urls.tsa], { env: cleanEnv() });
    expect(r.code).toBe(0);
    expect(stack.requests.tsa).toBe(before + 1);
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    verifyWithKey(bundle, keys.p256!.pubKey, await readFile(file), { timestamps: 1 });
  });

  it('reads SEC1 ("EC PRIVATE KEY") and encrypted PKCS#8 keys (AIBOM_KEY_PASSWORD)', async () => {
    const f1 = await artifact('sec1.txt');
    expect((await runCli(['sign', f1, '--key', keys.sec1!.priv, '--no-tlog-upload'], { env: cleanEnv() })).code).toBe(0);
    verifyWithKey(await readJson(`${f1}.sigstore.json`), keys.sec1!.pubKey, await readFile(f1));

    const f2 = await artifact('enc.txt');
    const noPass = await runCli(['sign', f2, '--key', keys.p256enc!.priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(noPass.code).toBe(2);
    expect(noPass.stderr).toContain('encrypted; set AIBOM_KEY_PASSWORD');
    const wrong = await runCli(['sign', f2, '--key', keys.p256enc!.priv, '--no-tlog-upload'], { env: cleanEnv({ AIBOM_KEY_PASSWORD: 'wrong password' }) });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).not.toContain('wrong password');
    const ok = await runCli(['sign', f2, '--key', keys.p256enc!.priv, '--no-tlog-upload'], { env: cleanEnv({ AIBOM_KEY_PASSWORD: 'correct horse battery' }) });
    expect(ok.code).toBe(0);
    verifyWithKey(await readJson(`${f2}.sigstore.json`), keys.p256enc!.pubKey, await readFile(f2));
  });

  it('refuses keys it cannot use, each with a message naming the file (exit 2, nothing written)', async () => {
    const file = await artifact('refused.txt');
    const cases: Array<[string[], RegExp]> = [
      [['--key', join(tmp.dir, 'no-such-key.pem')], /no-such-key\.pem: no such file/],
      [['--key', keys.rsa!.priv], /rsa\.pem: unsupported key type rsa/],
      [['--key', keys.p521!.priv], /p521\.pem: unsupported elliptic curve secp521r1/],
      [['--key', keys.p256!.pub], /p256\.pub: this is a public key or certificate/],
      [['--key', file], /refused\.txt: not a PEM private key/],
      [['--key', keys.p256!.priv, '--rekor-url', stack.urls.rekor, '--no-tlog-upload'], /--rekor-url and --no-tlog-upload contradict each other/],
      [['--key', keys.p256!.priv, '--identity-token', stack.mintToken()], /either --key .* or --identity-token/],
      [['--key', keys.p256!.priv, '--tsa-url', 'http://tsa.example.com'], /--tsa-url: .* must use https/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['sign', file, ...flags], { env: cleanEnv() });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    await expect(readFile(`${file}.sigstore.json`)).rejects.toThrow();
  });

  it('the public key read back from the hint file matches what model_signing computes (sha256 of the SPKI PEM)', async () => {
    const pem = await readFile(keys.p384!.pub, 'utf8');
    const file = await artifact('hint.json', statementJson);
    expect((await runCli(['sign', file, '--in-toto', '--key', keys.p384!.priv, '--no-tlog-upload'], { env: cleanEnv() })).code).toBe(0);
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(pem).digest('hex'));
    expect(createPublicKey(pem).equals(keys.p384!.pubKey)).toBe(true);
  });
});
