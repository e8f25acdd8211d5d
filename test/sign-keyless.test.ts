/**
 * Keyless signing through the CLI (a subprocess) against the loopback Sigstore stack: the
 * bundle is a v0.3 Sigstore bundle that @sigstore/verify accepts with the stack's trusted root
 * and the signer's identity; tokens come from --identity-token or the ambient GitHub Actions
 * endpoint; services from a SigningConfig (v0.1, v0.2, Rekor v2) or the --*-url flags; the
 * token is never written anywhere.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv, filesContaining, readJson, statementOf, verifyKeyless } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-sign-keyless-');
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

const SUB = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0';

async function artifact(name: string, content = `artifact ${name}\n`): Promise<string> {
  const p = join(tmp.dir, name);
  await writeFile(p, content);
  return p;
}

describe('aibom sign FILE (keyless)', () => {
  it('writes FILE.sigstore.json: a v0.3 message-signature bundle that verifies for the signer identity', async () => {
    const file = await artifact('agent-1.2.0.tgz');
    const token = stack.mintToken({ sub: SUB });
    const r = await runCli(['sign', file, '--identity-token', token, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r.stderr).toContain('aibom: signed');
    expect(r.code).toBe(0);
    const bundlePath = `${file}.sigstore.json`;
    const bundle = await readJson(bundlePath);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.certificate.rawBytes).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(bundle.verificationMaterial.x509CertificateChain).toBeUndefined();
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const data = await readFile(file);
    expect(bundle.messageSignature.messageDigest).toEqual({
      algorithm: 'SHA2_256',
      digest: createHash('sha256').update(data).digest('base64'),
    });
    const signer = await verifyKeyless(stack, bundlePath, data, { subjectAlternativeName: SUB, extensions: { issuer: stack.urls.oidc } });
    expect(signer.identity?.subjectAlternativeName).toBe(SUB);
    // Another identity, or other bytes, must not verify.
    await expect(verifyKeyless(stack, bundlePath, data, { subjectAlternativeName: `${SUB}x` })).rejects.toThrow();
    await expect(verifyKeyless(stack, bundlePath, Buffer.from('tampered'))).rejects.toThrow();
    // The token is nowhere: not in the output, not in any file.
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(await filesContaining(tmp.dir, token)).toEqual([]);
  });

  it('--json reports digest, bundle path, identity, issuer and the log index', async () => {
    const file = await artifact('bom.cdx.json', '{"bomFormat":"CycloneDX"}\n');
    const out = join(tmp.dir, 'custom-name.bundle');
    const r = await runCli(
      ['sign', file, '--bundle', out, '--json', '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath],
      { env: cleanEnv() },
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      signed: file,
      kind: 'file',
      sha256: createHash('sha256').update(await readFile(file)).digest('hex'),
      bundle: out,
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      content: 'messageSignature',
      signer: { method: 'keyless', identity: SUB, issuer: stack.urls.oidc },
      timestamps: 1,
    });
    const bundle = await readJson(out);
    expect(j.tlogEntries[0].logIndex).toBe(bundle.verificationMaterial.tlogEntries[0].logIndex);
    expect(j.tlogEntries[0].integratedTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('takes the ambient GitHub Actions OIDC token (audience sigstore) when no token is given', async () => {
    const file = await artifact('ambient.txt');
    const ghSub = 'https://github.com/acme/agent/.github/workflows/ci.yml@refs/heads/main';
    const env = stack.githubActionsEnv({ sub: ghSub, repository: 'acme/agent', event_name: 'push' });
    const before = stack.requests.oidc;
    const r = await runCli(['sign', file, '--json', '--signing-config', stack.signingConfigPath], { env: cleanEnv(env) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(stack.requests.oidc).toBe(before + 1);
    expect(JSON.parse(r.stdout).signer.identity).toBe(ghSub);
    await verifyKeyless(stack, `${file}.sigstore.json`, await readFile(file), { subjectAlternativeName: ghSub });
    // The request token is a secret too.
    expect(r.stdout + r.stderr).not.toContain(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
    expect(await filesContaining(tmp.dir, env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)).toEqual([]);
  });

  it('a refused GitHub Actions token request fails clearly (exit 2), without the request token', async () => {
    const file = await artifact('ambient-denied.txt');
    const env = { ...stack.githubActionsEnv(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-request-token-12345' };
    const r = await runCli(['sign', file, '--signing-config', stack.signingConfigPath], { env: cleanEnv(env) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GitHub Actions OIDC token endpoint .* HTTP 401 .*id-token: write/);
    expect(r.stderr).not.toContain('not-the-request-token-12345');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes services from the --fulcio-url / --rekor-url / --tsa-url flags', async () => {
    const file = await artifact('flags.txt');
    const before = { ...stack.requests };
    const r = await runCli(
      [
        'sign',
        file,
        '--identity-token',
        stack.mintToken({ sub: SUB }),
        '--fulcio-url',
        stack.urls.fulcio,
        '--rekor-url',
        stack.urls.rekor,
        '--tsa-url',
        stack.urls.tsa,
        '--json',
      ],
      { env: cleanEnv() },
    );
    expect(r.code).toBe(0);
    expect(stack.requests.fulcio).toBe(before.fulcio + 1);
    expect(stack.requests.rekor).toBe(before.rekor + 1);
    expect(stack.requests.tsa).toBe(before.tsa + 1);
    await verifyKeyless(stack, `${file}.sigstore.json`, await readFile(file), { subjectAlternativeName: SUB });
  });

  it('reads a v0.1 SigningConfig, and Rekor v2 from a v0.2 one', async () => {
    const f1 = await artifact('v01.txt');
    const r1 = await runCli(['sign', f1, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigV01Path], {
      env: cleanEnv(),
    });
    expect(r1.code).toBe(0);
    await verifyKeyless(stack, `${f1}.sigstore.json`, await readFile(f1));

    const f2 = await artifact('v2.txt');
    const before = stack.requests.rekorV2;
    const r2 = await runCli(['sign', f2, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigRekorV2Path], {
      env: cleanEnv(),
    });
    expect(r2.code).toBe(0);
    expect(stack.requests.rekorV2).toBe(before + 1);
    const bundle = await readJson(`${f2}.sigstore.json`);
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    await verifyKeyless(stack, `${f2}.sigstore.json`, await readFile(f2));
  });

  it('an email identity (verified) becomes the certificate identity', async () => {
    const file = await artifact('email.txt');
    const r = await runCli(
      [
        'sign',
        file,
        '--json',
        '--identity-token',
        stack.mintToken({ sub: '1234567', email: 'release@acme.example', email_verified: true }),
        '--signing-config',
        stack.signingConfigPath,
      ],
      { env: cleanEnv() },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).signer.identity).toBe('release@acme.example');
  });
});

describe('aibom sign FILE --in-toto (keyless)', () => {
  it('signs the statement bytes unchanged in DSSE, recorded as a dsse entry, and it verifies', async () => {
    const statement = `${JSON.stringify(
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'agent.tgz', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://example.com/custom/v1',
        predicate: { note: 'formatting kept' },
      },
      null,
      4,
    )}\n`;
    const file = await artifact('statement.json', statement);
    const r = await runCli(['sign', file, '--in-toto', '--json', '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath], {
      env: cleanEnv(),
    });
    expect(r.code).toBe(0);
    const bundle = await readJson(`${file}.sigstore.json`);
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')).toBe(statement);
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'in-toto', predicateType: 'https://example.com/custom/v1', subjects: [{ name: 'agent.tgz' }] });
    await verifyKeyless(stack, `${file}.sigstore.json`, undefined, { subjectAlternativeName: SUB });
  });

  it('refuses a file that is not an in-toto Statement v1 or v0.1 (exit 2, nothing written, no service asked)', async () => {
    const file = await artifact('not-statement.json', '{"_type":"https://in-toto.io/Statement/v0.2","subject":[],"predicateType":"x"}');
    const before = stack.requests.fulcio;
    const r = await runCli(['sign', file, '--in-toto', '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath], {
      env: cleanEnv(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Statement/v1');
    expect(stack.requests.fulcio).toBe(before);
    await expect(readFile(`${file}.sigstore.json`)).rejects.toThrow();
  });
});

describe('aibom sign-bundle (the conformance signing contract)', () => {
  it('accepts the contract flags in order and writes a bundle that verifies', async () => {
    const file = await artifact('conformance.txt');
    const out = join(tmp.dir, 'conformance.sigstore.json');
    const token = stack.mintToken({ sub: SUB });
    const r = await runCli(
      ['sign-bundle', '--identity-token', token, '--bundle', out, '--trusted-root', stack.trustedRootPath, '--signing-config', stack.signingConfigPath, file],
      { env: cleanEnv() },
    );
    expect(r.stderr).toContain('aibom: signed');
    expect(r.code).toBe(0);
    await verifyKeyless(stack, out, await readFile(file), { subjectAlternativeName: SUB });
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('--in-toto signs a statement in DSSE', async () => {
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'b'.repeat(64) } }], predicateType: 'https://x.example/p' };
    const file = await artifact('conformance-statement.json', JSON.stringify(st));
    const out = join(tmp.dir, 'conformance-statement.sigstore.json');
    const r = await runCli(
      ['sign-bundle', '--in-toto', '--identity-token', stack.mintToken(), '--bundle', out, '--signing-config', stack.signingConfigPath, file],
      { env: cleanEnv() },
    );
    expect(r.code).toBe(0);
    const bundle = await readJson(out);
    expect(statementOf(bundle)).toEqual(st);
    await verifyKeyless(stack, out);
  });

  it('--trusted-root that does not vouch for the services: exit 1 and no bundle written', async () => {
    const other = await startSigstoreStack();
    try {
      const file = await artifact('untrusted.txt');
      const out = join(tmp.dir, 'untrusted.sigstore.json');
      const r = await runCli(
        ['sign-bundle', '--identity-token', stack.mintToken(), '--bundle', out, '--trusted-root', other.trustedRootPath, '--signing-config', stack.signingConfigPath, file],
        { env: cleanEnv() },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/does not vouch for .* no bundle written/);
      await expect(readFile(out)).rejects.toThrow();
    } finally {
      await other.close();
    }
  });

  it('requires --identity-token and --bundle (usage error, exit 2)', async () => {
    const file = await artifact('contract-usage.txt');
    const r = await runCli(['sign-bundle', '--bundle', join(tmp.dir, 'x.json'), file], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--identity-token');
  });
});
