/**
 * The start-up check with keyless signatures, through the loopback Sigstore stack (Fulcio,
 * Rekor, TSA, OIDC on 127.0.0.1): the BOM signed by a release workflow identity, plugins signed
 * by their publishers' workflow identities and pinned by `aibom build --policy` (identity +
 * issuer). An identity that only matches the expected one as an unanchored substring is
 * refused; so is a plugin re-signed by another (valid) identity.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPlugins } from '../src/runtime/index.js';
import { buildBom, copyTree, EXAMPLE_AGENT, ok } from './helpers/agent-release.js';
import { prop, runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const RELEASE = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.4.0';
const EVIL = 'https://github.com/acme/agent.evil/.github/workflows/release.yml@refs/tags/v1.4.0';
const CALC_PUBLISHER = 'https://github.com/acme-plugins/calculator/.github/workflows/publish.yml@refs/tags/v1.2.0';
const SEARCH_PUBLISHER = 'https://github.com/acme-plugins/web-search/.github/workflows/publish.yml@refs/tags/v0.3.1';
const REPORTS_PUBLISHER = 'https://github.com/acme-plugins/reports/.github/workflows/publish.yml@refs/tags/v1.0.0';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let release: string;
let n = 0;

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), AIBOM_STATE_DIR: join(tmp.dir, 'state'), XDG_CACHE_HOME: undefined });
const keyless = (sub: string) => ['--identity-token', stack.mintToken({ sub }), '--signing-config', stack.signingConfigPath];

async function signBomKeyless(dir: string, sub: string): Promise<void> {
  ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), ...keyless(sub)], { env: env() }), `sign the BOM as ${sub}`);
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-runtime-keyless-');
  await mkdir(join(tmp.dir, 'cache'));
  release = join(tmp.dir, 'release');
  await copyTree(EXAMPLE_AGENT, release);
  ok(await runCli(['sign', join(release, 'plugins', 'calculator'), ...keyless(CALC_PUBLISHER)], { env: env() }), 'sign calculator');
  ok(await runCli(['sign', join(release, 'plugins', 'web-search'), ...keyless(SEARCH_PUBLISHER)], { env: env() }), 'sign web-search');
  ok(await runCli(['sign', join(release, 'plugins', 'reports'), ...keyless(REPORTS_PUBLISHER)], { env: env() }), 'sign reports');
  await writeFile(
    join(tmp.dir, 'build-policy.yaml'),
    [
      'version: 1',
      'publishers:',
      '  - match: calculator',
      `    identity: ${CALC_PUBLISHER}`,
      `    issuer: ${stack.urls.oidc}`,
      '  - match: support-reports',
      `    identity: ${REPORTS_PUBLISHER}`,
      `    issuer: ${stack.urls.oidc}`,
      '  - match: "@support-agent/*"',
      '    identityRegexp: https://github\\.com/acme-plugins/[a-z-]+/\\.github/workflows/publish\\.yml@refs/tags/v.*',
      `    issuer: ${stack.urls.oidc}`,
      '',
    ].join('\n'),
  );
  await buildBom(release, ['--policy', join(tmp.dir, 'build-policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
  await signBomKeyless(release, RELEASE);
}, 240_000);

afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

async function copyRelease(): Promise<string> {
  const dir = join(tmp.dir, `agent-${++n}`);
  await copyTree(release, dir);
  return dir;
}

const identity = (re: string) => ({ certificateIdentityRegexp: re, certificateOidcIssuer: stack.urls.oidc });
const check = (dir: string, who: Record<string, string>) =>
  verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, trustedRoot: stack.trustedRootPath, env: env(), ...who });
const cli = (dir: string, who: string[]) =>
  runCli(['verify-plugins', '--bom', 'aibom.cdx.json', '--trusted-root', stack.trustedRootPath, '--json', ...who], { cwd: dir, env: env() });

describe('keyless publishers pinned by identity + issuer', () => {
  it('aibom build --policy pins the certificate identity and issuer each plugin was signed with', async () => {
    const { readFile } = await import('node:fs/promises');
    const bom = JSON.parse(await readFile(join(release, 'aibom.cdx.json'), 'utf8'));
    const byRef = (ref: string) => bom.components.find((c: { 'bom-ref': string }) => c['bom-ref'] === ref);
    expect(prop(byRef('plugin:plugins/calculator'), 'aibom:publisher:identity')).toBe(CALC_PUBLISHER);
    expect(prop(byRef('plugin:plugins/calculator'), 'aibom:publisher:issuer')).toBe(stack.urls.oidc);
    // Pinned exactly as signed, though the policy matched it with a regexp.
    expect(prop(byRef('plugin:plugins/web-search'), 'aibom:publisher:identity')).toBe(SEARCH_PUBLISHER);
  });

  it('the honest release verifies: the BOM by the anchored release identity, each plugin by its pinned publisher', async () => {
    const dir = await copyRelease();
    const res = await check(dir, identity('https://github\\.com/acme/agent/\\.github/workflows/release\\.yml@refs/tags/v.*'));
    expect(res.ok, JSON.stringify(res, null, 1)).toBe(true);
    expect(res.bom.signer).toMatchObject({ identity: RELEASE, issuer: stack.urls.oidc });
    expect(res.plugins.map((p) => [p.path, p.status, p.signer?.identity])).toEqual([
      ['plugins/calculator', 'verified', CALC_PUBLISHER],
      ['plugins/reports', 'verified', REPORTS_PUBLISHER],
      ['plugins/web-search', 'verified', SEARCH_PUBLISHER],
    ]);
    const r = await cli(dir, ['--certificate-identity', RELEASE, '--certificate-oidc-issuer', stack.urls.oidc]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('a plugin re-signed by another valid identity is refused', async () => {
    const dir = await copyRelease();
    const other = 'https://github.com/mallory/calculator/.github/workflows/publish.yml@refs/tags/v1.2.0';
    ok(await runCli(['sign', join(dir, 'plugins', 'calculator'), ...keyless(other)], { env: env() }), 'sign as mallory');
    const res = await check(dir, identity('https://github\\.com/acme/agent/.*'));
    expect(res.ok).toBe(false);
    const calc = res.plugins.find((p) => p.path === 'plugins/calculator')!;
    expect(calc.status).toBe('refused');
    expect(calc.reasons.map((r) => r.code)).toEqual(['signature-invalid']);
    expect(calc.reasons[0]!.message).toContain(`signed by "${other}", expected "${CALC_PUBLISHER}"`);
    expect(res.plugins.find((p) => p.path === 'plugins/web-search')!.status).toBe('verified');
  });
});

describe('the release identity is anchored', () => {
  let evil: string;
  beforeAll(async () => {
    evil = await copyRelease();
    await signBomKeyless(evil, EVIL);
  }, 60_000);

  it('a BOM signed by https://github.com/acme/agent.evil/... is refused where https://github.com/acme/agent/... is expected', async () => {
    // As substrings (cosign/sigstore-js semantics), each of these would accept the evil identity.
    for (const re of ['https://github.com/acme/agent', 'github\\.com/acme/agent', 'https://github\\.com/acme/agent']) {
      const res = await check(evil, identity(re));
      expect(res.ok, re).toBe(false);
      expect(res.bom.verified).toBe(false);
      expect(res.bom.reason).toMatch(/^wrong-identity: signed by "https:\/\/github\.com\/acme\/agent\.evil\//);
      expect(res.plugins.every((p) => p.status === 'refused' && p.reasons[0]!.code === 'bom-untrusted')).toBe(true);
    }
    const exact = await cli(evil, ['--certificate-identity', RELEASE, '--certificate-oidc-issuer', stack.urls.oidc]);
    expect(exact.code).toBe(1);
    expect(JSON.parse(exact.stdout).bom.reason).toMatch(/^wrong-identity/);
    const sub = await cli(evil, ['--certificate-identity-regexp', 'https://github.com/acme/agent', '--certificate-oidc-issuer', stack.urls.oidc]);
    expect(sub.code).toBe(1);
    // The bundle itself is valid: it verifies for the identity that really signed it.
    expect((await check(evil, identity('https://github\\.com/acme/agent\\.evil/.*'))).ok).toBe(true);
  });
});
