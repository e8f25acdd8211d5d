import type { Dirent } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { describeErrno } from '../errors.js';
import type { Finding } from './types.js';

/**
 * Folders not descended into: dependency installs, VCS data, caches. Virtualenvs are skipped
 * by their layout (isVirtualenv), never by name, and only their site-packages (files planted
 * beside it are walked). Inside the model and plugin folders (WalkOptions.keepPaths, keepNames)
 * nothing is skipped.
 */
export const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.yarn',
  '.pnpm-store',
]);

export interface WalkedFile {
  /** POSIX path relative to the root. */
  rel: string;
  abs: string;
  size: number;
}

export interface WalkedSymlink {
  rel: string;
  target: string;
  /** Resolves outside the root. */
  outside: boolean;
  broken: boolean;
  /** Broken because it leads back to itself (a loop of links). */
  loop?: boolean;
}

export interface WalkResult {
  root: string;
  files: WalkedFile[];
  /** Folders walked (POSIX, relative; '' is the root). */
  dirs: string[];
  symlinks: WalkedSymlink[];
  findings: Finding[];
}

export interface WalkOptions {
  /** Globs (relative to root, POSIX) of paths to leave out. A folder that matches is not entered. */
  exclude?: string[];
  /** Follow symlinks that stay inside the root (never ones that leave it). Default false. */
  followSymlinks?: boolean;
  maxFiles?: number;
  maxDepth?: number;
  /**
   * Folders (POSIX, relative; '' is the root) in which nothing is skipped: the configured
   * model and plugin paths. A folder there named `venv` or `node_modules`, or holding a
   * virtualenv's layout, is walked like any other.
   */
  keepPaths?: string[];
  /**
   * Folder names below which nothing is skipped, wherever they are (the default model path:
   * every folder named `models`).
   */
  keepNames?: string[];
}

/** A virtualenv's installed packages, relative to it: the only part of it not walked. */
const VENV_SITE_PACKAGES = /^(?:(?:lib|lib64)\/(?:python|pypy)\d+(?:\.\d+)*t?|Lib)\/site-packages$/;
/** The interpreter in a virtualenv's bin/ or Scripts/ (links pointing outside by design). */
const VENV_INTERPRETER = /^(?:bin|Scripts)\/(?:python|pypy)\d*(?:\.\d+)*t?(?:\.exe)?$/;

const DEFAULT_MAX_FILES = 500_000;
const DEFAULT_MAX_DEPTH = 64;

/**
 * Walk a folder breadth-first without following symlinks out of it. Unreadable folders and
 * broken links become findings, never errors. Bounded in file count and depth.
 */
export async function walk(root: string, options: WalkOptions = {}): Promise<WalkResult> {
  const absRoot = resolve(root);
  const realRoot = await realpath(absRoot);
  const isExcluded = options.exclude?.length
    ? picomatch(options.exclude, { dot: true })
    : () => false;
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const result: WalkResult = { root: absRoot, files: [], dirs: [], symlinks: [], findings: [] };
  // A virtualenv's folder is listed (files planted at its top level are scanned) but its layout is not entered.
  const queue: Array<{ rel: string; depth: number; venv?: string }> = [{ rel: '', depth: 0 }];
  const seenReal = new Set<string>([realRoot]);
  let truncated = false;
  const keep = options.keepPaths ?? [];
  const keepNames = new Set(options.keepNames ?? []);
  const kept = (rel: string) =>
    keep.some((k) => k === '' || rel === k || rel.startsWith(`${k}/`)) || (keepNames.size > 0 && rel.split('/').some((n) => keepNames.has(n)));

  while (queue.length) {
    const { rel, depth, venv } = queue.shift()!;
    result.dirs.push(rel);
    const absDir = rel ? join(absRoot, ...rel.split('/')) : absRoot;
    let entries: Dirent[];
    try {
      entries = await readdir(absDir, { withFileTypes: true });
    } catch (err) {
      result.findings.push({
        code: 'unreadable-path',
        severity: 'low',
        message: `cannot read folder: ${describeErrno((err as NodeJS.ErrnoException).code ?? String(err))}`,
        location: { file: rel || '.' },
      });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      // Inside a virtualenv (venv is its folder) only its layout is left out: site-packages,
      // pyvenv.cfg and the interpreter (a link pointing outside by design).
      const inVenv = venv === undefined ? undefined : childRel.slice(venv.length + 1);
      if (inVenv !== undefined && (e.isDirectory() ? VENV_SITE_PACKAGES.test(inVenv) : inVenv === 'pyvenv.cfg' || VENV_INTERPRETER.test(inVenv))) continue;
      if (isExcluded(childRel) || (e.isDirectory() && isExcluded(`${childRel}/`))) continue;
      const abs = join(absDir, e.name);
      if (e.isSymbolicLink()) {
        const link = await inspectLink(abs, realRoot);
        result.symlinks.push({ rel: childRel, ...link });
        if (link.broken) {
          result.findings.push({
            code: 'broken-symlink',
            severity: 'low',
            message: link.loop
              ? `symbolic link loop: ${link.target} leads back to this link`
              : `broken symbolic link to ${link.target}`,
            location: { file: childRel },
          });
          continue;
        }
        if (link.outside) {
          result.findings.push({
            code: 'symlink-outside-root',
            severity: 'medium',
            message: `symbolic link points outside the scanned folder (${link.target}); not followed`,
            location: { file: childRel },
          });
          continue;
        }
        if (!options.followSymlinks) continue;
        try {
          const st = await stat(abs);
          const real = await realpath(abs);
          if (st.isDirectory()) {
            if (seenReal.has(real) || (SKIPPED_DIRS.has(e.name) && !kept(childRel)) || depth + 1 > maxDepth) continue;
            seenReal.add(real);
            queue.push({ rel: childRel, depth: depth + 1 });
          } else if (st.isFile()) {
            result.files.push({ rel: childRel, abs, size: st.size });
          }
        } catch {
          // raced away: ignore
        }
        continue;
      }
      if (e.isDirectory()) {
        const keepIt = kept(childRel);
        if (SKIPPED_DIRS.has(e.name) && !keepIt) continue;
        if (depth + 1 > maxDepth) {
          result.findings.push({
            code: 'walk-too-deep',
            severity: 'low',
            message: `folder nesting deeper than ${maxDepth} levels; not entered`,
            location: { file: childRel },
          });
          continue;
        }
        // A Python virtualenv under any name (by its whole layout): its site-packages is
        // skipped, everything else in it (files planted beside the layout, bin/) is walked.
        if (venv === undefined && !keepIt && (await isVirtualenv(abs))) {
          result.findings.push({
            code: 'virtualenv-skipped',
            severity: 'low',
            message: 'a Python virtualenv (pyvenv.cfg, interpreter, site-packages); its layout not scanned, other files in it are',
            location: { file: childRel },
          });
          queue.push({ rel: childRel, depth: depth + 1, venv: childRel });
          continue;
        }
        const next: { rel: string; depth: number; venv?: string } = { rel: childRel, depth: depth + 1 };
        if (venv !== undefined) next.venv = venv;
        queue.push(next);
        continue;
      }
      if (e.isFile()) {
        if (result.files.length >= maxFiles) {
          truncated = true;
          continue;
        }
        let size = 0;
        try {
          size = (await lstat(abs)).size;
        } catch (err) {
          result.findings.push({
            code: 'unreadable-path',
            severity: 'low',
            message: `cannot stat file: ${describeErrno((err as NodeJS.ErrnoException).code ?? String(err))}`,
            location: { file: childRel },
          });
          continue;
        }
        result.files.push({ rel: childRel, abs, size });
        continue;
      }
      // A named pipe, socket or device is never opened (opening a FIFO waits for a writer).
      result.findings.push({
        code: 'special-file',
        severity: 'low',
        message: 'not a regular file (a named pipe, socket or device); not read',
        location: { file: childRel },
      });
    }
  }
  if (truncated) {
    result.findings.push({
      code: 'walk-truncated',
      severity: 'medium',
      message: `more than ${maxFiles} files; the rest were not scanned`,
      location: { file: '.' },
    });
  }
  return result;
}

/**
 * A Python virtualenv, by its layout rather than one marker file (a lone `pyvenv.cfg` must not
 * make a folder invisible): `pyvenv.cfg` (a regular file), an interpreter (`bin/python*` or
 * `Scripts/python.exe`), and a site-packages folder (`lib/pythonX.Y/site-packages`,
 * `lib64/...` or `Lib/site-packages`).
 */
export async function isVirtualenv(absDir: string): Promise<boolean> {
  const is = async (rel: string[], want: 'file' | 'dir' | 'any') => {
    try {
      const st = await lstat(join(absDir, ...rel));
      return want === 'any' ? true : want === 'file' ? st.isFile() : st.isDirectory();
    } catch {
      return false;
    }
  };
  if (!(await is(['pyvenv.cfg'], 'file'))) return false;
  const interpreter = (await is(['Scripts', 'python.exe'], 'any')) || (await is(['bin', 'python'], 'any')) || (await is(['bin', 'python3'], 'any'));
  if (!interpreter) return false;
  if (await is(['Lib', 'site-packages'], 'dir')) return true;
  for (const lib of ['lib', 'lib64']) {
    let names: string[];
    try {
      names = await readdir(join(absDir, lib));
    } catch {
      continue;
    }
    for (const n of names.slice(0, 16)) {
      if (/^(python|pypy)\d+(\.\d+)*t?$/.test(n) && (await is([lib, n, 'site-packages'], 'dir'))) return true;
    }
  }
  return false;
}

async function inspectLink(
  abs: string,
  realRoot: string,
): Promise<{ target: string; outside: boolean; broken: boolean; loop?: boolean }> {
  let target = '';
  try {
    target = await readlink(abs);
  } catch {
    return { target: '?', outside: false, broken: true };
  }
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return { target, outside: false, broken: true, loop: true };
    return { target, outside: false, broken: true };
  }
  return { target, outside: !isInside(realRoot, real), broken: false };
}

export function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}
