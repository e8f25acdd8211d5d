// npm provenance benchmark: `aibom build --provenance` over a project of 2,000 npm packages
// whose provenance a loopback npm registry serves (packuments and attestations, real HTTP on
// 127.0.0.1, run by this process), each a keyless DSSE bundle made by the loopback Sigstore
// stack. Measured in fresh processes:
//   cold    - an empty cache: 4,000 requests and 2,000 verifications;
//   cached  - the verified on-disk cache of a previous run (no request);
//   plain   - `aibom build` without --provenance (the floor: what provenance adds on top);
//   raw     - one Node process running @sigstore/verify over the 2,000 bundles, no HTTP (peer).
// Targets: cold < 5 s, cached < 0.5 s over plain.
//
//   npm run bench -- npm-provenance [--runs N] [--warmup N]
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AIBOM_CLI, fmtSeconds, machine, median, REPO, requireBuiltCli, table, timeCommand, WORK } from './lib.mjs';

export const description = '2,000 npm packages: aibom build --provenance (cold, cached) vs plain build vs raw @sigstore/verify';

const COUNT = 2000;
const HERE = fileURLToPath(import.meta.url);

async function loadTs(path) {
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  try {
    return await import(path);
  } finally {
    unregister();
  }
}

/** The project, the registry's data and the trusted root (made once, reused). */
async function fixtures(dir, count) {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (m.count === count) return m;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'proj'), { recursive: true });
  const { startSigstoreStack } = await loadTs(join(REPO, 'test', 'helpers', 'sigstore-stack.ts'));
  const { signNpmProvenanceMany } = await loadTs(join(REPO, 'test', 'helpers', 'npm-registry.ts'));
  const stack = await startSigstoreStack({ dir: join(dir, 'stack') });
  try {
    const pkgs = Array.from({ length: count }, (_, i) => {
      const bytes = randomBytes(32);
      return { name: `bench-pkg-${String(i).padStart(4, '0')}`, version: '1.0.0', sha512: createHash('sha512').update(bytes).digest('hex'), sri: `sha512-${createHash('sha512').update(bytes).digest('base64')}` };
    });
    if (process.stderr.isTTY) process.stderr.write(`bench: signing ${count} provenance bundles …`);
    const atts = await signNpmProvenanceMany(stack, { repository: 'acme/bench', ref: 'refs/tags/v1.0.0' }, pkgs);
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    const published = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const served = pkgs.map((p, i) => ({ name: p.name, version: p.version, published, attestations: atts[i] }));
    writeFileSync(join(dir, 'registry.json'), JSON.stringify(served));
    const deps = Object.fromEntries(pkgs.map((p) => [p.name, p.version]));
    writeFileSync(join(dir, 'proj', 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', dependencies: deps }));
    writeFileSync(
      join(dir, 'proj', 'package-lock.json'),
      JSON.stringify({
        name: 'bench',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: 'bench', version: '1.0.0', dependencies: deps }, ...Object.fromEntries(pkgs.map((p) => [`node_modules/${p.name}`, { version: p.version, integrity: p.sri }])) },
      }),
    );
    const m = { count, trustedRoot: join(dir, 'trusted_root.json'), proj: join(dir, 'proj'), registry: join(dir, 'registry.json') };
    writeFileSync(m.trustedRoot, readFileSync(stack.trustedRootPath));
    writeFileSync(manifest, JSON.stringify(m));
    return m;
  } finally {
    await stack.close();
  }
}

/** `node bench/npm-provenance.mjs --raw MANIFEST`: raw @sigstore/verify over every bundle. */
async function rawWorker(manifestPath) {
  const { bundleFromJSON } = await import('@sigstore/bundle');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  const { toSignedEntity, toTrustMaterial, Verifier } = await import('@sigstore/verify');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(m.trustedRoot, 'utf8')))));
  let ok = 0;
  for (const p of JSON.parse(readFileSync(m.registry, 'utf8'))) {
    verifier.verify(toSignedEntity(bundleFromJSON(p.attestations.attestations[0].bundle)));
    ok++;
  }
  process.stdout.write(`${ok}\n`);
}

async function timeBuild(m, registryUrl, cache, provenance = true) {
  const args = [AIBOM_CLI, 'build', m.proj, '-o', join(WORK, 'npm-provenance-bom.json'), '--trusted-root', m.trustedRoot];
  if (provenance) args.push('--provenance', '--registry', registryUrl);
  const r = await timeCommand(process.execPath, args, { env: { AIBOM_CACHE_DIR: cache, NO_COLOR: '1', npm_config_registry: '' } });
  if (r.code !== 0) throw new Error(`aibom build failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
  if (provenance && !r.stderr.includes(`${m.count} packages: ${m.count} verified`)) throw new Error(`not every package verified: ${r.stderr.slice(-500)}`);
  return r;
}

export async function run({ runs = 5, warmup = 1 } = {}) {
  requireBuiltCli();
  console.log(`npm-provenance benchmark: ${description}`);
  const dir = join(WORK, 'npm-provenance');
  const m = await fixtures(dir, COUNT);
  const { startNpmRegistry } = await loadTs(join(REPO, 'test', 'helpers', 'npm-registry.ts'));
  const registry = await startNpmRegistry(JSON.parse(readFileSync(m.registry, 'utf8')));
  try {
    const warmCache = join(WORK, 'npm-provenance-cache-warm');
    rmSync(warmCache, { recursive: true, force: true });
    await timeBuild(m, registry.url, warmCache);
    for (let i = 0; i < warmup; i++) await timeBuild(m, registry.url, join(WORK, 'npm-provenance-cache-cold'));
    const cold = [];
    const cached = [];
    const plain = [];
    const raw = [];
    for (let i = 0; i < runs; i++) {
      const coldCache = join(WORK, 'npm-provenance-cache-cold');
      rmSync(coldCache, { recursive: true, force: true });
      cold.push(await timeBuild(m, registry.url, coldCache));
      cached.push(await timeBuild(m, registry.url, warmCache));
      plain.push(await timeBuild(m, registry.url, warmCache, false));
      const r = await timeCommand(process.execPath, [HERE, '--raw', join(dir, 'manifest.json')]);
      if (r.code !== 0 || r.stdout.trim() !== String(m.count)) throw new Error(`raw @sigstore/verify failed: ${r.stderr}`);
      raw.push(r);
      if (process.stderr.isTTY) process.stderr.write(`\rbench: run ${i + 1}/${runs}`);
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    const c = median(cold.map((r) => r.wall));
    const k = median(cached.map((r) => r.wall));
    const p = median(plain.map((r) => r.wall));
    const w = median(raw.map((r) => r.wall));
    // CPU time does not depend on how loaded a shared machine is; wall time does.
    const cpu = (rs) => {
      const v = median(rs.map((r) => r.cpu ?? Number.NaN));
      return Number.isNaN(v) ? undefined : v;
    };
    console.log(
      table([
        ['way', 'wall (median)', 'over plain build', 'cpu'],
        ['aibom build --provenance, cold', fmtSeconds(c), fmtSeconds(c - p), fmtSeconds(cpu(cold))],
        ['aibom build --provenance, cached', fmtSeconds(k), fmtSeconds(k - p), fmtSeconds(cpu(cached))],
        ['aibom build (no provenance)', fmtSeconds(p), '-', fmtSeconds(cpu(plain))],
        ['raw @sigstore/verify, 2,000 bundles, no HTTP', fmtSeconds(w), '-', fmtSeconds(cpu(raw))],
      ]),
    );
    console.log(`cold: ${c.toFixed(2)} s (target < 5 s) ${c < 5 ? 'met' : 'MISSED'}`);
    console.log(`cached: ${k.toFixed(2)} s, ${(k - p).toFixed(2)} s over the plain build (target < 0.5 s) ${k - p < 0.5 ? 'met' : 'MISSED'}`);
    console.log(`cold / raw verify: ${(c / w).toFixed(2)}×; cold / cached: ${(c / k).toFixed(1)}×`);
    const mach = machine();
    console.log(`runs: ${runs} (+${warmup} warmup); node ${mach.node}; ${mach.cpu}; load ${mach.loadavg}`);
    return { name: 'npm-provenance', count: COUNT, runs, cold: c, cached: k, plain: p, raw: w, machine: mach };
  } finally {
    await registry.close();
  }
}

/** CI smoke: 20 packages, cold then cached, once. */
export async function smoke() {
  requireBuiltCli();
  const m = await fixtures(join(WORK, 'npm-provenance-smoke'), 20);
  const { startNpmRegistry } = await loadTs(join(REPO, 'test', 'helpers', 'npm-registry.ts'));
  const registry = await startNpmRegistry(JSON.parse(readFileSync(m.registry, 'utf8')));
  try {
    const cache = join(WORK, 'npm-provenance-smoke-cache');
    rmSync(cache, { recursive: true, force: true });
    await timeBuild(m, registry.url, cache);
    await timeBuild(m, registry.url, cache);
  } finally {
    await registry.close();
  }
  return `npm-provenance: ${m.count} packages' provenance verified from a loopback registry, then from the cache`;
}

if (process.argv[2] === '--raw' && process.argv[3]) {
  await rawWorker(process.argv[3]);
}
