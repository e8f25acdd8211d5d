// Benchmark: a CycloneDX BOM of a large npm lockfile.
//
// Times, on the same input and in the same run, `aibom build --reproducible` (the built CLI)
// against `cyclonedx-npm --package-lock-only --output-reproducible` and
// `cdxgen -t js --no-install-deps`, and reports medians, ratios and what each tool found.
// Input: bench/fixtures/webapp, a real package-lock.json (lockfileVersion 3) resolved from
// the registry for a web-app style project (Next.js, jest, eslint, webpack, storybook, ...).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AIBOM_CLI,
  allComponents,
  BENCH,
  BenchError,
  ensureBenchDeps,
  fmtSeconds,
  machine,
  median,
  peerBin,
  purlIdentity,
  requireBuiltCli,
  table,
  timeCommand,
  WORK,
} from './lib.mjs';

export const description = 'CycloneDX BOM of a large package-lock.json: aibom vs cyclonedx-npm vs cdxgen';

const FIXTURE = join(BENCH, 'fixtures', 'webapp');
const SMOKE_FIXTURE = join(BENCH, 'fixtures', 'small');
const TARGETS = { 'cyclonedx-npm': 10, cdxgen: 20 };

/** Facts about the input lockfile, read directly (no tool involved). */
function lockfileFacts(dir) {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  const entries = Object.entries(lock.packages ?? {}).filter(([k]) => k !== '');
  const installed = entries.filter(([, v]) => v.link !== true);
  const ids = new Set(
    installed.map(([k, v]) => `${v.name ?? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${v.version}`),
  );
  return {
    lockfileVersion: lock.lockfileVersion,
    entries: entries.length,
    links: entries.length - installed.length,
    distinct: ids.size,
    dev: installed.filter(([, v]) => v.dev === true).length,
    extraneous: installed.filter(([, v]) => v.extraneous === true).length,
  };
}

/** What a tool's BOM says: components, distinct package identities, dependency edges. */
function summarize(bom) {
  const comps = allComponents(bom);
  const refToId = new Map();
  for (const c of comps) refToId.set(c['bom-ref'], purlIdentity(c.purl) ?? `ref:${c['bom-ref']}`);
  const rootRef = bom.metadata?.component?.['bom-ref'];
  if (rootRef) refToId.set(rootRef, '(root)');
  const edges = new Set();
  for (const d of bom.dependencies ?? []) {
    for (const t of d.dependsOn ?? []) edges.add(`${refToId.get(d.ref)} -> ${refToId.get(t)}`);
  }
  const ids = new Set(comps.map((c) => purlIdentity(c.purl)).filter(Boolean));
  return {
    components: comps.length,
    topLevel: bom.components?.length ?? 0,
    purls: ids,
    edges,
    rootDeps: [...edges].filter((e) => e.startsWith('(root) -> ')).length,
    withHashes: comps.filter((c) => c.hashes?.length).length,
  };
}

function tools(project, out) {
  const npmPeer = peerBin('@cyclonedx/cyclonedx-npm', 'cyclonedx-npm');
  const cdxgen = peerBin('@cyclonedx/cdxgen', 'cdxgen');
  return [
    {
      name: 'aibom',
      version: JSON.parse(readFileSync(join(BENCH, '..', 'package.json'), 'utf8')).version,
      out: join(out, 'aibom.cdx.json'),
      args(o) {
        return [AIBOM_CLI, 'build', project, '--reproducible', '-o', o];
      },
    },
    {
      name: 'cyclonedx-npm',
      version: npmPeer.version,
      out: join(out, 'cyclonedx-npm.cdx.json'),
      ignoreNpmErrors: false,
      args(o) {
        return [
          npmPeer.path,
          '--package-lock-only',
          '--output-reproducible',
          ...(this.ignoreNpmErrors ? ['--ignore-npm-errors'] : []),
          '--spec-version',
          '1.6',
          '--output-file',
          o,
          join(project, 'package.json'),
        ];
      },
    },
    {
      name: 'cdxgen',
      version: cdxgen.version,
      out: join(out, 'cdxgen.cdx.json'),
      // No network: no license or metadata lookups, and any host it would still contact is
      // refused (and reported below), so the timing is of local work only.
      env: { FETCH_LICENSE: 'false', CDXGEN_FETCH_PKG_METADATA: 'false', CDXGEN_ALLOWED_HOSTS: 'no-network.invalid' },
      args(o) {
        return [cdxgen.path, '-t', 'js', '--no-install-deps', '--spec-version', '1.6', '-o', o, project];
      },
    },
  ];
}

async function runTool(tool, cwd) {
  rmSync(tool.out, { force: true });
  const r = await timeCommand(process.execPath, tool.args(tool.out), { cwd, env: tool.env });
  if (/not permitted/i.test(r.stdout + r.stderr)) tool.blockedNetwork = true;
  return r;
}

function failure(tool, r) {
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n');
  return new BenchError(`bench: ${tool.name} failed (exit ${r.code}):\n${tail}`);
}

export async function run({ runs = 5, warmup = 1 } = {}) {
  requireBuiltCli();
  ensureBenchDeps();
  const base = join(WORK, 'lockfile');
  rmSync(base, { recursive: true, force: true });
  const project = join(base, 'project');
  const out = join(base, 'out');
  mkdirSync(out, { recursive: true });
  cpSync(FIXTURE, project, { recursive: true });
  const facts = lockfileFacts(project);
  const list = tools(project, out);

  console.log(`lockfile benchmark: ${description}`);
  console.log(
    `input: bench/fixtures/webapp/package-lock.json (lockfileVersion ${facts.lockfileVersion}): ${facts.entries} entries, ` +
      `${facts.distinct} distinct name@version, ${facts.dev} dev-only, ${facts.extraneous} extraneous`,
  );
  const m = machine();
  console.log(`machine: node ${m.node}, ${m.cpu}, load average ${m.loadavg}`);
  console.log(`tools: ${list.map((t) => `${t.name} ${t.version}`).join(', ')}; ${warmup} warm-up + ${runs} timed runs each, interleaved\n`);

  // Warm-up (also checks each tool works; cyclonedx-npm needs --ignore-npm-errors when npm
  // reports peer conflicts in the tree).
  for (let i = 0; i < Math.max(1, warmup); i++) {
    for (const t of list) {
      let r = await runTool(t, project);
      if (r.code !== 0 && t.name === 'cyclonedx-npm' && !t.ignoreNpmErrors) {
        t.ignoreNpmErrors = true;
        console.log('note: cyclonedx-npm failed on npm errors; using --ignore-npm-errors');
        r = await runTool(t, project);
      }
      if (r.code !== 0 || !existsSync(t.out)) throw failure(t, r);
    }
  }
  const samples = new Map(list.map((t) => [t.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const t of list) {
      const r = await runTool(t, project);
      if (r.code !== 0 || !existsSync(t.out)) throw failure(t, r);
      samples.get(t.name).push(r);
    }
    if (process.stderr.isTTY) process.stderr.write(`\rbench: run ${i + 1}/${runs}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');

  const results = list.map((t) => {
    const s = samples.get(t.name);
    const bom = JSON.parse(readFileSync(t.out, 'utf8'));
    return {
      tool: t.name,
      version: t.version,
      wall: median(s.map((x) => x.wall)),
      cpu: median(s.map((x) => x.cpu)),
      walls: s.map((x) => x.wall),
      summary: summarize(bom),
      flags: t.args('OUT').slice(1).join(' '),
      blockedNetwork: !!t.blockedNetwork,
    };
  });
  const aibom = results[0];
  const rows = [['tool', 'median wall', 'median CPU', 'aibom faster by', 'target', 'components', 'distinct purls', 'edges', 'root deps']];
  for (const r of results) {
    const ratio = r === aibom ? undefined : r.wall / aibom.wall;
    const target = TARGETS[r.tool];
    rows.push([
      `${r.tool} ${r.version}`,
      fmtSeconds(r.wall),
      fmtSeconds(r.cpu),
      ratio === undefined ? '-' : `${ratio.toFixed(1)}×${r.cpu && aibom.cpu ? ` (CPU ${(r.cpu / aibom.cpu).toFixed(1)}×)` : ''}`,
      target ? `≥${target}× ${ratio >= target ? 'met' : 'MISSED'}` : '-',
      r.summary.components,
      r.summary.purls.size,
      r.summary.edges.size,
      r.summary.rootDeps,
    ]);
  }
  console.log(table(rows));
  console.log('');
  for (const r of results) console.log(`${r.tool}: ${r.flags.replaceAll(BENCH, 'bench')}`);
  for (const r of results.slice(1)) {
    const onlyPeer = [...r.summary.purls].filter((p) => !aibom.summary.purls.has(p));
    const onlyAibom = [...aibom.summary.purls].filter((p) => !r.summary.purls.has(p));
    const edgesPeer = [...r.summary.edges].filter((e) => !aibom.summary.edges.has(e));
    const edgesAibom = [...aibom.summary.edges].filter((e) => !r.summary.edges.has(e));
    console.log(
      `vs ${r.tool}: purls only in ${r.tool} ${onlyPeer.length}, only in aibom ${onlyAibom.length}; ` +
        `edges only in ${r.tool} ${edgesPeer.length}, only in aibom ${edgesAibom.length}` +
        (edgesPeer.length + edgesAibom.length ? ` (${[...edgesPeer, ...edgesAibom].slice(0, 3).join('; ')})` : ''),
    );
    if (r.blockedNetwork) console.log(`note: ${r.tool} tried to reach the network; the request was refused`);
  }
  console.log('\nWhy the counts differ: bench/README.md');
  return { bench: 'lockfile', machine: m, input: facts, results: results.map(({ summary, ...r }) => ({ ...r, components: summary.components, purls: summary.purls.size, edges: summary.edges.size, rootDeps: summary.rootDeps })) };
}

/**
 * CI smoke test: the aibom side only, once, on a small real lockfile. Needs no bench
 * dependencies. Checks exit code, BOM validity and that every package made it in.
 */
export async function smoke() {
  requireBuiltCli();
  const dir = mkdtempSync(join(tmpdir(), 'aibom-bench-smoke-'));
  try {
    const project = join(dir, 'project');
    cpSync(SMOKE_FIXTURE, project, { recursive: true });
    const facts = lockfileFacts(project);
    const out = join(dir, 'bom.cdx.json');
    const r = await timeCommand(process.execPath, [AIBOM_CLI, 'build', project, '--reproducible', '-o', out]);
    if (r.code !== 0) throw new BenchError(`aibom build exited ${r.code}: ${r.stderr.trim()}`);
    const v = await timeCommand(process.execPath, [AIBOM_CLI, 'validate', out, '--json']);
    const verdict = JSON.parse(v.stdout || '{}');
    if (v.code !== 0 || verdict.valid !== true) throw new BenchError(`the BOM is not valid CycloneDX: ${v.stdout}${v.stderr}`);
    const s = summarize(JSON.parse(readFileSync(out, 'utf8')));
    if (s.purls.size !== facts.distinct) {
      throw new BenchError(`expected ${facts.distinct} distinct packages, the BOM has ${s.purls.size}`);
    }
    if (s.rootDeps === 0 || s.edges.size === 0) throw new BenchError('the BOM has no dependency graph');
    return `lockfile: ${s.purls.size} packages, ${s.edges.size} edges, valid CycloneDX (${fmtSeconds(r.wall)})`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
