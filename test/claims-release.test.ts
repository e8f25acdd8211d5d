/**
 * Certificate-claim policies in every identity check of a release, through the loopback
 * Sigstore stack: the BOM signed by a GitHub-style release job, plugins signed by their
 * publishers' jobs. `aibom gate` (flags and policy `release`), `verify-plugins` (flags, policy
 * `release` and `publishers`), and the hook's runtime config (file and AIBOM_* variables)
 * all refuse a signer whose repository, ref, workflow, runner or trigger is not the expected
 * one, showing the expected and the actual claim.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../src/runtime/config.js';
import { verifyPlugins } from '../src/runtime/index.js';
import { buildBom, copyTree, EXAMPLE_AGENT, ok } from './helpers/agent-release.js';
import { REPO, runCli, tempDir, USE_DIST } from './helpers/cli.js';
import { type GithubJob, githubIdentity, githubTokenClaims } from './helpers/github-claims.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const RELEASE_JOB: GithubJob = { repository: 'acme/agent', ref: 'refs/tags/v1.4.0' };
const CALC_JOB: GithubJob = { repository: 'acme-plugins/calculator', ref: 'refs/tags/v1.2.0', workflow: '.github/workflows/publish.yml' };
const SEARCH_JOB: GithubJob = { repository: 'acme-plugins/web-search', ref: 'refs/tags/v0.3.1', workflow: '.github/workflows/publish.yml' };
const REPORTS_JOB: GithubJob = { repository: 'acme-plugins/reports', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/publish.yml' };

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let release: string;
let prtRelease: string;
let n = 0;

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined });
const asJob = (job: GithubJob) => ['--identity-token', stack.mintToken(githubTokenClaims(job)), '--signing-config', stack.signingConfigPath];

async function makeRelease(dir: string, releaseJob: GithubJob): Promise<void> {
  await copyTree(EXAMPLE_AGENT, dir);
  ok(await runCli(['sign', join(dir, 'plugins', 'calculator'), ...asJob(CALC_JOB)], { env: env() }), 'sign calculator');
  ok(await runCli(['sign', join(dir, 'plugins', 'web-search'), ...asJob(SEARCH_JOB)], { env: env() }), 'sign web-search');
  ok(await runCli(['sign', join(dir, 'plugins', 'reports'), ...asJob(REPORTS_JOB)], { env: env() }), 'sign reports');
  await buildBom(dir, ['--policy', join(tmp.dir, 'build-policy.yaml'), '--trusted-root', stack.trustedRootPath], env());
  ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), ...asJob(releaseJob)], { env: env() }), 'sign the BOM');
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-claims-release-');
  await mkdir(join(tmp.dir, 'cache'));
  await writeFile(
    join(tmp.dir, 'build-policy.yaml'),
    [
      'version: 1',
      'publishers:',
      '  - match: "**"',
      '    identityRegexp: https://github\\.com/acme-plugins/[a-z-]+/\\.github/workflows/publish\\.yml@refs/tags/v.*',
      `    issuer: ${stack.urls.oidc}`,
      '',
    ].join('\n'),
  );
  release = join(tmp.dir, 'release');
  prtRelease = join(tmp.dir, 'release-prt');
  await makeRelease(release, RELEASE_JOB);
  // The same release workflow identity, reached through pull_request_target.
  await makeRelease(prtRelease, { ...RELEASE_JOB, event: 'pull_request_target' });
}, 240_000);

afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

async function copyRelease(from = release): Promise<string> {
  const dir = join(tmp.dir, `agent-${++n}`);
  await copyTree(from, dir);
  return dir;
}

const releaseWho = { certificateIdentity: githubIdentity(RELEASE_JOB), certificateOidcIssuer: '' };
const who = () => ({ ...releaseWho, certificateOidcIssuer: stack.urls.oidc });
const check = (dir: string, extra: Record<string, unknown>) =>
  verifyPlugins({ bom: join(dir, 'aibom.cdx.json'), root: dir, trustedRoot: stack.trustedRootPath, env: env(), ...extra });

describe('verify-plugins and the hook', () => {
  it('the release verifies with matching claims; a wrong repository makes the BOM untrusted, naming expected and actual', async () => {
    const dir = await copyRelease();
    const good = await check(dir, { ...who(), sourceRepository: 'https://github.com/acme/agent', sourceRefRegexp: 'refs/tags/v.*', runnerEnvironment: 'github-hosted' });
    expect(good.ok, JSON.stringify(good, null, 1)).toBe(true);
    const bad = await check(dir, { ...who(), sourceRepository: 'https://github.com/acme/agent-release' });
    expect(bad.ok).toBe(false);
    expect(bad.bom.verified).toBe(false);
    expect(bad.bom.reason).toBe('wrong-identity: certificate claim source repository is "https://github.com/acme/agent", expected "https://github.com/acme/agent-release"');
  });

  it('a BOM signed through pull_request_target is refused by default, by the CLI too', async () => {
    const dir = await copyRelease(prtRelease);
    const res = await check(dir, who());
    expect(res.ok).toBe(false);
    expect(JSON.stringify(res.bom)).toContain('build trigger is \\"pull_request_target\\"');
    const r = await runCli(['verify-plugins', '--bom', 'aibom.cdx.json', '--trusted-root', stack.trustedRootPath, '--certificate-identity', githubIdentity(RELEASE_JOB), '--certificate-oidc-issuer', stack.urls.oidc], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('pull_request_target');
    const allowed = await runCli(['verify-plugins', '--bom', 'aibom.cdx.json', '--trusted-root', stack.trustedRootPath, '--certificate-identity', githubIdentity(RELEASE_JOB), '--certificate-oidc-issuer', stack.urls.oidc, '--allow-trigger', 'pull_request_target'], { cwd: dir, env: env() });
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
  });

  it('policy `release` and `publishers` carry claims; a publisher from the wrong repository is refused', async () => {
    const dir = await copyRelease();
    const policy = join(dir, 'policy.yaml');
    const write = (calcRepo: string) =>
      writeFile(
        policy,
        [
          'version: 1',
          'release:',
          `  identity: ${githubIdentity(RELEASE_JOB)}`,
          `  issuer: ${stack.urls.oidc}`,
          '  sourceRepository: https://github.com/acme/agent',
          '  sourceRefRegexp: refs/tags/v.*',
          '  denyTrigger: [workflow_run]',
          'publishers:',
          '  - match: calculator',
          '    identityRegexp: https://github\\.com/acme-plugins/.*',
          `    issuer: ${stack.urls.oidc}`,
          `    sourceRepository: ${calcRepo}`,
          '  - match: "**"',
          '    identityRegexp: https://github\\.com/acme-plugins/.*',
          `    issuer: ${stack.urls.oidc}`,
          '    sourceRepositoryRegexp: https://github\\.com/acme-plugins/.*',
          '',
        ].join('\n'),
      );
    await write('https://github.com/acme-plugins/calculator');
    const good = await check(dir, { policy });
    expect(good.ok, JSON.stringify(good, null, 1)).toBe(true);
    await write('https://github.com/acme-plugins/calc');
    const bad = await check(dir, { policy });
    expect(bad.ok).toBe(false);
    const calc = bad.plugins.find((p) => p.path === 'plugins/calculator')!;
    expect(calc.status).toBe('refused');
    expect(calc.reasons[0]!.message).toContain('certificate claim source repository is "https://github.com/acme-plugins/calculator", expected "https://github.com/acme-plugins/calc"');
  });

  it('a bad claim in a policy file names the file, line and key', async () => {
    const dir = await copyRelease();
    const policy = join(dir, 'bad-policy.yaml');
    await writeFile(policy, ['version: 1', 'release:', `  identity: x`, `  issuer: y`, '  sourceRefRegexp: "refs/(tags"', ''].join('\n'));
    await expect(check(dir, { policy })).rejects.toThrow(/line 5: release\.sourceRefRegexp: .*not a valid regular expression/);
    await writeFile(policy, ['version: 1', 'release:', `  identity: x`, `  issuer: y`, '  runnerEnvironment: cloud', ''].join('\n'));
    await expect(check(dir, { policy })).rejects.toThrow(/runnerEnvironment/);
  });

  it('the hook reads claim constraints from its config file and AIBOM_* variables', async () => {
    const dir = await copyRelease();
    await writeFile(
      join(dir, 'aibom.runtime.json'),
      JSON.stringify({
        bom: 'aibom.cdx.json',
        trustedRoot: stack.trustedRootPath,
        certificateIdentity: githubIdentity(RELEASE_JOB),
        certificateOidcIssuer: stack.urls.oidc,
        sourceRepository: 'https://github.com/acme/agent',
        denyTrigger: ['workflow_dispatch'],
      }),
    );
    const cfg = await loadRuntimeConfig({ ...env(), AIBOM_ROOT: dir }, dir);
    expect(cfg.options).toMatchObject({ sourceRepository: 'https://github.com/acme/agent', denyTrigger: ['workflow_dispatch'] });
    expect((await verifyPlugins({ ...cfg.options, root: dir })).ok).toBe(true);
    const fromEnv = await loadRuntimeConfig({ ...env(), AIBOM_ROOT: dir, AIBOM_SOURCE_REF_REGEXP: 'refs/heads/.*', AIBOM_DENY_TRIGGER: 'push, workflow_run' }, dir);
    expect(fromEnv.options).toMatchObject({ sourceRefRegexp: 'refs/heads/.*', denyTrigger: ['push', 'workflow_run'] });
    const refused = await verifyPlugins({ ...fromEnv.options, root: dir });
    expect(refused.ok).toBe(false);
    expect(JSON.stringify(refused.bom)).toContain('source ref is \\"refs/tags/v1.4.0\\"');
    await writeFile(join(dir, 'aibom.runtime.json'), JSON.stringify({ bom: 'aibom.cdx.json', runnerEnvironment: 'cloud' }));
    await expect(loadRuntimeConfig({ ...env(), AIBOM_ROOT: dir }, dir)).rejects.toThrow(/runnerEnvironment/);
  });
});

/** `node --import <hook> agent.mjs` in dir, with only the given AIBOM_* variables. */
function runAgent(dir: string, vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const hook = USE_DIST ? ['--import', 'aibom/register'] : ['--import', import.meta.resolve('tsx'), '--import', join(REPO, 'src', 'runtime', 'register.ts')];
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AIBOM_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...hook, 'agent.mjs'], { cwd: dir, env: { ...base, ...env(), ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

describe('the hook: node --import aibom/register', () => {
  it('refuses to start an agent whose BOM was signed through pull_request_target, unless AIBOM_ALLOW_TRIGGER allows it', async () => {
    const dir = await copyRelease(prtRelease);
    await writeFile(join(dir, 'agent.mjs'), "process.stdout.write('agent started\\n');\n");
    if (USE_DIST) {
      await mkdir(join(dir, 'node_modules'));
      await symlink(REPO, join(dir, 'node_modules', 'aibom'));
    }
    const vars = {
      AIBOM_BOM: 'aibom.cdx.json',
      AIBOM_TRUSTED_ROOT: stack.trustedRootPath,
      AIBOM_CERTIFICATE_IDENTITY: githubIdentity(RELEASE_JOB),
      AIBOM_CERTIFICATE_OIDC_ISSUER: stack.urls.oidc,
      AIBOM_CACHE_DIR: join(tmp.dir, 'cache'),
    };
    const refused = await runAgent(dir, vars);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('agent started');
    expect(refused.stderr).toContain('build trigger is "pull_request_target"');
    const allowed = await runAgent(dir, { ...vars, AIBOM_ALLOW_TRIGGER: 'pull_request_target', AIBOM_SOURCE_REPOSITORY: 'https://github.com/acme/agent' });
    expect(allowed.stdout, allowed.stderr).toContain('agent started');
    const wrongRepo = await runAgent(dir, { ...vars, AIBOM_ALLOW_TRIGGER: 'pull_request_target', AIBOM_SOURCE_REPOSITORY: 'https://github.com/acme/other' });
    expect(wrongRepo.stdout).not.toContain('agent started');
    expect(wrongRepo.stderr).toContain('expected "https://github.com/acme/other"');
  });
});

describe('aibom gate', () => {
  const gate = (dir: string, args: string[]) =>
    runCli(['gate', '--bom', 'aibom.cdx.json', '--bundle', 'aibom.cdx.json.sigstore.json', '--root', '.', '--trusted-root', stack.trustedRootPath, '--json', ...args], { cwd: dir, env: env() });
  const bomSigned = (stdout: string) => JSON.parse(stdout).failures.filter((f: { rule: string }) => f.rule === 'bom-signed');

  it('flags: a BOM from another ref fails bom-signed with expected and actual; the right one passes', async () => {
    const dir = await copyRelease();
    const base = ['--certificate-identity', githubIdentity(RELEASE_JOB), '--certificate-oidc-issuer', stack.urls.oidc];
    const bad = await gate(dir, [...base, '--source-ref', 'refs/tags/v9.9.9']);
    expect(bomSigned(bad.stdout)).toHaveLength(1);
    expect(JSON.stringify(bomSigned(bad.stdout))).toContain('source ref is \\"refs/tags/v1.4.0\\", expected \\"refs/tags/v9.9.9\\"');
    const good = await gate(dir, [...base, '--source-ref', 'refs/tags/v1.4.0', '--signer-workflow-regexp', 'https://github\\.com/acme/agent/\\.github/workflows/release\\.yml@refs/tags/v.*']);
    expect(bomSigned(good.stdout)).toEqual([]);
  });

  it('policy release: pull_request_target refused by default, allowed by allowTrigger', async () => {
    const dir = await copyRelease(prtRelease);
    const policy = join(dir, 'gate-policy.yaml');
    const lines = ['version: 1', 'release:', `  identity: ${githubIdentity(RELEASE_JOB)}`, `  issuer: ${stack.urls.oidc}`];
    await writeFile(policy, [...lines, ''].join('\n'));
    const refused = await gate(dir, ['--policy', policy]);
    expect(JSON.stringify(bomSigned(refused.stdout))).toContain('pull_request_target');
    await writeFile(policy, [...lines, '  allowTrigger: [pull_request_target]', ''].join('\n'));
    const allowed = await gate(dir, ['--policy', policy]);
    expect(bomSigned(allowed.stdout)).toEqual([]);
  });

  it('claim flags without an identity flag are a usage error', async () => {
    const dir = await copyRelease();
    const r = await gate(dir, ['--source-repository', 'https://github.com/acme/agent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('certificate claim flags');
    expect(JSON.parse(await readFile(join(dir, 'aibom.cdx.json'), 'utf8')).bomFormat).toBe('CycloneDX');
  });
});
