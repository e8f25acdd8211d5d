import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * `npm test` builds first and sets AIBOM_TEST_DIST=1, so CI drives the shipped dist/ CLI.
 * Run alone (`npx vitest run test/x.test.ts`), tests drive the TypeScript sources through
 * tsx, so work in progress elsewhere in the tree cannot break an unrelated test.
 */
export const USE_DIST = process.env.AIBOM_TEST_DIST === '1';
export const CLI = USE_DIST ? join(REPO, 'dist', 'cli', 'aibom.js') : join(REPO, 'cli', 'aibom.ts');
// tsx by absolute URL: a test may run the CLI with a working directory outside the repository.
const NODE_ARGS = USE_DIST ? [] : ['--import', import.meta.resolve('tsx')];
export const FIXTURES = join(REPO, 'test', 'fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would: a separate process, real argv, real exit code. */
export function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    input?: string;
    timeoutMs?: number;
    /** Run as this user and group (needs root): where permission bits must apply. */
    uid?: number;
    gid?: number;
  } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'aibom-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type BomDoc = {
  bomFormat: string;
  specVersion: string;
  serialNumber?: string;
  metadata: { timestamp?: string; component?: Record<string, unknown> };
  components?: Array<Record<string, any>>;
  services?: Array<Record<string, any>>;
  dependencies?: Array<{ ref: string; dependsOn?: string[] }>;
};

export function componentByPurl(bom: BomDoc, purl: string): Record<string, any> | undefined {
  return bom.components?.find((c) => c.purl === purl);
}

export function prop(c: Record<string, any> | undefined, name: string): string | undefined {
  return (c?.properties as Array<{ name: string; value: string }> | undefined)?.find((p) => p.name === name)?.value;
}

export function dependsOn(bom: BomDoc, ref: string): string[] {
  return bom.dependencies?.find((d) => d.ref === ref)?.dependsOn ?? [];
}
