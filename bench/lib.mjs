// Shared helpers of the benchmarks: paths, the bench's own dependencies, timing child
// processes (wall clock and, on Linux, CPU time), medians and tables.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const REPO = dirname(BENCH);
export const WORK = join(BENCH, '.work');
/** The built CLI; AIBOM_BENCH_CLI points the benchmarks at another build (to compare builds). */
export const AIBOM_CLI = process.env.AIBOM_BENCH_CLI || join(REPO, 'dist', 'cli', 'aibom.js');

export class BenchError extends Error {}

/** The built CLI is what users run; the benchmarks never time the TypeScript sources. */
export function requireBuiltCli() {
  if (!existsSync(AIBOM_CLI)) {
    throw new BenchError(`bench: ${AIBOM_CLI} is missing; run "npm run build" (npm ci does it) first`);
  }
  return AIBOM_CLI;
}

/**
 * The peers (cyclonedx-npm, cdxgen) are devDependencies of bench/ only, so the main `npm ci`
 * stays lean. Install them from bench/package-lock.json when bench/node_modules is missing.
 */
export function ensureBenchDeps() {
  if (existsSync(join(BENCH, 'node_modules', '.package-lock.json'))) return;
  console.error('bench: installing the benchmark peers (npm ci --prefix bench) ...');
  const npm = npmCommand();
  try {
    execFileSync(npm[0], [...npm.slice(1), 'ci', '--prefix', BENCH, '--ignore-scripts', '--no-audit', '--no-fund'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: REPO,
    });
  } catch (err) {
    throw new BenchError(`bench: installing the benchmark peers failed: ${err.message}`);
  }
}

/** The npm running this script (npm run sets npm_execpath), else npm from PATH. */
export function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /\.c?js$/.test(cli)) return [process.execPath, cli];
  return ['npm'];
}

/** Path of a bin script of a package installed in bench/node_modules. */
export function peerBin(pkg, bin) {
  const dir = join(BENCH, 'node_modules', ...pkg.split('/'));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const rel = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  if (!rel) throw new BenchError(`bench: ${pkg} has no "${bin}" bin`);
  return { path: join(dir, rel), version: manifest.version };
}

const CLK_TCK = (() => {
  if (process.platform !== 'linux') return 0;
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used by this process's finished (waited-for) children, Linux only. */
function childrenCpuSeconds() {
  if (!CLK_TCK) return undefined;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime are fields 16 and 17 (1-based) of the whole line, 14 and 15 here.
    return (Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Run a command to completion. Returns wall seconds, CPU seconds (user+sys of the command and
 * the children it waited for; undefined off Linux), exit code and captured output.
 */
export function timeCommand(cmd, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuSeconds();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu1 = childrenCpuSeconds();
      resolve({
        wall,
        cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
        code: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function fmtSeconds(s) {
  return s === undefined ? 'n/a' : `${s.toFixed(s < 1 ? 3 : 2)} s`;
}

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** What the numbers were measured on: a shared or loaded machine skews wall times. */
export function machine() {
  const c = cpus();
  return {
    node: process.version,
    cpu: `${c.length} × ${c[0]?.model ?? 'unknown'}`,
    loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

/** Every component of a CycloneDX BOM, nested ones included (cyclonedx-npm nests). */
export function allComponents(bom) {
  const out = [];
  const stack = [...(bom.components ?? [])];
  while (stack.length) {
    const c = stack.pop();
    out.push(c);
    if (Array.isArray(c.components)) stack.push(...c.components);
  }
  return out;
}

/** A purl without qualifiers and subpath: the package identity the tools agree on. */
export function purlIdentity(purl) {
  return typeof purl === 'string' ? purl.split('#')[0].split('?')[0] : undefined;
}
