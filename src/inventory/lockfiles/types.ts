import type { Hash, Property, Provenance } from '../types.js';

/**
 * What a lockfile parser returns. Parsers are pure: text in, this out, no I/O.
 * They throw AibomError('INPUT' | 'TOO_LARGE' | 'UNSUPPORTED', ..., { file }) for input they
 * cannot read, and add warnings for what they skipped on a best effort.
 */
export type Ecosystem = 'npm' | 'pypi';

export type LockfileKind =
  | 'npm' // package-lock.json / npm-shrinkwrap.json
  | 'pnpm' // pnpm-lock.yaml
  | 'yarn-classic' // yarn.lock v1
  | 'yarn-berry' // yarn.lock v2+
  | 'requirements' // requirements*.txt
  | 'poetry' // poetry.lock
  | 'uv' // uv.lock
  | 'pipenv'; // Pipfile.lock

export interface LockPackage {
  /** Unique within this lockfile (node_modules path, name@version, ...). Used by edges. */
  key: string;
  ecosystem: Ecosystem;
  /** Full package name; npm scoped names keep their scope: '@scope/name'. */
  name: string;
  /** Exact resolved version. Absent when the lockfile does not pin one. */
  version?: string;
  /** Hashes from the lockfile's integrity / hashes fields. */
  hashes: Hash[];
  /** Only needed for development. */
  dev?: boolean;
  /** Optional dependency (install may skip it). */
  optional?: boolean;
  /** Where it comes from and whether that is pinned. */
  source: Provenance;
  /** Keys of the packages this one depends on (resolved within this lockfile). */
  dependencies: string[];
  /** True for the project's own workspace members. */
  workspace?: boolean;
  /** 1-based line in the lockfile where the entry starts, when known. */
  line?: number;
  /** Bundled inside another package (npm inBundle). */
  bundled?: boolean;
  /** npm alias: the name the dependent uses ('foo' for "foo": "npm:bar@1"). */
  alias?: string;
  /** License declared in the lockfile, when it carries one. */
  license?: string;
  /**
   * The file the entry was read from, when not the lockfile itself (a requirements file
   * pulled in by `-r`). POSIX, relative to the scanned root. `line` refers to this file.
   */
  file?: string;
  /** Extra facts as `aibom:` properties (names documented in schemas/aibom-properties.md). */
  properties?: Property[];
}

export interface ParsedLockfile {
  /** POSIX path relative to the scanned root. */
  path: string;
  kind: LockfileKind;
  /** The lockfile's own format version, as written in it ('3', '9.0', '1', '8', ...). */
  formatVersion?: string;
  /** The project (or workspace root) this lockfile belongs to, if it says. */
  root: { name?: string; version?: string; dependencies: string[] };
  packages: LockPackage[];
  warnings: string[];
}

export interface LockfileParser {
  kind: LockfileKind;
  /** Does a file with this basename belong to this parser? */
  matches(basename: string): boolean;
  /**
   * Parse the lockfile text. `path` is the display path (relative to the root).
   * `readSibling` lets a parser read files it references (requirements `-r other.txt`),
   * relative to the lockfile's folder; it returns undefined when the file is missing.
   */
  parse(text: string, path: string, ctx: ParseContext): ParsedLockfile | Promise<ParsedLockfile>;
}

export interface ParseContext {
  readSibling?: (relPath: string) => Promise<string | undefined>;
  /**
   * Files the walk found below the lockfile's folder whose paths (POSIX, relative to that
   * folder) match any of the globs; sorted. Lets a parser expand workspace globs
   * (yarn classic lists no workspaces) without I/O of its own. Excludes apply.
   */
  findSiblings?: (globs: string[]) => Promise<string[]>;
}
