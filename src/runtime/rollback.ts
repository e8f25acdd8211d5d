/**
 * Refusing whole-release rollback. An identity pattern like `refs/tags/v.*` accepts every
 * past release, so an attacker who puts back an older signed BOM together with its older
 * plugins passes every other check. Two defences:
 *   - a monotonic high-water mark per agent root and release identity: the newest release
 *     (BOM metadata.timestamp, serialNumber, BOM version and release version, all from the
 *     signed bytes) that ever started there, kept in a state file only the agent's user can
 *     write ($AIBOM_STATE_DIR, else $XDG_STATE_HOME/aibom, else ~/.local/state/aibom); an
 *     older release is refused; so is a different BOM (by the SHA-256 of its signed bytes,
 *     recorded in the state) that cannot be proven newer: reproducible BOMs have no
 *     timestamp or serial, and a plugin can change while the agent's version stays. Such a
 *     re-issue starts only when the operator accepts that exact BOM (acceptBom,
 *     `--accept-bom sha256:<hex>`, AIBOM_ACCEPT_BOM); the same BOM re-verified passes; the
 *     mark moves up only after a check that passed;
 *   - policy minimums: `release.minVersion` (the BOM's release version, semver) and
 *     `release.notBefore` (its timestamp), which also hold on a fresh machine with no state.
 * Deliberately rolling back: remove the state file (only its owner can). With no state file
 * (a fresh machine, or the file removed) the first release that passes is trusted on first
 * use: only the policy minimums hold until then.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AibomError } from '../errors.js';
import type { Lock } from './lock.js';
import { unsafeOwnership } from '../util/owner.js';

/** 2: the mark records the BOM's digest (format 1 did not, and is refused). */
const FORMAT = 2;
const MAX_STATE_BYTES = 64 * 1024;

export interface ReleaseMark {
  /** metadata.timestamp; absent in reproducible BOMs, which are then ordered by their release version (semver). */
  timestamp?: string;
  serialNumber?: string;
  bomVersion?: number;
  version?: string;
  /** SHA-256 (hex) of the signed BOM bytes: tells a re-issued BOM from the same one. */
  digest?: string;
}


export function markOf(lock: Lock, bomBytes: Uint8Array): ReleaseMark | undefined {
  const m: ReleaseMark = { digest: createHash('sha256').update(bomBytes).digest('hex') };
  if (lock.release.timestamp !== undefined && Number.isFinite(Date.parse(lock.release.timestamp))) m.timestamp = lock.release.timestamp;
  if (lock.release.serialNumber !== undefined) m.serialNumber = lock.release.serialNumber;
  if (lock.release.bomVersion !== undefined) m.bomVersion = lock.release.bomVersion;
  if (lock.project.version !== undefined) m.version = lock.project.version;
  // Always a mark: a BOM with neither timestamp nor version is still told apart by its digest.
  return m;
}

const describe = (m: ReleaseMark) =>
  `${m.version !== undefined ? `version ${m.version}, ` : ''}${m.timestamp !== undefined ? `made ${m.timestamp}` : 'no timestamp'}${m.serialNumber ? `, serial ${m.serialNumber}` : ''}${m.bomVersion !== undefined ? `, BOM version ${m.bomVersion}` : ''}`;

/** Policy minimums. Returns why the release is refused, or undefined. */
export async function belowMinimums(mark: ReleaseMark | undefined, release: { minVersion?: string; notBefore?: string } | undefined): Promise<string | undefined> {
  if (!release?.minVersion && !release?.notBefore) return undefined;
  if (release.notBefore) {
    if (mark?.timestamp === undefined) return `the policy accepts releases made at or after ${release.notBefore}, and this BOM has no timestamp`;
    if (Date.parse(mark.timestamp) < Date.parse(release.notBefore)) return `this BOM was made ${mark.timestamp}, before release.notBefore ${release.notBefore} in the policy: an older release`;
  }
  if (release.minVersion) {
    const { default: semver } = await import('semver');
    const v = mark?.version;
    if (v === undefined || !semver.valid(v)) return `the policy requires release version ${release.minVersion} or later, and this BOM's version ${v === undefined ? '(none)' : JSON.stringify(v)} is not a semantic version`;
    if (semver.lt(v, release.minVersion)) return `this BOM is release ${v}, below release.minVersion ${release.minVersion} in the policy: an older release`;
  }
  return undefined;
}

export class RollbackState {
  private constructor(
    readonly file: string,
    private readonly high: ReleaseMark | undefined,
  ) {}

  /** The state of one agent root (real path) and release identity; throws when the state is not safe to trust. */
  static open(dir: string, realRoot: string, identity: string): RollbackState {
    const name = createHash('sha256').update(`${realRoot}\0${identity}`).digest('hex');
    const file = join(dir, 'releases', `${name}.json`);
    for (const d of [dir, join(dir, 'releases')]) {
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(d);
      } catch {
        continue;
      }
      const bad = !st.isDirectory() ? 'it is not a folder' : unsafeOwnership(st);
      if (bad) throw new AibomError('INPUT', `refusing the rollback state folder: ${bad}`, { file: d });
    }
    let text: string | undefined;
    try {
      const st = lstatSync(file);
      const bad = !st.isFile() ? 'it is not a regular file' : st.size > MAX_STATE_BYTES ? 'it is too big' : unsafeOwnership(st);
      if (bad) throw new AibomError('INPUT', `refusing the rollback state: ${bad}`, { file });
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof AibomError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AibomError('INPUT', `cannot read the rollback state: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
    }
    if (text === undefined) return new RollbackState(file, undefined);
    let high: ReleaseMark | undefined;
    try {
      const doc = JSON.parse(text) as { format?: unknown; high?: Partial<ReleaseMark> };
      const h = doc.format === FORMAT && doc.high && typeof doc.high === 'object' ? doc.high : undefined;
      const okTs = h && (h.timestamp === undefined || (typeof h.timestamp === 'string' && Number.isFinite(Date.parse(h.timestamp))));
      const okDigest = h && typeof h.digest === 'string' && /^[0-9a-f]{64}$/.test(h.digest);
      const okVersion = h && (h.version === undefined || typeof h.version === 'string');
      if (h && okTs && okDigest && okVersion) high = h as ReleaseMark;
    } catch {
      high = undefined;
    }
    // Fail closed: a state file we cannot read is not an empty one.
    if (!high) throw new AibomError('INPUT', 'the rollback state does not parse; remove it to start over (only if no older release could be running here)', { file });
    return new RollbackState(file, high);
  }

  /**
   * Why this release is refused against the one that already started here, or undefined:
   * older, not orderable, or another BOM as old as it (unless `acceptBom` is this BOM's
   * digest, `sha256:<hex>` or `<hex>`). The very same BOM (same digest) always passes.
   */
  async refusal(mark: ReleaseMark | undefined, acceptBom?: string): Promise<string | undefined> {
    const h = this.high;
    if (!h) return undefined;
    if (mark?.digest !== undefined && mark.digest === h.digest) return undefined;
    const order = await compare(mark, h);
    const accepted = mark?.digest !== undefined && acceptedDigest(acceptBom) === mark.digest;
    if (order === undefined && !accepted) {
      return (
        `this BOM (${mark ? describe(mark) : 'no timestamp, no version'}) cannot be ordered against the release that already started here (${describe(h)}): no timestamp or semantic version in both. ` +
        `If you trust this exact BOM, accept it once with --accept-bom sha256:${mark?.digest ?? '?'} (AIBOM_ACCEPT_BOM)`
      );
    }
    if (order !== undefined && order < 0) return `rollback: this BOM (${describe(mark!)}) is older than the release that already started here (${describe(h)})`;
    if (order === 0 && !accepted) {
      return (
        `rollback: this BOM (${describe(mark!)}, sha256:${mark!.digest ?? '?'}) is as old as the release that already started here ` +
        `(${describe(h)}, sha256:${h.digest}) but is another BOM, so it cannot be proven newer. ` +
        `Give the new release a higher version (or build it without --reproducible); if you trust this exact BOM, accept it once with --accept-bom sha256:${mark!.digest ?? '?'} (AIBOM_ACCEPT_BOM)`
      );
    }
    return undefined;
  }

  /** Raise the mark to this release (after a passing check): newer, or another BOM as old as it (accepted in refusal()). */
  async advance(mark: ReleaseMark | undefined): Promise<void> {
    if (!mark) return;
    if (this.high) {
      if (mark.digest === this.high.digest) return;
      // Not orderable, or as old: refusal() let it through only when the operator accepted it.
      if (((await compare(mark, this.high)) ?? 0) < 0) return;
    }
    const dir = join(this.file, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify({ format: FORMAT, high: mark }));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new AibomError('INPUT', `cannot record the release high-water mark: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: this.file });
    }
  }
}

/** The digest an operator accepts, from `sha256:<hex>` or `<hex>`; undefined when malformed. */
function acceptedDigest(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(v.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** A re-issued BOM to accept must be named by its full SHA-256; anything else is a usage error, never ignored. */
export function assertAcceptBom(v: string | undefined): void {
  if (v !== undefined && acceptedDigest(v) === undefined) {
    throw new AibomError('USAGE', `acceptBom (--accept-bom, AIBOM_ACCEPT_BOM) must be sha256:<64 hex digits>, the digest the refusal printed; got ${JSON.stringify(v.slice(0, 80))}`);
  }
}

/** Order two releases: by timestamp when both have one, else by semantic version; undefined when neither works. */
async function compare(a: ReleaseMark | undefined, b: ReleaseMark): Promise<number | undefined> {
  if (!a) return undefined;
  if (a.timestamp !== undefined && b.timestamp !== undefined) return Math.sign(Date.parse(a.timestamp) - Date.parse(b.timestamp));
  if (a.version === undefined || b.version === undefined) return undefined;
  const { default: semver } = await import('semver');
  if (!semver.valid(a.version) || !semver.valid(b.version)) return undefined;
  return semver.compare(a.version, b.version);
}
