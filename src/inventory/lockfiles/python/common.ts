import { parse as parseToml, TomlError } from 'smol-toml';
import { AibomError } from '../../../errors.js';
import { isObject } from '../../../util/json.js';
import { normalizePypiName } from '../../purl.js';
import type { Hash, Property, Provenance } from '../../types.js';
import { NS, prop } from '../../types.js';
import { hashFromPrefixed, pushUnique } from '../integrity.js';
import type { ScopeRules } from '../scopes.js';
import { isCommitSha, pinnedByDigest, registryProvenance } from '../source.js';
import { Warnings } from '../warnings.js';

/** Helpers shared by the Python lockfile parsers (requirements, poetry, uv, pipenv). */

export { normalizePypiName };

/**
 * Real lockfiles lock a name at a handful of versions at most (one per Python/platform fork).
 * A name locked more often than this is hostile or broken: edges to it are not resolved, so a
 * crafted file cannot make the graph quadratic.
 */
export const MAX_VERSIONS_PER_NAME = 64;

/** Inline tables/arrays nested deeper than this are refused (smol-toml recurses on them). */
const MAX_TOML_DEPTH = 64;

/**
 * Parse TOML that came from outside. Errors name the file and, when the parser knows it,
 * the line and column. The depth bound keeps a hostile `a = [[[[...` from exhausting the stack.
 */
export function parseTomlText(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(stripBom(text), { maxDepth: MAX_TOML_DEPTH }) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const what = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '') || 'syntax error';
      throw new AibomError('INPUT', `not valid TOML at line ${err.line}, column ${err.column}: ${what}`, {
        file,
        cause: err,
      });
    }
    throw new AibomError('INPUT', `not valid TOML: ${err instanceof Error ? err.message : String(err)}`, {
      file,
      cause: err,
    });
  }
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function obj(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined;
}

/** Own entries only (TOML/JSON keys such as "constructor" must not hit the prototype). */
export function own(o: Record<string, unknown> | undefined, key: string): unknown {
  return o && Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Add every hash of a "sha256:<hex>" / "sha256=<hex>" string list, deduplicated. */
export function addPrefixedHashes(out: Hash[], values: Iterable<unknown>): void {
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const h = parsePrefixedHash(v);
    if (h) pushUnique(out, h);
  }
}

/**
 * "sha256:<64 hex>" (what every Python lockfile writes, tens of thousands of times in a big
 * one) checked by a plain loop; any other algorithm or spelling goes through
 * `hashFromPrefixed`. `sep` ':' accepts only "alg:hex" (pip's --hash).
 */
export function parsePrefixedHash(value: string, sep: ':' | 'any' = 'any'): Hash | undefined {
  if (value.length === 71 && value.startsWith('sha256:')) {
    let hex = true;
    for (let i = 7; i < 71 && hex; i++) {
      const c = value.charCodeAt(i);
      const lower = c | 0x20; // A-F → a-f (only used for the letter range)
      hex = (c >= 48 && c <= 57) || (lower >= 97 && lower <= 102 && c >= 65);
    }
    if (hex) return { alg: 'SHA-256', content: value.slice(7).toLowerCase() };
  }
  return hashFromPrefixed(value, sep);
}

/**
 * Remove credentials from a URL before it is recorded anywhere: `https://user:token@host/x`
 * → `https://host/x`. An ssh user name without a password (`git+ssh://git@host/...`) is kept:
 * it is an account name, not a secret. Strings that are not URLs are returned unchanged.
 */
export function stripUserinfo(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i.exec(url);
  if (!m) return url;
  const scheme = m[1]!.toLowerCase();
  const userinfo = m[2]!;
  if (scheme.includes('ssh') && !userinfo.includes(':') && !userinfo.includes('$')) return url;
  return m[1]! + url.slice(m[0].length);
}

/** A git URL as written by pip / uv / poetry → the purl vcs_url form `git+<url>@<rev>`. */
export function gitUrl(base: string, rev: string | undefined): string {
  const clean = stripUserinfo(base);
  const withScheme = /^git\+/i.test(clean) ? clean : `git+${clean}`;
  return rev ? `${withScheme}@${rev}` : withScheme;
}

/** Provenance of a git source whose commit (if any) is known separately. */
export function gitSource(url: string, requestedRef: string | undefined, commit: string | undefined): Provenance {
  if (isCommitSha(commit)) return { source: 'git', url, pinned: true };
  const ref = commit ?? requestedRef;
  return {
    source: 'git',
    url,
    pinned: false,
    unpinnedReason: ref
      ? `git dependency pinned to "${ref}", a branch or tag that can move, not a commit`
      : 'git dependency without a commit',
  };
}

/** A registry package: pinned when the lockfile carries a hash of its files. */
export function registrySource(hashes: Hash[], url?: string): Provenance {
  return registryProvenance(hashes.length > 0, url ? stripUserinfo(url) : undefined, 'registry package without a hash in the lockfile');
}

export function urlSource(url: string, hashes: Hash[]): Provenance {
  return pinnedByDigest('url', stripUserinfo(url), hashes.length > 0, 'URL dependency without a hash');
}

export function fileSource(path: string, hashes: Hash[]): Provenance {
  return pinnedByDigest('file', path, hashes.length > 0, 'local file dependency without a hash');
}

export function directorySource(path: string): Provenance {
  return {
    source: 'directory',
    url: path,
    pinned: false,
    unpinnedReason: 'local folder dependency: its content is not pinned by the lockfile',
  };
}

const DIST_EXT = /\.(whl|tar\.gz|tar\.bz2|tar\.xz|tgz|zip|egg)$/i;

/** Is this (URL path or file name) a Python distribution file (wheel or sdist)? */
export function isDistFile(name: string): boolean {
  return DIST_EXT.test(name.replace(/[?#][\s\S]*$/, ''));
}

/**
 * Version from a distribution file name, when the file belongs to `name`:
 * wheels `{name}-{version}(-{build})?-{py}-{abi}-{plat}.whl`, sdists `{name}-{version}.tar.gz`.
 * Names compare PEP 503-normalized. Undefined when the name does not match or it is unclear.
 */
export function versionFromFilename(file: string, name?: string): { name: string; version: string } | undefined {
  const base = decodeURIComponentSafe(file.replace(/[?#][\s\S]*$/, '').split('/').pop() ?? '');
  if (/\.whl$/i.test(base)) {
    const parts = base.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) return undefined;
    const [n, v] = parts as [string, string];
    if (name && normalizePypiName(n) !== normalizePypiName(name)) return undefined;
    return { name: n, version: v };
  }
  const m = /^(.+)\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$/i.exec(base);
  if (!m) return undefined;
  const stem = m[1]!;
  if (name) {
    // sdist names keep the project's spelling: match the normalized prefix, the rest is the version.
    const want = normalizePypiName(name);
    for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
      if (normalizePypiName(stem.slice(0, i)) === want) {
        const version = stem.slice(i + 1);
        return /^[0-9][0-9A-Za-z.+!_-]*$/.test(version) ? { name: stem.slice(0, i), version } : undefined;
      }
    }
    return undefined;
  }
  const i = stem.search(/-[0-9]/);
  return i > 0 ? { name: stem.slice(0, i), version: stem.slice(i + 1) } : undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function extrasProperty(extras: Iterable<string>): Property | undefined {
  const list = [...new Set([...extras].map((e) => normalizePypiName(e.trim())).filter(Boolean))].sort();
  return list.length ? prop(`${NS}pypi:extras`, list.join(',')) : undefined;
}

export function markersProperty(marker: string | undefined): Property | undefined {
  const m = marker?.trim();
  return m ? prop(`${NS}pypi:markers`, m) : undefined;
}

export function editableProperty(): Property {
  return prop(`${NS}pypi:editable`, true);
}

/** The lockfile kernel's capped warnings, with the Python parsers' cap and wording. */
export function pythonWarnings(): Warnings {
  return new Warnings({ cap: 100, more: (n) => `... and ${n} more warnings like these` });
}

export type { Warnings };

/**
 * Python lockfiles lock every dependency group: a package that neither the project's
 * runtime dependencies nor its extras reach is a development tool (see ../scopes.ts).
 */
export const PYTHON_SCOPES: ScopeRules = { unreached: 'dev' };

/** Direct dependencies the project declares in pyproject.toml, by PEP 503 name. */
export interface ProjectDeclaredDeps {
  name?: string;
  version?: string;
  main: Set<string>;
  optional: Set<string>;
  dev: Set<string>;
}

/**
 * Read pyproject.toml's declared dependencies: PEP 621 `[project]` dependencies and
 * optional-dependencies, PEP 735 `[dependency-groups]` (development), Poetry's
 * `[tool.poetry.dependencies]`, `[tool.poetry.group.<g>.dependencies]` and the legacy
 * `[tool.poetry.dev-dependencies]`. Returns undefined when the text is missing or not TOML
 * (the caller warns: this is a best-effort aid, the lockfile stays the authority).
 */
export function readPyprojectDeps(text: string | undefined, warnings: Warnings): ProjectDeclaredDeps | undefined {
  if (text === undefined) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = parseTomlText(text, 'pyproject.toml');
  } catch (err) {
    warnings.add(`pyproject.toml beside it could not be read (${err instanceof AibomError ? err.message : 'invalid'}); dependency scopes come from the lockfile alone`);
    return undefined;
  }
  const out: ProjectDeclaredDeps = { main: new Set(), optional: new Set(), dev: new Set() };
  const project = obj(own(doc, 'project'));
  const tool = obj(own(doc, 'tool'));
  const poetry = obj(own(tool, 'poetry'));
  const named = project && str(own(project, 'name')) ? project : poetry;
  if (named) {
    const n = str(own(named, 'name'));
    const v = str(own(named, 'version'));
    if (n) out.name = n;
    if (v) out.version = v;
  }
  const addSpecs = (set: Set<string>, list: unknown) => {
    for (const s of arr(list)) {
      if (typeof s !== 'string') continue;
      const n = requirementName(s);
      if (n) set.add(normalizePypiName(n));
    }
  };
  const addKeys = (set: Set<string>, table: unknown) => {
    const t = obj(table);
    if (!t) return;
    for (const k of Object.keys(t)) if (k.toLowerCase() !== 'python') set.add(normalizePypiName(k));
  };
  addSpecs(out.main, own(project, 'dependencies'));
  const optional = obj(own(project, 'optional-dependencies'));
  if (optional) for (const list of Object.values(optional)) addSpecs(out.optional, list);
  const groups = obj(own(doc, 'dependency-groups'));
  if (groups) for (const list of Object.values(groups)) addSpecs(out.dev, list);
  if (poetry) {
    // Poetry dependencies marked optional = true are only installed through an extra.
    const deps = obj(own(poetry, 'dependencies'));
    if (deps) {
      for (const [k, v] of Object.entries(deps)) {
        if (k.toLowerCase() === 'python') continue;
        const isOptional = arr(v).length
          ? arr(v).every((x) => isObject(x) && x.optional === true)
          : isObject(v) && v.optional === true;
        (isOptional ? out.optional : out.main).add(normalizePypiName(k));
      }
    }
    addKeys(out.dev, own(poetry, 'dev-dependencies'));
    const pg = obj(own(poetry, 'group'));
    if (pg) {
      for (const [g, def] of Object.entries(pg)) {
        // A group named "main" is the main dependencies under another spelling.
        addKeys(g === 'main' ? out.main : out.dev, own(obj(def), 'dependencies'));
      }
    }
  }
  return out;
}

/** The distribution name at the start of a PEP 508 requirement string, if there is one. */
export function requirementName(spec: string): string | undefined {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(spec);
  return m?.[1];
}
