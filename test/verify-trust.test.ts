/**
 * `aibom trust update` against a TUF repository on 127.0.0.1 (a private Sigstore instance's,
 * serving the loopback stack's trusted root), then verification with the cached root and no
 * --trusted-root; a mirror that serves a target not matching its signed metadata, or a
 * trusted root that fails validation, leaves the cache as it was.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';
import { startTufRepo, type TufRepo } from './helpers/tuf-repo.js';
import { verifyEnv } from './helpers/verify.js';

let stack: SigstoreStack;
let repo: TufRepo;
let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
let artifact: string;
const SUB = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/heads/main';

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-verify-trust-');
  cache = join(tmp.dir, 'cache');
  repo = await startTufRepo(await readFile(stack.trustedRootPath));
  artifact = join(tmp.dir, 'agent.tgz');
  await writeFile(artifact, 'agent\n');
  const s = await runCli(['sign', artifact, '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath], {
    env: cleanEnv(verifyEnv(cache)),
  });
  expect(s.code, s.stderr).toBe(0);
});
afterAll(async () => {
  await stack?.close();
  await repo?.close();
  await tmp?.cleanup();
});

// A private instance's TUF root is not built in: loads verify the cache against it, named explicitly.
const env = () => cleanEnv({ ...verifyEnv(cache), AIBOM_TUF_ROOT: repo.rootPath });
const update = (extra: string[] = []) => runCli(['trust', 'update', '--mirror-url', repo.url, '--tuf-root', repo.rootPath, ...extra], { env: env() });
const verifyStackBundle = () => runCli(['verify', artifact, '--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--json'], { env: env() });

describe('aibom trust update through TUF', () => {
  it('before any update, the stack bundle is untrusted (public-good root)', async () => {
    const r = await verifyStackBundle();
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('untrusted');
  });

  it('fetches and validates the trusted root, caches it, and verification uses it offline', async () => {
    const r = await update(['--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.updated).toBe(true);
    expect(j.location).toBe(join(cache, 'trust', 'trusted_root.json'));
    expect(repo.requests).toContain('/timestamp.json');
    expect(repo.requests).toContain('/targets/trusted_root.json');
    const show = await runCli(['trust', 'show', '--json'], { env: env() });
    expect(JSON.parse(show.stdout)).toMatchObject({ source: 'cache' });
    expect(JSON.parse(show.stdout).entries.some((e: { name: string }) => e.name === stack.urls.rekor)).toBe(true);
    const v = await verifyStackBundle();
    expect(v.code, v.stdout).toBe(0);
  });

  it('a mirror whose target does not match its signed metadata is refused; the cache is kept', async () => {
    const before = await readFile(join(cache, 'trust', 'trusted_root.json'), 'utf8');
    const root = JSON.parse(await readFile(stack.trustedRootPath, 'utf8'));
    root.tlogs = [];
    repo.serveTarget(Buffer.from(JSON.stringify(root)), { honestHash: false });
    const r = await update();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot update the trusted root through TUF');
    expect(await readFile(join(cache, 'trust', 'trusted_root.json'), 'utf8')).toBe(before);
    expect((await verifyStackBundle()).code).toBe(0);
  });

  it('a signed trusted root that fails validation (a log without validFor.start) is refused; the cache is kept', async () => {
    const before = await readFile(join(cache, 'trust', 'trusted_root.json'), 'utf8');
    const root = JSON.parse(await readFile(stack.trustedRootPath, 'utf8'));
    delete root.tlogs[0].publicKey.validFor.start;
    repo.serveTarget(Buffer.from(JSON.stringify(root)));
    const r = await update();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('validFor.start');
    expect(await readFile(join(cache, 'trust', 'trusted_root.json'), 'utf8')).toBe(before);
  });

  it('a new valid trusted root replaces the cache', async () => {
    const root = JSON.parse(await readFile(stack.trustedRootPath, 'utf8'));
    root.timestampAuthorities = [];
    repo.serveTarget(Buffer.from(JSON.stringify(root)));
    expect((await update()).code).toBe(0);
    const cached = JSON.parse(await readFile(join(cache, 'trust', 'trusted_root.json'), 'utf8'));
    expect(cached.timestampAuthorities ?? []).toEqual([]);
  });

  it('usage: another mirror needs its TUF root; an unreachable mirror fails with exit 2', async () => {
    const a = await runCli(['trust', 'update', '--mirror-url', repo.url], { env: env() });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('needs --tuf-root');
    const own = join(tmp.dir, 'unreachable-cache');
    const b = await runCli(['trust', 'update', '--mirror-url', 'http://127.0.0.1:9', '--tuf-root', repo.rootPath], { env: cleanEnv(verifyEnv(own)) });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('cannot update the trusted root through TUF');
    const show = await runCli(['trust', 'show', '--json'], { env: cleanEnv(verifyEnv(own)) });
    expect(JSON.parse(show.stdout).source).toBe('public-good seed');
  });
});

describe('a cached trusted root is trusted only through the TUF chain (issue 10, item 6)', () => {
  const verifyWith = (cacheDir: string, extra: Record<string, string | undefined> = {}) =>
    runCli(['verify', artifact, '--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--json'], { env: cleanEnv({ ...verifyEnv(cacheDir), ...extra }) });

  it('a planted trusted_root.json with no TUF metadata is refused, not used', async () => {
    const planted = join(tmp.dir, 'planted-cache');
    await mkdir(join(planted, 'trust'), { recursive: true });
    await writeFile(join(planted, 'trust', 'trusted_root.json'), await readFile(stack.trustedRootPath));
    for (const extra of [{}, { AIBOM_TUF_ROOT: repo.rootPath }]) {
      const r = await verifyWith(planted, extra);
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/cached trusted root (came from|does not verify against the TUF metadata)/);
    }
    const show = await runCli(['trust', 'show', '--json'], { env: cleanEnv(verifyEnv(planted)) });
    expect(show.code).not.toBe(0);
  });

  it('a cache updated from a private mirror is refused without that mirror\'s TUF root', async () => {
    const r = await verifyWith(cache);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/whose TUF root is not built in: set AIBOM_TUF_ROOT/);
    // With it, the (last updated) cache verifies and is the root in effect.
    const show = await runCli(['trust', 'show', '--json'], { env: env() });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).source).toBe('cache');
  });

  it('a swapped target, a re-signed root.json, or a swapped cached file in the TUF cache is refused', async () => {
    const copy = join(tmp.dir, `cache-copy-${Date.now()}`);
    const { cp } = await import('node:fs/promises');
    const repoDir = async (c: string) => join(c, 'trust', 'tuf', (await readdir(join(c, 'trust', 'tuf')))[0]!);
    // The target swapped for another trusted root (a forged one would vouch for the attacker's CA).
    await cp(cache, copy, { recursive: true });
    const root = JSON.parse(await readFile(stack.trustedRootPath, 'utf8'));
    root.tlogs = [];
    await writeFile(join(await repoDir(copy), 'targets', 'trusted_root.json'), JSON.stringify(root));
    const a = await verifyWith(copy, { AIBOM_TUF_ROOT: repo.rootPath });
    expect(a.code).not.toBe(0);
    expect(`${a.stdout}${a.stderr}`).toMatch(/trusted_root\.json target is \d+ bytes, targets\.json says|trusted_root\.json target's sha256 is not/);
    // root.json replaced by one whose keys are the attacker's (signed by them): not signed by the anchor's keys.
    const copy2 = `${copy}-2`;
    await cp(cache, copy2, { recursive: true });
    const rj = JSON.parse(await readFile(join(await repoDir(copy2), 'root.json'), 'utf8'));
    rj.signed.version = 2;
    await writeFile(join(await repoDir(copy2), 'root.json'), JSON.stringify(rj));
    const b = await verifyWith(copy2, { AIBOM_TUF_ROOT: repo.rootPath });
    expect(b.code).not.toBe(0);
    expect(`${b.stdout}${b.stderr}`).toMatch(/root version 2 is not signed by the root keys of root version 1/);
  });
});
