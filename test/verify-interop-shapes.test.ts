/**
 * The shapes other tools write, made on the loopback stack with real keyless signing: npm
 * provenance (an in-toto Statement v0.1 whose only subject digest is sha512, SLSA provenance
 * v0.2 predicate) and `gh attestation download` JSON Lines. `aibom verify` and `aibom gate
 * --attestations` accept the same pair, and a wrong artifact fails both.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const ID = 'https://github.com/acme/pkg/.github/workflows/release.yml@refs/tags/v1.0.0';

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-interop-shapes-');
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

/** Sign a statement keyless (DSSE), as npm publish --provenance does; returns the bundle JSON. */
async function attestV01(name: string, subject: Record<string, unknown>): Promise<string> {
  const st = join(tmp.dir, `${name}.intoto.json`);
  await writeFile(
    st,
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [subject],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: { builder: { id: 'https://github.com/actions/runner' }, buildType: 'https://github.com/npm/cli/gha/v2' },
    }),
  );
  const r = await runCli(['sign', st, '--in-toto', '--identity-token', stack.mintToken({ sub: ID }), '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
  expect(r.code, r.stderr).toBe(0);
  return readFile(`${st}.sigstore.json`, 'utf8');
}

describe('npm provenance and gh attestation shapes', () => {
  it('v0.1 statement with a sha512 subject: verify accepts it, gate --attestations (JSON Lines) counts it', async () => {
    const dist = join(tmp.dir, 'dist');
    await mkdir(dist, { recursive: true });
    const tgz = join(dist, 'pkg-1.0.0.tgz');
    await writeFile(tgz, 'npm tarball bytes');
    const other = join(dist, 'pkg-1.0.1.tgz');
    await writeFile(other, 'another tarball');
    const sha512 = createHash('sha512').update('npm tarball bytes').digest('hex');
    const provenance = await attestV01('pkg', { name: 'pkg:npm/pkg@1.0.0', digest: { sha512 } });
    const unrelated = await attestV01('unrelated', { name: 'pkg:npm/x@1', digest: { sha512: createHash('sha512').update('x').digest('hex') } });
    // gh attestation download: one bundle per line.
    const jsonl = join(tmp.dir, 'sha512-attestations.jsonl');
    await writeFile(jsonl, `${JSON.stringify(JSON.parse(unrelated))}\n${JSON.stringify(JSON.parse(provenance))}\n`);

    const who = ['--certificate-identity', ID, '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath];
    const v = await runCli(['verify', tgz, '--bundle', jsonl, ...who, '--json'], { env: cleanEnv() });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).bundle).toBe(`${jsonl}:2`);
    const vOther = await runCli(['verify', other, '--bundle', jsonl, ...who], { env: cleanEnv() });
    expect(vOther.code).toBe(1);
    expect(vOther.stdout).toMatch(/line 1: digest-mismatch: .*line 2: digest-mismatch/);

    const project = join(tmp.dir, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'pkg', version: '1.0.0' }));
    const bom = join(tmp.dir, 'bom.cdx.json');
    expect((await runCli(['build', project, '-o', bom])).code).toBe(0);
    const policy = join(tmp.dir, 'policy.yaml');
    await writeFile(policy, `version: 1\nrelease:\n  identity: "${ID}"\n  issuer: "${stack.urls.oidc}"\n`);
    const gate = ['gate', '--bom', bom, '--root', project, '--policy', policy, '--trusted-root', stack.trustedRootPath, '--attestations', jsonl];
    const ok = await runCli([...gate, '--artifacts', tgz], { env: cleanEnv() });
    expect(ok.stdout + ok.stderr).toContain('PASSED');
    expect(ok.code).toBe(0);
    const bad = await runCli([...gate, '--artifacts', join(dist, '*.tgz'), '--json'], { env: cleanEnv() });
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as { failures: Array<{ rule: string; subject: string }> }).failures).toEqual([
      expect.objectContaining({ rule: 'artifact-attested', subject: other }),
    ]);
  });
});
