/**
 * The folder digest of an installed plugin, computed as `aibom build` pinned it: the OpenSSF
 * model_signing "files" manifest (src/digest/digest.ts), leaving out the git paths at the
 * top of the folder, the signature files the BOM records and the symbolic links it records.
 *
 * Why not folderManifest() itself: the start-up check needs more than the digest, and needs it
 * fast for many small folders.
 *  - Refusal reasons: a link that leads out of the folder, a link the BOM does not record, a
 *    recorded link whose target changed or that became a regular file (a file the digest would
 *    silently skip), a special file: each is a precise reason, not a generic error.
 *  - Every file is opened with O_NOFOLLOW and checked with fstat on the open descriptor, so a
 *    file swapped for a link after the listing is refused, not followed.
 *  - The digest cache needs each file's device, inode, size, mtime and ctime.
 *  - Small files are read with synchronous calls on the main thread (a start-up check blocks
 *    anyway, and a thread-pool hop per call costs more than the read); big folders go to the
 *    worker pool of hash-pool.ts through hashFiles().
 * The resource names, ordering and digest are digest.ts's (compareCodePoints, manifestDigest),
 * so the two cannot drift apart; the tests compare them on the same folders.
 */
import { createHash } from 'node:crypto';
import { type BigIntStats, closeSync, constants, type Dirent, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { AibomError, describeErrno } from '../errors.js';
import { compareCodePoints, GIT_PATHS, hashFiles, type ResourceDigest } from '../digest/digest.js';
import type { DigestCache } from './cache.js';
import { nameIsExact, sortedDigests } from '../digest/files-digest.js';
import type { FileIdentity, PluginReason } from './types.js';

export interface FolderDigestResult {
  /** Lowercase hex, when every file could be hashed and nothing was refused. */
  digest?: string;
  /** The full-manifest digest (names + digests, files-digest.ts), when `digest` is set. */
  filesDigest?: string;
  resources: ResourceDigest[];
  /** Refusals found while listing (links, special files, unreadable entries). */
  problems: PluginReason[];
  cacheHits: number;
  cacheMisses: number;
  /** Bytes of the `keep` files that were read (a file served from the digest cache is read here, once). */
  kept: Map<string, Buffer>;
}

export interface FolderDigestOptions {
  /** Signature files the BOM records, POSIX, relative to the folder (left out). */
  signatureFiles: string[];
  /** Links the BOM records: relative path → link text (left out while unchanged and inside the folder). */
  symlinks: Map<string, string>;
  cache?: DigestCache;
  /**
   * Files (POSIX, relative to the folder) whose bytes to hand back, from the very read that was
   * hashed (the manifest the version is read from: no second read, no window between them).
   */
  keep?: string[];
  /** Bounds (hostile folders). */
  maxFiles?: number;
  maxDepth?: number;
}

/** Files up to this size are read whole on the main thread; bigger ones are streamed / hashed in workers. */
const SMALL_FILE_BYTES = 4 * 1024 * 1024;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
let readBuffer: Buffer | undefined;

interface Listed {
  name: string;
  abs: string;
  /** lstat identity when the cache is on (checked again on the open descriptor). */
  id?: FileIdentity;
}

/** Compute the plugin folder's digest the way the BOM pinned it. `dir` is absolute and already checked to be a folder. */
export async function pluginFolderDigest(dir: string, opts: FolderDigestOptions): Promise<FolderDigestResult> {
  const problems: PluginReason[] = [];
  const listed = listFolder(dir, opts, problems);
  // Links recorded at build time that are gone now: the folder changed.
  for (const [rel] of opts.symlinks) {
    if (!exists(join(dir, ...rel.split('/')))) problems.push({ code: 'symlink', message: `${rel} was a symbolic link at build time and is gone` });
  }
  listed.sort((a, b) => compareCodePoints(a.name, b.name));
  const h = hashListed(listed, opts, problems);
  if (h.big.length && problems.length === 0) {
    const bad = await hashBigFiles(h, listed, opts.cache);
    if (bad) problems.push(bad);
  }
  const resources = h.resources.filter((r) => r !== undefined && r.digest !== '');
  const result: FolderDigestResult = { resources, problems, cacheHits: h.hits, cacheMisses: h.misses, kept: h.kept };
  if (problems.length === 0) {
    // The resources are in code-point order already (listed.sort above).
    const d = sortedDigests(result.resources);
    result.digest = d.folder;
    result.filesDigest = d.files;
  }
  return result;
}

/** The listing walk: its settings, the folders still to list, and what it found. */
interface ListState {
  dir: string;
  realDir: string;
  opts: FolderDigestOptions;
  /** Git paths and recorded signature files (left out of the digest). */
  ignored: Set<string>;
  maxFiles: number;
  maxDepth: number;
  entries: number;
  stack: Array<{ rel: string; depth: number }>;
  listed: Listed[];
  problems: PluginReason[];
}

/**
 * List every regular file to hash (depth-first, unsorted), pushing a refusal for every entry
 * the digest cannot stand for. Throws TOO_LARGE past the entry or depth bound.
 */
function listFolder(dir: string, opts: FolderDigestOptions, problems: PluginReason[]): Listed[] {
  const s: ListState = {
    dir,
    realDir: realpathSync(dir),
    opts,
    ignored: new Set<string>([...GIT_PATHS, ...opts.signatureFiles]),
    maxFiles: opts.maxFiles ?? 200_000,
    maxDepth: opts.maxDepth ?? 64,
    entries: 0,
    stack: [{ rel: '', depth: 0 }],
    listed: [],
    problems,
  };
  while (s.stack.length) {
    const { rel, depth } = s.stack.pop()!;
    const abs = rel ? join(dir, ...rel.split('/')) : dir;
    let dirents: Dirent[];
    try {
      dirents = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      problems.push({ code: 'unreadable', message: `cannot list ${rel || '.'}: ${errnoText(err)}` });
      continue;
    }
    for (const e of dirents) {
      if (++s.entries > s.maxFiles) throw new AibomError('TOO_LARGE', `more than ${s.maxFiles} entries in the plugin folder`, { file: dir });
      listEntry(s, e, rel ? `${rel}/${e.name}` : e.name, join(abs, e.name), depth);
    }
  }
  return s.listed;
}

/** One folder entry: a refusal, left out (recorded link, ignored path), a folder to descend into, or a file to hash. */
function listEntry(s: ListState, e: Dirent, childRel: string, childAbs: string, depth: number): void {
  const { opts, problems } = s;
  if (!nameIsExact(e.name)) {
    problems.push({ code: 'unreadable', message: `${childRel} has a name that is not valid UTF-8 (two such names could not be told apart)` });
    return;
  }
  const recordedLink = opts.symlinks.get(childRel);
  if (recordedLink !== undefined) {
    // Left out of the digest at build time: only acceptable while it is still the same link, leading inside the folder.
    const bad = checkRecordedLink(childAbs, childRel, recordedLink, s.realDir);
    if (bad) problems.push(bad);
    return;
  }
  if (s.ignored.has(childRel)) {
    if (opts.signatureFiles.includes(childRel) && !e.isFile()) {
      problems.push({ code: 'not-a-folder', message: `${childRel} was a signature file at build time and is now ${e.isDirectory() ? 'a folder' : 'not a regular file'}` });
    }
    return;
  }
  if (e.isSymbolicLink()) {
    problems.push(describeLink(childAbs, childRel, s.realDir).reason);
    return;
  }
  if (e.isDirectory()) {
    if (depth + 1 > s.maxDepth) throw new AibomError('TOO_LARGE', `folders nest deeper than ${s.maxDepth} levels`, { file: s.dir });
    s.stack.push({ rel: childRel, depth: depth + 1 });
    return;
  }
  if (!e.isFile()) {
    problems.push({ code: 'not-a-folder', message: `${childRel} is not a regular file (a device, socket or pipe)` });
    return;
  }
  const item: Listed = { name: childRel, abs: childAbs };
  if (opts.cache) {
    try {
      item.id = identityOf(lstatSync(childAbs, { bigint: true }));
    } catch (err) {
      problems.push({ code: 'unreadable', message: `cannot read ${childRel}: ${errnoText(err)}` });
      return;
    }
  }
  s.listed.push(item);
}

/** The hashing pass: resources by listing index, big files left for the worker pool, cache counts, kept bytes. */
interface Hashed {
  resources: ResourceDigest[];
  big: Array<{ index: number; size: number; id: FileIdentity }>;
  hits: number;
  misses: number;
  kept: Map<string, Buffer>;
}

/** Hash every listed file: from the digest cache, read here (small), or queued for the pool (big). */
function hashListed(listed: Listed[], opts: FolderDigestOptions, problems: PluginReason[]): Hashed {
  const keep = new Set(opts.keep ?? []);
  const h: Hashed = { resources: new Array(listed.length), big: [], hits: 0, misses: 0, kept: new Map() };
  for (let i = 0; i < listed.length; i++) {
    const f = listed[i]!;
    const cached = f.id && !keep.has(f.name) ? opts.cache?.lookup(f.name, f.id) : undefined;
    if (cached !== undefined) {
      h.resources[i] = { name: f.name, digest: cached, size: Number(f.id!.size) };
      h.hits++;
      continue;
    }
    h.misses++;
    const problem = hashOneFile(f, i, h, keep.has(f.name), opts.cache);
    if (problem) problems.push(problem);
  }
  return h;
}

/**
 * Open one file without following links, check on the descriptor that it is the regular file
 * listed, and hash it (small) or queue it (big). A refusal when it is not.
 */
function hashOneFile(f: Listed, i: number, h: Hashed, keepBytes: boolean, cache: DigestCache | undefined): PluginReason | undefined {
  let fd: number;
  try {
    fd = openSync(f.abs, constants.O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ELOOP'
      ? { code: 'symlink', message: `${f.name} became a symbolic link while it was being checked` }
      : { code: 'unreadable', message: `cannot read ${f.name}: ${errnoText(err)}` };
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) return { code: 'not-a-folder', message: `${f.name} is not a regular file` };
    const id = identityOf(st);
    if (f.id && (f.id.dev !== id.dev || f.id.ino !== id.ino)) {
      return { code: 'digest-mismatch', message: `${f.name} was replaced while it was being checked` };
    }
    if (st.size > BigInt(SMALL_FILE_BYTES)) {
      h.big.push({ index: i, size: Number(st.size), id });
      h.resources[i] = { name: f.name, digest: '', size: Number(st.size) };
      return undefined;
    }
    const digest = hashOpenFile(fd, Number(st.size));
    if (digest === undefined) return { code: 'digest-mismatch', message: `${f.name} grew while it was being checked` };
    h.resources[i] = { name: f.name, digest, size: Number(st.size) };
    if (keepBytes) h.kept.set(f.name, Buffer.from(readBuffer!.subarray(0, Number(st.size))));
    cache?.store(f.name, id, digest);
    return undefined;
  } catch (err) {
    return { code: 'unreadable', message: `cannot read ${f.name}: ${errnoText(err)}` };
  } finally {
    closeSync(fd);
  }
}

/** Hash the big files in the worker pool and fill in their digests; a refusal when that fails. */
async function hashBigFiles(h: Hashed, listed: Listed[], cache: DigestCache | undefined): Promise<PluginReason | undefined> {
  try {
    const digests = await hashFiles(h.big.map((b) => ({ path: listed[b.index]!.abs, size: b.size, display: listed[b.index]!.name })));
    h.big.forEach((b, k) => {
      h.resources[b.index]!.digest = digests[k]!;
      cache?.store(listed[b.index]!.name, b.id, digests[k]!);
    });
    return undefined;
  } catch (err) {
    return { code: 'unreadable', message: err instanceof AibomError ? err.describe() : errnoText(err) };
  }
}

/**
 * SHA-256 (hex) of an open file of known (small) size, read with positional reads into one
 * reused buffer; undefined when the file holds more bytes than fstat said (it is being written).
 */
function hashOpenFile(fd: number, size: number): string | undefined {
  readBuffer ??= Buffer.allocUnsafe(SMALL_FILE_BYTES + 1);
  let pos = 0;
  // One byte more than expected: a file that grew since fstat is caught, not hashed half-way.
  while (pos <= size) {
    const n = readSync(fd, readBuffer, pos, size + 1 - pos, pos);
    if (n === 0) break;
    pos += n;
  }
  if (pos > size) return undefined;
  return createHash('sha256').update(readBuffer.subarray(0, pos)).digest('hex');
}

function identityOf(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

function checkRecordedLink(abs: string, rel: string, recorded: string, realDir: string): PluginReason | undefined {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(abs);
  } catch (err) {
    return { code: 'unreadable', message: `cannot read ${rel}: ${errnoText(err)}` };
  }
  if (!st.isSymbolicLink()) {
    return { code: 'symlink', message: `${rel} was a symbolic link to ${recorded} at build time (left out of the digest) and is now ${st.isDirectory() ? 'a folder' : 'a file'}` };
  }
  let target: string;
  try {
    target = readlinkSync(abs);
  } catch (err) {
    return { code: 'unreadable', message: `cannot read the link ${rel}: ${errnoText(err)}` };
  }
  if (target !== recorded) return { code: 'symlink', message: `${rel} led to ${recorded} at build time and now leads to ${target}` };
  const d = describeLink(abs, rel, realDir);
  return d.inside ? undefined : d.reason;
}

/** A link in the folder: where it leads, as a refusal (links the BOM does not record are always refused). */
function describeLink(abs: string, rel: string, realDir: string): { inside: boolean; reason: PluginReason } {
  let target = '?';
  try {
    target = readlinkSync(abs);
  } catch {
    // reported as unreadable below
  }
  let real: string | undefined;
  try {
    real = realpathSync(abs);
  } catch {
    return { inside: false, reason: { code: 'symlink', message: `symbolic link ${rel} -> ${target} is broken` } };
  }
  const r = relative(realDir, real);
  const inside = r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r);
  return inside
    ? { inside, reason: { code: 'symlink', message: `symbolic link ${rel} -> ${target} (inside the plugin folder) is not in the BOM` } }
    : { inside, reason: { code: 'symlink', message: `symbolic link ${rel} -> ${target} leads outside the plugin folder` } };
}

function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code ? describeErrno(code) : err instanceof Error ? err.message : String(err);
}

/**
 * Read a small file whole, synchronously, refusing links (O_NOFOLLOW) and anything over
 * `maxBytes` (checked on the open descriptor, and again while reading). Errors are AibomErrors
 * naming `display`.
 */
export function readSmallFileSync(abs: string, maxBytes: number, display: string): Buffer {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AibomError('INPUT', code === 'ELOOP' ? 'is a symbolic link' : errnoText(err), { file: display });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new AibomError('INPUT', 'not a regular file', { file: display });
    if (st.size > maxBytes) throw new AibomError('TOO_LARGE', `file is over the ${maxBytes} byte limit for this kind of input`, { file: display });
    const buf = Buffer.allocUnsafe(st.size + 1);
    let pos = 0;
    while (pos <= st.size) {
      const n = readSync(fd, buf, pos, buf.length - pos, pos);
      if (n === 0) break;
      pos += n;
    }
    if (pos > st.size) throw new AibomError('INPUT', 'changed while it was being read', { file: display });
    return buf.subarray(0, pos);
  } finally {
    closeSync(fd);
  }
}
