/**
 * aibom's bundles handed to another verifier: the current `sigstore` npm package's verify()
 * (sigstore-js, the verifier npm uses), with the loopback stack's trusted root served by a
 * loopback TUF repository. Key-signed bundles carry a Rekor entry (v1 hashedrekord or dsse, v2
 * when the signing config says so) and the signing config's TSA timestamp by default, as
 * `cosign sign-blob --key` does; `--no-tlog-upload` makes one without, and says what a verifier
 * then needs. Keyless bundles (message and DSSE) verify with the identity policy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verify as sigstoreVerify, type VerifyOptions } from 'sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv, readJson } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';
import { startTufRepo, type TufRepo } from './helpers/tuf-repo.js';

let stack: SigstoreStack;
let tuf: TufRepo;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let n = 0;
const keys: Record<string, { priv: string; pub: string; pem: string }> = {};

beforeAll(async () => {
  stack = await startSigstoreStack();
  tuf = await startTufRepo(Buffer.from(JSON.stringify(stack.trustedRoot)));
  tmp = await tempDir('aibom-sign-interop-');
  for (const [name, curve] of [
    ['p256', 'P-256'],
    ['p384', 'P-384'],
  ] as const) {
    const pair = generateKeyPairSync('ec', { namedCurve: curve });
    const priv = join(tmp.dir, `${name}.pem`);
    const pub = join(tmp.dir, `${name}.pub`);
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await writeFile(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(pub, pem);
    keys[name] = { priv, pub, pem };
  }
});
afterAll(async () => {
  await stack?.close();
  await tuf?.close();
  await tmp?.cleanup();
});

async function artifact(content: string): Promise<string> {
  const dir = join(tmp.dir, `a${++n}`);
  await mkdir(dir);
  const f = join(dir, 'artifact.txt');
  await writeFile(f, content);
  return f;
}

/** sigstore-js verify() through the loopback TUF repository (a fresh cache each time). */
async function jsVerify(bundle: unknown, data: Buffer | undefined, options: VerifyOptions): Promise<unknown> {
  const tufOptions: VerifyOptions = {
    tufMirrorURL: tuf.url,
    tufRootPath: tuf.rootPath,
    tufCachePath: join(tmp.dir, `tuf-cache-${++n}`),
    ...options,
  };
  return data === undefined ? sigstoreVerify(bundle as never, tufOptions) : sigstoreVerify(bundle as never, data, tufOptions);
}

const keySelector = (pem: string) => () => pem;
const statementFor = (name: string, sha256: string) =>
  JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name, digest: { sha256 } }], predicateType: 'https://example.test/p/v1', predicate: {} });

describe('sigstore (npm) verify() accepts aibom bundles', () => {
  it('key-signed message signature: a Rekor hashedrekord entry and a TSA timestamp by default; sigstore-js verifies it', async () => {
    const f = await artifact('key signed\n');
    const r = await runCli(['sign', f, '--key', keys.p256!.priv, '--signing-config', stack.signingConfigPath, '--trusted-root', stack.trustedRootPath, '--json'], {
      env: cleanEnv(),
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tlogEntries).toHaveLength(1);
    expect(out.timestamps).toBe(1);
    const bundle = await readJson(`${f}.sigstore.json`);
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });
    await expect(jsVerify(bundle, await readFile(f), { keySelector: keySelector(keys.p256!.pem) })).resolves.toBeDefined();
    // Tampered artifact: refused by sigstore-js too (the check above can fail).
    await expect(jsVerify(bundle, Buffer.from('other\n'), { keySelector: keySelector(keys.p256!.pem) })).rejects.toThrow();
    // And by aibom, with the loopback root.
    expect((await runCli(['verify', f, '--key', keys.p256!.pub, '--trusted-root', stack.trustedRootPath], { env: cleanEnv() })).code).toBe(0);
  });

  it('key-signed DSSE (--in-toto, attest) gets a dsse entry; Rekor v2 when the signing config says so; sigstore-js verifies both', async () => {
    const f = await artifact('statement\n');
    await writeFile(f, statementFor('x', 'a'.repeat(64)));
    for (const [config, kind, version] of [
      [stack.signingConfigPath, 'dsse', '0.0.1'],
      [stack.signingConfigRekorV2Path, 'dsse', '0.0.2'],
    ] as const) {
      const r = await runCli(['sign', f, '--in-toto', '--key', keys.p256!.priv, '--signing-config', config, '--trusted-root', stack.trustedRootPath], { env: cleanEnv() });
      expect(r.code, r.stderr).toBe(0);
      const bundle = await readJson(`${f}.sigstore.json`);
      expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind, version });
      await expect(jsVerify(bundle, undefined, { keySelector: keySelector(keys.p256!.pem) })).resolves.toBeDefined();
    }
    const v2msg = await artifact('v2 message\n');
    const r2 = await runCli(['sign', v2msg, '--key', keys.p256!.priv, '--signing-config', stack.signingConfigRekorV2Path], { env: cleanEnv() });
    expect(r2.code, r2.stderr).toBe(0);
    const b2 = await readJson(`${v2msg}.sigstore.json`);
    expect(b2.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    await expect(jsVerify(b2, await readFile(v2msg), { keySelector: keySelector(keys.p256!.pem) })).resolves.toBeDefined();
  });

  it('P-384 keys sign with SHA-384 everywhere (Sigstore algorithm registry): message signatures with Rekor v1 and v2 entries sigstore-js verifies', async () => {
    for (const config of [stack.signingConfigPath, stack.signingConfigRekorV2Path]) {
      const f = await artifact(`p384 ${config}\n`);
      const r = await runCli(['sign', f, '--key', keys.p384!.priv, '--signing-config', config, '--trusted-root', stack.trustedRootPath], { env: cleanEnv() });
      expect(r.code, r.stderr).toBe(0);
      const bundle = await readJson(`${f}.sigstore.json`);
      expect(bundle.messageSignature.messageDigest.algorithm).toBe('SHA2_384');
      const entry = bundle.verificationMaterial.tlogEntries[0];
      const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8'));
      if (entry.kindVersion.version === '0.0.1') expect(body.spec.data.hash.algorithm).toBe('sha384');
      else {
        expect(body.spec.hashedRekordV002.data.algorithm).toBe('SHA2_384');
        // A key-signed entry names the public key and its key details, not a certificate.
        expect(body.spec.hashedRekordV002.signature.verifier.keyDetails).toBe('PKIX_ECDSA_P384_SHA_384');
        expect(body.spec.hashedRekordV002.signature.verifier.publicKey).toBeDefined();
      }
      await expect(jsVerify(bundle, await readFile(f), { keySelector: keySelector(keys.p384!.pem) })).resolves.toBeDefined();
      expect((await runCli(['verify', f, '--key', keys.p384!.pub, '--trusted-root', stack.trustedRootPath], { env: cleanEnv() })).code).toBe(0);
    }
  });

  it('--no-tlog-upload (air-gapped): no log entry, and the note says what a verifier needs; sigstore-js refuses such a bundle', async () => {
    const f = await artifact('air gapped\n');
    const r = await runCli(['sign', f, '--key', keys.p256!.priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no transparency log entry and no timestamp: a verifier must be given the public key and must accept a bundle without a log entry/);
    const bundle = await readJson(`${f}.sigstore.json`);
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    await expect(jsVerify(bundle, await readFile(f), { keySelector: keySelector(keys.p256!.pem) })).rejects.toThrow(/tlog|timestamp/i);
    expect((await runCli(['verify', f, '--key', keys.p256!.pub], { env: cleanEnv() })).code).toBe(0);
    // Contradictions are refused before anything is signed.
    const both = await runCli(['sign', f, '--key', keys.p256!.priv, '--no-tlog-upload', '--rekor-url', stack.urls.rekor], { env: cleanEnv() });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--rekor-url and --no-tlog-upload contradict each other/);
    const keyless = await runCli(['sign', f, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath, '--no-tlog-upload'], {
      env: cleanEnv(),
    });
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toMatch(/--no-tlog-upload is for key signing/);
  });

  it('keyless message and DSSE bundles verify with the identity policy; another identity is refused', async () => {
    const f = await artifact('keyless\n');
    const token = stack.mintToken();
    const r = await runCli(['sign', f, '--identity-token', token, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    const bundle = await readJson(`${f}.sigstore.json`);
    const policy = { certificateIdentityURI: stack.defaultSubject, certificateIssuer: stack.urls.oidc };
    await expect(jsVerify(bundle, await readFile(f), policy)).resolves.toBeDefined();
    await expect(jsVerify(bundle, await readFile(f), { ...policy, certificateIdentityURI: `${stack.defaultSubject}x` })).rejects.toThrow();

    const st = await artifact('x');
    await writeFile(st, statementFor('keyless', 'b'.repeat(64)));
    const d = await runCli(['sign', st, '--in-toto', '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigRekorV2Path], { env: cleanEnv() });
    expect(d.code, d.stderr).toBe(0);
    await expect(jsVerify(await readJson(`${st}.sigstore.json`), undefined, policy)).resolves.toBeDefined();
  });
});
