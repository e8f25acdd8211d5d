/**
 * npm publish attestations (`aibom build --provenance`): the registry's own statement that it
 * accepted these bytes, keyless (older ones) or signed with a key it serves at /-/npm/v1/keys
 * and logged in Rekor (today's). Attacks: an attestation for another package, version or
 * digest, a key the registry does not publish, the published key id on another key's
 * signature, an expired key, a tampered payload, a keys endpoint that floods, hangs or answers
 * garbage: each is a finding naming the package, never a crash or a pass. A publish attestation
 * alone is not provenance (the gate's packages.provenance stays about SLSA provenance).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prop, runCli, tempDir } from './helpers/cli.js';
import {
  makeRegistryKey,
  type NpmRegistryServer,
  type PublishSubject,
  type RegistryKeyPair,
  type RegistryPackage,
  signNpmProvenance,
  signNpmPublishKeyless,
  signNpmPublishWithKey,
  startNpmRegistry,
} from './helpers/npm-registry.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let registry: NpmRegistryServer;
let proj: string;
let key: RegistryKeyPair;

const NAMES = ['pub-keyless', 'pub-key', 'both', 'other-package', 'other-version', 'other-digest', 'unknown-key', 'wrong-key-for-id', 'expired-key', 'tampered'] as const;
type Name = (typeof NAMES)[number];
const bytes = Object.fromEntries(NAMES.map((n) => [n, randomBytes(64)])) as Record<Name, Buffer>;
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const subject = (n: Name): PublishSubject => ({ name: n, version: '1.0.0', sha512: sha512(bytes[n]) });

async function publishFor(n: Name, expiredKey: RegistryKeyPair, stranger: RegistryKeyPair): Promise<unknown[]> {
  const s = subject(n);
  switch (n) {
    case 'pub-keyless':
      return [await signNpmPublishKeyless(stack, s)];
    case 'pub-key':
      return [await signNpmPublishWithKey(stack, key, s)];
    case 'both':
      return [
        (await signNpmProvenance(stack, { repository: 'acme/both', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/publish.yml' }, [s]) as { attestations: unknown[] }).attestations[0],
        await signNpmPublishWithKey(stack, key, s),
      ];
    case 'other-package':
      return [await signNpmPublishWithKey(stack, key, { ...s, name: 'left-pad', predicate: { name: 'left-pad', version: '1.0.0' } })];
    case 'other-version':
      return [await signNpmPublishWithKey(stack, key, { ...s, predicate: { name: n, version: '2.0.0' } })];
    case 'other-digest':
      return [await signNpmPublishWithKey(stack, key, { ...s, sha512: sha512(Buffer.from('other bytes')) })];
    case 'unknown-key':
      return [await signNpmPublishWithKey(stack, stranger, s)];
    case 'wrong-key-for-id':
      return [await signNpmPublishWithKey(stack, stranger, s, key.keyid)];
    case 'expired-key':
      return [await signNpmPublishWithKey(stack, expiredKey, s)];
    case 'tampered': {
      const a = (await signNpmPublishWithKey(stack, key, s)) as { bundle: { dsseEnvelope: { payload: string } } };
      const st = JSON.parse(Buffer.from(a.bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      st.predicate.registry = 'https://evil.test';
      a.bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
      return [a];
    }
  }
}

const env = () => cleanEnv({ AIBOM_CACHE_DIR: join(tmp.dir, 'cache'), XDG_CACHE_HOME: undefined, npm_config_registry: undefined, NPM_CONFIG_REGISTRY: undefined, npm_config_userconfig: join(tmp.dir, 'none'), HOME: tmp.dir });

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-npm-publish-');
  await mkdir(join(tmp.dir, 'cache'), { mode: 0o700 });
  key = makeRegistryKey();
  // Expired yesterday: anything logged now was signed after it expired.
  const expired = makeRegistryKey(new Date(Date.now() - 86_400_000).toISOString());
  const stranger = makeRegistryKey();
  const published = new Date(Date.now() - 10 * 86_400_000).toISOString();
  const served: RegistryPackage[] = [];
  for (const n of NAMES) served.push({ name: n, version: '1.0.0', published, attestations: { attestations: await publishFor(n, expired, stranger) } });
  registry = await startNpmRegistry(served, { keys: [key.served, expired.served] });
  proj = join(tmp.dir, 'proj');
  await mkdir(proj);
  const deps = Object.fromEntries(NAMES.map((n) => [n, '1.0.0']));
  await writeFile(join(proj, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0', dependencies: deps }));
  const entries = NAMES.map((n) => [`node_modules/${n}`, { version: '1.0.0', resolved: `${registry.url}${n}/-/${n}-1.0.0.tgz`, integrity: `sha512-${createHash('sha512').update(bytes[n]).digest('base64')}` }]);
  await writeFile(
    join(proj, 'package-lock.json'),
    JSON.stringify({ name: 'agent', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'agent', version: '1.0.0', dependencies: deps }, ...Object.fromEntries(entries) } }),
  );
}, 180_000);

afterAll(async () => {
  await registry?.close();
  await stack?.close();
  await tmp?.cleanup();
});

async function components(file: string): Promise<Record<string, Record<string, unknown>>> {
  const bom = JSON.parse(await readFile(join(proj, file), 'utf8'));
  return Object.fromEntries(bom.components.filter((c: { purl?: string }) => c.purl?.startsWith('pkg:npm/')).map((c: { name: string }) => [c.name, c]));
}

const build = (out: string, e = env()) => runCli(['build', '.', '-o', out, '--provenance', '--registry', registry.url, '--trusted-root', stack.trustedRootPath], { cwd: proj, env: e });
const P = 'aibom:npm:publish-attestation';

describe('aibom build --provenance: npm publish attestations', () => {
  it('verifies keyless and key-signed ones, records what was proved, and names every package whose attestation is wrong', async () => {
    const r = await build('bom.json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = await components('bom.json');
    const keyless = c['pub-keyless']!;
    expect(prop(keyless, P)).toBe('verified');
    expect(prop(keyless, `${P}:signer`)).toBe('npm-registry@example.test');
    expect(prop(keyless, `${P}:issuer`)).toBe(stack.urls.oidc);
    expect(prop(keyless, `${P}:log-index`)).toMatch(/^\d+$/);
    const keyed = c['pub-key']!;
    expect(prop(keyed, P)).toBe('verified');
    expect(prop(keyed, `${P}:keyid`)).toBe(key.keyid);
    expect(prop(keyed, `${P}:log-index`)).toMatch(/^\d+$/);
    // A publish attestation alone is not provenance.
    expect(prop(keyed, 'aibom:npm:provenance')).toBe('missing');
    // Fourth outside report, finding 3: the registry dates every version 10 days back, but the
    // verified publish attestation was logged minutes ago: the publish time is the signed one.
    for (const n of ['pub-keyless', 'pub-key'] as const) {
      const published = Date.parse(prop(c[n]!, 'aibom:npm:published') ?? '');
      expect(Date.now() - published, n).toBeLessThan(86_400_000);
    }
    // An attestation that does not verify moves nothing: the registry's date stands.
    expect(Date.now() - Date.parse(prop(c['unknown-key']!, 'aibom:npm:published') ?? '')).toBeGreaterThan(9 * 86_400_000);
    expect(prop(c.both!, 'aibom:npm:provenance')).toBe('verified');
    expect(prop(c.both!, P)).toBe('verified');
    const wrong: Array<[Name, RegExp]> = [
      ['other-package', /no subject names pkg:npm\/other-package@1\.0\.0 with the lockfile's sha512/],
      ['other-version', /the predicate names other-version@2\.0\.0, not other-version@1\.0\.0/],
      ['other-digest', /no subject names pkg:npm\/other-digest@1\.0\.0 with the lockfile's sha512/],
      ['unknown-key', /signed with key "SHA256:[^"]+", which the registry does not publish/],
      ['wrong-key-for-id', /^signature: /],
      ['expired-key', /key SHA256:\S+ expired at .* before the log entry's time/],
      // The payload no longer matches what the log recorded (and what the key signed).
      ['tampered', /^untrusted: tlog body error: DSSE payload hash mismatch$/],
    ];
    for (const [n, why] of wrong) {
      expect(prop(c[n]!, P), n).toBe('invalid');
      expect(prop(c[n]!, `${P}:error`), n).toMatch(why);
      expect(r.stderr, n).toContain(`${n}@1.0.0: publish attestation does not verify`);
    }
    // The keys were fetched once for the whole run.
    expect(registry.requests.keys).toBe(1);
  });

  it('a rerun is served from the cache, which is not trusted when someone else can write it', async () => {
    const before = registry.requests.attestations;
    const again = await build('bom2.json');
    expect(again.code, again.stderr).toBe(0);
    // The four that verified (or proved absent) everywhere; the invalid ones are asked again.
    expect(again.stderr).toContain('(3 from the cache)');
    expect(registry.requests.attestations - before).toBe(7);
    expect(prop((await components('bom2.json'))['pub-key']!, `${P}:keyid`)).toBe(key.keyid);
    const dir = join(tmp.dir, 'cache', 'npm-provenance');
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    await chmod(join(dir, file!), 0o666);
    const writable = await build('bom3.json');
    expect(writable.code, writable.stderr).toBe(0);
    expect(writable.stderr).toContain('(0 from the cache)');
    expect(writable.stderr).toMatch(/the npm provenance cache was not used .*anyone can write to it/);
    await chmod(join(dir, file!), 0o644);
  });

  it('the gate: a publish attestation alone is not provenance; a wrong one fails under required and preferred', async () => {
    const gate = async (level: string) => {
      await writeFile(join(proj, 'policy.yaml'), `version: 1\npackages:\n  provenance: ${level}\n`);
      const r = await runCli(['gate', '--bom', 'bom.json', '--root', '.', '--policy', 'policy.yaml', '--json'], { cwd: proj, env: env() });
      return { code: r.code, failures: JSON.parse(r.stdout).failures as Array<{ rule: string; name: string; message: string }> };
    };
    const pref = await gate('preferred');
    expect(pref.code).toBe(1);
    const names = pref.failures.filter((f) => f.rule === 'package-provenance').map((f) => f.name);
    expect(names.sort()).toEqual(['expired-key', 'other-digest', 'other-package', 'other-version', 'tampered', 'unknown-key', 'wrong-key-for-id'].map((n) => `${n}@1.0.0`).sort());
    expect(pref.failures.find((f) => f.name === 'tampered@1.0.0')!.message).toMatch(/^its npm publish attestation is invalid: untrusted: tlog body error/);
    const req = await gate('required');
    expect(req.failures.find((f) => f.name === 'pub-key@1.0.0')!.message).toBe('provenance is required and it has no provenance attestation');
    expect(req.failures.some((f) => f.name === 'both@1.0.0')).toBe(false);
  });
});

describe('the registry keys endpoint is hostile (library)', () => {
  const run = async (how: NpmRegistryServer['keysBehaviour']) => {
    const { checkNpmProvenance, npmPackages } = await import('../src/provenance/npm-provenance.js');
    const { loadTrustedRoot } = await import('../src/verification/trusted-root.js');
    const { makeTrustContext } = await import('../src/verification/verify.js');
    registry.keysBehaviour = how;
    const before = registry.requests.keys;
    const pkgs = (['pub-key', 'both', 'pub-keyless'] as const).map((n) => ({ ref: n, name: n, version: '1.0.0', sha512: sha512(bytes[n]) }));
    expect(npmPackages([])).toEqual([]);
    try {
      const r = await checkNpmProvenance(pkgs, {
        registry: { url: registry.url, source: 'test' },
        trust: makeTrustContext(await loadTrustedRoot(stack.trustedRootPath)),
        trustKey: 'x',
        retryDelayMs: 1,
        timeoutMs: 500,
      });
      return { r, keyRequests: registry.requests.keys - before };
    } finally {
      registry.keysBehaviour = 'serve';
    }
  };

  it.each([
    ['garbage', /^the registry's signing keys \(-\/npm\/v1\/keys\): not valid JSON/],
    ['flood', /^the registry's signing keys \(-\/npm\/v1\/keys\): response over \d+ bytes$/],
    ['hang', /^the registry's signing keys \(-\/npm\/v1\/keys\): the registry did not answer in time$/],
    ['not-found', /^the registry publishes no signing keys/],
  ] as const)('%s: the key-signed publish attestations are errors naming the endpoint; the rest still verifies', async (how, why) => {
    const { r, keyRequests } = await run(how);
    for (const n of ['pub-key', 'both']) {
      const p = r.results.get(n)!.publish!;
      expect(p.status, n).toBe('error');
      expect(p.error, n).toMatch(why);
    }
    expect(r.results.get('both')!.status).toBe('verified');
    expect(r.results.get('pub-keyless')!.publish!.status).toBe('verified');
    // Fetched once per run (a request that timed out is not retried: its deadline already paid for it).
    expect(keyRequests).toBe(1);
  }, 30_000);

  it('a keys response that is not what npm serves is refused whole', async () => {
    const { parseRegistryKeys } = await import('../src/provenance/npm-keys.js');
    const good = makeRegistryKey().served;
    expect([...parseRegistryKeys(Buffer.from(JSON.stringify({ keys: [good] }))).keys()]).toEqual([good.keyid]);
    const bad: Array<[unknown, RegExp]> = [
      [{ keys: 'x' }, /no "keys" list/],
      [{ keys: [good, good] }, /listed twice/],
      [{ keys: [{ ...good, key: 'not base64!' }] }, /is not base64/],
      [{ keys: [{ ...good, key: Buffer.from('junk').toString('base64') }] }, /is not a public key/],
      [{ keys: [{ ...good, expires: 'someday' }] }, /expires is neither a time nor null/],
      [{ keys: Array.from({ length: 65 }, () => good) }, /over 64 keys/],
    ];
    for (const [body, why] of bad) expect(() => parseRegistryKeys(Buffer.from(JSON.stringify(body)))).toThrow(why);
    expect(() => parseRegistryKeys(Buffer.from(`{"keys":[],"keys":[${JSON.stringify(good)}]}`))).toThrow(/duplicate key "keys"/);
  });

  it('after the trusted CA checks are remembered, a certificate from another instance\'s CA (same names, other keys) still fails', async () => {
    const { verifyAttestations } = await import('../src/provenance/npm-provenance.js');
    const { loadTrustedRoot } = await import('../src/verification/trusted-root.js');
    const { makeTrustContext } = await import('../src/verification/verify.js');
    const trust = makeTrustContext(await loadTrustedRoot(stack.trustedRootPath));
    const pkg = { ref: 'x', ...subject('pub-keyless') };
    const good = await signNpmPublishKeyless(stack, subject('pub-keyless'));
    const other = await startSigstoreStack();
    try {
      const foreign = await signNpmPublishKeyless(other, subject('pub-keyless'));
      for (let i = 0; i < 2; i++) {
        expect(verifyAttestations(Buffer.from(JSON.stringify({ attestations: [good] })), pkg, trust).publish!.status).toBe('verified');
        const r = verifyAttestations(Buffer.from(JSON.stringify({ attestations: [foreign] })), pkg, trust).publish!;
        expect(r.status).toBe('invalid');
        expect(r.error).toMatch(/^untrusted: /);
      }
    } finally {
      await other.close();
    }
  }, 60_000);
});

