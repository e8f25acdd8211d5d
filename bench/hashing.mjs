// Hashing benchmark: a generated model folder of ≥ 4 GiB (several safetensors shards), page-
// cached after a warm-up read, hashed in the same run by
//   aibom        - the built folderManifest() (model_signing v1.0 "files" digest: one SHA-256
//                  per file across worker threads), in a fresh Node process;
//   aibom build  - the whole `aibom build` of a folder holding that model (walk, headers,
//                  hashing, BOM, schema validation), for information;
//   openssl -P2  - `openssl dgst -sha256` two files at a time (xargs -P2), this machine's
//                  practical two-core limit with SHA-NI;
//   sha256sum    - coreutils, one process over the same files (no SHA-NI).
// Prints medians and ratios. Target: aibom ≤ 1.1× the openssl -P2 time. Also checks that every
// tool produced the same per-file digests, and reports aibom's peak RSS (memory stays flat:
// one 4 MiB buffer per worker, no whole-file reads).
//
//   npm run bench -- hashing [--runs N] [--warmup N]
//   AIBOM_BENCH_HASH_GIB=8 npm run bench -- hashing      (a bigger folder)
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AIBOM_CLI, BenchError, fmtSeconds, machine, median, requireBuiltCli, table, timeCommand, WORK } from './lib.mjs';

export const description = '≥4 GiB model folder: aibom folder digest vs openssl dgst -sha256 (xargs -P2) vs sha256sum';

const HERE = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
/** Shard sizes (MiB) of the default 4.1 GiB folder: uneven, as real shards of a checkpoint are not. */
const DEFAULT_SHARDS = [1280, 1024, 896, 640, 384];
const TARGET = 1.1;

function shardSizes() {
  const gib = Number(process.env.AIBOM_BENCH_HASH_GIB);
  if (!gib) return DEFAULT_SHARDS;
  if (!(gib > 0 && gib <= 256)) throw new BenchError('bench: AIBOM_BENCH_HASH_GIB must be a number of GiB in (0, 256]');
  const total = DEFAULT_SHARDS.reduce((a, b) => a + b, 0);
  return DEFAULT_SHARDS.map((s) => Math.max(1, Math.round((s * gib * 1024) / total)));
}

/** The digest module of the build being benchmarked, beside its CLI. */
function digestModule() {
  return join(dirname(AIBOM_CLI), '..', 'src', 'digest', 'digest.js');
}

/**
 * Write (or reuse) the model folder: `models/bench-model/` with a config.json and safetensors
 * shards of the given sizes (a valid 8-byte header and JSON header, then pseudo-random bytes).
 */
function fixture(dir, sizes) {
  const model = join(dir, 'models', 'bench-model');
  const stamp = join(dir, 'fixture.json');
  const want = JSON.stringify({ sizes });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return model;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(model, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"hashing-bench","version":"1.0.0"}\n');
  writeFileSync(join(model, 'config.json'), `${JSON.stringify({ architectures: ['BenchForCausalLM'], model_type: 'bench' })}\n`);
  const block = randomBytes(16 * MiB);
  sizes.forEach((mib, i) => {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(sizes.length).padStart(5, '0')}.safetensors`;
    const total = mib * MiB;
    // One U8 tensor filling the rest of the file; the JSON header is space-padded to 8 bytes.
    let dataBytes = total - 8 - 80;
    let json;
    for (;;) {
      json = JSON.stringify({ w: { dtype: 'U8', shape: [dataBytes], data_offsets: [0, dataBytes] } });
      const headerLen = Math.ceil(json.length / 8) * 8;
      if (8 + headerLen + dataBytes === total) {
        json = json.padEnd(headerLen, ' ');
        break;
      }
      dataBytes = total - 8 - headerLen;
    }
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    const fd = openSync(join(model, name), 'w');
    try {
      writeSync(fd, head);
      writeSync(fd, json);
      let left = dataBytes;
      let n = 0;
      while (left > 0) {
        block.writeUInt32LE(n++, 0);
        const len = Math.min(left, block.length);
        writeSync(fd, block, 0, len);
        left -= len;
      }
    } finally {
      closeSync(fd);
    }
    if (process.stderr.isTTY) process.stderr.write(`\rbench: writing shard ${i + 1}/${sizes.length}\x1b[K`);
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  writeFileSync(stamp, want);
  return model;
}

/** Read every file once so all tools hash from the page cache. */
function warm(files) {
  const buf = Buffer.allocUnsafe(8 * MiB);
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** `node bench/hashing.mjs --child DIGEST_MODULE FOLDER`: aibom's folder manifest; prints JSON. */
async function child(moduleFile, folder) {
  const { folderManifest } = await import(pathToFileURL(moduleFile).href);
  const m = await folderManifest(folder);
  process.stdout.write(`${JSON.stringify({ digest: m.digest, files: m.resources.map((r) => [r.name, r.digest]), maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

async function timeAibom(folder) {
  const r = await timeCommand(process.execPath, [HERE, '--child', digestModule(), folder]);
  if (r.code !== 0) throw new Error(`aibom hashing failed (exit ${r.code}): ${r.stderr}`);
  return { ...r, result: JSON.parse(r.stdout) };
}

async function timeBuild(root, out) {
  const r = await timeCommand(process.execPath, [AIBOM_CLI, 'build', root, '-o', out], { env: { NO_COLOR: '1' } });
  if (r.code !== 0) throw new Error(`aibom build failed (exit ${r.code}): ${r.stderr}`);
  return r;
}

async function timeOpenssl(files) {
  // Two files at a time, as xargs -P2 runs them.
  const r = await timeCommand('sh', ['-c', 'printf "%s\\0" "$@" | xargs -0 -n1 -P2 openssl dgst -sha256 -r', 'sh', ...files]);
  if (r.code !== 0) throw new Error(`openssl failed (exit ${r.code}): ${r.stderr}`);
  return r;
}

async function timeSha256sum(files) {
  const r = await timeCommand('sha256sum', files);
  if (r.code !== 0) throw new Error(`sha256sum failed (exit ${r.code}): ${r.stderr}`);
  return r;
}

/** `<hex> *<path>` / `<hex>  <path>` lines → path → hex. */
function parseSums(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

function checkAgree(folder, aibom, openssl, sha256sum) {
  for (const [name, digest] of aibom.files) {
    const path = join(folder, name);
    if (openssl.get(path) !== digest) throw new Error(`openssl and aibom disagree on ${name}`);
    if (sha256sum.get(path) !== digest) throw new Error(`sha256sum and aibom disagree on ${name}`);
  }
}

export async function run({ runs = 5, warmup = 1 } = {}) {
  requireBuiltCli();
  if (!existsSync(digestModule())) throw new BenchError(`bench: ${digestModule()} is missing; run "npm run build" first`);
  console.log(`hashing benchmark: ${description}`);
  const dir = join(WORK, 'hashing');
  const sizes = shardSizes();
  const model = fixture(dir, sizes);
  const files = listFiles(model);
  const totalBytes = sizes.reduce((a, b) => a + b, 0) * MiB;
  warm(files);
  const out = join(dir, 'bom.json');
  for (let i = 0; i < warmup; i++) {
    await timeAibom(model);
    await timeOpenssl(files);
  }
  const a = [];
  const o = [];
  const s = [];
  const b = [];
  let last;
  for (let i = 0; i < runs; i++) {
    // Interleaved, so load on a shared machine hits every tool alike.
    const ra = await timeAibom(model);
    const ro = await timeOpenssl(files);
    const rs = await timeSha256sum(files);
    a.push(ra);
    o.push(ro);
    s.push(rs);
    b.push(await timeBuild(dir, out));
    checkAgree(model, ra.result, parseSums(ro.stdout), parseSums(rs.stdout));
    last = ra.result;
    if (process.stderr.isTTY) process.stderr.write(`\rbench: run ${i + 1}/${runs}\x1b[K`);
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  const ma = median(a.map((r) => r.wall));
  const mo = median(o.map((r) => r.wall));
  const ms = median(s.map((r) => r.wall));
  const mb = median(b.map((r) => r.wall));
  const gbps = (t) => `${(totalBytes / 1e9 / t).toFixed(2)} GB/s`;
  const cpu = (rs) => fmtSeconds(median(rs.map((r) => r.cpu ?? Number.NaN).filter((x) => !Number.isNaN(x))));
  console.log(`input: ${files.length} files, ${(totalBytes / 2 ** 30).toFixed(2)} GiB (${sizes.map((x) => `${x} MiB`).join(', ')} + config.json), page-cached`);
  console.log(
    table([
      ['tool', 'wall (median)', 'cpu', 'throughput', 'vs openssl -P2'],
      ['aibom folder digest', fmtSeconds(ma), cpu(a), gbps(ma), `${(ma / mo).toFixed(2)}×`],
      ['openssl dgst -sha256, xargs -P2', fmtSeconds(mo), cpu(o), gbps(mo), '1.00×'],
      ['sha256sum', fmtSeconds(ms), cpu(s), gbps(ms), `${(ms / mo).toFixed(2)}×`],
      ['aibom build (whole BOM)', fmtSeconds(mb), cpu(b), gbps(mb), `${(mb / mo).toFixed(2)}×`],
    ]),
  );
  const ratio = ma / mo;
  console.log(`aibom / openssl -P2: ${ratio.toFixed(2)}× (target ≤ ${TARGET}×) ${ratio <= TARGET ? 'met' : 'MISSED'}`);
  console.log(`sha256sum / aibom: ${(ms / ma).toFixed(1)}× slower`);
  console.log(`aibom peak RSS: ${(last.maxRssKiB / 1024).toFixed(0)} MiB for ${(totalBytes / 2 ** 30).toFixed(2)} GiB hashed; digests of all tools agree`);
  const mach = machine();
  console.log(`runs: ${runs} (+${warmup} warmup); node ${mach.node}; ${mach.cpu}; load ${mach.loadavg}`);
  return {
    name: 'hashing',
    bytes: totalBytes,
    files: files.length,
    runs,
    aibom: ma,
    openssl2: mo,
    sha256sum: ms,
    aibomBuild: mb,
    ratioToOpenssl2: ratio,
    maxRssKiB: last.maxRssKiB,
    machine: mach,
  };
}

function listFiles(model) {
  return ['config.json', ...shardNames(model)].map((n) => join(model, n));
}

function shardNames(model) {
  const stamp = JSON.parse(readFileSync(join(model, '..', '..', 'fixture.json'), 'utf8'));
  return stamp.sizes.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(stamp.sizes.length).padStart(5, '0')}.safetensors`);
}

/** CI smoke: a 96 MiB folder (enough for the worker threads), every tool once, digests compared. */
export async function smoke() {
  requireBuiltCli();
  const dir = join(WORK, 'hashing-smoke');
  const model = fixture(dir, [48, 32, 16]);
  const files = listFiles(model);
  const ra = await timeAibom(model);
  checkAgree(model, ra.result, parseSums((await timeOpenssl(files)).stdout), parseSums((await timeSha256sum(files)).stdout));
  await timeBuild(dir, join(dir, 'bom.json'));
  return `hashing: ${files.length} files, 96 MiB: aibom, openssl and sha256sum digests agree`;
}

if (process.argv[2] === '--child' && process.argv[3] && process.argv[4]) {
  await child(process.argv[3], process.argv[4]);
}
