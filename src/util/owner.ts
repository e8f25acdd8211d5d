/**
 * Trust files and configuration only from places nobody else can write: a file (and the
 * folder holding it) must belong to the current user, or to root, and be writable by no one
 * else (group-writable only when the group is the user's own: umask 002 systems). A shared
 * sticky folder (/tmp) is accepted for the folder. On systems without uids (Windows) the
 * check is a no-op.
 */
import { type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AibomError } from '../errors.js';

/** Why the file or folder is not safe to trust, or undefined when it is. */
export function unsafeOwnership(st: Pick<Stats, 'uid' | 'gid' | 'mode'>): string | undefined {
  if (typeof process.getuid !== 'function') return undefined;
  const uid = process.getuid();
  if (st.uid !== uid && st.uid !== 0) return `it belongs to uid ${st.uid}, not to the current user (uid ${uid})`;
  if ((st.mode & 0o002) !== 0) return 'anyone can write to it';
  if ((st.mode & 0o020) !== 0 && (st.gid !== process.getgid?.() || st.uid !== uid)) return `its group (gid ${st.gid}) can write to it`;
  return undefined;
}

/**
 * Throw (naming the file and what is wrong) unless `file` and its folder are safe to trust.
 * `what` says what the file is ("the runtime config", "the cached trusted root"). A symbolic
 * link is judged by the file it leads to, and by the link's own folder.
 */
export function assertOwnedFile(file: string, what: string): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch {
    return; // a missing file is reported by whoever reads it
  }
  const bad = unsafeOwnership(st);
  if (bad) throw new AibomError('INPUT', `refusing ${what}: ${bad} (trust files and configuration must be writable only by their owner)`, { file });
  const dir = dirname(file);
  let d: Stats;
  try {
    d = statSync(dir);
  } catch {
    return;
  }
  const badDir = unsafeOwnership(d);
  // A sticky shared folder (/tmp) keeps other users from renaming or deleting the file.
  if (badDir && (d.mode & 0o1000) === 0) throw new AibomError('INPUT', `refusing ${what}: its folder ${dir}: ${badDir} (someone else could replace it)`, { file });
}
