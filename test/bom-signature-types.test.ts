/**
 * Fourth outside report, finding 1: what may stand as the BOM's signature. A statement signed
 * by the release key whose subject is the BOM is the BOM's signature only when its type vouches
 * for it (the BOM as predicate, SLSA provenance, a PASSED SLSA VSA v1). A FAILED VSA of any
 * version or spelling never verifies; a VEX saying "affected", or a type nobody knows, is
 * refused as the BOM's signature by the gate's bom-signed and by the start-up check.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let bom: string;
let pub: string;
let priv: string;
const env = () => cleanEnv({ AIBOM_STATE_DIR: join(tmp.dir, 'state'), AIBOM_CACHE_DIR: join(tmp.dir, 'cache') });

beforeAll(async () => {
  tmp = await tempDir('aibom-bom-sig-types-');
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  priv = join(tmp.dir, 'release.pem');
  pub = join(tmp.dir, 'release.pub');
  await writeFile(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(tmp.dir, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0' }));
  bom = join(tmp.dir, 'bom.json');
  const b = await runCli(['build', tmp.dir, '-o', bom, '--exclude', '*.pem', '--exclude', '*.pub'], { env: env() });
  expect(b.code, b.stderr).toBe(0);
}, 60_000);

afterAll(async () => tmp?.cleanup());

/** Sign an in-toto statement of this type over the BOM's sha256 with the release key; the bundle's path. */
async function statementBundle(name: string, predicateType: string, predicate: Record<string, unknown>): Promise<string> {
  const sha256 = createHash('sha256').update(await readFile(bom)).digest('hex');
  const st = join(tmp.dir, `${name}.intoto.json`);
  await writeFile(st, JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'bom.json', digest: { sha256 } }], predicateType, predicate }));
  const s = await runCli(['sign', st, '--in-toto', '--key', priv, '--no-tlog-upload'], { env: env() });
  expect(s.code, s.stderr).toBe(0);
  return `${st}.sigstore.json`;
}

const gate = (bundle: string) => runCli(['gate', '--bom', bom, '--bundle', bundle, '--key', pub, '--root', tmp.dir, '--json'], { env: env() });
const atStart = (bundle: string) => runCli(['verify-plugins', '--bom', bom, '--bundle', bundle, '--key', pub, '--root', tmp.dir], { env: env() });
const bomSigned = (stdout: string) => (JSON.parse(stdout).failures as Array<{ rule: string; message: string }>).find((f) => f.rule === 'bom-signed');

describe('what stands as the BOM signature', () => {
  const failedVsa = { verifier: { id: 'https://ci.example/other' }, timeVerified: '2026-12-01T00:00:00Z', resourceUri: 'bom.json', policy: { uri: 'p' }, verificationResult: 'FAILED', verifiedLevels: [] };
  for (const type of ['https://slsa.dev/verification_summary/v0.2', 'https://slsa.dev/verification_summary/v1/', 'HTTPS://SLSA.DEV/verification_summary/v1']) {
    it(`a FAILED VSA typed ${type} never verifies, anywhere`, async () => {
      const b = await statementBundle(`vsa-${createHash('sha1').update(type).digest('hex')}`, type, failedVsa);
      const v = await runCli(['verify', bom, '--bundle', b, '--key', pub], { env: env() });
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/vsa-failed: the signature verifies, but it is a SLSA verification summary whose verdict is FAILED/);
      const g = await gate(b);
      expect(g.code).toBe(1);
      expect(bomSigned(g.stdout)?.message).toContain('vsa-failed');
      const s = await atStart(b);
      expect(s.code).toBe(1);
      expect(s.stdout + s.stderr).toContain('vsa-failed');
    });
  }

  it('a signed VEX saying "affected" about the BOM verifies as a statement, but is not the BOM signature', async () => {
    const b = await statementBundle('vex', 'https://openvex.dev/ns/v0.2.0', { statements: [{ status: 'affected' }] });
    expect((await runCli(['verify', bom, '--bundle', b, '--key', pub], { env: env() })).code).toBe(0);
    const g = await gate(b);
    expect(g.code).toBe(1);
    expect(bomSigned(g.stdout)?.message).toContain('the bundle signs a statement of type "https://openvex.dev/ns/v0.2.0" about the BOM, which does not vouch for it');
    const s = await atStart(b);
    expect(s.code).toBe(1);
    expect(s.stdout + s.stderr).toContain('does not vouch for it');
  });

  it('SLSA provenance of the BOM, signed by the release key, is its signature', async () => {
    const b = await statementBundle('slsa', 'https://slsa.dev/provenance/v1', { buildDefinition: { buildType: 'https://example.test/build' }, runDetails: {} });
    const g = await gate(b);
    expect(bomSigned(g.stdout)).toBeUndefined();
    const s = await atStart(b);
    expect(s.stdout + s.stderr).not.toContain('does not vouch');
    expect(s.stdout).toMatch(/^OK BOM /m);
  });
});
