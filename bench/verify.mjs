// Verify benchmark: 200 keyless Sigstore bundles (message signatures with a Fulcio
// certificate, a Rekor v1 entry and an RFC 3161 timestamp, made by the loopback Sigstore
// stack of test/helpers/sigstore-stack.ts) verified three ways, each in fresh processes:
//   batch  - one `aibom verify --batch` process (trust material loaded once);
//   per    - 200 `aibom verify` processes, one per bundle;
//   raw    - one Node process running @sigstore/verify directly (bundleFromJSON,
//            toSignedEntity, Verifier.verify with the identity policy), the floor.
// Targets: batch ≤ 1.2× raw; per-process ≥ 20× batch.
//
//   npm run bench -- verify [--runs N] [--warmup N]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AIBOM_CLI, fmtSeconds, machine, median, REPO, requireBuiltCli, table, timeCommand, WORK } from './lib.mjs';

export const description = '200 keyless bundles: aibom verify --batch vs 200 aibom verify processes vs raw @sigstore/verify';

const COUNT = 200;
const SUB = 'https://github.com/aibom-bench/release/.github/workflows/release.yml@refs/tags/v1.0.0';
const HERE = fileURLToPath(import.meta.url);

/** Make (or reuse) the bundles: a folder with artifacts, bundles, the stack's trusted root and the batch file. */
async function fixtures(dir, count) {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (m.count === count) return m;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The loopback stack is TypeScript (a test helper): load it through tsx.
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  const { startSigstoreStack } = await import(join(REPO, 'test', 'helpers', 'sigstore-stack.ts'));
  unregister();
  const { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness } = await import('@sigstore/sign');
  const { bundleToJSON } = await import('@sigstore/bundle');
  const stack = await startSigstoreStack({ dir: join(dir, 'stack') });
  const prev = { NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  process.env.NO_PROXY = process.env.no_proxy = '127.0.0.1,localhost';
  try {
    const builder = new MessageSignatureBundleBuilder({
      signer: new FulcioSigner({ fulcioBaseURL: stack.urls.fulcio, identityProvider: { getToken: async () => stack.mintToken({ sub: SUB }) } }),
      witnesses: [new RekorWitness({ rekorBaseURL: stack.urls.rekor }), new TSAWitness({ tsaBaseURL: stack.urls.tsa })],
    });
    const lines = [];
    const entries = [];
    for (let i = 0; i < count; i++) {
      const artifact = join(dir, `artifact-${i}.txt`);
      const bundle = `${artifact}.sigstore.json`;
      const data = Buffer.from(`release artifact ${i}\n`);
      writeFileSync(artifact, data);
      writeFileSync(bundle, JSON.stringify(bundleToJSON(await builder.create({ data }))));
      lines.push(JSON.stringify({ artifact, bundle }));
      entries.push({ artifact, bundle });
      if (process.stderr.isTTY) process.stderr.write(`\rbench: signing ${i + 1}/${count}`);
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    const m = { count, identity: SUB, issuer: stack.urls.oidc, trustedRoot: join(dir, 'trusted_root.json'), batch: join(dir, 'batch.jsonl'), entries };
    writeFileSync(m.trustedRoot, readFileSync(stack.trustedRootPath));
    writeFileSync(m.batch, `${lines.join('\n')}\n`);
    writeFileSync(manifest, JSON.stringify(m));
    return m;
  } finally {
    process.env.NO_PROXY = prev.NO_PROXY;
    process.env.no_proxy = prev.no_proxy;
    await stack.close();
  }
}

/** `node bench/verify.mjs --raw MANIFEST`: raw @sigstore/verify over every bundle; prints the count verified. */
async function rawWorker(manifestPath) {
  const { bundleFromJSON } = await import('@sigstore/bundle');
  const { TrustedRoot } = await import('@sigstore/protobuf-specs');
  const { toSignedEntity, toTrustMaterial, Verifier } = await import('@sigstore/verify');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(m.trustedRoot, 'utf8')))));
  const policy = { subjectAlternativeName: m.identity, extensions: { issuer: m.issuer } };
  let ok = 0;
  for (const e of m.entries) {
    const bundle = bundleFromJSON(JSON.parse(readFileSync(e.bundle, 'utf8')));
    verifier.verify(toSignedEntity(bundle, readFileSync(e.artifact)), policy);
    ok++;
  }
  process.stdout.write(`${ok}\n`);
}

function env() {
  // An empty aibom cache: a trusted root cached on this machine must not be picked up.
  return { AIBOM_CACHE_DIR: join(WORK, 'verify-cache'), NO_COLOR: '1' };
}

async function timeBatch(m) {
  const r = await timeCommand(process.execPath, [AIBOM_CLI, 'verify', '--batch', m.batch, '--certificate-identity', m.identity, '--certificate-oidc-issuer', m.issuer, '--trusted-root', m.trustedRoot], { env: env() });
  if (r.code !== 0 || !r.stdout.includes(`${m.count} verified, 0 not verified`)) throw new Error(`batch failed (exit ${r.code}): ${r.stdout.slice(-300)}${r.stderr}`);
  return r;
}

async function timeRaw(manifestPath, m) {
  const r = await timeCommand(process.execPath, [HERE, '--raw', manifestPath]);
  if (r.code !== 0 || r.stdout.trim() !== String(m.count)) throw new Error(`raw @sigstore/verify failed (exit ${r.code}): ${r.stderr}`);
  return r;
}

async function timePerProcess(m) {
  const t0 = process.hrtime.bigint();
  let cpu = 0;
  let cpuKnown = true;
  for (const e of m.entries) {
    const r = await timeCommand(process.execPath, [AIBOM_CLI, 'verify', e.artifact, '--bundle', e.bundle, '--certificate-identity', m.identity, '--certificate-oidc-issuer', m.issuer, '--trusted-root', m.trustedRoot], { env: env() });
    if (r.code !== 0) throw new Error(`aibom verify ${e.artifact} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    if (r.cpu === undefined) cpuKnown = false;
    else cpu += r.cpu;
  }
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: cpuKnown ? cpu : undefined };
}

export async function run({ runs = 5, warmup = 1 } = {}) {
  requireBuiltCli();
  console.log(`verify benchmark: ${description}`);
  const dir = join(WORK, 'verify');
  const m = await fixtures(dir, COUNT);
  const manifestPath = join(dir, 'manifest.json');
  for (let i = 0; i < warmup; i++) {
    await timeBatch(m);
    await timeRaw(manifestPath, m);
  }
  const batch = [];
  const raw = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so load on a shared machine hits both alike.
    batch.push(await timeBatch(m));
    raw.push(await timeRaw(manifestPath, m));
    if (process.stderr.isTTY) process.stderr.write(`\rbench: run ${i + 1}/${runs}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\rbench: 200 processes …\x1b[K');
  // 200 processes take a while: measured once (its variance is small next to its size).
  const per = await timePerProcess(m);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  const b = median(batch.map((r) => r.wall));
  const r = median(raw.map((x) => x.wall));
  const bc = median(batch.map((x) => x.cpu ?? Number.NaN));
  const rc = median(raw.map((x) => x.cpu ?? Number.NaN));
  const rows = [
    ['way', 'wall (median)', 'cpu', 'per bundle'],
    ['aibom verify --batch (1 process)', fmtSeconds(b), fmtSeconds(Number.isNaN(bc) ? undefined : bc), `${((b / COUNT) * 1000).toFixed(2)} ms`],
    ['raw @sigstore/verify (1 process)', fmtSeconds(r), fmtSeconds(Number.isNaN(rc) ? undefined : rc), `${((r / COUNT) * 1000).toFixed(2)} ms`],
    [`aibom verify × ${COUNT} processes`, fmtSeconds(per.wall), fmtSeconds(per.cpu), `${((per.wall / COUNT) * 1000).toFixed(1)} ms`],
  ];
  console.log(table(rows));
  const ratioRaw = b / r;
  const speedup = per.wall / b;
  console.log(`batch / raw: ${ratioRaw.toFixed(2)}× (target ≤ 1.2×) ${ratioRaw <= 1.2 ? 'met' : 'MISSED'}`);
  console.log(`per-process / batch: ${speedup.toFixed(1)}× (target ≥ 20×) ${speedup >= 20 ? 'met' : 'MISSED'}`);
  if (!Number.isNaN(bc) && !Number.isNaN(rc) && per.cpu !== undefined) {
    // CPU time does not depend on how loaded a shared machine is; wall time does.
    console.log(`cpu time: batch / raw ${(bc / rc).toFixed(2)}×, per-process / batch ${(per.cpu / bc).toFixed(1)}×`);
  }
  const mach = machine();
  console.log(`runs: ${runs} (+${warmup} warmup); node ${mach.node}; ${mach.cpu}; load ${mach.loadavg}`);
  return { name: 'verify', count: COUNT, runs, batch: b, raw: r, perProcess: per.wall, ratioBatchToRaw: ratioRaw, speedupOverPerProcess: speedup, machine: mach };
}

/** CI smoke: a handful of bundles through batch and raw, once. */
export async function smoke() {
  requireBuiltCli();
  const dir = join(WORK, 'verify-smoke');
  const m = await fixtures(dir, 5);
  await timeBatch(m);
  await timeRaw(join(dir, 'manifest.json'), m);
  return `verify: ${m.count} keyless bundles verified by aibom verify --batch and by raw @sigstore/verify`;
}

if (process.argv[2] === '--raw' && process.argv[3]) {
  await rawWorker(process.argv[3]);
}
