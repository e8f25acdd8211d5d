/**
 * `aibom gate --vsa FILE`: the verdict as a signed SLSA Verification Summary Attestation v1
 * (Sigstore bundle, DSSE), keyless through the loopback Sigstore stack or with a key; what it
 * records (subjects, policy, input attestations, result, levels) against
 * schemas/aibom-vsa.schema.json; and `aibom verify` over it, which shows the verdict and
 * exits 1 for a FAILED one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKey } from './helpers/agent-release.js';
import { REPO, runCli, tempDir } from './helpers/cli.js';
import { type GithubJob, githubIdentity, githubTokenClaims } from './helpers/github-claims.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const RELEASE_JOB: GithubJob = { repository: 'acme/agent', ref: 'refs/tags/v2.0.0' };
const GATE_JOB: GithubJob = { repository: 'acme/agent', ref: 'refs/tags/v2.0.0', workflow: '.github/workflows/gate.yml' };

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let proj: string;

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined });
const asJob = (job: GithubJob) => ['--identity-token', stack.mintToken(githubTokenClaims(job)), '--signing-config', stack.signingConfigPath];
const sha256 = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
const cli = (args: string[]) => runCli(args, { cwd: proj, env: env() });

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-gate-vsa-');
  proj = join(tmp.dir, 'proj');
  await mkdir(join(proj, 'dist'), { recursive: true });
  await writeFile(join(proj, 'README.md'), '# agent\n');
  await writeFile(join(proj, 'dist', 'agent-2.0.0.tgz'), 'release tarball\n');
  expect((await cli(['build', '.', '-o', 'aibom.cdx.json'])).code).toBe(0);
  const s = await cli(['sign', 'aibom.cdx.json', ...asJob(RELEASE_JOB)]);
  expect(s.code, s.stderr).toBe(0);
  const a = await cli(['attest', '--predicate', 'aibom.cdx.json', '--bundle', 'attestations.json', 'dist/agent-2.0.0.tgz', ...asJob(RELEASE_JOB)]);
  expect(a.code, a.stderr).toBe(0);
  await writeFile(join(proj, 'policy.yaml'), ['version: 1', 'release:', `  identity: ${githubIdentity(RELEASE_JOB)}`, `  issuer: ${stack.urls.oidc}`, '  sourceRepository: https://github.com/acme/agent', ''].join('\n'));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

const gateArgs = (vsa: string, policy = 'policy.yaml') => [
  'gate',
  '--bom',
  'aibom.cdx.json',
  '--bundle',
  'aibom.cdx.json.sigstore.json',
  '--policy',
  policy,
  '--artifacts',
  'dist/*.tgz',
  '--attestations',
  'attestations.json',
  '--trusted-root',
  stack.trustedRootPath,
  '--vsa',
  vsa,
];

function statementOf(bundle: { dsseEnvelope: { payload: string; payloadType: string } }) {
  expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

async function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(JSON.parse(await readFile(join(REPO, 'schemas', 'aibom-vsa.schema.json'), 'utf8')));
}

const verifyVsa = (target: string, vsa: string, extra: string[] = []) =>
  cli(['verify', target, '--bundle', vsa, '--certificate-identity', githubIdentity(GATE_JOB), '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath, ...extra]);

describe('aibom gate --vsa', () => {
  it('a passing gate writes a keyless VSA: subjects, policy digest, input attestations, PASSED, SLSA_BUILD_LEVEL_1', async () => {
    const r = await cli([...gateArgs('vsa.sigstore.json'), ...asJob(GATE_JOB)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote the verdict (PASSED) as a signed SLSA VSA to vsa.sigstore.json');
    const st = statementOf(JSON.parse(await readFile(join(proj, 'vsa.sigstore.json'), 'utf8')));
    const validate = await validator();
    expect(validate(st), JSON.stringify(validate.errors)).toBe(true);
    expect(st.predicateType).toBe('https://slsa.dev/verification_summary/v1');
    expect(st.subject).toEqual([
      { name: 'dist/agent-2.0.0.tgz', digest: { sha256: await sha256(join(proj, 'dist', 'agent-2.0.0.tgz')) } },
      { name: 'aibom.cdx.json', digest: { sha256: await sha256(join(proj, 'aibom.cdx.json')) } },
    ]);
    const bom = JSON.parse(await readFile(join(proj, 'aibom.cdx.json'), 'utf8'));
    expect(st.predicate).toMatchObject({
      verifier: { id: 'pkg:npm/aibom' },
      resourceUri: bom.serialNumber,
      policy: { uri: 'policy.yaml', digest: { sha256: await sha256(join(proj, 'policy.yaml')) } },
      inputAttestations: [
        { uri: 'aibom.cdx.json.sigstore.json', digest: { sha256: await sha256(join(proj, 'aibom.cdx.json.sigstore.json')) } },
        { uri: 'attestations.json', digest: { sha256: await sha256(join(proj, 'attestations.json')) } },
      ],
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_1'],
      slsaVersion: '1.0',
    });
    // aibom verify shows the verdict, over the BOM and over the artifact.
    const v = await verifyVsa('aibom.cdx.json', 'vsa.sigstore.json');
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain(`SLSA VSA PASSED (SLSA_BUILD_LEVEL_1) for ${bom.serialNumber}: verifier pkg:npm/aibom, policy policy.yaml`);
    const j = JSON.parse((await verifyVsa('dist/agent-2.0.0.tgz', 'vsa.sigstore.json', ['--json'])).stdout);
    expect(j.vsa).toMatchObject({ verificationResult: 'PASSED', verifiedLevels: ['SLSA_BUILD_LEVEL_1'] });
    expect(j.signer.claims.buildSignerURI).toBe(githubIdentity(GATE_JOB));
  });

  it('a failing gate writes a FAILED VSA (the record of the refusal); verify shows it and exits 1', async () => {
    await writeFile(join(proj, 'strict.yaml'), ['version: 1', 'release:', `  identity: ${githubIdentity(RELEASE_JOB)}`, `  issuer: ${stack.urls.oidc}`, '  sourceRef: refs/tags/v9.0.0', ''].join('\n'));
    const r = await cli([...gateArgs('failed.sigstore.json', 'strict.yaml'), ...asJob(GATE_JOB)]);
    expect(r.code).toBe(1);
    const st = statementOf(JSON.parse(await readFile(join(proj, 'failed.sigstore.json'), 'utf8')));
    expect((await validator())(st)).toBe(true);
    expect(st.predicate.verificationResult).toBe('FAILED');
    expect(st.predicate.verifiedLevels).toEqual(['FAILED']);
    const v = await verifyVsa('aibom.cdx.json', 'failed.sigstore.json');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^FAILED aibom\.cdx\.json: vsa-failed: the signature verifies, but it is a SLSA verification summary whose verdict is FAILED.*\nSLSA VSA FAILED \(FAILED\)/);
    // The class: nowhere is a FAILED verdict a signature of the BOM it refused (the gate's bom-signed, the start-up check, batch files).
    const asBom = await cli(['gate', '--bom', 'aibom.cdx.json', '--bundle', 'failed.sigstore.json', '--root', '.', '--certificate-identity', githubIdentity(GATE_JOB), '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath, '--json']);
    expect(asBom.code).toBe(1);
    expect(JSON.stringify(JSON.parse(asBom.stdout).failures)).toContain('vsa-failed');
    const atStart = await cli(['verify-plugins', '--bom', 'aibom.cdx.json', '--bundle', 'failed.sigstore.json', '--root', '.', '--certificate-identity', githubIdentity(GATE_JOB), '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath]);
    expect(atStart.code).toBe(1);
    expect(atStart.stdout + atStart.stderr).toContain('vsa-failed');
    await writeFile(join(proj, 'batch.jsonl'), `${JSON.stringify({ artifact: 'aibom.cdx.json', bundle: 'failed.sigstore.json', certificateIdentity: githubIdentity(GATE_JOB), certificateOidcIssuer: stack.urls.oidc })}\n`);
    const batch = await cli(['verify', '--batch', 'batch.jsonl', '--trusted-root', stack.trustedRootPath]);
    expect(batch.code).toBe(1);
    expect(batch.stdout).toMatch(/^FAILED \S*aibom\.cdx\.json: vsa-failed: /m);
    expect(batch.stdout).not.toMatch(/^OK /m);
  });

  it('signs with --vsa-key; the VSA verifies with the public key', async () => {
    const key = await makeKey(tmp.dir, 'gate');
    const r = await cli([...gateArgs('key.sigstore.json'), '--vsa-key', key.priv, '--no-tlog-upload', '--vsa-verifier-id', 'https://ci.example/gate', '--vsa-resource-uri', 'pkg:npm/agent@2.0.0']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const v = await cli(['verify', 'aibom.cdx.json', '--bundle', 'key.sigstore.json', '--key', key.pub]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('SLSA VSA PASSED (SLSA_BUILD_LEVEL_1) for pkg:npm/agent@2.0.0: verifier https://ci.example/gate');
  });

  it('usage errors: --vsa without --bom, signing flags without --vsa; nothing written', async () => {
    const a = await cli(['gate', '--root', '.', '--vsa', 'nobom.json', '--vsa-key', 'x.pem']);
    expect(a.code).toBe(2);
    const b = await cli(['gate', '--bom', 'aibom.cdx.json', '--vsa-key', 'x.pem']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--vsa-key signs the VSA: give --vsa FILE');
    await expect(readFile(join(proj, 'nobom.json'))).rejects.toThrow();
    const bomBefore = await readFile(join(proj, 'aibom.cdx.json'), 'utf8');
    const key = await makeKey(tmp.dir, 'over');
    const over = await cli(['gate', '--bom', 'aibom.cdx.json', '--vsa', 'aibom.cdx.json', '--vsa-key', key.priv]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('would overwrite an input of the gate');
    expect(await readFile(join(proj, 'aibom.cdx.json'), 'utf8')).toBe(bomBefore);
  });
});
