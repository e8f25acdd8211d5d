/**
 * Shared by the robustness suites (test/robustness-lockfiles.test.ts, test/robustness-agent.test.ts):
 * how a CLI run over mutated input is judged. Exit 0, or 2 with `aibom: <path>: ` naming the
 * offending file; no stack trace, no "looks like a bug"; the process finishes; a BOM written on
 * exit 0 validates; no output file after a failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { specVersionOf, validateBomJson } from '../../src/bom/validate.js';
import { parseJsonText } from '../../src/util/json.js';
import { type CliResult, runCli, tempDir } from './cli.js';
import type { Mutant } from './mutate.js';

/** A run that takes longer than this is a hang (the CLI is killed and the test fails). */
export const RUN_TIMEOUT_MS = 90_000;

/**
 * Call at the top of a robustness suite: a temp folder for its mutants (`dir`), a count of them
 * per kind printed at the end, and `checkBuild` writing its outputs there.
 */
export function useMutantRun(): {
  readonly dir: string;
  count: (kind: string, n: number) => void;
  checkBuild: (dir: string, label: string, extra?: string[]) => Promise<BuildOutcome>;
} {
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  const { count, report } = mutantCounter();
  beforeAll(async () => {
    tmp = await tempDir('aibom-robust-');
  });
  afterAll(async () => {
    process.stdout.write(report());
    await tmp?.cleanup();
  });
  return {
    get dir() {
      if (!tmp) throw new Error('useMutantRun: used outside a test');
      return tmp.dir;
    },
    count,
    checkBuild: (dir, label, extra = []) => checkBuild(tmp!.dir, dir, label, extra),
  };
}

/** Mutants fed to the CLI, by kind of input; `report()` is printed after a suite. */
export function mutantCounter(): { count: (kind: string, n: number) => void; report: () => string } {
  const counts = new Map<string, number>();
  return {
    count: (kind, n) => counts.set(kind, (counts.get(kind) ?? 0) + n),
    report: () => `robustness: mutants per input kind\n${[...counts].map(([k, n]) => `  ${k.padEnd(34)} ${n}`).join('\n')}\n`,
  };
}

/** No stack trace, no "bug" message, not killed by the timeout. */
export function expectClean(r: CliResult, what: string): void {
  expect(r.code, `${what}: killed (a hang?)\n${r.stderr.slice(-2000)}`).not.toBe(128);
  expect(r.stderr, `${what}: stack trace\n${r.stderr.slice(0, 4000)}`).not.toMatch(/\n\s+at /);
  expect(r.stderr, `${what}: reported as a bug\n${r.stderr.slice(0, 4000)}`).not.toContain('this looks like a bug');
}

/** The `aibom: <path>: ...` error lines (not warnings, not the closing summary). */
export function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('aibom: ') && !l.startsWith('aibom: warning: ') && !l.startsWith('aibom: no BOM written'));
}

/** The path an error line names, which must exist (relative to `base` unless absolute). */
export function namedPath(line: string, base: string): string {
  const m = /^aibom: (.+?): /.exec(line);
  expect(m, `error line names no file: ${line}`).not.toBeNull();
  const p = m![1]!;
  const abs = isAbsolute(p) ? p : join(base, p);
  expect(existsSync(abs), `error line names a file that does not exist: ${line}`).toBe(true);
  return p;
}

/** Files left in a folder whose names look like temp files of an atomic write. */
export async function tempLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
}

/** The BOM a build wrote is schema-valid CycloneDX, as `aibom validate` checks it (in-process: the validate command's own exit codes are tested in cli-basics). */
export async function expectValid(file: string): Promise<void> {
  const data = parseJsonText(await readFile(file, 'utf8'), file);
  const errors = await validateBomJson(data, specVersionOf(data));
  expect(errors, `${basename(file)}: ${JSON.stringify(errors.slice(0, 5))}`).toEqual([]);
}

export interface BuildOutcome {
  /** Files the strict build named as unreadable (relative to the scanned folder). */
  fatal: Set<string>;
  findings: Array<{ code: string; fatal?: boolean; location?: { file: string } }>;
}

/**
 * `aibom build DIR -o FILE` (outputs under `work`) strictly (1.6), then with --keep-going (1.7): the strict run
 * writes a valid BOM or exits 2 naming each unreadable file and writes nothing; the lenient run
 * always writes a valid BOM and leaves out exactly the files the strict run named.
 */
export async function checkBuild(work: string, dir: string, label: string, extra: string[] = []): Promise<BuildOutcome> {
  const outDir = join(work, 'out', label);
  await mkdir(outDir, { recursive: true });
  const strictOut = join(outDir, 'strict.cdx.json');
  const lenientOut = join(outDir, 'lenient.cdx.json');
  // The two builds are independent: side by side on the two cores.
  const [strict, lenient] = await Promise.all([
    runCli(['build', dir, '-o', strictOut, '--reproducible', ...extra], { timeoutMs: RUN_TIMEOUT_MS }),
    runCli(['build', dir, '-o', lenientOut, '--keep-going', '--json', '--spec-version', '1.7', ...extra], { timeoutMs: RUN_TIMEOUT_MS }),
  ]);
  expectClean(strict, `${label}: build`);
  expect([0, 2], `${label}: exit ${strict.code}\n${strict.stderr.slice(0, 3000)}`).toContain(strict.code);
  const fatal = new Set<string>();
  if (strict.code === 0) {
    await expectValid(strictOut);
  } else {
    expect(existsSync(strictOut), `${label}: an output file after a failed build`).toBe(false);
    const errors = errorLines(strict.stderr);
    expect(errors.length, strict.stderr.slice(0, 2000)).toBeGreaterThan(0);
    for (const l of errors) fatal.add(namedPath(l, dir));
  }
  expect(await tempLeftovers(outDir)).toEqual([]);

  expectClean(lenient, `${label}: build --keep-going`);
  expect(lenient.code, `${label}: --keep-going\n${lenient.stderr.slice(0, 3000)}`).toBe(0);
  await expectValid(lenientOut);
  const summary = JSON.parse(lenient.stdout) as BuildOutcome;
  const leftOut = new Set(summary.findings.filter((f) => f.fatal).map((f) => f.location?.file ?? '?'));
  expect([...leftOut].sort()).toEqual([...fatal].sort());
  return { fatal, findings: summary.findings };
}

/** Lockfiles (and the requirements files they include), as opposed to the manifests beside them. */
export function isLockfile(rel: string): boolean {
  const base = basename(rel);
  return /^(package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|yarn\.lock|poetry\.lock|uv\.lock|Pipfile\.lock)$/.test(base) || base.endsWith('.txt');
}

/** The files of the example agent a mutant of `rel` is read with. */
export function agentUnit(rel: string): string[] {
  const parts = rel.split('/');
  if (parts[0] === 'plugins') return [`plugins/${parts[1]}`];
  if (parts[0] === 'models') return parts.length > 2 ? [`models/${parts[1]}`] : [rel];
  if (rel === 'package.json' || rel === 'package-lock.json') return ['package.json', 'package-lock.json'];
  return [rel];
}

/** `npm/v3-features` + `package-lock.json` + `trunc-120` → a short folder name. */
export function slug(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '_')).join('--');
}

/** One mutant per mutation family (the part of the name before its number), in order. */
export function onePerFamily(mutants: Mutant[], max: number): Mutant[] {
  const seen = new Set<string>();
  const out: Mutant[] = [];
  for (const m of mutants) {
    const family = m.name.replace(/-\d+$/, '').replace(/^(value)-.*$/, '$1');
    if (seen.has(family)) continue;
    seen.add(family);
    out.push(m);
  }
  // Spread over the list when there are more families than runs.
  if (out.length <= max) return out;
  return Array.from({ length: max }, (_, i) => out[Math.floor((i * out.length) / max)]!);
}

/** Run async jobs two at a time (the CI machine has two cores). */
export async function inPairs<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all([worker(), worker()]);
}

/** What a signature covers in a bundle: the DSSE envelope or the message signature. */
export function signedPart(bundle: any): unknown {
  // A message signature is over the artifact itself; messageDigest.algorithm is informative.
  // DSSE signs the payload and its type (PAE); a signature's keyid is an unauthenticated hint.
  const m = bundle?.messageSignature;
  const d = bundle?.dsseEnvelope;
  return {
    dsse: d && { payload: d.payload, payloadType: d.payloadType, sigs: Array.isArray(d.signatures) ? d.signatures.map((x: any) => x?.sig) : d.signatures },
    message: m && { signature: m.signature, digest: m.messageDigest?.digest },
  };
}

export function parsedSignedPart(data: Buffer): unknown {
  try {
    const text = data.toString('utf8').replace(/^\uFEFF/, '');
    return signedPart(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

