/**
 * npm package provenance (`aibom build --provenance`) against a loopback npm registry serving
 * packuments and provenance bundles signed through the loopback Sigstore stack (GitHub-style
 * certificate claims): what is proved is recorded on the component; a bundle for other bytes,
 * a pull_request_target build, a registry failure are findings per package, never a crash;
 * registry and token from .npmrc (the token never printed); a rerun is served from the cache.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prop, runCli, tempDir } from './helpers/cli.js';
import type { GithubJob } from './helpers/github-claims.js';
import { type NpmRegistryServer, type RegistryPackage, signNpmProvenance, startNpmRegistry } from './helpers/npm-registry.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const TOKEN = `npm_${randomBytes(12).toString('hex')}`;
let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let registry: NpmRegistryServer;
let proj: string;

interface Pkg {
  name: string;
  version: string;
  bytes: Buffer;
}
const PKGS: Pkg[] = ['left-pad', '@acme/tool', 'no-provenance', 'tampered', 'from-prt', 'flaky'].map((name) => ({ name, version: '1.0.0', bytes: randomBytes(64) }));
const sha512 = (p: Pkg) => createHash('sha512').update(p.bytes).digest('hex');
const job = (name: string): GithubJob => ({ repository: `acme/${name.replace(/^@acme\//, '')}`, ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/publish.yml' });

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined, npm_config_registry: undefined, NPM_CONFIG_REGISTRY: undefined, npm_config_userconfig: join(tmp.dir, 'no-user-npmrc'), HOME: tmp.dir });

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-npm-provenance-');
  await mkdir(join(tmp.dir, 'cache'));
  const served: RegistryPackage[] = [];
  const published = new Date(Date.now() - 10 * 86_400_000).toISOString();
  for (const p of PKGS) {
    const entry: RegistryPackage = { name: p.name, version: p.version, published };
    const subject = { name: p.name, version: p.version, sha512: sha512(p) };
    if (p.name === 'tampered') subject.sha512 = createHash('sha512').update('other bytes').digest('hex');
    if (p.name !== 'no-provenance') entry.attestations = await signNpmProvenance(stack, p.name === 'from-prt' ? { ...job(p.name), event: 'pull_request_target' } : job(p.name), [subject]);
    served.push(entry);
  }
  registry = await startNpmRegistry(served, { token: TOKEN });
  registry.failWith.set('flaky', 503);
  proj = join(tmp.dir, 'proj');
  await mkdir(proj);
  const deps = Object.fromEntries(PKGS.map((p) => [p.name, p.version]));
  await writeFile(join(proj, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0', dependencies: deps }));
  await writeFile(
    join(proj, 'package-lock.json'),
    JSON.stringify({
      name: 'agent',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'agent', version: '1.0.0', dependencies: deps },
        ...Object.fromEntries(PKGS.map((p) => [`node_modules/${p.name}`, { version: p.version, resolved: `${registry.url}${p.name}/-/x-1.0.0.tgz`, integrity: `sha512-${createHash('sha512').update(p.bytes).digest('base64')}` }])),
      },
    }),
  );
  // The registry and its token, from the project's .npmrc, as npm reads them.
  const host = registry.url.replace(/^http:/, '');
  await writeFile(join(proj, '.npmrc'), `registry=${registry.url}\n${host}:_authToken=\${AIBOM_TEST_NPM_TOKEN}\n`);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await stack?.close();
  await tmp?.cleanup();
});

const build = (out: string, extra: string[] = []) =>
  runCli(['build', '.', '-o', out, '--provenance', '--trusted-root', stack.trustedRootPath, ...extra], { cwd: proj, env: { ...env(), AIBOM_TEST_NPM_TOKEN: TOKEN } });

async function components(file: string): Promise<Record<string, Record<string, unknown>>> {
  const bom = JSON.parse(await readFile(join(proj, file), 'utf8'));
  return Object.fromEntries(bom.components.filter((c: { purl?: string }) => c.purl?.startsWith('pkg:npm/')).map((c: { group?: string; name: string }) => [c.group ? `${c.group}/${c.name}` : c.name, c]));
}

describe('aibom build --provenance', () => {
  it('records what each attestation proved, and a finding per package that fails; the token is never printed', async () => {
    const r = await build('bom.json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`npm provenance from ${registry.url}: 6 packages: 2 verified, 1 without provenance, 2 invalid, 1 unreachable (0 from the cache)`);
    const c = await components('bom.json');
    const left = c['left-pad']!;
    expect(prop(left, 'aibom:npm:provenance')).toBe('verified');
    expect(prop(left, 'aibom:npm:provenance:repository')).toBe('https://github.com/acme/left-pad');
    expect(prop(left, 'aibom:npm:provenance:ref')).toBe('refs/tags/v1.0.0');
    expect(prop(left, 'aibom:npm:provenance:workflow')).toBe('https://github.com/acme/left-pad/.github/workflows/publish.yml@refs/tags/v1.0.0');
    expect(prop(left, 'aibom:npm:provenance:trigger')).toBe('push');
    expect(prop(left, 'aibom:npm:provenance:log-index')).toMatch(/^\d+$/);
    expect(prop(left, 'aibom:npm:published')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(left.externalReferences).toContainEqual(expect.objectContaining({ type: 'vcs', url: 'https://github.com/acme/left-pad' }));
    expect(prop(c['@acme/tool']!, 'aibom:npm:provenance')).toBe('verified');
    expect(prop(c['no-provenance']!, 'aibom:npm:provenance')).toBe('missing');
    expect(prop(c.tampered!, 'aibom:npm:provenance')).toBe('invalid');
    expect(prop(c.tampered!, 'aibom:npm:provenance:error')).toContain("no subject names pkg:npm/tampered@1.0.0 with the lockfile's sha512");
    expect(prop(c['from-prt']!, 'aibom:npm:provenance')).toBe('invalid');
    expect(prop(c['from-prt']!, 'aibom:npm:provenance:error')).toContain('build trigger is "pull_request_target"');
    expect(prop(c.flaky!, 'aibom:npm:provenance')).toBe('error');
    expect(prop(c.flaky!, 'aibom:npm:provenance:error')).toBe('the registry answered 503');
    expect(r.stderr).toMatch(/tampered@1\.0\.0: provenance does not verify/);
    expect(registry.requests.unauthorized).toBe(0);
    expect(r.stdout + r.stderr + (await readFile(join(proj, 'bom.json'), 'utf8'))).not.toContain(TOKEN);
  });

  it('a rerun is served from the verified cache (no registry request for the packages that were proved or had none)', async () => {
    const before = { ...registry.requests };
    const r = await build('bom2.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('(3 from the cache)');
    // Only tampered, from-prt (invalid: never cached) and flaky (error; with retries) were asked again.
    expect(registry.requests.attestations - before.attestations).toBeGreaterThanOrEqual(3);
    const a = await components('bom.json');
    const b = await components('bom2.json');
    for (const n of ['left-pad', '@acme/tool', 'no-provenance']) expect(b[n]!.properties).toEqual(a[n]!.properties);
    // A cache that does not parse, or whose entries are not results, is ignored: everything is asked again.
    const { readdir } = await import('node:fs/promises');
    const dir = join(tmp.dir, 'cache', 'npm-provenance');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    await writeFile(join(dir, files[0]!), JSON.stringify({ version: 1, entries: { ['0'.repeat(64)]: { status: 'verified', signer: 42 } } }));
    const c = await build('bom4.json');
    expect(c.stderr).toContain('2 verified, 1 without provenance, 2 invalid, 1 unreachable (0 from the cache)');
    // Third outside report, finding 3: the cache holds verdicts, so an edited entry (no-provenance's
    // `missing` turned `verified`, with a repository of the attacker's choosing) must not be believed.
    const poisoned = JSON.parse(await readFile(join(dir, files[0]!), 'utf8'));
    expect(poisoned.mac).toMatch(/^[0-9a-f]{64}$/);
    let edited = 0;
    for (const e of Object.values(poisoned.entries) as Array<Record<string, unknown>>) {
      if (e.status !== 'missing') continue;
      Object.assign(e, { status: 'verified', repository: 'https://github.com/evil/no-provenance', signer: 'https://github.com/evil/no-provenance/.github/workflows/x.yml@refs/heads/main' });
      edited++;
    }
    expect(edited).toBe(1);
    await writeFile(join(dir, files[0]!), JSON.stringify(poisoned));
    const d = await build('bom5.json');
    expect(d.stderr).toContain('2 verified, 1 without provenance, 2 invalid, 1 unreachable (0 from the cache)');
    const bom5 = JSON.parse(await readFile(join(proj, 'bom5.json'), 'utf8'));
    expect(JSON.stringify(bom5)).not.toContain('evil/no-provenance');
    expect(JSON.stringify(bom5)).toContain('its authentication code does not match');
    // The cache is rewritten under this user's key: the next run is served from it again.
    const e = await build('bom6.json');
    expect(e.stderr).toContain('(3 from the cache)');
  });

  it('--registry overrides .npmrc; a registry that refuses the token is a finding per package; --registry without --provenance is a usage error', async () => {
    const other = await startNpmRegistry([], { token: 'another-token' });
    try {
      const r = await runCli(['build', '.', '-o', 'bom3.json', '--provenance', '--registry', other.url, '--trusted-root', stack.trustedRootPath], { cwd: proj, env: { ...env(), AIBOM_TEST_NPM_TOKEN: TOKEN, AIBOM_CACHE_DIR: join(tmp.dir, 'cache-other') } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`npm provenance from ${other.url}: 6 packages: 0 verified, 0 without provenance, 0 invalid, 6 unreachable`);
      expect(prop((await components('bom3.json'))['left-pad']!, 'aibom:npm:provenance:error')).toBe('the registry answered 401');
    } finally {
      await other.close();
    }
    const u = await runCli(['build', '.', '--registry', registry.url], { cwd: proj, env: env() });
    expect(u.code).toBe(2);
  });
});

describe('aibom gate: packages policy over the recorded provenance', () => {
  const gate = async (policyLines: string[], extra: string[] = []) => {
    await writeFile(join(proj, 'policy.yaml'), ['version: 1', ...policyLines, ''].join('\n'));
    const r = await runCli(['gate', '--bom', 'bom.json', '--root', '.', '--policy', 'policy.yaml', '--json', ...extra], { cwd: proj, env: env() });
    const failures = JSON.parse(r.stdout).failures as Array<{ rule: string; name: string; message: string }>;
    return { r, failures };
  };
  const names = (fs: Array<{ rule: string; name: string }>, rule: string) => fs.filter((f) => f.rule === rule).map((f) => f.name).sort();

  it('provenance: required / preferred / by name glob', async () => {
    const req = await gate(['packages:', '  provenance: required']);
    expect(req.r.code).toBe(1);
    expect(names(req.failures, 'package-provenance')).toEqual(['flaky@1.0.0', 'from-prt@1.0.0', 'no-provenance@1.0.0', 'tampered@1.0.0']);
    expect(req.failures.find((f) => f.name === 'no-provenance@1.0.0')!.message).toBe('provenance is required and it has no provenance attestation');
    const pref = await gate(['packages:', '  provenance: preferred']);
    expect(names(pref.failures, 'package-provenance')).toEqual(['flaky@1.0.0', 'from-prt@1.0.0', 'tampered@1.0.0']);
    const scoped = await gate(['packages:', '  provenance:', '    - match: "@acme/*"', '      level: required']);
    expect(scoped.r.code, scoped.r.stdout).toBe(0);
  });

  it('minimumReleaseAge: a version younger than the cooldown fails unless allow-listed; an unknown publish time fails', async () => {
    const ok = await gate(['packages:', '  minimumReleaseAge: 3d', '  releaseAgeAllow: [flaky, left-pad, "@acme/*"]']);
    expect(ok.r.code, ok.r.stdout).toBe(0);
    // The registry dates every version 10 days back, but the verified provenance of left-pad and
    // @acme/tool was signed minutes ago: the signed time wins, so a registry cannot date a fresh version past the cooldown.
    const spoofed = await gate(['packages:', '  minimumReleaseAge: 3d', '  releaseAgeAllow: [flaky]']);
    expect(names(spoofed.failures, 'package-release-age')).toEqual(['@acme/tool@1.0.0', 'left-pad@1.0.0']);
    expect(spoofed.failures.find((f) => f.name === 'left-pad@1.0.0')!.message).toMatch(/^published \d{4}-.*, 0 h before the build: under the 3d cooldown$/);
    const young = await gate(['packages:', '  minimumReleaseAge: 30d', '  releaseAgeAllow: [left-pad, "@acme/*"]']);
    expect(names(young.failures, 'package-release-age')).toEqual(['flaky@1.0.0', 'from-prt@1.0.0', 'no-provenance@1.0.0', 'tampered@1.0.0']);
    expect(young.failures.find((f) => f.name === 'tampered@1.0.0')!.message).toMatch(/^published \d{4}-.*h before the build: under the 30d cooldown$/);
    expect(young.failures.find((f) => f.name === 'flaky@1.0.0')!.message).toBe('publish time unknown (cooldown 30d)');
    await writeFile(join(proj, 'bad.yaml'), 'version: 1\npackages:\n  minimumReleaseAge: 3 days\n');
    const bad = await runCli(['gate', '--bom', 'bom.json', '--policy', 'bad.yaml'], { cwd: proj, env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('minimumReleaseAge');
  });

  it('the provenance lock records npm packages with verified provenance', async () => {
    const { r } = await gate([], ['--lock', 'aibom.lock.json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lock = JSON.parse(await readFile(join(proj, 'aibom.lock.json'), 'utf8'));
    expect(lock.components['package:left-pad']).toEqual({
      kind: 'package',
      signer: 'https://github.com/acme/left-pad/.github/workflows/publish.yml',
      issuer: stack.urls.oidc,
      repository: 'https://github.com/acme/left-pad',
      workflow: 'https://github.com/acme/left-pad/.github/workflows/publish.yml',
      refPattern: 'refs/tags/*',
      trigger: 'push',
      runner: 'github-hosted',
    });
    expect(Object.keys(lock.components).sort()).toEqual(['package:@acme/tool', 'package:left-pad']);
    // A package whose provenance now fails to verify drifts (its verified provenance disappeared).
    lock.components['package:tampered'] = { ...lock.components['package:left-pad'], repository: 'https://github.com/acme/tampered' };
    await writeFile(join(proj, 'aibom.lock.json'), JSON.stringify(lock));
    const again = await gate([], ['--lock', 'aibom.lock.json']);
    expect(again.r.code).toBe(1);
    expect(again.failures.filter((f) => f.rule === 'provenance-drift').map((f) => f.name)).toEqual(['package:tampered']);
    // Fourth outside report, finding 2: a copy aibom never asked about (here: a BOM built without
    // --provenance) carries no verified provenance, so every locked package drifts.
    delete lock.components['package:tampered'];
    await writeFile(join(proj, 'aibom.lock.json'), JSON.stringify(lock));
    expect((await runCli(['build', '.', '-o', 'plain.json'], { cwd: proj, env: env() })).code).toBe(0);
    const plain = await runCli(['gate', '--bom', 'plain.json', '--root', '.', '--lock', 'aibom.lock.json', '--frozen-lock', '--json'], { cwd: proj, env: env() });
    const drifted = (JSON.parse(plain.stdout).failures as Array<{ rule: string; name: string; message: string }>).filter((f) => f.rule === 'provenance-drift');
    expect(drifted.map((f) => f.name).sort()).toEqual(['package:@acme/tool', 'package:left-pad']);
    expect(drifted[0]!.message).toContain('its provenance disappeared');
  });
});

describe('registry config and hostile responses (library)', () => {
  it('.npmrc: the token of the longest matching prefix only, environment variables expanded; never a token for another host', async () => {
    const { resolveNpmRegistry } = await import('../src/provenance/npm-config.js');
    const dir = join(tmp.dir, 'npmrc');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, '.npmrc'),
      ['; comment', 'registry=http://127.0.0.1:9/npm/', '//127.0.0.1:9/:_authToken=short', `//127.0.0.1:9/npm/:_authToken=\${MY_TOKEN}`, '//other.example/:_authToken=elsewhere', ''].join('\n'),
    );
    const base = { npm_config_userconfig: join(dir, 'none'), HOME: dir };
    const r = await resolveNpmRegistry({ cwd: dir, env: { ...base, MY_TOKEN: 'long' } });
    expect(r).toEqual({ url: 'http://127.0.0.1:9/npm/', source: '.npmrc', token: 'long' });
    const other = await resolveNpmRegistry({ cwd: dir, env: base, registry: 'http://127.0.0.1:10/' });
    expect(other.token).toBeUndefined();
    const fromEnv = await resolveNpmRegistry({ cwd: dir, env: { ...base, npm_config_registry: 'http://127.0.0.1:9/' } });
    expect(fromEnv).toEqual({ url: 'http://127.0.0.1:9/', source: 'npm_config_registry', token: 'short' });
    await expect(resolveNpmRegistry({ cwd: dir, env: base, registry: 'http://user:pw@127.0.0.1:9/' })).rejects.toThrow(/credentials/);
    await expect(resolveNpmRegistry({ cwd: dir, env: base, registry: 'file:///etc' })).rejects.toThrow(/http\(s\) URL/);
  });

  it('an attestations response that is not what npm serves is invalid, never an exception', async () => {
    const { verifyAttestations } = await import('../src/provenance/npm-provenance.js');
    const { loadTrustedRoot } = await import('../src/verification/trusted-root.js');
    const { makeTrustContext } = await import('../src/verification/verify.js');
    const trust = makeTrustContext(await loadTrustedRoot(stack.trustedRootPath));
    const pkg = { ref: 'x', name: 'left-pad', version: '1.0.0', sha512: sha512(PKGS[0]!) };
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const body of ['not json', '[]', '{"attestations": 3}', JSON.stringify({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { mediaType: 'x' } }] }), `{"attestations":[{"predicateType":"https://slsa.dev/provenance/v1","bundle":${deep}}]}`]) {
      const r = verifyAttestations(Buffer.from(body), pkg, trust);
      expect(r.status, body.slice(0, 60)).toBe('invalid');
      expect(r.error).toBeTruthy();
    }
    expect(verifyAttestations(Buffer.from(JSON.stringify({ attestations: [{ predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1', bundle: {} }] })), pkg, trust).status).toBe('missing');
  });
});
