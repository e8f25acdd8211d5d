/**
 * `aibom build --provenance` against the real npm publish attestations of sigstore@1.0.0
 * (../shared/interop/sigstore-js-bundles: sigstore-js's bundles v0.1–v0.3, keyless, signed by
 * brian@dehamer.com on public-good Sigstore), served by the loopback npm registry as that
 * version's attestations, over a lockfile with the integrity of the real tarball
 * (`npm pack sigstore@1.0.0`), verified offline with the public-good trusted root (as
 * `aibom verify` uses it). Every bundle verifies; a tampered bundle and a lockfile with another
 * integrity give the right findings. Missing data fails, never skips.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prop, REPO, runCli, tempDir } from '../helpers/cli.js';
import { type NpmRegistryServer, PUBLISH_PREDICATE_TYPE, startNpmRegistry } from '../helpers/npm-registry.js';

const DATA = process.env.AIBOM_INTEROP_DIR ? resolve(process.env.AIBOM_INTEROP_DIR) : resolve(REPO, '..', 'shared', 'interop');
const BUNDLES = join(DATA, 'sigstore-js-bundles');
const SIGNER = 'brian@dehamer.com';

let tmp: { dir: string; cleanup: () => Promise<void> };
let tarball: Buffer;
let bundles: Array<{ file: string; json: Record<string, unknown> }>;
const servers: NpmRegistryServer[] = [];

beforeAll(async () => {
  if (!existsSync(BUNDLES)) throw new Error(`interop data missing: expected ${BUNDLES} (set AIBOM_INTEROP_DIR to the folder holding sigstore-js-bundles/)`);
  tmp = await tempDir('aibom-npm-interop-');
  const files = (await readdir(BUNDLES)).filter((f) => f.endsWith('.sigstore')).sort();
  if (files.length !== 9) throw new Error(`expected 9 bundles in ${BUNDLES}, found ${files.length}`);
  bundles = await Promise.all(files.map(async (file) => ({ file, json: JSON.parse(await readFile(join(BUNDLES, file), 'utf8')) })));
  const name = execFileSync('npm', ['pack', 'sigstore@1.0.0', '--silent'], { cwd: tmp.dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  tarball = await readFile(join(tmp.dir, name));
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  await tmp?.cleanup();
});

/** A registry serving sigstore@1.0.0 with these attestations, and a project locking it with this integrity. */
async function project(label: string, attestations: unknown[], integrityOf: Buffer): Promise<{ dir: string; registry: NpmRegistryServer }> {
  const registry = await startNpmRegistry([{ name: 'sigstore', version: '1.0.0', published: '2023-01-23T18:00:00.000Z', attestations: { attestations } }]);
  servers.push(registry);
  const dir = join(tmp.dir, label);
  await mkdir(dir);
  const deps = { sigstore: '1.0.0' };
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0', dependencies: deps }));
  const integrity = `sha512-${createHash('sha512').update(integrityOf).digest('base64')}`;
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      name: 'agent',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'agent', version: '1.0.0', dependencies: deps }, 'node_modules/sigstore': { version: '1.0.0', resolved: `${registry.url}sigstore/-/sigstore-1.0.0.tgz`, integrity } },
    }),
  );
  return { dir, registry };
}

async function build(label: string, attestations: unknown[], integrityOf = tarball) {
  const { dir, registry } = await project(label, attestations, integrityOf);
  const env = { AIBOM_CACHE_DIR: join(dir, '.cache'), XDG_CACHE_HOME: undefined, HOME: dir, npm_config_userconfig: join(dir, 'none'), npm_config_registry: undefined, NPM_CONFIG_REGISTRY: undefined };
  // No --trusted-root: the public-good trusted root, offline, as `aibom verify` uses it.
  const r = await runCli(['build', '.', '-o', 'bom.json', '--provenance', '--registry', registry.url], { cwd: dir, env });
  const bom = r.code === 0 ? JSON.parse(await readFile(join(dir, 'bom.json'), 'utf8')) : undefined;
  const c = bom?.components.find((x: { purl?: string }) => x.purl === 'pkg:npm/sigstore@1.0.0');
  return { r, c };
}

const entry = (bundle: unknown) => ({ predicateType: PUBLISH_PREDICATE_TYPE, bundle });
const P = 'aibom:npm:publish-attestation';

describe('npm publish attestations: the real sigstore@1.0.0 bundles', () => {
  it('the tarball is the bundles\' subject', async () => {
    const st = JSON.parse(await readFile(join(BUNDLES, 'statement.json'), 'utf8'));
    expect(st.subject[0].digest.sha512).toBe(createHash('sha512').update(tarball).digest('hex'));
  });

  it.each(['bundleV01-dsse-no-proof.sigstore', 'bundleV01-dsse-with-proof.sigstore', 'bundleV01-full-cert-chain.sigstore', 'bundleV01-intoto-no-proof.sigstore', 'bundleV01-intoto-with-proof.sigstore', 'bundleV02-dsse.sigstore', 'bundleV02-intoto.sigstore', 'bundleV03-dsse.sigstore', 'bundleV03-intoto.sigstore'])(
    '%s verifies as the publish attestation, signed by brian@dehamer.com',
    async (file) => {
      const b = bundles.find((x) => x.file === file);
      expect(b, `${file} is in ${BUNDLES}`).toBeDefined();
      const { r, c } = await build(file.replace('.sigstore', ''), [entry(b!.json)]);
      expect(r.code, r.stderr).toBe(0);
      expect(prop(c, P), r.stderr).toBe('verified');
      expect(prop(c, `${P}:signer`)).toBe(SIGNER);
      expect(prop(c, `${P}:issuer`)).toBe('https://github.com/login/oauth');
      expect(prop(c, `${P}:log-index`)).toMatch(/^\d+$/);
      // A publish attestation is not SLSA provenance.
      expect(prop(c, 'aibom:npm:provenance')).toBe('missing');
    },
  );

  it('a tampered bundle is invalid, with the reason, and named on stderr', async () => {
    const t = structuredClone(bundles.find((x) => x.file === 'bundleV03-dsse.sigstore')!.json) as { dsseEnvelope: { payload: string } };
    const st = JSON.parse(Buffer.from(t.dsseEnvelope.payload, 'base64').toString('utf8'));
    st.predicate.registry = 'https://evil.test';
    t.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    const { r, c } = await build('tampered', [entry(t)]);
    expect(r.code, r.stderr).toBe(0);
    expect(prop(c, P)).toBe('invalid');
    expect(prop(c, `${P}:error`)).toMatch(/^(signature|untrusted): /);
    expect(r.stderr).toContain('sigstore@1.0.0: publish attestation does not verify');
  });

  it('a lockfile with another integrity: the real attestation does not speak for those bytes', async () => {
    const { r, c } = await build('other-integrity', [entry(bundles[0]!.json)], Buffer.from('not the tarball'));
    expect(r.code, r.stderr).toBe(0);
    expect(prop(c, P)).toBe('invalid');
    expect(prop(c, `${P}:error`)).toBe("no subject names pkg:npm/sigstore@1.0.0 with the lockfile's sha512");
  });
});
