import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { AibomError } from '../errors.js';
import { GIT_PATHS } from '../digest/digest.js';
import { isInside } from './walk.js';

/**
 * Symbolic links inside a plugin or dataset folder. model_signing refuses symlinks, and a
 * link is a way to smuggle content (or a path out of the agent) into a folder, so aibom
 * records each one and never follows it: the folder digest covers the regular files only.
 */
export interface FolderSymlink {
  /** POSIX path relative to the folder. */
  rel: string;
  /** The link's text as stored (may be relative). */
  target: string;
  /** Where it leads: inside the folder itself, elsewhere inside the scanned root, outside it, or nowhere. */
  resolves: 'inside-folder' | 'inside-root' | 'outside-root' | 'broken';
}

export interface SymlinkScan {
  links: FolderSymlink[];
  files: number;
}

/**
 * Find the symlinks in `absDir` (iterative, not following any link). Entries named like
 * model_signing's ignored git paths (at the top) are skipped as the digest skips them. Bounded by
 * `maxEntries`: more is a TOO_LARGE error.
 */
export async function findFolderSymlinks(absDir: string, absRoot: string, maxEntries = 1_000_000): Promise<SymlinkScan> {
  const realDir = await realpath(absDir);
  const realRoot = await realpath(absRoot);
  const links: FolderSymlink[] = [];
  let files = 0;
  let entries = 0;
  const stack: string[] = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    const abs = rel ? join(absDir, ...rel.split('/')) : absDir;
    for (const e of await readdir(abs, { withFileTypes: true })) {
      if (++entries > maxEntries) throw new AibomError('TOO_LARGE', `more than ${maxEntries} entries in the folder`, { file: absDir });
      // As the digest does: git paths are left out at the top of the folder only.
      if (rel === '' && GIT_PATHS.includes(e.name)) continue;
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        const childAbs = join(abs, e.name);
        let target = '?';
        try {
          target = await readlink(childAbs);
        } catch {
          // unreadable link: reported as broken
        }
        let resolves: FolderSymlink['resolves'] = 'broken';
        try {
          const real = await realpath(childAbs);
          resolves = isInside(realDir, real) ? 'inside-folder' : isInside(realRoot, real) ? 'inside-root' : 'outside-root';
        } catch {
          resolves = 'broken';
        }
        links.push({ rel: childRel, target, resolves });
      } else if (e.isDirectory()) {
        stack.push(childRel);
      } else if (e.isFile()) {
        files++;
      }
    }
  }
  links.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { links, files };
}

/** Is this path a symlink (without following it)? */
export async function isSymlink(abs: string): Promise<boolean> {
  try {
    return (await lstat(abs)).isSymbolicLink();
  } catch {
    return false;
  }
}
