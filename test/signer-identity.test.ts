/**
 * One reading of a release signer (src/policy/signer-identity.ts) for `aibom gate` and the
 * start-up check: the same policy file names the same signer, and is refused the same way.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { runGate } from '../src/gate/gate.js';
import { FINGERPRINT_ONLY_RELEASE, releaseSigner, signerOptions } from '../src/policy/signer-identity.js';
import { verifyPlugins } from '../src/runtime/verify-plugins.js';
import { buildPolicy } from '../src/verification/identity-policy.js';
import { tempDir } from './helpers/cli.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.0.0';

describe('releaseSigner', () => {
  it('identity options name the signer, with the claim options beside them', () => {
    const s = releaseSigner({ certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER, sourceRepository: 'https://github.com/acme/agent' }, { keyFingerprint: 'a'.repeat(64) });
    expect(s).toEqual({ kind: 'named', options: { certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER, sourceRepository: 'https://github.com/acme/agent' } });
  });

  it("without identity options, the policy's release with its claims; claim options given constrain it further", () => {
    const release = { identityRegexp: 'https://github\\.com/acme/agent/.*', issuer: ISSUER, sourceRef: 'refs/tags/v1.0.0', denyTrigger: ['pull_request_target'] };
    expect(releaseSigner({}, release)).toEqual({
      kind: 'named',
      options: { certificateIdentityRegexp: release.identityRegexp, certificateOidcIssuer: ISSUER, sourceRef: 'refs/tags/v1.0.0', denyTrigger: ['pull_request_target'] },
    });
    const tighter = releaseSigner({ sourceRepository: 'https://github.com/acme/agent' }, release);
    expect(tighter).toMatchObject({ kind: 'named', options: { sourceRepository: 'https://github.com/acme/agent', sourceRef: 'refs/tags/v1.0.0' } });
  });

  it("identity options name the signer, and the policy release's claims still hold (third outside report, finding 6); a contradiction is a usage error", () => {
    const release = { identityRegexp: 'https://github\\.com/.*', issuer: ISSUER, sourceRepository: 'https://github.com/acme/agent', denyTrigger: ['workflow_run'], allowTrigger: ['pull_request_target', 'push'] };
    const s = releaseSigner({ certificateIdentityRegexp: 'https://github\\.com/.*', certificateOidcIssuer: ISSUER, denyTrigger: ['schedule'], allowTrigger: ['push'] }, release);
    expect(s).toEqual({
      kind: 'named',
      options: {
        certificateIdentityRegexp: 'https://github\\.com/.*',
        certificateOidcIssuer: ISSUER,
        sourceRepository: 'https://github.com/acme/agent',
        denyTrigger: ['workflow_run', 'schedule'],
        allowTrigger: ['push'],
      },
    });
    expect(() => releaseSigner({ certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER, sourceRepository: 'https://github.com/evil/agent' }, release)).toThrow(
      `source-repository is "https://github.com/acme/agent" in the policy's release and "https://github.com/evil/agent" in the options given; both would apply, so give one`,
    );
  });

  it('a release key file is the signer; a key fingerprint alone names nothing to verify with', () => {
    expect(releaseSigner({}, { keyPath: '/keys/release.pub', keyPem: 'PEM' })).toEqual({ kind: 'named', options: { key: '/keys/release.pub' } });
    expect(releaseSigner({}, { keyFingerprint: 'a'.repeat(64) })).toEqual({ kind: 'fingerprint-only' });
    expect(signerOptions({ keyFingerprint: 'a'.repeat(64) })).toBeUndefined();
  });

  it('nobody named: says whether claim options came without an identity to constrain', () => {
    expect(releaseSigner({}, undefined)).toEqual({ kind: 'none', claimsGiven: false });
    expect(releaseSigner({ allowTrigger: ['push'] }, undefined)).toEqual({ kind: 'none', claimsGiven: true });
  });

  it('an empty identity option is given (and refused), never skipped in favour of the policy', async () => {
    const s = releaseSigner({ certificateIdentity: '', certificateOidcIssuer: ISSUER }, { identity: IDENTITY, issuer: ISSUER });
    expect(s).toEqual({ kind: 'named', options: { certificateIdentity: '', certificateOidcIssuer: ISSUER } });
    if (s.kind !== 'named') throw new Error('unreachable');
    await expect(buildPolicy(s.options)).rejects.toThrow('--certificate-identity is empty');
  });
});

describe('gate and the start-up check read one policy file the same way', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let policy: string;
  let bom: string;
  beforeAll(async () => {
    tmp = await tempDir('aibom-signer-');
    policy = join(tmp.dir, 'policy.yaml');
    await writeFile(policy, ['version: 1', 'release:', `  keyFingerprint: sha256:${'ab'.repeat(32)}`, ''].join('\n'));
    bom = join(tmp.dir, 'aibom.cdx.json');
    await writeFile(
      bom,
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { type: 'application', name: 'agent', 'bom-ref': 'root' } } }),
    );
    await writeFile(join(tmp.dir, 'aibom.cdx.json.sigstore.json'), '{}');
  });
  afterAll(async () => tmp.cleanup());

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  it('a release named by key fingerprint only: both refuse to verify the BOM with it, with one message', async () => {
    const fromGate = await refusal(runGate({ bom, root: tmp.dir, policy, bundle: [`${bom}.sigstore.json`] }));
    const fromStartup = await refusal(verifyPlugins({ bom, root: tmp.dir, policy }));
    for (const e of [fromGate, fromStartup]) {
      expect(e).toBeInstanceOf(AibomError);
      expect((e as AibomError).code).toBe('USAGE');
      expect((e as AibomError).message).toContain(FINGERPRINT_ONLY_RELEASE);
    }
  });
});
