/**
 * What every command shares: printing, errors, exit codes, output files, progress.
 * Exit codes: 0 ok, 1 a check failed (policy, verification, invalid BOM), 2 usage or input error.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AibomError, errorMessage, exitCodeFor } from '../src/errors.js';
import { writeFileAtomic } from '../src/util/fs.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

let debug = process.argv.includes('--debug');
let json = false;

export function setDebug(on: boolean): void {
  debug = on;
}

/** Under --json, errors are also a JSON object on stdout (text stays on stderr). */
export function setJsonErrors(on: boolean): void {
  json = on;
}

/** The JSON form of an error: `{ "error": { "code", "message", "file"?, "exitCode" } }`. */
export function errorJson(err: unknown, exitCode: number): { error: { code: string; message: string; file?: string; exitCode: number } } {
  const code = err instanceof AibomError ? err.code : isErrno(err) ? String((err as NodeJS.ErrnoException).code) : 'INTERNAL';
  const file = err instanceof AibomError ? err.file : (err as NodeJS.ErrnoException | undefined)?.path;
  return { error: { code, message: errorMessage(err), ...(file ? { file } : {}), exitCode } };
}

/** A closed pipe on stdout (`aibom build | head -1`): the reader has what it wanted. */
export function isClosedPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** `aibom: <message>` on stderr. */
export function printError(message: string): void {
  process.stderr.write(`aibom: ${message}\n`);
}

export function printWarning(message: string): void {
  process.stderr.write(`aibom: warning: ${message}\n`);
}

export function printInfo(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Print an error the way users see it (stack only with --debug) and return its exit code. */
export function reportError(err: unknown): number {
  if (isClosedPipe(err)) return process.exitCode === undefined ? EXIT_OK : Number(process.exitCode);
  const exitCode = exitCodeFor(err);
  if (json) process.stdout.write(`${JSON.stringify(errorJson(err, exitCode), null, 2)}\n`);
  printError(errorMessage(err));
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof AibomError) && !isErrno(err)) {
    process.stderr.write('aibom: this looks like a bug in aibom; run again with --debug for details\n');
  }
  return exitCode;
}

function isErrno(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/** Write to a file atomically, or to stdout when `file` is undefined or '-'. */
export async function writeOutput(file: string | undefined, data: string): Promise<void> {
  if (!file || file === '-') {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
    });
    return;
  }
  await writeFileAtomic(file, data);
}

/**
 * Fail early, before minutes of work, when `-o FILE` cannot be written: its folder is missing,
 * not a folder or not writable, or FILE is a folder. The write itself stays atomic (and still
 * reports what goes wrong later); this only saves the wait.
 */
export async function checkOutputPath(file: string | undefined): Promise<void> {
  if (!file || file === '-') return;
  const dir = dirname(resolve(file));
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new AibomError('USAGE', `cannot write output: the folder ${dir} does not exist`, { file });
  if (!st.isDirectory()) throw new AibomError('USAGE', `cannot write output: ${dir} is not a folder`, { file });
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new AibomError('USAGE', 'cannot write output: is a folder', { file });
  const writable = await access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!writable) throw new AibomError('USAGE', `cannot write output: permission denied in ${dir}`, { file });
}

/** `1 service`, `2 services`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Run a command body, turning thrown errors into messages and exit codes. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined | void>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT_OK;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function usageError(message: string): AibomError {
  return new AibomError('USAGE', message);
}

/**
 * A one-line progress display on stderr, only when stderr is a TTY and not under --json.
 * Redraws at most 10 times a second and clears itself when done.
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;
  private readonly started = Date.now();

  constructor(enabled: boolean) {
    this.enabled = enabled && process.stderr.isTTY === true && !process.env.CI;
  }

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    // Only show work that lasts over a second.
    if (now - this.started < 1000 && !this.shown) return;
    if (!force && now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const width = process.stderr.columns ?? 80;
    process.stderr.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
