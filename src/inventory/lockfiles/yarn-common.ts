import { createRequire } from 'node:module';
import { AibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import { lazy } from '../../util/lazy.js';
import { hashesFromSri } from './integrity.js';
import { type PackageManifest, packageManifest, readJsonManifest, readSiblingText } from './manifest.js';
import type { Level } from './scopes.js';
import type { ParseContext } from './types.js';
import { Warnings } from './warnings.js';

const require = createRequire(import.meta.url);

/**
 * What yarn's classic and berry readers share: reading the file with yarn's own parser
 * (guarded against hostile input), line numbers of entries, package.json views (read through
 * ./manifest.ts), and the dependency kinds a manifest declares, which seed the kernel's scope
 * walk (./scopes.ts: yarn.lock has no dev flag).
 */

/**
 * Yarn's own reader for both formats. `@yarnpkg/parsers` is maintained by the yarn team and
 * is what yarn berry itself uses to read lockfiles: `parseSyml` reads berry lockfiles (a
 * YAML subset, through js-yaml) and classic v1 lockfiles (through its PEG grammar of the
 * legacy format, the one berry uses to migrate classic projects). One library for both
 * formats, instead of the unmaintained `@yarnpkg/lockfile` (2018) for classic plus a YAML
 * parser for berry. It is loaded lazily: builds without a yarn.lock do not pay for it.
 */
type SymlParser = (text: string) => Record<string, unknown>;
const parsers = lazy(() => require('@yarnpkg/parsers') as typeof import('@yarnpkg/parsers'));

/** Deepest indentation yarn writes is 6 spaces (dependenciesMeta → name → flag); allow slack. */
const MAX_INDENT = 40;
/** Flow collections (`[...]`, `{...}`): yarn writes at most `[]`; deeper input is hostile. */
const MAX_FLOW_DEPTH = 16;
/**
 * Bound on dependency specs visited while resolving edges. YAML aliases can make one
 * `dependencies` map appear under every entry; without a bound that is quadratic.
 */
export const MAX_EDGE_VISITS = 5_000_000;

export const CLASSIC_HEADER = /^(#.*\r?\n)*?#\s+yarn\s+lockfile\s+v1\r?\n/i;

/**
 * Parse yarn.lock text into its top-level mapping. Nesting is bounded before the recursive
 * parsers see the text, and any failure becomes AibomError('INPUT') naming the line.
 * `lineOffset` is subtracted from reported lines (when a header was prepended).
 */
export async function parseYarnText(text: string, path: string, lineOffset = 0): Promise<Record<string, unknown>> {
  guardNesting(text, path, lineOffset);
  const parse = parsers().parseSyml as SymlParser;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const { line, reason } = describeParseError(err);
    const where = line !== undefined ? `line ${Math.max(1, line - lineOffset)}: ` : '';
    throw new AibomError('INPUT', `${where}not a valid yarn.lock: ${reason}`, { file: path, cause: err });
  }
  if (!isObject(doc)) throw new AibomError('INPUT', 'not a yarn lockfile: top level is not a mapping', { file: path });
  return doc;
}

function describeParseError(err: unknown): { line?: number; reason: string } {
  if (err instanceof RangeError) return { reason: 'the file nests too deeply' };
  const e = err as { message?: unknown; location?: { start?: { line?: unknown } }; mark?: { line?: unknown }; reason?: unknown };
  let line: number | undefined;
  if (typeof e.location?.start?.line === 'number') line = e.location.start.line; // PEG (classic)
  else if (typeof e.mark?.line === 'number') line = e.mark.line + 1; // js-yaml (berry), 0-based
  let reason = typeof e.reason === 'string' ? e.reason : typeof e.message === 'string' ? e.message : String(err);
  reason = reason.split('\n')[0] ?? reason;
  if (reason.length > 200) reason = `${reason.slice(0, 200)}…`;
  return line === undefined ? { reason } : { line, reason };
}

/** Linear scan: indentation depth and flow-collection depth (outside quoted strings). */
function guardNesting(text: string, path: string, lineOffset: number): void {
  const n = text.length;
  let line = 1;
  let atLineStart = true;
  let indent = 0;
  let flow = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      line++;
      atLineStart = true;
      indent = 0;
      continue;
    }
    if (atLineStart) {
      if (c === 32 /* space */) {
        if (++indent > MAX_INDENT) {
          throw new AibomError('INPUT', `line ${line - lineOffset}: indented deeper than a yarn.lock ever is`, { file: path });
        }
        continue;
      }
      atLineStart = false;
      if (c === 35 /* # */) {
        // a comment: skip to the end of the line
        while (i + 1 < n && text.charCodeAt(i + 1) !== 10) i++;
        continue;
      }
    }
    if (c === 34 /* " */) {
      // a double-quoted string, with backslash escapes; never spans lines in a yarn.lock
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34 || d === 10) break;
        else i++;
      }
      if (i < n && text.charCodeAt(i) === 10) i--; // let the newline be counted
      continue;
    }
    if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++flow > MAX_FLOW_DEPTH) {
        throw new AibomError('INPUT', `line ${line - lineOffset}: nests deeper than a yarn.lock ever does`, { file: path });
      }
    } else if ((c === 93 /* ] */ || c === 125) /* } */ && flow > 0) flow--;
  }
}

/**
 * 1-based line of every top-level key, by descriptor. Yarn writes entry keys at column 0,
 * ending with ':', several descriptors separated by ', ' (classic quotes each one, berry
 * quotes the whole list). Linear in the text. A descriptor under two keys is refused: yarn
 * writes each once, and its parser keeps the last, so a second entry would silently replace
 * the first (another source, no hash).
 */
export function keyLines(text: string, path: string, lineOffset = 0): Map<string, number> {
  const out = new Map<string, number>();
  let start = 0;
  let line = 1;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    const c = text.charCodeAt(start);
    if (c !== 32 && c !== 9 && c !== 35 && c !== 10 && c !== 13) {
      const key = keyOfLine(text.slice(start, end));
      if (key !== undefined) {
        for (const d of splitDescriptors(key)) {
          const first = out.get(d);
          if (first !== undefined) {
            throw new AibomError('INPUT', `line ${line - lineOffset}: entry "${d.slice(0, 200)}" appears twice (first on line ${first}): not a lockfile yarn wrote`, { file: path });
          }
          out.set(d, line - lineOffset);
        }
      }
    }
    start = end + 1;
    line++;
  }
  return out;
}

/**
 * The key of an unindented `key:` or `key: value` line. Berry quotes the whole key list;
 * classic quotes each descriptor that needs it and leaves the rest bare (bare ones have no ':').
 */
function keyOfLine(raw: string): string | undefined {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.startsWith('"') && !/^"[^"]*",/.test(line)) {
    const close = line.indexOf('"', 1);
    return close > 0 && line.charCodeAt(close + 1) === 58 /* : */ ? line.slice(0, close + 1) : undefined;
  }
  const trimmed = line.trimEnd();
  if (trimmed.endsWith(':')) return trimmed.slice(0, -1);
  const colon = line.indexOf(': ');
  return colon > 0 ? line.slice(0, colon) : undefined;
}

/** `"a@^1", "a@^2"` (classic) or `"a@npm:^1, a@npm:^2"` (berry) → descriptors. */
export function splitDescriptors(key: string): string[] {
  const out: string[] = [];
  for (let part of key.split(',')) {
    part = part.trim();
    if (part.startsWith('"')) part = part.slice(1);
    if (part.endsWith('"')) part = part.slice(0, -1);
    part = part.replace(/\\"/g, '"').trim();
    if (part) out.push(part);
  }
  return out;
}

/** `@scope/name@range` → ['@scope/name', 'range']; the range may itself contain '@'. */
export function splitDescriptor(descriptor: string): [string, string] | undefined {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return [descriptor.slice(0, at), descriptor.slice(at + 1)];
}

// ---------------------------------------------------------------------------------------
// package.json manifests

export type Manifest = PackageManifest;

/**
 * Read a package.json relative to the lockfile's folder. Missing → undefined; unreadable
 * JSON → undefined with a warning (the lockfile itself is still read).
 */
export async function readManifest(
  ctx: ParseContext,
  relPath: string,
  warnings: Warnings | undefined,
): Promise<Manifest | undefined> {
  const doc = await readJsonManifest(ctx, relPath, { warnings, maxDepth: 64, skipOversized: false });
  return doc && packageManifest(doc);
}

/**
 * Yarn catalogs (yarn 4.10+): `.yarnrc.yml` beside the lockfile maps names to ranges under
 * `catalog` (what `catalog:` means) and `catalogs.<name>` (`catalog:<name>`); a dependency
 * written `"pkg": "catalog:"` is locked under the range the catalog gives. Read with yarn's
 * own parser; an unreadable file is a warning and no catalogs.
 */
export async function readYarnCatalogs(ctx: ParseContext, warnings: Warnings): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const text = await readSiblingText(ctx, '.yarnrc.yml');
  if (text === undefined || !/^catalogs?:/m.test(text)) return out;
  let doc: Record<string, unknown>;
  try {
    doc = await parseYarnText(text, '.yarnrc.yml');
  } catch {
    warnings.add('.yarnrc.yml is not valid YAML: its catalogs were not read');
    return out;
  }
  const add = (catalog: string, v: unknown) => {
    const m = new Map<string, string>();
    for (const [name, range] of stringMap(v)) m.set(name, range);
    if (m.size) out.set(catalog, m);
  };
  add('', doc.catalog);
  if (isObject(doc.catalogs)) for (const [catalog, v] of Object.entries(doc.catalogs)) if (catalog !== '') add(catalog, v);
  return out;
}

/**
 * `resolutions` by the package name they force: `name`, `**\/name`, `parent/name`,
 * `parent/**\/name` and `name@range` (only that range) all force `name`.
 */
export function forcedRanges(manifest: Manifest | undefined): Map<string, Array<{ range?: string; to: string }>> {
  const out = new Map<string, Array<{ range?: string; to: string }>>();
  for (const [key, to] of Object.entries(manifest?.resolutions ?? {})) {
    const m = /(?:^|\/)((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?$/.exec(key);
    if (!m) continue;
    let list = out.get(m[1]!);
    if (!list) out.set(m[1]!, (list = []));
    list.push(m[2] === undefined ? { to } : { range: m[2], to });
  }
  return out;
}

/**
 * How a manifest declares a dependency: 2 required (dependencies), 1 optional
 * (optionalDependencies), 0 development only (devDependencies). The strongest wins
 * (a name in both dependencies and devDependencies is required). Undefined when the
 * manifest does not declare it (then the caller keeps it required).
 */
export function declaredLevel(m: Manifest, name: string): Level | undefined {
  if (Object.hasOwn(m.dependencies, name)) return 2;
  if (Object.hasOwn(m.optionalDependencies, name)) return 1;
  if (Object.hasOwn(m.devDependencies, name)) return 0;
  return undefined;
}

/** A workspace folder inside the project: relative, no '..', no absolute path. */
export function safeWorkspaceDir(dir: string): string | undefined {
  const d = dir.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/(?<!\/)\/+$/, '');
  if (d === '' || d === '.') return '';
  if (d.startsWith('/') || /^[A-Za-z]:/.test(d) || d.split('/').some((s) => s === '..' || s === '')) return undefined;
  return d;
}

/**
 * Yarn ends every yarn.lock with a newline, but the files found in repositories have often
 * lost it (editors and formatters that strip the final newline, files pasted into test
 * suites), so a missing newline alone proves nothing. Text that stops mid-line was cut short
 * (an interrupted write or copy) when its last line is not one yarn could have written
 * whole: a field whose quoted value is closed, an integrity or checksum of the full length,
 * `linkType: hard|soft`. Anything else is named as truncated before parsing, since a cut
 * line may still parse (a shortened version or range).
 */
export function assertComplete(text: string, path: string, lineOffset = 0): void {
  if (text.length === 0 || text.endsWith('\n')) return;
  const lastBreak = text.lastIndexOf('\n');
  const last = text.slice(lastBreak + 1).replace(/\r$/, '');
  if (isCompleteLastLine(last)) return;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
  throw new AibomError(
    'INPUT',
    lastBreak < 0
      ? 'not a yarn.lock: one line without an entry'
      : `line ${line - lineOffset}: the file ends mid-line, without the final newline yarn always writes: it is truncated`,
    { file: path },
  );
}

/** Could yarn have written this (indented) line whole as the last line of an entry? */
function isCompleteLastLine(line: string): boolean {
  if (!/^[ \t]+\S/.test(line) || line.length > 10_000) return false;
  const body = line.trim();
  // berry: every entry ends with its link type; checksums are hex of a fixed length
  if (/^linkType: (hard|soft)$/.test(body)) return true;
  const checksum = /^checksum: (?:[0-9a-z]+\/)?([0-9a-f]+)$/.exec(body);
  if (checksum) return checksum[1]!.length === 128;
  // classic: `integrity sha512-…` (quoted or not): every part a digest of its full length
  const integrity = /^"?integrity"? "?([^"\s][^"]*?)"?$/.exec(body);
  if (integrity) {
    const parts = integrity[1]!.trim().split(/\s+/);
    return hashesFromSri(integrity[1]).length === parts.length;
  }
  // a key (quoted or bare) and a closed double-quoted value: version, resolved, a dependency
  return /^(?:"(?:[^"\\]|\\.)+"|[^\s"]+):? "(?:[^"\\]|\\.)*"$/.test(body);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringMap(v: unknown): Array<[string, string]> {
  if (!isObject(v)) return [];
  const out: Array<[string, string]> = [];
  for (const [k, r] of Object.entries(v)) if (typeof r === 'string') out.push([k, r]);
  return out;
}

/**
 * A bound on work, spent per dependency spec resolved; throws TOO_LARGE when spent.
 * Without YAML aliases every dependency spec of a yarn.lock is a line of its own, so
 * `forText` allows a few visits per line: an alias that repeats one big `dependencies` map
 * under thousands of entries (quadratic work from a small file) runs out at once.
 */
export class EdgeBudget {
  private left: number;
  private constructor(
    private readonly path: string,
    private readonly limit: number,
    private readonly why: string,
  ) {
    this.left = limit;
  }
  static forText(path: string, text: string): EdgeBudget {
    let lines = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    return new EdgeBudget(
      path,
      Math.max(100_000, 4 * lines),
      `for a file of ${lines.toLocaleString('en')} lines (YAML aliases repeating a dependency map?)`,
    );
  }
  /** Peer resolution visits each peer's dependents: bounded by a constant. */
  static forPeers(path: string): EdgeBudget {
    return new EdgeBudget(path, MAX_EDGE_VISITS, 'while resolving peer dependencies');
  }
  spend(n = 1): void {
    this.left -= n;
    if (this.left < 0) {
      throw new AibomError(
        'TOO_LARGE',
        `more than ${this.limit.toLocaleString('en')} dependency edges to resolve ${this.why}`,
        { file: this.path },
      );
    }
  }
}

/** yarn's warnings: uncapped (each is a fact about the whole file); repeated kinds are capped. */
export function yarnWarnings(): Warnings {
  return new Warnings({ cap: Number.POSITIVE_INFINITY });
}
