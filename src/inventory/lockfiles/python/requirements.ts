import { posix } from 'node:path';
import type { Hash, Property, Provenance } from '../../types.js';
import { NS, prop } from '../../types.js';
import { hashFromHex, pushUnique } from '../integrity.js';
import { isCommitSha } from '../source.js';
import type { LockfileParser, LockPackage, ParseContext, ParsedLockfile } from '../types.js';
import {
  directorySource,
  editableProperty,
  extrasProperty,
  fileSource,
  gitSource,
  isDistFile,
  MAX_VERSIONS_PER_NAME,
  markersProperty,
  normalizePypiName,
  parsePrefixedHash,
  stripBom,
  stripUserinfo,
  urlSource,
  versionFromFilename,
  pythonWarnings,
  type Warnings,
} from './common.js';
import { exactVersion, fragmentHashes, isProjectName, isUrl, isVcsUrl, parseRequirement, type SpecClause } from './pep508.js';

/**
 * pip requirements files: `requirements.txt`, `requirements-dev.txt`, `dev-requirements.txt`,
 * `requirements_test.txt`, ... (any `*.txt` whose name has a `requirements` word). Files in a
 * `requirements/` folder (`requirements/base.txt`) are read when a matched file includes them
 * with `-r` (the parser contract matches by file name alone, and a bare `base.txt` is too
 * common a name to claim).
 *
 * Read the way pip reads them: `\` line continuations, comments, per-line options (`--hash`),
 * `-r`/`-c` includes (relative to the including file, cycles and depth guarded, never outside
 * the scanned folder), `-e` editables, VCS and direct URLs, local paths, environment markers,
 * extras. pip-compile's `# via` annotations become the dependency edges.
 */
export const requirementsParser: LockfileParser = {
  kind: 'requirements',
  matches: (base) => REQUIREMENTS_NAME.test(base),
  parse(text, path, ctx) {
    return parseRequirementsFile(text, path, ctx);
  },
};

const REQUIREMENTS_NAME = /^(?:[\w.-]*[-_.])?requirements(?:[-_.][\w.-]*)?\.txt$/i;

/** File names (word parts) that mark a requirements file as development-only. */
const DEV_WORDS = new Set(['dev', 'devel', 'develop', 'development', 'test', 'tests', 'testing', 'lint', 'linting', 'docs', 'doc', 'typing']);

const MAX_INCLUDE_DEPTH = 16;
const MAX_INCLUDED_FILES = 256;

export function isDevRequirementsFile(file: string): boolean {
  const words = posix.basename(file).toLowerCase().replace(/\.txt$/, '').split(/[-_.]+/);
  return words.some((w) => DEV_WORDS.has(w));
}

interface Entry {
  name: string;
  norm: string;
  extras: Set<string>;
  specifiers: SpecClause[];
  specTexts: string[];
  version?: string;
  marker?: string;
  hashes: Hash[];
  /** Direct URL / VCS URL / path, credentials removed. */
  url?: string;
  kind: 'registry' | 'vcs' | 'url' | 'file' | 'directory';
  vcsRef?: string;
  editable: boolean;
  file: string;
  line: number;
  via: string[];
  dev: boolean;
  /** The file it is in carries pip-compile `# via` annotations. */
  compiled: boolean;
  constrainedBy?: string;
  /** The project itself (`-e .`): the root, not a component. */
  self: boolean;
}

interface Constraint {
  version?: string;
  hashes: Hash[];
  file: string;
}

interface State {
  entries: Entry[];
  constraints: Map<string, Constraint>;
  warnings: Warnings;
  /** Files already read (`<mode>:<root-relative path>`), so a file included twice is read once. */
  seen: Set<string>;
  /** Files being read right now (the include chain), to report cycles. */
  chain: string[];
  read: ParseContext['readSibling'];
  /** Folder of the top-level file, root-relative ('' for the root). */
  topDir: string;
  included: number;
  /** Requirement lines read, and ones that could not be read, over all files. */
  readable: number;
  unreadable: number;
}

async function parseRequirementsFile(text: string, path: string, ctx: ParseContext): Promise<ParsedLockfile> {
  const st: State = {
    entries: [],
    constraints: new Map(),
    warnings: pythonWarnings(),
    seen: new Set([`requirements:${posix.normalize(path)}`]),
    chain: [posix.normalize(path)],
    read: ctx.readSibling,
    topDir: posix.dirname(path) === '.' ? '' : posix.dirname(path),
    included: 0,
    readable: 0,
    unreadable: 0,
  };
  await readFileText(st, stripBom(text), posix.normalize(path), 'requirements', 0);
  return build(st, path);
}

/** Unreadable lines from which a file that is mostly unreadable is taken for no requirements file. */
const NOT_REQUIREMENTS_MIN_BAD = 10;

/** Read one requirements (or constraints) file's text into the state. */
async function readFileText(
  st: State,
  text: string,
  file: string,
  mode: 'requirements' | 'constraints',
  depth: number,
): Promise<void> {
  const dev = isDevRequirementsFile(file);
  const fileEntries: Entry[] = [];
  const readableBefore = st.readable;
  const unreadableBefore = st.unreadable;
  // This file's own warnings are held back until it is known to be a requirements file.
  const outerWarnings = st.warnings;
  st.warnings = pythonWarnings();
  let compiled = false;
  let last: Entry | undefined;
  let inVia = false;
  let buf: string[] = [];
  let start = 0;
  const lines = text.split(/\r?\n|\r/);

  // Includes are read after this file's own lines (pip reads them in place; the packages are
  // the same either way), which keeps the per-line work synchronous: fast on 10^5-line files.
  const includes: Array<{ target: string; line: number; mode: 'requirements' | 'constraints' }> = [];
  const flush = () => {
    if (!buf.length) return;
    const logical = buf.join('');
    buf = [];
    const cut = commentStart(logical);
    const body = (cut < 0 ? logical : logical.slice(0, cut)).trim();
    const comment = cut < 0 ? '' : logical.slice(cut).replace(/^\s*#/, '').trim();
    last = undefined;
    if (!body) return;
    const entry = readLine(st, body, file, start, mode, dev, includes);
    if (entry) {
      fileEntries.push(entry);
      st.entries.push(entry);
      last = entry;
      // pip-compile's "line" annotation style: "name==1.0  # via parent".
      const via = /^via\b\s*([\s\S]*)$/.exec(comment);
      if (via) {
        compiled = true;
        addVia(entry, via[1]!);
      }
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (/^\s*#/.test(raw)) {
      // A comment line ends a continuation (as in pip), then may annotate the entry above.
      flush();
      const c = raw.replace(/^\s*#/, '');
      const via = /^\s*via\b\s*([\s\S]*)$/.exec(c);
      if (via && last) {
        compiled = true;
        inVia = true;
        addVia(last, via[1]!);
      } else if (inVia && last && /^\s{2,}\S/.test(c)) {
        addVia(last, c.trim());
      } else {
        inVia = false;
      }
      continue;
    }
    inVia = false;
    const trimmedEnd = raw.trimEnd();
    if (!buf.length) start = i + 1;
    if (trimmedEnd.endsWith('\\')) {
      buf.push(trimmedEnd.slice(0, -1));
      continue;
    }
    buf.push(raw);
    flush();
  }
  flush();
  const own = st.warnings;
  st.warnings = outerWarnings;
  // pip refuses a whole file at its first unreadable line; aibom skips such lines. A file most
  // of whose many lines are not requirements is no requirements file (prose, notes, a
  // template under a requirements*.txt name): the few lines that happen to parse (a heading,
  // a one-word sentence) are not packages.
  const unreadable = st.unreadable - unreadableBefore;
  const readable = st.readable - readableBefore;
  if (unreadable >= NOT_REQUIREMENTS_MIN_BAD && unreadable > readable) {
    const dropped = new Set(fileEntries);
    st.entries = st.entries.filter((e) => !dropped.has(e));
    for (const [name, c] of [...st.constraints]) if (c.file === file) st.constraints.delete(name);
    st.warnings.add(
      `${file}: does not look like a pip requirements file (${unreadable} of ${unreadable + readable} requirement lines could not be read); no packages taken from it`,
    );
    return;
  }
  for (const w of own.done()) st.warnings.add(w);
  for (const e of fileEntries) e.compiled = compiled;
  for (const inc of includes) await include(st, inc.target, file, inc.line, inc.mode, depth);
}

/** Where a comment starts: '#' at the start or after whitespace (pip's COMMENT_RE). */
function commentStart(line: string): number {
  if (line.startsWith('#')) return 0;
  for (let i = line.indexOf('#'); i > 0; i = line.indexOf('#', i + 1)) {
    const c = line.charCodeAt(i - 1);
    if (c === 32 || c === 9) return i - 1;
  }
  return -1;
}

function addVia(e: Entry, text: string): void {
  for (const part of text.split(',')) {
    const v = part.trim().replace(/(?<!\s)\s+\(line \d+\)$/, '');
    if (v) e.via.push(v);
  }
}

/** Options that take a value, and whether we act on them. */
const OPTIONS_WITH_VALUE = new Map<string, string>([
  ['-r', 'requirement'],
  ['--requirement', 'requirement'],
  ['-c', 'constraint'],
  ['--constraint', 'constraint'],
  ['-e', 'editable'],
  ['--editable', 'editable'],
  ['-i', 'ignore'],
  ['--index-url', 'ignore'],
  ['--extra-index-url', 'ignore'],
  ['-f', 'ignore'],
  ['--find-links', 'ignore'],
  ['--trusted-host', 'ignore'],
  ['--only-binary', 'ignore'],
  ['--no-binary', 'ignore'],
  ['--use-feature', 'ignore'],
  ['--progress-bar', 'ignore'],
  ['--global-option', 'ignore'],
  ['--config-settings', 'ignore'],
  ['-C', 'ignore'],
]);
const FLAG_OPTIONS = new Set(['--no-index', '--pre', '--prefer-binary', '--require-hashes']);

function readLine(
  st: State,
  body: string,
  file: string,
  line: number,
  mode: 'requirements' | 'constraints',
  dev: boolean,
  includes: Array<{ target: string; line: number; mode: 'requirements' | 'constraints' }>,
): Entry | undefined {
  if (body.startsWith('-')) {
    const [opt, value] = splitOption(body);
    const what = OPTIONS_WITH_VALUE.get(opt);
    if (FLAG_OPTIONS.has(opt)) return undefined;
    if (!what) {
      st.warnings.add(`${file}:${line}: unknown option ${JSON.stringify(opt.slice(0, 40))} ignored`);
      return undefined;
    }
    if (what === 'ignore') return undefined; // index URLs and the like: never recorded (credentials)
    if (!value) {
      st.warnings.add(`${file}:${line}: option ${opt} without a value`);
      return undefined;
    }
    if (what === 'requirement' || what === 'constraint') {
      includes.push({ target: value, line, mode: what === 'constraint' ? 'constraints' : mode });
      return undefined;
    }
    // -e <url or path>
    const entry = toEntry(st, value, [], file, line, dev, true);
    if (entry && mode === 'constraints') return undefined;
    return entry;
  }
  const { req, options } = splitRequirementOptions(body);
  const entry = toEntry(st, req, options, file, line, dev, false);
  if (!entry) return undefined;
  if (mode === 'constraints') {
    addConstraint(st, entry);
    return undefined;
  }
  return entry;
}

/** "-r file", "-rfile", "--requirement=file", "--requirement file". */
function splitOption(body: string): [string, string] {
  // `[\s\S]`, not `.`, in these patterns: `.` stops at a lone CR, and the failed match then
  // backtracks quadratically over a long line (ReDoS).
  const eq = /^(--[A-Za-z-]+)=([\s\S]*)$/.exec(body);
  if (eq) return [eq[1]!, unquote(eq[2]!.trim())];
  const long = /^(--[A-Za-z-]+)(?:\s+([\s\S]*))?$/.exec(body);
  if (long) return [long[1]!, unquote((long[2] ?? '').trim())];
  const short = /^(-[A-Za-z])\s*([\s\S]*)$/.exec(body);
  if (short) return [short[1]!, unquote(short[2]!.trim())];
  return [body.split(/\s/, 1)[0]!, ''];
}

function unquote(s: string): string {
  return /^(['"]).*\1$/.test(s) ? s.slice(1, -1) : s;
}

/**
 * pip splits a requirement line at the first space-separated token that starts with '-':
 * what comes before is the requirement, the rest are per-requirement options (--hash, ...).
 */
function splitRequirementOptions(body: string): { req: string; options: string[] } {
  const tokens = body.split(/[ \t]+/);
  let i = 0;
  while (i < tokens.length && !tokens[i]!.startsWith('-')) i++;
  return { req: tokens.slice(0, i).join(' '), options: tokens.slice(i) };
}

function optionHashes(st: State, options: string[], file: string, line: number): Hash[] {
  const out: Hash[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    let value: string | undefined;
    if (o.startsWith('--hash=')) value = o.slice('--hash='.length);
    else if (o === '--hash') value = options[++i];
    else if (/^(--global-option|--config-settings|-C)$/.test(o)) {
      i++;
      continue;
    } else if (/^(--global-option|--config-settings)=/.test(o)) continue;
    else {
      st.warnings.add(`${file}:${line}: unknown requirement option ${JSON.stringify(o.slice(0, 40))} ignored`);
      continue;
    }
    const h = value ? parsePrefixedHash(value, ':') : undefined;
    if (h) pushUnique(out, h);
    else st.warnings.add(`${file}:${line}: unreadable --hash value ${JSON.stringify((value ?? '').slice(0, 80))}`);
  }
  return out;
}

function toEntry(
  st: State,
  req: string,
  options: string[],
  file: string,
  line: number,
  dev: boolean,
  editable: boolean,
): Entry | undefined {
  const parsed = parseRequirement(req);
  if (typeof parsed === 'string') {
    st.unreadable++;
    st.warnings.add(`${file}:${line}: ${parsed}; line skipped`);
    return undefined;
  }
  const hashes = optionHashes(st, options, file, line);
  const entry: Entry = {
    name: parsed.name ?? '',
    norm: '',
    extras: new Set(parsed.extras),
    specifiers: parsed.specifiers,
    specTexts: parsed.specText ? [parsed.specText] : [],
    hashes,
    kind: 'registry',
    editable,
    file,
    line,
    via: [],
    dev,
    compiled: false,
    self: false,
  };
  if (parsed.marker) entry.marker = parsed.marker;
  const version = exactVersion(parsed.specifiers);
  if (version) entry.version = version;
  if (parsed.url !== undefined) {
    const raw = parsed.url;
    for (const fh of fragmentHashes(raw)) {
      const h = hashFromHex(fh.alg, fh.hex);
      if (h) pushUnique(entry.hashes, h);
    }
    const noFragment = raw.replace(/#[\s\S]*$/, '');
    if (isVcsUrl(raw)) {
      entry.kind = 'vcs';
      entry.url = stripUserinfo(noFragment);
      entry.vcsRef = vcsRef(noFragment);
    } else if (isUrl(raw) && !/^file:/i.test(raw)) {
      entry.kind = 'url';
      entry.url = stripUserinfo(noFragment);
    } else {
      const local = /^file:/i.test(raw) ? noFragment.replace(/^file:(\/\/(localhost)?)?/i, '') : noFragment;
      const p = local.replace(/\\/g, '/');
      entry.url = p;
      entry.kind = isDistFile(p) ? 'file' : 'directory';
      const n = posix.normalize(p || '.').replace(/(?<!\/)\/+$/, '');
      if (entry.kind === 'directory' && !parsed.name && (n === '.' || n === '')) entry.self = true;
    }
    if (!entry.name) {
      const fromFile = versionFromFilename(noFragment);
      // Distribution file names escape the project name ("vendored_parser"): use the PEP 503 form.
      if (fromFile && (entry.kind === 'url' || entry.kind === 'file')) entry.name = normalizePypiName(fromFile.name);
      else if (entry.kind === 'directory' && !entry.self) {
        // A folder's name stands in for the project's only when it could be one.
        const base = posix.basename(posix.normalize(entry.url ?? ''));
        if (isProjectName(base)) entry.name = base;
      }
    }
    if (!entry.version && (entry.kind === 'url' || entry.kind === 'file') && entry.name) {
      const v = versionFromFilename(noFragment, entry.name);
      if (v) entry.version = v.version;
    }
  }
  if (entry.self) {
    st.readable++;
    return entry;
  }
  if (!entry.name || entry.name === '.' || entry.name === '..') {
    st.unreadable++;
    st.warnings.add(`${file}:${line}: cannot tell the package name of ${JSON.stringify(shorten(stripUserinfo(req)))}; add "#egg=<name>" or use "name @ url"`);
    return undefined;
  }
  entry.norm = normalizePypiName(entry.name);
  st.readable++;
  return entry;
}

/** The revision in a pip VCS URL: after the last '@' of the path (`git+https://h/o/r.git@v1`). */
function vcsRef(url: string): string | undefined {
  const m = /^[A-Za-z0-9+.-]+:\/\/[^/]*(\/.*)$/.exec(url);
  const path = m ? m[1]! : url;
  const at = path.lastIndexOf('@');
  if (at < 0) return undefined;
  const ref = path.slice(at + 1);
  return ref && !ref.includes('/') ? ref : undefined;
}

async function include(
  st: State,
  target: string,
  from: string,
  line: number,
  mode: 'requirements' | 'constraints',
  depth: number,
): Promise<void> {
  const label = mode === 'constraints' ? 'constraints file' : 'included file';
  if (isUrl(target)) {
    st.warnings.add(`${from}:${line}: ${label} ${JSON.stringify(stripUserinfo(target))} is a URL; not fetched, its packages are missing`);
    return;
  }
  const t = target.replace(/\\/g, '/');
  // Relative to the including file (as pip resolves -r/-c), then relative to the scanned root.
  const rootRel = posix.normalize(posix.join(posix.dirname(from), t));
  if (t.startsWith('/') || /^[A-Za-z]:\//.test(t) || rootRel === '..' || rootRel.startsWith('../')) {
    st.warnings.add(`${from}:${line}: ${label} ${JSON.stringify(target)} is outside the scanned folder; not read`);
    return;
  }
  if (st.chain.includes(rootRel)) {
    st.warnings.add(`${from}:${line}: include cycle ${[...st.chain.slice(st.chain.indexOf(rootRel)), rootRel].join(' → ')}; not followed again`);
    return;
  }
  // Already read through another include (same mode): same packages, nothing new.
  if (st.seen.has(`${mode}:${rootRel}`)) return;
  if (depth + 1 > MAX_INCLUDE_DEPTH) {
    st.warnings.add(`${from}:${line}: includes nest deeper than ${MAX_INCLUDE_DEPTH} files; ${JSON.stringify(target)} not read`);
    return;
  }
  if (++st.included > MAX_INCLUDED_FILES) {
    st.warnings.add(`${from}:${line}: more than ${MAX_INCLUDED_FILES} included files; ${JSON.stringify(target)} not read`);
    return;
  }
  if (!st.read) {
    st.warnings.add(`${from}:${line}: ${label} ${JSON.stringify(target)} cannot be read here; its packages are missing`);
    return;
  }
  const fromTop = posix.relative(st.topDir || '.', rootRel) || '.';
  const text = await st.read(fromTop);
  if (text === undefined) {
    st.warnings.add(`${from}:${line}: ${label} ${JSON.stringify(target)} not found; its packages are missing`);
    return;
  }
  st.seen.add(`${mode}:${rootRel}`);
  st.chain.push(rootRel);
  try {
    await readFileText(st, stripBom(text), rootRel, mode, depth + 1);
  } finally {
    st.chain.pop();
  }
}

function addConstraint(st: State, e: Entry): void {
  if (e.self || !e.norm) return;
  const prev = st.constraints.get(e.norm);
  if (prev) {
    for (const h of e.hashes) pushUnique(prev.hashes, h);
    if (!prev.version && e.version) prev.version = e.version;
    return;
  }
  const c: Constraint = { hashes: [...e.hashes], file: e.file };
  if (e.version && e.kind === 'registry') c.version = e.version;
  st.constraints.set(e.norm, c);
}

/** Merge entries for one name (pip combines them; the new resolver applies every specifier). */
function fold(st: State, list: Entry[]): Entry[] {
  if (list.length === 1) return list;
  const registry = list.filter((e) => e.kind === 'registry');
  const other = list.filter((e) => e.kind !== 'registry');
  const out: Entry[] = [...other];
  if (registry.length) {
    const byVersion = new Map<string, Entry>();
    const loose: Entry[] = [];
    for (const e of registry) {
      if (!e.version) {
        loose.push(e);
        continue;
      }
      const prev = byVersion.get(e.version);
      if (prev) mergeInto(prev, e);
      else byVersion.set(e.version, e);
    }
    const exact = [...byVersion.values()];
    if (exact.length > 1 && exact.filter((e) => !e.marker).length > 1) {
      st.warnings.add(
        `${exact[0]!.name}: pinned to ${exact.length} versions (${exact
          .slice(0, 5)
          .map((e) => e.version)
          .join(', ')}${exact.length > 5 ? ', ...' : ''}) without markers to choose between them`,
      );
    }
    if (exact.length) {
      for (const l of loose) mergeInto(exact[0]!, l);
      out.push(...exact);
    } else {
      const first = loose[0]!;
      for (const l of loose.slice(1)) mergeInto(first, l);
      out.push(first);
    }
  }
  // A URL/VCS/path entry and registry entries of the same name: the URL is what pip installs.
  if (other.length && out.length > other.length) {
    const target = other[0]!;
    for (const e of out.slice(other.length)) mergeInto(target, e);
    return other;
  }
  return out;
}

function mergeInto(into: Entry, e: Entry): void {
  for (const x of e.extras) into.extras.add(x);
  for (const h of e.hashes) pushUnique(into.hashes, h);
  for (const v of e.via) if (!into.via.includes(v)) into.via.push(v);
  into.specTexts.push(...e.specTexts.filter((s) => !into.specTexts.includes(s)));
  into.dev = into.dev && e.dev;
  into.editable = into.editable || e.editable;
  if (e.marker !== into.marker) {
    // Either entry applies: the package is installed when any of the markers holds.
    into.marker = !into.marker || !e.marker ? undefined : `(${into.marker}) or (${e.marker})`;
  }
}

function build(st: State, path: string): ParsedLockfile {
  const byName = new Map<string, Entry[]>();
  for (const e of st.entries) {
    if (e.self) continue;
    const list = byName.get(e.norm);
    if (list) list.push(e);
    else byName.set(e.norm, [e]);
  }
  const entries: Entry[] = [];
  for (const list of byName.values()) entries.push(...fold(st, list));

  // Constraints pin what the requirements leave open (pip applies them to the resolution).
  for (const e of entries) {
    const c = st.constraints.get(e.norm);
    if (!c || e.kind !== 'registry') continue;
    if (c.version && e.version && c.version !== e.version) {
      st.warnings.add(`${e.name}: pinned to ${e.version} but constrained to ${c.version} by ${c.file}`);
    } else if (c.version && !e.version) {
      e.version = c.version;
      e.constrainedBy = c.file;
    }
    if (!e.hashes.length) for (const h of c.hashes) pushUnique(e.hashes, h);
  }

  const keyOf = (e: Entry) => (e.kind === 'registry' && e.version ? `${e.norm}@${e.version}` : e.norm);
  const keysByName = new Map<string, string[]>();
  for (const e of entries) {
    const list = keysByName.get(e.norm);
    if (list) list.push(keyOf(e));
    else keysByName.set(e.norm, [keyOf(e)]);
  }

  const topFile = posix.normalize(path);
  const packages: LockPackage[] = [];
  const rootDeps: string[] = [];
  const missingParents = new Set<string>();
  const hasSelf = st.entries.some((e) => e.self);
  const edges = new Map<string, Set<string>>();
  for (const e of entries) {
    const key = keyOf(e);
    let direct = !e.compiled || e.via.length === 0;
    for (const v of e.via) {
      if (v.startsWith('-') || (v.endsWith(')') && v.lastIndexOf('(') > v.lastIndexOf(')', v.length - 2))) {
        // "-r requirements.in", "-c constraints.txt", "myproject (pyproject.toml)": the project's own input.
        direct = true;
        continue;
      }
      const parent = normalizePypiName(v.replace(/\[[\s\S]*$/, '').trim());
      const parents = keysByName.get(parent);
      if (parents && parents.length > MAX_VERSIONS_PER_NAME) {
        if (!missingParents.has(parent)) st.warnings.add(`"${v}" is pinned ${parents.length} times; edges from it are not resolved`);
        missingParents.add(parent);
        continue;
      }
      if (!parents) {
        // With the project itself installed (`-e .`), "via <project>" names it: no news.
        if (!missingParents.has(parent) && !hasSelf) {
          st.warnings.add(`${e.name} is annotated "via ${v}", which is not in the file`);
        }
        missingParents.add(parent);
        direct = true;
        continue;
      }
      for (const p of parents) {
        if (p === key) continue;
        let set = edges.get(p);
        if (!set) edges.set(p, (set = new Set()));
        set.add(key);
      }
    }
    if (direct) rootDeps.push(key);
  }
  for (const e of entries) {
    const key = keyOf(e);
    const pkg: LockPackage = {
      key,
      ecosystem: 'pypi',
      name: e.name,
      hashes: e.hashes,
      source: provenanceOf(e),
      dependencies: [...(edges.get(key) ?? [])],
      line: e.line,
    };
    if (e.version) pkg.version = e.version;
    if (e.dev) pkg.dev = true;
    if (e.file !== topFile) pkg.file = e.file;
    const props: Property[] = [];
    const m = markersProperty(e.marker);
    if (m) props.push(m);
    const x = extrasProperty(e.extras);
    if (x) props.push(x);
    if (e.editable) props.push(editableProperty());
    if (e.constrainedBy) props.push(prop(`${NS}pypi:constrained-by`, e.constrainedBy));
    if (props.length) pkg.properties = props;
    packages.push(pkg);
  }
  return { path, kind: 'requirements', root: { dependencies: rootDeps }, packages, warnings: st.warnings.done() };
}

function provenanceOf(e: Entry): Provenance {
  switch (e.kind) {
    case 'vcs': {
      const url = e.url ?? '';
      if (/^git\+/i.test(url)) return gitSource(url, e.vcsRef, isCommitSha(e.vcsRef) ? e.vcsRef : undefined);
      // hg/svn/bzr: a 40-hex hg changeset is immutable; anything else can move.
      if (/^hg\+/i.test(url) && isCommitSha(e.vcsRef)) return { source: 'url', url, pinned: true };
      return {
        source: 'url',
        url,
        pinned: false,
        unpinnedReason: e.vcsRef
          ? `version-control dependency pinned to "${e.vcsRef}", not an immutable revision`
          : 'version-control dependency without a revision',
      };
    }
    case 'url':
      return urlSource(e.url ?? '', e.hashes);
    case 'file':
      return fileSource(e.url ?? '', e.hashes);
    case 'directory':
      return directorySource(e.url ?? '');
    default: {
      if (e.version) return { source: 'registry', pinned: true };
      const spec = e.specTexts.join(',');
      return {
        source: 'registry',
        pinned: false,
        unpinnedReason: spec
          ? `version range ${JSON.stringify(spec)} instead of an exact version`
          : 'no version specified: any version may be installed',
      };
    }
  }
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
