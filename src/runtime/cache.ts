/**
 * The optional digest cache (off by default): a file's SHA-256 is reused when its device,
 * inode, size, mtime and ctime (nanoseconds) are all what they were when it was hashed. One
 * cache file per plugin folder, named by the folder's real path and its own device and
 * inode, under `<cache>/digests/`. The folder is listed and every file lstat'ed on every run,
 * so added, removed and renamed files are always seen; only the reading and hashing of
 * unchanged files is skipped.
 *
 * The trade-off (README, "Digest cache"): between hashing and loading there is always a
 * window (TOCTOU); the cache widens it to "since the file was last hashed", and trusts that
 * whoever can write to a plugin cannot also keep size, mtime, ctime and inode unchanged
 * (ctime cannot be set from user space; root can change the clock) and cannot write to the
 * cache folder. Files changed within the last 2 seconds before hashing are not cached, so a
 * write in the same timestamp tick as the hash (coarse file-system clocks) is never missed.
 * A cache file that does not parse, or names another folder, is ignored (never trusted).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import type { FileIdentity } from './types.js';

const FORMAT = 1;
/** A cache file for a folder of 200,000 files is ~40 MiB. */
const MAX_CACHE_FILE_BYTES = 64 * 1024 * 1024;
/** Files whose ctime is this close to the hashing time are not cached (racy timestamps). */
const RACY_NS = 2_000_000_000n;
const HEX64 = /^[0-9a-f]{64}$/;

type Entry = [dev: string, ino: string, size: string, mtimeNs: string, ctimeNs: string, digest: string];

export class DigestCache {
  private readonly entries = new Map<string, Entry>();
  private readonly fresh = new Map<string, Entry>();
  private readonly startedNs = BigInt(Date.now()) * 1_000_000n;
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly folder: string,
  ) {}

  /** Open the cache of one folder (absolute, real path). Never throws: an unusable cache is an empty one. */
  static open(cacheRoot: string, realFolder: string): DigestCache {
    let key = realFolder;
    try {
      const st = statSync(realFolder, { bigint: true });
      key = `${realFolder}\0${st.dev}\0${st.ino}`;
    } catch {
      // keyed by path only; the folder check fails later anyway
    }
    const name = createHash('sha256').update(key).digest('hex');
    const cache = new DigestCache(join(cacheRoot, 'digests', `${name}.json`), realFolder);
    cache.load();
    return cache;
  }

  private load(): void {
    let text: string;
    try {
      // Only a cache folder that is ours and that nobody else can write to is trusted.
      const dir = statSync(join(this.file, '..'));
      if (!dir.isDirectory() || (dir.mode & 0o022) !== 0 || (typeof process.getuid === 'function' && dir.uid !== process.getuid())) return;
      const st = statSync(this.file);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return;
      if (!st.isFile() || st.size > MAX_CACHE_FILE_BYTES) return;
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const doc = JSON.parse(text) as { format?: unknown; folder?: unknown; files?: unknown };
      if (doc.format !== FORMAT || doc.folder !== this.folder || typeof doc.files !== 'object' || doc.files === null) return;
      for (const [name, e] of Object.entries(doc.files as Record<string, unknown>)) {
        if (!Array.isArray(e) || e.length !== 6 || !e.every((x) => typeof x === 'string') || !HEX64.test(e[5] as string)) continue;
        if (!(e.slice(0, 5) as string[]).every((x) => /^\d{1,30}$/.test(x))) continue;
        this.entries.set(name, e as Entry);
      }
    } catch {
      this.entries.clear();
    }
  }

  /** The cached digest when every part of the file's identity is unchanged. */
  lookup(name: string, id: FileIdentity): string | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    if (e[0] !== String(id.dev) || e[1] !== String(id.ino) || e[2] !== String(id.size) || e[3] !== String(id.mtimeNs) || e[4] !== String(id.ctimeNs)) {
      return undefined;
    }
    this.fresh.set(name, e);
    return e[5];
  }

  /** Remember a digest just computed (unless the file changed too recently to tell a later change apart). */
  store(name: string, id: FileIdentity, digest: string): void {
    this.dirty = true;
    if (id.ctimeNs + RACY_NS >= this.startedNs || id.mtimeNs + RACY_NS >= this.startedNs) return;
    this.fresh.set(name, [String(id.dev), String(id.ino), String(id.size), String(id.mtimeNs), String(id.ctimeNs), digest]);
  }

  /** Write what this run used and computed (entries of files that are gone are dropped). Errors are ignored. */
  async save(): Promise<void> {
    if (!this.dirty && this.fresh.size === this.entries.size) return;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      const files: Record<string, Entry> = {};
      for (const [k, v] of [...this.fresh].sort((a, b) => (a[0] < b[0] ? -1 : 1))) files[k] = v;
      await writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, folder: this.folder, files }));
    } catch {
      // a cache that cannot be written only costs speed next time
    }
  }
}
