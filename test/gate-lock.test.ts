/**
 * The provenance lock (`aibom gate --lock`): trust on first use, then refuse drift. Releases
 * are made through the loopback Sigstore stack with GitHub-style certificate claims: the BOM
 * signed by the release job, plugins by their publishers' jobs. A plugin re-signed from
 * another repository (still matching the policy's identity regexp: the attack a lock catches),
 * a BOM signed through another trigger, and a signature that disappeared fail as
 * provenance-drift naming old and new, until accepted with --accept-drift.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBom, copyTree, EXAMPLE_AGENT, ok } from './helpers/agent-release.js';
import { REPO, runCli, tempDir } from './helpers/cli.js';
import { type GithubJob, githubTokenClaims } from './helpers/github-claims.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const RELEASE_JOB: GithubJob = { repository: 'acme/agent', ref: 'refs/tags/v1.4.0' };
const CALC_JOB: GithubJob = { repository: 'acme-plugins/calculator', ref: 'refs/tags/v1.2.0', workflow: '.github/workflows/publish.yml' };
const SEARCH_JOB: GithubJob = { repository: 'acme-plugins/web-search', ref: 'refs/tags/v0.3.1', workflow: '.github/workflows/publish.yml' };
const REPORTS_JOB: GithubJob = { repository: 'acme-plugins/reports', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/publish.yml' };

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let release: string;
let n = 0;

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined });
const asJob = (job: GithubJob) => ['--identity-token', stack.mintToken(githubTokenClaims(job)), '--signing-config', stack.signingConfigPath];

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-gate-lock-');
  await mkdir(join(tmp.dir, 'cache'));
  release = join(tmp.dir, 'release');
  await copyTree(EXAMPLE_AGENT, release);
  ok(await runCli(['sign', join(release, 'plugins', 'calculator'), ...asJob(CALC_JOB)], { env: env() }), 'sign calculator');
  ok(await runCli(['sign', join(release, 'plugins', 'web-search'), ...asJob(SEARCH_JOB)], { env: env() }), 'sign web-search');
  ok(await runCli(['sign', join(release, 'plugins', 'reports'), ...asJob(REPORTS_JOB)], { env: env() }), 'sign reports');
  await writeFile(
    join(release, 'policy.yaml'),
    [
      'version: 1',
      'release:',
      '  identityRegexp: https://github\\.com/acme/agent/\\.github/workflows/release\\.yml@refs/tags/v.*',
      `  issuer: ${stack.urls.oidc}`,
      'publishers:',
      '  - match: "**"',
      '    identityRegexp: https://github\\.com/acme-plugins/.*',
      `    issuer: ${stack.urls.oidc}`,
      'rules:',
      '  model-signed: false',
      '  model-hashed: false',
      '  mcp-pinned: false',
      '  package-hashed: false',
      '  package-pinned: false',
      '  pickle-model: false',
      '  pickle-risky-import: false',
      '  license-allowed: false',
      '',
    ].join('\n'),
  );
  await buildBom(release, ['--policy', join(release, 'policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
  ok(await runCli(['sign', join(release, 'aibom.cdx.json'), ...asJob(RELEASE_JOB)], { env: env() }), 'sign the BOM');
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

const gate = (dir: string, args: string[] = []) =>
  runCli(
    ['gate', '--bom', 'aibom.cdx.json', '--bundle', 'aibom.cdx.json.sigstore.json', '--policy', 'policy.yaml', '--root', '.', '--trusted-root', stack.trustedRootPath, '--lock', 'aibom.lock.json', '--json', ...args],
    { cwd: dir, env: env() },
  );
const drift = (stdout: string) => JSON.parse(stdout).failures.filter((f: { rule: string }) => f.rule === 'provenance-drift');
const readLockFile = async (dir: string) => JSON.parse(await readFile(join(dir, 'aibom.lock.json'), 'utf8'));

/** A release whose lock was recorded on first use. */
async function lockedRelease(): Promise<string> {
  const dir = await copyRelease();
  const first = await gate(dir);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return dir;
}

describe('aibom gate --lock', () => {
  it('first use records every verified signer and its claims (schema-valid, sorted, no timestamps); a rerun changes nothing', async () => {
    const dir = await copyRelease();
    const first = await gate(dir);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stderr).toContain('provenance lock aibom.lock.json: 4 added (written)');
    const lock = await readLockFile(dir);
    const schema = JSON.parse(await readFile(join(REPO, 'schemas', 'aibom-lock.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(lock), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(lock.components)).toEqual(['bom', 'plugin:@support-agent/web-search', 'plugin:calculator', 'plugin:support-reports']);
    expect(lock.components['plugin:calculator']).toEqual({
      kind: 'plugin',
      signer: 'https://github.com/acme-plugins/calculator/.github/workflows/publish.yml',
      issuer: stack.urls.oidc,
      repository: 'https://github.com/acme-plugins/calculator',
      workflow: 'https://github.com/acme-plugins/calculator/.github/workflows/publish.yml',
      refPattern: 'refs/tags/*',
      trigger: 'push',
      runner: 'github-hosted',
      path: 'plugins/calculator',
    });
    const text = await readFile(join(dir, 'aibom.lock.json'), 'utf8');
    const again = await gate(dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('provenance lock aibom.lock.json: no changes');
    expect(await readFile(join(dir, 'aibom.lock.json'), 'utf8')).toBe(text);
  });

  it('a plugin re-signed from another repository (the policy regexp still matches) fails as provenance-drift naming old and new; --accept-drift records it', async () => {
    const dir = await lockedRelease();
    const before = await readFile(join(dir, 'aibom.lock.json'), 'utf8');
    ok(await runCli(['sign', join(dir, 'plugins', 'calculator'), ...asJob({ ...CALC_JOB, repository: 'acme-plugins/calculator-ci', ref: 'refs/heads/main' })], { env: env() }), 're-sign');
    const r = await gate(dir);
    expect(r.code).toBe(1);
    const d = drift(r.stdout);
    expect(d).toHaveLength(1);
    expect(d[0].subject).toBe('plugin:calculator');
    expect(d[0].message).toContain('signer "https://github.com/acme-plugins/calculator/.github/workflows/publish.yml" → "https://github.com/acme-plugins/calculator-ci/.github/workflows/publish.yml"');
    expect(d[0].message).toContain('repository "https://github.com/acme-plugins/calculator" → "https://github.com/acme-plugins/calculator-ci"');
    expect(d[0].message).toContain('refPattern "refs/tags/*" → "refs/heads/main"');
    expect(await readFile(join(dir, 'aibom.lock.json'), 'utf8')).toBe(before);
    const accepted = await gate(dir, ['--accept-drift', 'calculator']);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(accepted.stderr).toContain('1 accepted drift (written)');
    expect((await readLockFile(dir)).components['plugin:calculator'].repository).toBe('https://github.com/acme-plugins/calculator-ci');
    expect((await gate(dir)).code).toBe(0);
  });

  it('a plugin renamed in place and re-signed from another repository drifts (the rename does not hide it); a plugin that left is reported as removed', async () => {
    const dir = await lockedRelease();
    const manifest = join(dir, 'plugins', 'web-search', 'package.json');
    const pkg = JSON.parse(await readFile(manifest, 'utf8'));
    await writeFile(manifest, JSON.stringify({ ...pkg, name: '@support-agent/web-search-pro' }, null, 2));
    ok(await runCli(['sign', join(dir, 'plugins', 'web-search'), ...asJob({ ...SEARCH_JOB, repository: 'acme-plugins/other' })], { env: env() }), 're-sign web-search');
    await rm(join(dir, 'plugins', 'calculator'), { recursive: true });
    await buildBom(dir, ['--policy', join(dir, 'policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
    ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), ...asJob(RELEASE_JOB)], { env: env() }), 're-sign the BOM');
    const r = await gate(dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const d = drift(r.stdout);
    expect(d.map((f: { subject: string }) => f.subject)).toEqual(['plugin:@support-agent/web-search-pro']);
    expect(d[0].message).toContain('renamed in place from plugin:@support-agent/web-search (plugins/web-search)');
    expect(d[0].message).toContain('repository "https://github.com/acme-plugins/web-search" → "https://github.com/acme-plugins/other"');
    const accepted = await gate(dir, ['--accept-drift', '@support-agent/web-search-pro']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain('1 accepted drift, 1 removed (plugin:calculator) (written)');
    const lock = await readLockFile(dir);
    expect(Object.keys(lock.components)).toEqual(['bom', 'plugin:@support-agent/web-search-pro', 'plugin:support-reports']);
    expect(lock.components['plugin:@support-agent/web-search-pro'].path).toBe('plugins/web-search');
  });

  it('a second plugin under a locked name, signed from another repository, fails even with --frozen-lock, whichever sorts first', async () => {
    for (const folder of ['aaa-calculator', 'zzz-calculator']) {
      const dir = await lockedRelease();
      await cp(join(dir, 'plugins', 'calculator'), join(dir, 'plugins', folder), { recursive: true });
      ok(await runCli(['sign', join(dir, 'plugins', folder), ...asJob({ ...CALC_JOB, repository: 'acme-plugins/evil' })], { env: env() }), `sign ${folder}`);
      await buildBom(dir, ['--policy', join(dir, 'policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
      ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), ...asJob(RELEASE_JOB)], { env: env() }), 're-sign the BOM');
      const r = await gate(dir, ['--frozen-lock']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const d = drift(r.stdout);
      expect(d.map((f: { subject: string }) => f.subject)).toEqual(['plugin:calculator']);
      expect(d[0].message).toContain('two components are both plugin:calculator');
      expect(d[0].message).toContain('https://github.com/acme-plugins/evil');
      const accepted = await gate(dir, ['--accept-drift', 'calculator']);
      expect(accepted.code).toBe(1);
    }
  });

  it('the BOM signed through another trigger drifts; a signature that disappeared drifts', async () => {
    const dir = await lockedRelease();
    ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), ...asJob({ ...RELEASE_JOB, event: 'workflow_dispatch' })], { env: env() }), 're-sign the BOM');
    await rm(join(dir, 'plugins', 'web-search', 'model.sig'));
    const r = await gate(dir);
    expect(r.code).toBe(1);
    const d = drift(r.stdout);
    expect(d.map((f: { subject: string }) => f.subject)).toEqual(['bom', 'plugin:@support-agent/web-search']);
    expect(d[0].message).toContain('trigger "push" → "workflow_dispatch"');
    expect(d[1].message).toContain('its provenance disappeared');
  });

  it('--frozen-lock: never written; a component missing from the lock fails', async () => {
    const dir = await lockedRelease();
    const lock = await readLockFile(dir);
    delete lock.components['plugin:calculator'];
    await writeFile(join(dir, 'aibom.lock.json'), JSON.stringify(lock));
    const r = await gate(dir, ['--frozen-lock']);
    expect(r.code).toBe(1);
    expect(drift(r.stdout)[0].message).toContain('not in the provenance lock aibom.lock.json');
    expect(await readLockFile(dir)).toEqual(lock);
  });

  it('a malformed lock, an unknown --accept-drift name and lock flags without --lock are input/usage errors (exit 2)', async () => {
    const dir = await copyRelease();
    await writeFile(join(dir, 'aibom.lock.json'), JSON.stringify({ lockVersion: 1, components: { 'plugin:x': { kind: 'plugin', signer: 'a', extra: 'b' } } }));
    const bad = await gate(dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('aibom.lock.json: not a provenance lock: components.plugin:x: unknown key "extra"');
    await cp(join(release, 'aibom.cdx.json'), join(dir, 'aibom.cdx.json'));
    await rm(join(dir, 'aibom.lock.json'));
    const unknown = await gate(dir, ['--accept-drift', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--accept-drift nope: no such component');
    // A bare name that several kinds share accepts none of them (third outside report: it used to accept all).
    await writeFile(
      join(dir, 'aibom.lock.json'),
      JSON.stringify({ lockVersion: 1, components: { 'model:calculator': { kind: 'model', signer: 'a' }, 'package:calculator': { kind: 'package', signer: 'b' } } }),
    );
    const shared = await gate(dir, ['--accept-drift', 'calculator']);
    expect(shared.code).toBe(2);
    expect(shared.stderr).toContain('--accept-drift calculator: several components are called that (model:calculator, package:calculator, plugin:calculator); give the one you mean');
    await rm(join(dir, 'aibom.lock.json'));
    const stray = await runCli(['gate', '--bom', 'aibom.cdx.json', '--frozen-lock'], { cwd: dir, env: env() });
    expect(stray.code).toBe(2);
  });
});

describe('aibom diff: signer changes', () => {
  it('a plugin now pinned to another repository\'s signer is a signer change; the same signer is none', async () => {
    const dir = await copyRelease();
    ok(await runCli(['sign', join(dir, 'plugins', 'calculator'), ...asJob({ ...CALC_JOB, repository: 'evil/calculator' })], { env: env() }), 're-sign');
    await writeFile(join(dir, 'build-policy.yaml'), (await readFile(join(dir, 'policy.yaml'), 'utf8')).replace('acme-plugins/.*', '(acme-plugins|evil)/.*'));
    await buildBom(dir, ['--policy', join(dir, 'build-policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
    const r = await runCli(['diff', join(release, 'aibom.cdx.json'), join(dir, 'aibom.cdx.json'), '--json', '--fail-on', 'signer'], { env: env() });
    expect(r.code).toBe(1);
    const changes = JSON.parse(r.stdout).changes.filter((c: { kind: string }) => c.kind === 'signer');
    expect(changes).toEqual([
      {
        kind: 'signer',
        component: 'plugin',
        name: 'calculator',
        from: '1.2.0',
        to: '1.2.0',
        detail: `signer https://github.com/acme-plugins/calculator/.github/workflows/publish.yml (issuer ${stack.urls.oidc}) → https://github.com/evil/calculator/.github/workflows/publish.yml (issuer ${stack.urls.oidc})`,
      },
    ]);
    const text = await runCli(['diff', join(release, 'aibom.cdx.json'), join(dir, 'aibom.cdx.json')], { env: env() });
    expect(text.stdout).toMatch(/! signer +plugin +calculator@1\.2\.0 +\(signer https:\/\/github\.com\/acme-plugins/);
    const same = await runCli(['diff', join(release, 'aibom.cdx.json'), join(release, 'aibom.cdx.json'), '--fail-on', 'signer'], { env: env() });
    expect(same.code).toBe(0);
  });
});
