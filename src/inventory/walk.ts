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

/** A folder waiting in the breadth-first queue; `venv` is the virtualenv it lies in, if any. */
interface QueuedDir {
  rel: string;
  depth: number;
  venv?: string;
}

/** One walk's settings and progress, shared by the steps below. */
interface WalkState {
  absRoot: string;
  realRoot: string;
  result: WalkResult;
  queue: QueuedDir[];
  /** Real paths of the folders entered through links (each at most once). */
  seenReal: Set<string>;
  isExcluded: (rel: string) => boolean;
  /** In a model or plugin folder, where nothing is skipped. */
  kept: (rel: string) => boolean;
  followSymlinks: boolean;
  maxFiles: number;
  maxDepth: number;
  truncated: boolean;
}

/**
 * Walk a folder breadth-first without following symlinks out of it. Unreadable folders and
 * broken links become findings, never errors. Bounded in file count and depth.
 */
export async function walk(root: string, options: WalkOptions = {}): Promise<WalkResult> {
  const s = await startWalk(root, options);
  while (s.queue.length) await walkDir(s, s.queue.shift()!);
  if (s.truncated) {
    s.result.findings.push({
      code: 'walk-truncated',
      severity: 'medium',
      message: `more than ${s.maxFiles} files; the rest were not scanned`,
      location: { file: '.' },
    });
  }
  return s.result;
}

async function startWalk(root: string, options: WalkOptions): Promise<WalkState> {
  const absRoot = resolve(root);
  const realRoot = await realpath(absRoot);
  const keep = options.keepPaths ?? [];
  const keepNames = new Set(options.keepNames ?? []);
  return {
    absRoot,
    realRoot,
    result: { root: absRoot, files: [], dirs: [], symlinks: [], findings: [] },
    // A virtualenv's folder is listed (files planted at its top level are scanned) but its layout is not entered.
    queue: [{ rel: '', depth: 0 }],
    seenReal: new Set<string>([realRoot]),
    isExcluded: options.exclude?.length ? picomatch(options.exclude, { dot: true }) : () => false,
    kept: (rel) =>
      keep.some((k) => k === '' || rel === k || rel.startsWith(`${k}/`)) || (keepNames.size > 0 && rel.split('/').some((n) => keepNames.has(n))),
    followSymlinks: options.followSymlinks === true,
    maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    truncated: false,
  };
}

/** List one folder (sorted by name) and take in each entry by its type. */
async function walkDir(s: WalkState, dir: QueuedDir): Promise<void> {
  const { rel, venv } = dir;
  s.result.dirs.push(rel);
  const absDir = rel ? join(s.absRoot, ...rel.split('/')) : s.absRoot;
  let entries: Dirent[];
  try {
    entries = await readdir(absDir, { withFileTypes: true });
  } catch (err) {
    s.result.findings.push({
      code: 'unreadable-path',
      severity: 'low',
      message: `cannot read folder: ${describeErrno((err as NodeJS.ErrnoException).code ?? String(err))}`,
      location: { file: rel || '.' },
    });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (venv !== undefined && isVenvLayout(e, childRel.slice(venv.length + 1))) continue;
    if (s.isExcluded(childRel) || (e.isDirectory() && s.isExcluded(`${childRel}/`))) continue;
    const abs = join(absDir, e.name);
    if (e.isSymbolicLink()) await visitSymlink(s, dir, e.name, childRel, abs);
    else if (e.isDirectory()) await visitDir(s, dir, e.name, childRel, abs);
    else if (e.isFile()) await visitFile(s, childRel, abs);
    else {
      // A named pipe, socket or device is never opened (opening a FIFO waits for a writer).
      s.result.findings.push({
        code: 'special-file',
        severity: 'low',
        message: 'not a regular file (a named pipe, socket or device); not read',
        location: { file: childRel },
      });
    }
  }
}

/**
 * Inside a virtualenv (`inVenv` is the path relative to it) only its layout is left out:
 * site-packages, pyvenv.cfg and the interpreter (a link pointing outside by design).
 */
function isVenvLayout(e: Dirent, inVenv: string): boolean {
  return e.isDirectory() ? VENV_SITE_PACKAGES.test(inVenv) : inVenv === 'pyvenv.cfg' || VENV_INTERPRETER.test(inVenv);
}

/** A link: recorded; broken or outside ones are findings; inside ones followed only when asked. */
async function visitSymlink(s: WalkState, parent: QueuedDir, name: string, childRel: string, abs: string): Promise<void> {
  const link = await inspectLink(abs, s.realRoot);
  s.result.symlinks.push({ rel: childRel, ...link });
  if (link.broken) {
    s.result.findings.push({
      code: 'broken-symlink',
      severity: 'low',
      message: link.loop ? `symbolic link loop: ${link.target} leads back to this link` : `broken symbolic link to ${link.target}`,
      location: { file: childRel },
    });
    return;
  }
  if (link.outside) {
    s.result.findings.push({
      code: 'symlink-outside-root',
      severity: 'medium',
      message: `symbolic link points outside the scanned folder (${link.target}); not followed`,
      location: { file: childRel },
    });
    return;
  }
  if (!s.followSymlinks) return;
  try {
    const st = await stat(abs);
    const real = await realpath(abs);
    if (st.isDirectory()) {
      if (s.seenReal.has(real) || (SKIPPED_DIRS.has(name) && !s.kept(childRel)) || parent.depth + 1 > s.maxDepth) return;
      s.seenReal.add(real);
      s.queue.push({ rel: childRel, depth: parent.depth + 1 });
    } else if (st.isFile()) {
      s.result.files.push({ rel: childRel, abs, size: st.size });
    }
  } catch {
    // raced away: ignore
  }
}

/** A folder: skipped by name (unless kept), refused past the depth bound, or queued (a virtualenv marked). */
async function visitDir(s: WalkState, parent: QueuedDir, name: string, childRel: string, abs: string): Promise<void> {
  const keepIt = s.kept(childRel);
  if (SKIPPED_DIRS.has(name) && !keepIt) return;
  if (parent.depth + 1 > s.maxDepth) {
    s.result.findings.push({
      code: 'walk-too-deep',
      severity: 'low',
      message: `folder nesting deeper than ${s.maxDepth} levels; not entered`,
      location: { file: childRel },
    });
    return;
  }
  // A Python virtualenv under any name (by its whole layout): its site-packages is
  // skipped, everything else in it (files planted beside the layout, bin/) is walked.
  if (parent.venv === undefined && !keepIt && (await isVirtualenv(abs))) {
    s.result.findings.push({
      code: 'virtualenv-skipped',
      severity: 'low',
      message: 'a Python virtualenv (pyvenv.cfg, interpreter, site-packages); its layout not scanned, other files in it are',
      location: { file: childRel },
    });
    s.queue.push({ rel: childRel, depth: parent.depth + 1, venv: childRel });
    return;
  }
  const next: QueuedDir = { rel: childRel, depth: parent.depth + 1 };
  if (parent.venv !== undefined) next.venv = parent.venv;
  s.queue.push(next);
}

/** A regular file: recorded with its size, up to the file-count bound. */
async function visitFile(s: WalkState, childRel: string, abs: string): Promise<void> {
  if (s.result.files.length >= s.maxFiles) {
    s.truncated = true;
    return;
  }
  let size = 0;
  try {
    size = (await lstat(abs)).size;
  } catch (err) {
    s.result.findings.push({
      code: 'unreadable-path',
      severity: 'low',
      message: `cannot stat file: ${describeErrno((err as NodeJS.ErrnoException).code ?? String(err))}`,
      location: { file: childRel },
    });
    return;
  }
  s.result.files.push({ rel: childRel, abs, size });
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
