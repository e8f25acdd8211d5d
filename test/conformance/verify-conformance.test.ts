/**
 * A subset of the Sigstore conformance bundle-verify cases through the CLI, by path and by
 * `sha256:` digest (the full set runs in `npm run test:conformance`): the two traps an
 * obvious wiring of @sigstore/verify falls into (a trusted root with a log key lacking
 * validFor.start; digest-only message signatures), Rekor v2's hashedrekord-over-DSSE entries,
 * and failures that must stay failures.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { BEACON_IDENTITY, BUNDLE_CASES, caseDir, GITHUB_ISSUER, requireConformanceData, verifyEnv } from '../helpers/verify.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
beforeAll(async () => {
  requireConformanceData();
  tmp = await tempDir('aibom-verify-conf-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
});
afterAll(async () => {
  await tmp?.cleanup();
});

const CASES = [
  'happy-path-v0.3',
  'happy-path-intoto-in-dsse-v3',
  'rekor2-dsse-happy-path',
  'rekor2-timestamp-with-embedded-cert',
  'managed-key-happy-path',
  'trust-root-tlog-missing-validity-start_fail',
  'message-digest-mismatch_fail',
  'dsse-mismatch-envelope_fail',
  'intoto-expired-certificate_fail',
  'checkpoint-wrong-roothash_fail',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail',
  'wrong-material_fail',
  'bundle-with-root-cert_fail',
];

function argsFor(name: string, mode: 'path' | 'digest'): string[] {
  const dir = caseDir(name);
  const has = (f: string) => existsSync(join(dir, f));
  const artifact = has('artifact') ? join(dir, 'artifact') : join(BUNDLE_CASES, 'a.txt');
  const signer = has('key.pub')
    ? ['--key', join(dir, 'key.pub')]
    : ['--certificate-identity', has('identity') ? readFileSync(join(dir, 'identity'), 'utf8').trim() : BEACON_IDENTITY, '--certificate-oidc-issuer', has('issuer') ? readFileSync(join(dir, 'issuer'), 'utf8').trim() : GITHUB_ISSUER];
  const root = has('trusted_root.json') ? ['--trusted-root', join(dir, 'trusted_root.json')] : [];
  const target = mode === 'path' ? artifact : `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`;
  return ['verify-bundle', '--bundle', join(dir, 'bundle.sigstore.json'), ...signer, ...root, target];
}

describe('Sigstore conformance (subset) through the CLI', () => {
  for (const name of CASES) {
    for (const mode of ['path', 'digest'] as const) {
      it(`${name} [${mode}] ${name.endsWith('_fail') ? 'fails' : 'verifies'}`, async () => {
        const r = await runCli(argsFor(name, mode), { env: verifyEnv(cache) });
        if (name.endsWith('_fail')) {
          expect(r.code).toBe(1);
          expect(r.stdout).toMatch(/^FAILED /);
        } else {
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).toMatch(/^OK /);
        }
      });
    }
  }

  it('a bundle that ships a root certificate is refused for that reason', async () => {
    const r = await runCli([...argsFor('bundle-with-root-cert_fail', 'path'), '--json'], { env: verifyEnv(cache) });
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: false, reason: 'malformed' });
    expect(JSON.parse(r.stdout).error).toContain('contains a root certificate');
  });

  it('the trusted root trap is refused for the right reason', async () => {
    const r = await runCli([...argsFor('trust-root-tlog-missing-validity-start_fail', 'path'), '--json'], { env: verifyEnv(cache) });
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('untrusted');
    expect(j.error).toMatch(/tlogs\[\d\].*no validFor\.start/);
  });
});
