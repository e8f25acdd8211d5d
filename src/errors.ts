/**
 * Typed errors. Every error aibom raises on purpose is an AibomError with a code;
 * the CLI maps codes to exit codes and prints `aibom: <file>: <message>`.
 */
export type ErrorCode =
  | 'USAGE' // bad flags or arguments (exit 2)
  | 'INPUT' // unreadable or malformed input file (exit 2)
  | 'TOO_LARGE' // input over a size, depth or count bound (exit 2)
  | 'UNSUPPORTED' // a format version we do not know (exit 2)
  | 'INVALID_BOM' // a BOM that does not validate against the CycloneDX schema (exit 1)
  | 'VERIFY_FAILED' // a signature, digest or identity check failed (exit 1)
  | 'POLICY_FAILED' // a policy rule failed (exit 1)
  | 'SERVICE' // a remote service (Fulcio, Rekor, TSA, OIDC) failed or could not be reached (exit 2)
  | 'INTERNAL'; // a bug in aibom (exit 2)

export interface AibomErrorOptions {
  /** The file the problem is about, as the user named it (relative paths stay relative). */
  file?: string;
  cause?: unknown;
}

export class AibomError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;

  constructor(code: ErrorCode, message: string, options: AibomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AibomError';
    this.code = code;
    if (options.file !== undefined) this.file = options.file;
  }

  /** `<file>: <message>` or just `<message>`. */
  describe(): string {
    return this.file ? `${this.file}: ${this.message}` : this.message;
  }
}

/** Exit code for an error: 1 when a check failed, 2 for usage, input and internal errors. */
export function exitCodeFor(err: unknown): 1 | 2 {
  if (err instanceof AibomError) {
    return err.code === 'VERIFY_FAILED' || err.code === 'POLICY_FAILED' || err.code === 'INVALID_BOM' ? 1 : 2;
  }
  return 2;
}

export function isAibomError(err: unknown): err is AibomError {
  return err instanceof AibomError;
}

/** A short, human message for any thrown value (no stack). */
export function errorMessage(err: unknown): string {
  if (err instanceof AibomError) return err.describe();
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const path = (err as NodeJS.ErrnoException).path;
    if (code && path) return `${path}: ${describeErrno(code)}`;
    return err.message;
  }
  return String(err);
}

export function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return code;
  }
}
