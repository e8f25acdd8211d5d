/**
 * The loopback Sigstore stack itself: the real sigstore-js clients sign against it over real
 * sockets and @sigstore/verify accepts the result with the stack's trusted root only. If this
 * fails, every keyless test and bench that depends on the stack is meaningless.
 */
import { readFile } from 'node:fs/promises';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import {
  bundleBuilderFromSigningConfig,
  DSSEBundleBuilder,
  FulcioSigner,
  type IdentityProvider,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
} from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;

beforeAll(async () => {
  stack = await startSigstoreStack();
});
afterAll(async () => {
  await stack?.close();
});

function provider(token: string): IdentityProvider {
  return { getToken: async () => token };
}

async function verifier() {
  const root = TrustedRoot.fromJSON(JSON.parse(await readFile(stack.trustedRootPath, 'utf8')));
  return new Verifier(toTrustMaterial(root));
}

describe('loopback Sigstore stack', () => {
  it('keyless message signature: Fulcio cert + Rekor hashedrekord + TSA verify against the stack root', async () => {
    const sub = 'https://github.com/acme/model/.github/workflows/release.yml@refs/tags/v1';
    const signer = new FulcioSigner({ fulcioBaseURL: stack.urls.fulcio, identityProvider: provider(stack.mintToken({ sub })) });
    const builder = new MessageSignatureBundleBuilder({
      signer,
      witnesses: [new RekorWitness({ rekorBaseURL: stack.urls.rekor }), new TSAWitness({ tsaBaseURL: stack.urls.tsa })],
    });
    const data = Buffer.from('hello, sigstore\n');
    const bundle = await builder.create({ data });
    const json = bundleToJSON(bundle) as Record<string, any>;
    expect(json.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
    expect(json.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('hashedrekord');
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    const v = await verifier();
    const signerOut = v.verify(toSignedEntity(bundleFromJSON(json), data), {
      subjectAlternativeName: sub,
      extensions: { issuer: stack.urls.oidc },
    });
    expect(signerOut.identity?.subjectAlternativeName).toBe(sub);
    // The same bundle over other bytes must fail.
    expect(() => v.verify(toSignedEntity(bundleFromJSON(json), Buffer.from('other')))).toThrow();
  });

  it('keyless DSSE: the fixture stores the canonical dsse body, as real Rekor does, so it verifies', async () => {
    const signer = new FulcioSigner({ fulcioBaseURL: stack.urls.fulcio, identityProvider: provider(stack.mintToken()) });
    const builder = new DSSEBundleBuilder({ signer, witnesses: [new RekorWitness({ rekorBaseURL: stack.urls.rekor })] });
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x' }));
    const bundle = await builder.create({ data: statement, type: 'application/vnd.in-toto+json' });
    const json = bundleToJSON(bundle) as Record<string, any>;
    const entry = json.verificationMaterial.tlogEntries[0];
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8'));
    expect(body.kind).toBe('dsse');
    expect(body.spec.proposedContent).toBeUndefined();
    expect(body.spec.payloadHash.algorithm).toBe('sha256');
    expect(body.spec.signatures).toHaveLength(1);
    const v = await verifier();
    const out = v.verify(toSignedEntity(bundleFromJSON(json)), { subjectAlternativeName: stack.defaultSubject });
    expect(out.identity?.extensions?.issuer).toBe(stack.urls.oidc);
  });

  it('Rekor v2 through a SigningConfig: entries verify (with the TSA timestamp)', async () => {
    const config = SigningConfig.fromJSON(JSON.parse(await readFile(stack.signingConfigRekorV2Path, 'utf8')));
    for (const bundleType of ['messageSignature', 'dsseEnvelope'] as const) {
      const builder = bundleBuilderFromSigningConfig({ signingConfig: config, identityProvider: provider(stack.mintToken()), bundleType });
      const data = Buffer.from(bundleType === 'dsseEnvelope' ? '{"_type":"x"}' : 'v2 artifact');
      const bundle = await builder.create(bundleType === 'dsseEnvelope' ? { data, type: 'application/vnd.in-toto+json' } : { data });
      const json = bundleToJSON(bundle) as Record<string, any>;
      expect(json.verificationMaterial.tlogEntries[0].kindVersion.version).toBe('0.0.2');
      const v = await verifier();
      v.verify(toSignedEntity(bundleFromJSON(json), bundleType === 'messageSignature' ? data : undefined), {
        subjectAlternativeName: stack.defaultSubject,
      });
    }
    expect(stack.requests.rekorV2).toBeGreaterThanOrEqual(2);
  });

  it('Fulcio refuses tokens the issuer did not sign, expired tokens, and the wrong audience', async () => {
    const good = stack.mintToken();
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
    const expired = stack.mintToken({ exp: Math.floor(Date.now() / 1000) - 60 });
    const wrongAud = stack.mintToken({ aud: 'not-sigstore' });
    for (const token of [forged, expired, wrongAud]) {
      const signer = new FulcioSigner({ fulcioBaseURL: stack.urls.fulcio, identityProvider: provider(token), retry: 0 });
      await expect(signer.sign(Buffer.from('x'))).rejects.toThrow(/signing certificate/);
    }
  });

  it('the GitHub Actions style endpoint needs the request token and honours the audience', async () => {
    const env = stack.githubActionsEnv({ sub: 'repo:acme/model:ref:refs/heads/main' });
    const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL);
    url.searchParams.append('audience', 'sigstore');
    const denied = await fetch(url, { headers: { authorization: 'bearer wrong' } });
    expect(denied.status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
    expect(ok.status).toBe(200);
    const { value } = (await ok.json()) as { value: string };
    const claims = JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'repo:acme/model:ref:refs/heads/main', aud: 'sigstore', iss: stack.urls.oidc });
  });

  it('TSA timestamps always parse (no trimmed milliseconds in genTime)', async () => {
    const { RFC3161Timestamp } = await import('@sigstore/core');
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${stack.urls.tsa}/api/v1/timestamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ artifactHash: Buffer.alloc(32, i).toString('base64'), hashAlgorithm: 'sha256' }),
      });
      expect(res.status).toBe(201);
      const der = Buffer.from(await res.arrayBuffer());
      // Parsed the way verifiers parse a bundle's signedTimestamp.
      const ts = RFC3161Timestamp.parse(der);
      expect(ts.signingTime.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(ts.signingTime.getUTCMilliseconds()).toBe(0);
    }
  });

  it('writes a trusted root and signing configs that parse as the protobuf types', async () => {
    const root = TrustedRoot.fromJSON(JSON.parse(await readFile(stack.trustedRootPath, 'utf8')));
    expect(root.tlogs).toHaveLength(1);
    expect(root.certificateAuthorities).toHaveLength(1);
    expect(root.ctlogs).toHaveLength(1);
    expect(root.timestampAuthorities[0]?.certChain?.certificates).toHaveLength(2);
    const cfg = SigningConfig.fromJSON(JSON.parse(await readFile(stack.signingConfigPath, 'utf8')));
    expect(cfg.caUrls[0]?.url).toBe(stack.urls.fulcio);
    expect(cfg.rekorTlogUrls[0]?.url).toBe(stack.urls.rekor);
    expect(cfg.tsaUrls[0]?.url).toBe(`${stack.urls.tsa}/api/v1/timestamp`);
  });
});

describe('bench input: makeKeylessBundles', () => {
  it('makes N keyless bundles that verify one by one and with `aibom verify --batch`; a tampered artifact fails', async () => {
    const { makeKeylessBundles } = await import('./helpers/keyless-bundles.js');
    const { runCli, tempDir } = await import('./helpers/cli.js');
    const { bundleFromJSON } = await import('@sigstore/bundle');
    const tmp = await tempDir('aibom-keyless-bundles-');
    try {
      const made = await makeKeylessBundles(stack, { dir: tmp.dir, count: 25, tsa: true });
      expect(made.entries).toHaveLength(25);
      const v = await verifier();
      for (const e of made.entries) {
        const json = JSON.parse(await readFile(e.bundle, 'utf8'));
        expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
        v.verify(toSignedEntity(bundleFromJSON(json), await readFile(e.artifact)), { subjectAlternativeName: made.identity });
      }
      const env = { NO_PROXY: '127.0.0.1', SIGSTORE_ID_TOKEN: undefined };
      const ok = await runCli(['verify', '--batch', made.batchPath, '--json'], { env });
      expect(ok.stderr).not.toMatch(/\n\s+at /);
      expect(ok.code).toBe(0);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(made.entries[7]!.artifact, 'tampered');
      const bad = await runCli(['verify', '--batch', made.batchPath], { env });
      expect(bad.code).toBe(1);
    } finally {
      await tmp.cleanup();
    }
  });

  it('runs as a script for benches: OUT_DIR COUNT → bundles, batch.jsonl and trusted_root.json that outlive the stack', async () => {
    const { spawnSync } = await import('node:child_process');
    const { tempDir, REPO } = await import('./helpers/cli.js');
    const { join } = await import('node:path');
    const tmp = await tempDir('aibom-keyless-script-');
    try {
      const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'test', 'helpers', 'keyless-bundles.ts'), tmp.dir, '6', '--dsse'], {
        encoding: 'utf8',
        env: { ...process.env, NO_PROXY: '127.0.0.1' },
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.count).toBe(6);
      const lines = (await readFile(summary.batch, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(6);
      const root = TrustedRoot.fromJSON(JSON.parse(await readFile(summary.trustedRoot, 'utf8')));
      const first = JSON.parse(lines[0]!);
      const { bundleFromJSON } = await import('@sigstore/bundle');
      const bundle = JSON.parse(await readFile(join(tmp.dir, first.bundle), 'utf8'));
      expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
      new Verifier(toTrustMaterial(root)).verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: summary.identity });
    } finally {
      await tmp.cleanup();
    }
  });
});
