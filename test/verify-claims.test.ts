/**
 * Fulcio certificate claims (OIDs 1.3.6.1.4.1.57264.1.8–22): parsed from the signing
 * certificate (bounded, hostile DER refused), printed by `verify --json`, and constrained by
 * every keyless identity check: flags, batch lines, defaults (pull_request_target and
 * self-hosted runners refused unless allowed). Certificates come from the loopback stack's
 * Fulcio, which writes GitHub-style claims from the identity token, as real Fulcio does.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initializeCA, initializeCTLog } from '@sigstore/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateClaims } from '../src/verification/claims.js';
import type { LoadedBundle } from '../src/verification/bundle.js';
import { signingCertificateClaims } from '../src/verification/signer-claims.js';
import { buildPolicy, checkKeylessIdentity } from '../src/verification/identity-policy.js';
import { runCli, tempDir } from './helpers/cli.js';
import { type GithubJob, githubIdentity, githubTokenClaims } from './helpers/github-claims.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';
import { verifyEnv } from './helpers/verify.js';
import { verifyInProcess } from './helpers/verify-in-process.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-verify-claims-');
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

const env = () => cleanEnv(verifyEnv(join(tmp.dir, 'cache')));
let n = 0;
/** A file signed by the stack as the given GitHub job. */
async function signedBy(job: GithubJob = {}): Promise<string> {
  const f = join(tmp.dir, `artifact-${n++}.tgz`);
  await writeFile(f, `artifact ${n}\n`);
  const token = stack.mintToken(githubTokenClaims(job));
  const r = await runCli(['sign', f, '--identity-token', token, '--signing-config', stack.signingConfigPath], { env: env() });
  expect(r.code, r.stderr).toBe(0);
  return f;
}
const who = (job: GithubJob = {}) => ['--certificate-identity', githubIdentity(job), '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath];
const verify = (args: string[]) => runCli(['verify', ...args], { env: env() });
/** The same check in-process (test/helpers/verify-in-process.ts): the verdict and its reason, without a process. */
const verifyLib = (args: string[]) => verifyInProcess(args, env());

describe('certificate claims: parsing', () => {
  async function certWith(extensions: Array<{ oid: string; value: string; legacy?: boolean }>): Promise<Buffer> {
    const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'P-256' }), await initializeCTLog(generateKeyPairSync('ec', { namedCurve: 'P-256' })));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = await ca.issueCertificate({ publicKey: publicKey.export({ format: 'der', type: 'spki' }), subjectAltName: 'dev@example.com', extensions });
    return Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  }
  const P = '1.3.6.1.4.1.57264.1';

  it('reads every claim 8–22 of a real X.509 certificate signed by a CA', async () => {
    const exts = Array.from({ length: 15 }, (_, i) => ({ oid: `${P}.${i + 8}`, value: `value-${i + 8}` }));
    const claims = certificateClaims(await certWith(exts));
    expect(claims).toMatchObject({
      issuer: 'value-8',
      buildSignerURI: 'value-9',
      runnerEnvironment: 'value-11',
      sourceRepositoryURI: 'value-12',
      sourceRepositoryRef: 'value-14',
      buildTrigger: 'value-20',
      runInvocationURI: 'value-21',
      sourceRepositoryVisibilityAtSigning: 'value-22',
    });
    expect(Object.keys(claims)).toHaveLength(15);
  });

  it('is part of the library entry', async () => {
    const lib = await import('../src/index.js');
    expect(lib.certificateClaims).toBe(certificateClaims);
    expect(lib.VSA_PREDICATE_TYPE).toBe('https://slsa.dev/verification_summary/v1');
    expect(typeof lib.readLock).toBe('function');
  });

  it('reads the legacy raw-string extensions (1.1, 1.2, 1.3, 1.6) where the current claim is absent; ignores 1.4, 1.5', async () => {
    const der = await certWith([
      { oid: `${P}.1`, value: 'https://token.actions.githubusercontent.com', legacy: true },
      { oid: `${P}.2`, value: 'pull_request_target', legacy: true },
      { oid: `${P}.3`, value: 'a'.repeat(40), legacy: true },
      { oid: `${P}.4`, value: 'release', legacy: true },
      { oid: `${P}.5`, value: 'acme/agent', legacy: true },
      { oid: `${P}.6`, value: 'refs/tags/v1.2.0', legacy: true },
    ]);
    expect(certificateClaims(der)).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      buildTrigger: 'pull_request_target',
      sourceRepositoryDigest: 'a'.repeat(40),
      sourceRepositoryRef: 'refs/tags/v1.2.0',
    });
  });

  it('refuses a certificate whose legacy and current values of a claim disagree', async () => {
    const der = await certWith([
      { oid: `${P}.2`, value: 'pull_request_target', legacy: true },
      { oid: `${P}.20`, value: 'push' },
    ]);
    expect(() => certificateClaims(der)).toThrow(/legacy build trigger \("pull_request_target"\) and its build trigger claim \("push"\) disagree/);
    const same = await certWith([
      { oid: `${P}.2`, value: 'push', legacy: true },
      { oid: `${P}.20`, value: 'push' },
    ]);
    expect(certificateClaims(same)).toEqual({ buildTrigger: 'push' });
  });

  it('a trigger denial fails closed: a legacy-only pull_request_target certificate; a policy\'s own denial needs the claim', async () => {
    const { checkClaims, buildClaimPolicy } = await import('../src/verification/claim-policy.js');
    const legacyOnly = certificateClaims(await certWith([{ oid: `${P}.2`, value: 'pull_request_target', legacy: true }]));
    expect(checkClaims(buildClaimPolicy({}), legacyOnly)).toMatch(/build trigger is "pull_request_target", expected none of "pull_request_target"/);
    expect(checkClaims(buildClaimPolicy({ runnerEnvironment: 'any', denyTrigger: ['pull_request_target'] }), legacyOnly)).toMatch(/pull_request_target/);
    expect(checkClaims(buildClaimPolicy({ denyTrigger: ['workflow_run'] }), { issuer: 'https://accounts.example' })).toMatch(
      /has no build trigger claim .*cannot be shown not to come from "pull_request_target", "workflow_run"/,
    );
    // The default denial alone does not need the claim: other issuers' certificates carry none.
    expect(checkClaims(buildClaimPolicy({}), { issuer: 'https://accounts.example' })).toBeUndefined();
  });

  it('refuses a claim extension that appears twice (parsers would disagree on which counts)', async () => {
    const der = await certWith([
      { oid: `${P}.12`, value: 'https://github.com/acme/agent' },
      { oid: `${P}.12`, value: 'https://github.com/evil/agent' },
    ]);
    expect(() => certificateClaims(der)).toThrow(/extension 1\.3\.6\.1\.4\.1\.57264\.1\.12 appears twice/);
  });

  it('refuses a claim that is not a DER UTF8String, or over the bound', async () => {
    expect(() => certificateClaims(Buffer.alloc(0))).toThrow(/DER/);
    return Promise.all([
      certWith([{ oid: `${P}.20`, value: 'push', legacy: true }]).then((der) => expect(() => certificateClaims(der)).toThrow(/build trigger\) is not a DER UTF8String/)),
      certWith([{ oid: `${P}.12`, value: 'x'.repeat(5000) }]).then((der) => expect(() => certificateClaims(der)).toThrow(/over 4096 bytes/)),
    ]);
  });

  it('a bundle whose signing certificate duplicates a claim fails verification as malformed (not an exception, not a dropped claim)', async () => {
    const der = await certWith([
      { oid: `${P}.20`, value: 'push' },
      { oid: `${P}.20`, value: 'pull_request_target' },
    ]);
    const loaded = { bundle: { verificationMaterial: { content: { $case: 'certificate', certificate: { rawBytes: der } } } } } as unknown as LoadedBundle;
    let caught: unknown;
    try {
      signingCertificateClaims(loaded);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ reason: 'malformed', code: 'VERIFY_FAILED' });
    expect((caught as Error).message).toContain('appears twice');
    const chain = { bundle: { verificationMaterial: { content: { $case: 'x509CertificateChain', x509CertificateChain: { certificates: [{ rawBytes: await certWith([{ oid: `${P}.12`, value: 'https://github.com/acme/agent' }]) }] } } } } } as unknown as LoadedBundle;
    expect(signingCertificateClaims(chain)).toEqual({ sourceRepositoryURI: 'https://github.com/acme/agent' });
  });

  it('refuses truncated and oversized DER without throwing anything but its own error', async () => {
    const der = await certWith([{ oid: `${P}.12`, value: 'https://github.com/acme/agent' }]);
    for (let cut = 1; cut < der.length; cut += 7) expect(() => certificateClaims(der.subarray(0, cut))).toThrow(/signing certificate:/);
    expect(() => certificateClaims(Buffer.alloc(70_000, 0x30))).toThrow(/over 65536 bytes/);
  });
});

describe('certificate claims: policy (library)', () => {
  const base = { certificateIdentity: 'x', certificateOidcIssuer: 'y' };
  const claims = { sourceRepositoryURI: 'https://github.com/acme/agent', sourceRepositoryRef: 'refs/tags/v1', buildTrigger: 'push', runnerEnvironment: 'github-hosted' };
  const check = async (o: object, c: object) => {
    const p = await buildPolicy({ ...base, ...o });
    if (p.kind !== 'keyless') throw new Error('not keyless');
    return checkKeylessIdentity(p, 'x', 'y', c)?.message;
  };

  it('anchors claim regexps like identity regexps', async () => {
    expect(await check({ sourceRepositoryRegexp: 'https://github.com/acme/.*' }, claims)).toBeUndefined();
    expect(await check({ sourceRepositoryRegexp: 'acme' }, claims)).toMatch(/source repository is "https:\/\/github.com\/acme\/agent", expected \/\^\(\?:acme\)\$\//);
    expect(await check({ sourceRefRegexp: 'refs/tags/v.*|refs/heads/main' }, { ...claims, sourceRepositoryRef: 'refs/heads/main-evil' })).toMatch(/source ref is "refs\/heads\/main-evil"/);
  });

  it('an absent claim fails a constraint, naming the OID', async () => {
    expect(await check({ sourceDigest: 'ab'.repeat(20) }, {})).toMatch(/no source digest claim \(OID 1\.3\.6\.1\.4\.1\.57264\.1\.13\)/);
    expect(await check({ runnerEnvironment: 'github-hosted' }, {})).toMatch(/no runner environment claim/);
  });

  it('defaults refuse pull_request_target and self-hosted runners; the policy can allow them', async () => {
    expect(await check({}, { ...claims, buildTrigger: 'pull_request_target' })).toMatch(/build trigger is "pull_request_target", expected none of "pull_request_target"/);
    expect(await check({}, { ...claims, runnerEnvironment: 'self-hosted' })).toMatch(/runner environment is "self-hosted", expected "github-hosted"/);
    expect(await check({ allowTrigger: ['pull_request_target'] }, { ...claims, buildTrigger: 'pull_request_target' })).toBeUndefined();
    expect(await check({ runnerEnvironment: 'any' }, { ...claims, runnerEnvironment: 'self-hosted' })).toBeUndefined();
    expect(await check({ runnerEnvironment: 'self-hosted' }, claims)).toMatch(/expected "self-hosted"/);
    expect(await check({ denyTrigger: ['workflow_run'] }, { ...claims, buildTrigger: 'workflow_run' })).toMatch(/expected none of "pull_request_target", "workflow_run"/);
    // Certificates without CI claims (a developer's email identity) pass the defaults.
    expect(await check({}, {})).toBeUndefined();
  });

  it('usage errors: claims without a keyless identity, bad values', async () => {
    await expect(buildPolicy({ certificateChain: 'x.pem', sourceRepository: 'https://github.com/acme/agent' })).rejects.toThrow(/need a keyless identity/);
    await expect(buildPolicy({ ...base, runnerEnvironment: 'cloud' })).rejects.toThrow(/choose github-hosted, self-hosted, any/);
    await expect(buildPolicy({ ...base, sourceRef: 'a', sourceRefRegexp: 'b' })).rejects.toThrow(/--source-ref or --source-ref-regexp, not both/);
    await expect(buildPolicy({ ...base, denyTrigger: ['push'], allowTrigger: ['push'] })).rejects.toThrow(/both denied and allowed/);
    await expect(buildPolicy({ ...base, sourceDigest: 'main' })).rejects.toThrow(/commit digest/);
  });
});

describe('certificate claims: aibom verify', () => {
  it('--json prints every claim of the signer; flags that match pass', async () => {
    const f = await signedBy();
    const r = await verify([f, ...who(), '--json', '--source-repository', 'https://github.com/acme/agent', '--source-ref-regexp', 'refs/tags/v.*', '--source-digest', 'A'.repeat(40),
      '--signer-workflow', 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0', '--runner-environment', 'github-hosted', '--deny-trigger', 'workflow_run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).signer.claims).toEqual({
      issuer: stack.urls.oidc,
      buildSignerURI: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0',
      buildSignerDigest: 'a'.repeat(40),
      runnerEnvironment: 'github-hosted',
      sourceRepositoryURI: 'https://github.com/acme/agent',
      sourceRepositoryDigest: 'a'.repeat(40),
      sourceRepositoryRef: 'refs/tags/v1.2.0',
      sourceRepositoryIdentifier: '123456',
      sourceRepositoryOwnerURI: 'https://github.com/acme',
      sourceRepositoryOwnerIdentifier: '654321',
      buildConfigURI: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0',
      buildConfigDigest: 'a'.repeat(40),
      buildTrigger: 'push',
      runInvocationURI: 'https://github.com/acme/agent/actions/runs/42/attempts/1',
      sourceRepositoryVisibilityAtSigning: 'public',
    });
  });

  it('the TanStack case: the right workflow identity, reached through pull_request_target, is refused by default', async () => {
    const f = await signedBy({ event: 'pull_request_target' });
    const r = await verifyLib([f, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('wrong-identity: certificate claim build trigger is "pull_request_target", expected none of "pull_request_target"');
    expect((await verifyLib([f, ...who(), '--allow-trigger', 'pull_request_target'])).code).toBe(0);
  });

  it('a self-hosted runner is refused by default, accepted when the policy says so', async () => {
    const f = await signedBy({ runner: 'self-hosted' });
    const r = await verifyLib([f, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('certificate claim runner environment is "self-hosted", expected "github-hosted"');
    expect((await verifyLib([f, ...who(), '--runner-environment', 'self-hosted'])).code).toBe(0);
  });

  it('the same workflow path from a fork or a branch fails the repository or ref constraint, showing expected and actual', async () => {
    const f = await signedBy({ ref: 'refs/heads/feature' });
    const r = await verifyLib([f, ...who({ ref: 'refs/heads/feature' }), '--source-ref-regexp', 'refs/tags/v.*']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('certificate claim source ref is "refs/heads/feature", expected /^(?:refs/tags/v.*)$/');
    const repo = await verifyLib([f, ...who({ ref: 'refs/heads/feature' }), '--source-repository', 'https://github.com/acme/agen']);
    expect(repo.stdout).toContain('source repository is "https://github.com/acme/agent", expected "https://github.com/acme/agen"');
    const dig = await verifyLib([f, ...who({ ref: 'refs/heads/feature' }), '--source-digest', 'b'.repeat(40)]);
    expect(dig.stdout).toContain(`source digest is "${'a'.repeat(40)}", expected "${'b'.repeat(40)}"`);
  });

  it('batch lines carry claim constraints; a line naming its own signer keeps the command line claims (they add up; a contradiction is an error)', async () => {
    const f = await signedBy();
    const batch = join(tmp.dir, 'claims.jsonl');
    const lines = [
      { artifact: f, sourceRepository: 'https://github.com/acme/agent' },
      { artifact: f, sourceRepository: 'https://github.com/evil/agent' },
      { artifact: f, denyTrigger: ['push'] },
      { artifact: f, denyTrigger: 'push' },
    ];
    await writeFile(batch, lines.map((l) => JSON.stringify(l)).join('\n'));
    const r = await verify(['--batch', batch, ...who(), '--source-ref', 'refs/tags/v1.2.0', '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout).results;
    expect(res.map((x: { verified: boolean }) => x.verified)).toEqual([true, false, false, false]);
    expect(res[1].error).toContain('expected "https://github.com/evil/agent"');
    expect(res[2].error).toContain('build trigger is "push"');
    expect(res[3].error).toContain('"denyTrigger" must be a list');
    const own = join(tmp.dir, 'own.jsonl');
    await writeFile(own, JSON.stringify({ artifact: f, identity: githubIdentity(), issuer: stack.urls.oidc }));
    // Third outside report, finding 6: naming the signer on the line must not drop the command line's constraint.
    const o = await verify(['--batch', own, '--trusted-root', stack.trustedRootPath, '--certificate-identity', 'someone', '--certificate-oidc-issuer', 'x', '--source-ref', 'refs/heads/nope']);
    expect(o.code, o.stdout).toBe(1);
    expect(o.stdout).toContain('certificate claim source ref is "refs/tags/v1.2.0", expected "refs/heads/nope"');
    const kept = await verify(['--batch', own, '--trusted-root', stack.trustedRootPath, '--certificate-identity', 'someone', '--certificate-oidc-issuer', 'x', '--source-ref', 'refs/tags/v1.2.0']);
    expect(kept.code, kept.stdout).toBe(0);
    const clash = join(tmp.dir, 'clash.jsonl');
    await writeFile(clash, JSON.stringify({ artifact: f, identity: githubIdentity(), issuer: stack.urls.oidc, sourceRef: 'refs/heads/main' }));
    const c = await verify(['--batch', clash, '--trusted-root', stack.trustedRootPath, '--source-ref', 'refs/tags/v1.2.0']);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain(`source-ref is "refs/tags/v1.2.0" in the command line and "refs/heads/main" in this line; both would apply, so give one`);
  });

  it('claim flags with --key are a usage error (exit 2)', async () => {
    const f = await signedBy();
    const r = await verify([f, '--key', f, '--source-repository', 'https://github.com/acme/agent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('need a keyless identity');
  });
});
