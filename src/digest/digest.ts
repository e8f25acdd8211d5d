import { createHash } from 'node:crypto';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { AibomError, describeErrno } from '../errors.js';
import { defaultHashConcurrency, type HashJob, type HashPoolOptions, hashFilesInWorkers } from './hash-pool.js';
import { eachFileChunk } from '../util/fs.js';
import { trimTrailing } from '../util/text.js';

/**
 * Folder digests computed exactly as OpenSSF model signing (model_signing v1.0, "files"
 * serialization) computes its manifest: one SHA-256 per regular file, resources named by
 * their POSIX path relative to the folder and sorted by name (code point order, as Python
 * sorts str), and the folder digest = SHA-256 over the concatenated raw 32-byte file digests
 * in that order. A single file is one resource named "." and the digest is SHA-256 of its
 * raw digest. So a folder hashed by aibom and signed by model_signing agree.
 */

export interface ResourceDigest {
  /** POSIX path relative to the folder ('.' for a single-file model). */
  name: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  digest: string;
  size: number;
}

export interface FolderManifest {
  /** Subject name model_signing uses: the folder's (or file's) base name. */
  name: string;
  resources: ResourceDigest[];
  /** Lowercase hex SHA-256 over the concatenated raw resource digests. */
  digest: string;
  totalBytes: number;
}

/** Paths model_signing leaves out when ignore_git_paths is on (its default). */
export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'];

export interface ManifestOptions {
  /** Paths (relative to the folder, POSIX or native) to leave out; a folder leaves out everything below it. */
  ignorePaths?: string[];
  /** Leave out .git, .gitattributes, .github, .gitignore (default true, as model_signing). */
  ignoreGitPaths?: boolean;
  /** Hash the targets of symlinks instead of failing on them (default false, as model_signing). */
  allowSymlinks?: boolean;
  /** How many files to hash at once (default: the machine's available parallelism; worker threads for large folders). */
  concurrency?: number;
  /** Called as bytes are hashed. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /** Abort when the folder holds more files than this (hostile input). */
  maxFiles?: number;
}


/** SHA-256 (hex) of a file, read in chunks of at most 1 MiB: memory stays flat. */
export async function sha256File(path: string, onBytes?: (n: number) => void): Promise<string> {
  const h = createHash('sha256');
  await eachFileChunk(path, (chunk) => {
    h.update(chunk);
    onBytes?.(chunk.length);
  });
  return h.digest('hex');
}

/** Compare strings by Unicode code point, as Python's sorted() does for str. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** The folder digest of already-computed resource digests (sorted here). */
export function manifestDigest(resources: Array<{ name: string; digest: string }>): string {
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  const h = createHash('sha256');
  for (const r of sorted) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/**
 * List the files of a model/plugin folder as model_signing would hash them.
 * Symlinks fail unless allowed; special files are refused.
 */
export async function listManifestFiles(
  dir: string,
  options: ManifestOptions = {},
): Promise<Array<{ name: string; abs: string; size: number }>> {
  const root = resolve(dir);
  const ignore = normalizeIgnores(root, options);
  const maxFiles = options.maxFiles ?? 1_000_000;
  const out: Array<{ name: string; abs: string; size: number }> = [];
  const stack: string[] = [''];
  const seen = new Set<string>();
  while (stack.length) {
    const rel = stack.pop()!;
    const abs = rel ? join(root, ...rel.split('/')) : root;
    const entries = await readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (isIgnored(childRel, ignore)) continue;
      const childAbs = join(abs, e.name);
      if (e.isSymbolicLink()) {
        if (!options.allowSymlinks) {
          throw new AibomError('INPUT', `symbolic link in the folder: ${childRel} (not allowed; model_signing refuses symlinks too)`, {
            file: dir,
          });
        }
        let st: Awaited<ReturnType<typeof stat>>;
        try {
          st = await stat(childAbs);
        } catch {
          throw new AibomError('INPUT', `broken symbolic link in the folder: ${childRel}`, { file: dir });
        }
        if (st.isDirectory()) {
          const real = await realpath(childAbs);
          if (seen.has(real)) continue;
          seen.add(real);
          stack.push(childRel);
        } else if (st.isFile()) out.push({ name: childRel, abs: childAbs, size: st.size });
        continue;
      }
      if (e.isDirectory()) {
        stack.push(childRel);
        continue;
      }
      if (!e.isFile()) {
        throw new AibomError('INPUT', `not a regular file: ${childRel}`, { file: dir });
      }
      const st = await lstat(childAbs);
      out.push({ name: childRel, abs: childAbs, size: st.size });
      if (out.length > maxFiles) throw new AibomError('TOO_LARGE', `more than ${maxFiles} files in the folder`, { file: dir });
    }
  }
  out.sort((a, b) => compareCodePoints(a.name, b.name));
  return out;
}

/** The model_signing "files" manifest of a folder, or of a single file. */
export async function folderManifest(path: string, options: ManifestOptions = {}): Promise<FolderManifest> {
  const abs = resolve(path);
  const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
    throw new AibomError('INPUT', err.code === 'ENOENT' ? 'no such file or folder' : String(err.code ?? err), { file: path });
  });
  let files: Array<{ name: string; abs: string; size: number }>;
  if (st.isSymbolicLink() && !options.allowSymlinks) {
    throw new AibomError('INPUT', 'is a symbolic link (not allowed)', { file: path });
  }
  const target = st.isSymbolicLink() ? await stat(abs) : st;
  if (target.isFile()) files = [{ name: '.', abs, size: target.size }];
  else if (target.isDirectory()) files = await listManifestFiles(abs, options);
  else throw new AibomError('INPUT', 'not a regular file or folder', { file: path });
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const hashOpts: HashFilesOptions = {};
  if (options.concurrency !== undefined) hashOpts.concurrency = options.concurrency;
  if (options.onProgress) hashOpts.onProgress = options.onProgress;
  const digests = await hashFiles(
    files.map((f) => ({ path: f.abs, size: f.size, display: f.name === '.' ? path : `${path}/${f.name}` })),
    hashOpts,
  );
  const resources = files.map((f, i) => ({ name: f.name, digest: digests[i]!, size: f.size }));
  return { name: basename(abs), resources, digest: manifestDigest(resources), totalBytes };
}

export interface HashFilesOptions {
  /** How many files to hash at once (default: the machine's available parallelism). */
  concurrency?: number;
  /** Called as bytes are hashed, with the running total. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
}

/** Below this many bytes in all, starting worker threads costs more than it saves. */
export const WORKER_THRESHOLD_BYTES = 32 * 1024 * 1024;

/**
 * Hex SHA-256 of each file, in order. Large batches are spread over worker threads
 * (hash-pool.ts); small ones are hashed here, a few files at a time.
 */
export async function hashFiles(jobs: HashJob[], options: HashFilesOptions = {}): Promise<string[]> {
  const totalBytes = jobs.reduce((n, j) => n + j.size, 0);
  let hashed = 0;
  const onBytes = options.onProgress
    ? (n: number) => {
        hashed += n;
        options.onProgress!(hashed, totalBytes);
      }
    : undefined;
  const concurrency = Math.max(1, options.concurrency ?? defaultHashConcurrency());
  if (totalBytes >= WORKER_THRESHOLD_BYTES) {
    const poolOpts: HashPoolOptions = { concurrency };
    if (onBytes) poolOpts.onBytes = onBytes;
    return hashFilesInWorkers(jobs, poolOpts);
  }
  const digests = new Array<string>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        const job = jobs[i]!;
        digests[i] = await sha256File(job.path, onBytes).catch((err: NodeJS.ErrnoException) => {
          throw new AibomError('INPUT', `cannot read for hashing: ${err.code ? describeErrno(err.code) : String(err)}`, {
            file: job.display ?? job.path,
          });
        });
      }
    }),
  );
  return digests;
}

interface Ignores {
  exact: Set<string>;
}

function normalizeIgnores(root: string, options: ManifestOptions): Ignores {
  const exact = new Set<string>();
  for (const p of options.ignorePaths ?? []) {
    // Relative to the folder, or (as model_signing also accepts) a path that resolves inside it.
    const abs = resolve(p);
    const relToRoot = relative(root, abs);
    if (relToRoot && !relToRoot.startsWith('..') && !relToRoot.startsWith(sep)) exact.add(relToRoot.split(sep).join('/'));
    exact.add(trimTrailing(p.split(sep).join('/').replace(/^\.\//, ''), '/'));
  }
  if (options.ignoreGitPaths ?? true) for (const g of GIT_PATHS) exact.add(g);
  return { exact };
}

function isIgnored(rel: string, ig: Ignores): boolean {
  if (ig.exact.has(rel)) return true;
  // Git paths are left out at the top of the folder only: model_signing joins them to the model
  // path (.git/, .gitattributes, .github/, .gitignore) and matches by prefix, so a nested
  // sub/.gitignore is hashed.
  for (const p of ig.exact) if (rel.startsWith(`${p}/`)) return true;
  return false;
}
