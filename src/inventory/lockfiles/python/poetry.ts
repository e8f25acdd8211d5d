import { AibomError } from '../../../errors.js';
import { isObject } from '../../../util/json.js';
import type { Hash, Property, Provenance } from '../../types.js';
import { lineIndex } from '../source.js';
import { satisfies } from './pep440.js';
import { readSiblingText } from '../manifest.js';
import { scopeLevels, scopeOf } from '../scopes.js';
import type { LockfileParser, LockPackage, ParsedLockfile } from '../types.js';
import {
  addPrefixedHashes,
  arr,
  directorySource,
  editableProperty,
  extrasProperty,
  fileSource,
  gitSource,
  gitUrl,
  MAX_VERSIONS_PER_NAME,
  markersProperty,
  normalizePypiName,
  obj,
  own,
  type ProjectDeclaredDeps,
  parseTomlText,
  PYTHON_SCOPES,
  readPyprojectDeps,
  registrySource,
  str,
  stripUserinfo,
  urlSource,
  versionFromFilename,
  pythonWarnings,
  type Warnings,
} from './common.js';

/**
 * poetry.lock, lock-version 1.x (`category = "main" | "dev"`, hashes under
 * `[metadata.files]`), 2.0 (hashes in each package's `files`, no category) and 2.1
 * (Poetry 2: `groups` and resolved `markers` per package). Dev-only packages come from
 * `category`/`groups` when the lockfile has them, else from the sibling pyproject.toml's
 * dependency groups and the lockfile's dependency graph.
 */
export const poetryParser: LockfileParser = {
  kind: 'poetry',
  matches: (base) => base === 'poetry.lock',
  async parse(text, path, ctx) {
    const doc = parseTomlText(text, path);
    const warnings = pythonWarnings();
    const metadata = obj(own(doc, 'metadata'));
    const lockVersion = str(own(metadata, 'lock-version'));
    if (!Array.isArray(own(doc, 'package')) && own(doc, 'package') !== undefined) {
      throw new AibomError('INPUT', 'not a poetry lockfile: "package" is not an array of tables', { file: path });
    }
    if (!metadata && own(doc, 'package') === undefined) {
      throw new AibomError('INPUT', 'not a poetry lockfile: no [[package]] and no [metadata]', { file: path });
    }
    if (!lockVersion) warnings.add('no [metadata] lock-version; read as lock-version 2.1');
    else if (!KNOWN_VERSIONS.has(lockVersion)) {
      warnings.add(`unknown lock-version "${lockVersion}" (aibom knows ${[...KNOWN_VERSIONS].join(', ')}); read on a best effort as 2.1`);
    }
    const project = readPyprojectDeps(await readSiblingText(ctx, 'pyproject.toml', { skipOversized: false }), warnings);
    return parsePoetry(doc, text, path, lockVersion, project, warnings);
  },
};

const KNOWN_VERSIONS = new Set(['1.0', '1.1', '1.2', '2.0', '2.1']);

interface Pkg {
  key: string;
  name: string;
  norm: string;
  version?: string;
  entry: Record<string, unknown>;
  line?: number;
  /** Dependencies: name, activated extras, version constraints (one per alternative). */
  deps: Array<{ norm: string; extras: string[]; constraints: string[] }>;
}

function parsePoetry(
  doc: Record<string, unknown>,
  text: string,
  path: string,
  lockVersion: string | undefined,
  project: ProjectDeclaredDeps | undefined,
  warnings: Warnings,
): ParsedLockfile {
  const legacyFiles = obj(own(obj(own(doc, 'metadata')), 'files'));
  const legacyByNorm = new Map<string, unknown[]>();
  if (legacyFiles) for (const [k, v] of Object.entries(legacyFiles)) legacyByNorm.set(normalizePypiName(k), arr(v));
  const { pkgs, byNorm } = readPackages(doc, text, warnings);
  const { edges, activatedExtras } = resolveEdges(pkgs, byNorm, warnings);
  const keysOf = (names: Iterable<string>) => [...names].flatMap((n) => (byNorm.get(n) ?? []).map((p) => p.key));
  const mainRoots = project ? keysOf([...project.main]) : [];
  const optionalRoots = project ? keysOf([...project.optional]) : [];
  const devRoots = project ? keysOf([...project.dev]) : [];
  const dev = devRule(pkgs, edges, project, [...mainRoots, ...optionalRoots], warnings);

  // Root edges: the pyproject's declared dependencies, else the packages nothing depends on.
  let rootDeps: string[];
  if (project && mainRoots.length + optionalRoots.length + devRoots.length > 0) {
    rootDeps = [...new Set([...mainRoots, ...optionalRoots, ...devRoots])];
  } else {
    const depended = new Set([...edges.values()].flat());
    rootDeps = pkgs.filter((p) => !depended.has(p.key)).map((p) => p.key);
  }

  const packages = pkgs.map((p) => {
    const hashes = hashesOf(p, legacyByNorm, byNorm);
    const { source, editable } = provenanceOf(p, hashes);
    const pkg: LockPackage = { key: p.key, ecosystem: 'pypi', name: p.name, hashes, source, dependencies: edges.get(p.key) ?? [] };
    if (p.version) pkg.version = p.version;
    if (p.line !== undefined) pkg.line = p.line;
    if (dev(p)) pkg.dev = true;
    if (own(p.entry, 'optional') === true) pkg.optional = true;
    const props: Property[] = [];
    const m = markersProperty(markersOf(own(p.entry, 'markers'), own(p.entry, 'groups')));
    if (m) props.push(m);
    const x = extrasProperty(activatedExtras.get(p.key) ?? []);
    if (x) props.push(x);
    if (editable) props.push(editableProperty());
    if (props.length) pkg.properties = props;
    return pkg;
  });

  const root: ParsedLockfile['root'] = { dependencies: rootDeps };
  if (project?.name) root.name = project.name;
  if (project?.version) root.version = project.version;
  const out: ParsedLockfile = { path, kind: 'poetry', root, packages, warnings: warnings.done() };
  if (lockVersion) out.formatVersion = lockVersion;
  return out;
}

/** Load: every [[package]] with its dependencies (name, activated extras, constraints); keys unique (`#n` for repeats). */
function readPackages(doc: Record<string, unknown>, text: string, warnings: Warnings): { pkgs: Pkg[]; byNorm: Map<string, Pkg[]> } {
  const lineOf = lineIndex(text);
  const pkgs: Pkg[] = [];
  const byNorm = new Map<string, Pkg[]>();
  /** How many packages share a name@version so far (duplicates get a "#n" key; O(1) each). */
  const keyCount = new Map<string, number>();
  for (const [i, raw] of arr(own(doc, 'package')).entries()) {
    if (!isObject(raw)) {
      warnings.add(`[[package]] #${i + 1} is not a table; skipped`);
      continue;
    }
    const name = str(own(raw, 'name'));
    if (!name) {
      warnings.add(`[[package]] #${i + 1} has no name; skipped`);
      continue;
    }
    const version = str(own(raw, 'version'));
    const norm = normalizePypiName(name);
    const base = version ? `${norm}@${version}` : norm;
    const seenCount = keyCount.get(base) ?? 0;
    keyCount.set(base, seenCount + 1);
    const p: Pkg = { key: seenCount ? `${base}#${seenCount + 1}` : base, name, norm, entry: raw, deps: dependenciesOf(raw) };
    if (version) p.version = version;
    const line = lineOf(`name = ${JSON.stringify(name)}`);
    if (line !== undefined) p.line = line;
    pkgs.push(p);
    const list = byNorm.get(norm);
    if (list) list.push(p);
    else byNorm.set(norm, [p]);
  }
  return { pkgs, byNorm };
}

/** A package's `dependencies` table: each name with the extras it activates and its constraints. */
function dependenciesOf(raw: Record<string, unknown>): Pkg['deps'] {
  const deps: Pkg['deps'] = [];
  const depTable = obj(own(raw, 'dependencies'));
  if (!depTable) return deps;
  for (const [dn, spec] of Object.entries(depTable)) {
    const extras = new Set<string>();
    const constraints: string[] = [];
    for (const s of Array.isArray(spec) ? spec : [spec]) {
      for (const e of arr(own(obj(s), 'extras'))) if (typeof e === 'string') extras.add(e);
      const c = typeof s === 'string' ? s : str(own(obj(s), 'version'));
      if (c) constraints.push(c);
    }
    deps.push({ norm: normalizePypiName(dn), extras: [...extras], constraints });
  }
  return deps;
}

/**
 * Edges: by name. Where one name is locked at several versions (for different markers), the
 * dependent may get either, so it links to each.
 */
function resolveEdges(
  pkgs: Pkg[],
  byNorm: Map<string, Pkg[]>,
  warnings: Warnings,
): { edges: Map<string, string[]>; activatedExtras: Map<string, Set<string>> } {
  const edges = new Map<string, string[]>();
  const activatedExtras = new Map<string, Set<string>>();
  const tooMany = new Set<string>();
  for (const p of pkgs) {
    const out: string[] = [];
    for (const d of p.deps) {
      const all = byNorm.get(d.norm);
      if (all && all.length > MAX_VERSIONS_PER_NAME) {
        if (!tooMany.has(d.norm)) warnings.add(`"${all[0]!.name}" is locked ${all.length} times; edges to it are not resolved`);
        tooMany.add(d.norm);
        continue;
      }
      // Dependencies that only apply to other Pythons/platforms, or only to an extra nobody
      // asked for, are legitimately absent from the lock.
      for (const t of pickVersions(all, d.constraints) ?? []) {
        if (t.key !== p.key) out.push(t.key);
        if (d.extras.length) {
          let set = activatedExtras.get(t.key);
          if (!set) activatedExtras.set(t.key, (set = new Set()));
          for (const e of d.extras) set.add(e);
        }
      }
    }
    edges.set(p.key, out);
  }
  return { edges, activatedExtras };
}

/**
 * Scopes. Poetry 1.x says "category", Poetry 2 says "groups"; lock-version 2.0 says neither,
 * so dev-only packages are those the pyproject's main and optional dependencies do not reach.
 */
function devRule(
  pkgs: Pkg[],
  edges: Map<string, string[]>,
  project: ProjectDeclaredDeps | undefined,
  runtimeRoots: string[],
  warnings: Warnings,
): (p: Pkg) => boolean {
  if (pkgs.some((p) => Array.isArray(own(p.entry, 'groups')))) {
    return (p) => {
      const g = arr(own(p.entry, 'groups')).filter((x): x is string => typeof x === 'string');
      return g.length > 0 && !g.includes('main');
    };
  }
  if (pkgs.some((p) => typeof own(p.entry, 'category') === 'string')) return (p) => own(p.entry, 'category') === 'dev';
  if (project) {
    const levels = scopeLevels(
      runtimeRoots.map((key) => ({ key, level: 2 as const })),
      (k, visit) => {
        for (const t of edges.get(k) ?? []) visit(t, false);
      },
    );
    return (p) => scopeOf(levels.get(p.key), PYTHON_SCOPES) === 'dev';
  }
  if (pkgs.length) {
    warnings.add('the lockfile does not say which packages are dev-only and there is no pyproject.toml beside it; all are reported as required');
  }
  return () => false;
}

/**
 * Where one name is locked at several versions, keep those a dependent's constraint allows
 * (all of them when the constraint cannot be read or none matches).
 */
function pickVersions(candidates: Pkg[] | undefined, constraints: string[]): Pkg[] | undefined {
  if (!candidates || candidates.length < 2 || !constraints.length) return candidates;
  const ok = candidates.filter((p) => !p.version || constraints.some((c) => satisfies(p.version!, c)));
  return ok.length ? ok : candidates;
}

/**
 * Poetry 2.1 writes markers as a string, or as a table per group when they differ
 * (`{dev = "python_version < \"3.11\""}`): a group without an entry has no marker, so the
 * package is then installed unconditionally.
 */
function markersOf(v: unknown, groups: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const t = obj(v);
  if (!t) return undefined;
  const gs = arr(groups).filter((g): g is string => typeof g === 'string');
  if (gs.some((g) => typeof own(t, g) !== 'string')) return undefined;
  const parts = [...new Set(Object.values(t).filter((x): x is string => typeof x === 'string'))];
  if (!parts.length) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((x) => `(${x})`).join(' or ');
}

function hashesOf(p: Pkg, legacy: Map<string, unknown[]>, byNorm: Map<string, Pkg[]>): Hash[] {
  const out: Hash[] = [];
  const add = (f: unknown, checkVersion: boolean) => {
    const t = obj(f);
    const hash = str(own(t, 'hash'));
    if (!hash) return;
    if (checkVersion) {
      const fileName = str(own(t, 'file'));
      const v = fileName ? versionFromFilename(fileName, p.name) : undefined;
      if (v && v.version !== p.version) return;
    }
    addPrefixedHashes(out, [hash]);
  };
  // lock-version 2.x: each package's own `files`.
  for (const f of arr(own(p.entry, 'files'))) add(f, false);
  // lock-version 1.x: `[metadata.files]` lists one name's files once, for every locked version
  // of that name: keep the files whose name says they belong to this version.
  const several = (byNorm.get(p.norm)?.length ?? 0) > 1 && !!p.version;
  for (const f of legacy.get(p.norm) ?? []) add(f, several);
  return out;
}

function provenanceOf(p: Pkg, hashes: Hash[]): { source: Provenance; editable: boolean } {
  const src = obj(own(p.entry, 'source'));
  const type = str(own(src, 'type'));
  const url = str(own(src, 'url'));
  const editable = own(p.entry, 'develop') === true;
  switch (type) {
    case 'git': {
      const resolved = str(own(src, 'resolved_reference'));
      const reference = str(own(src, 'reference'));
      const sub = str(own(src, 'subdirectory'));
      const base = url ?? '';
      const full = gitUrl(base, resolved || reference) + (sub ? `#subdirectory=${sub}` : '');
      return { source: gitSource(full, reference, resolved), editable };
    }
    case 'url':
      return { source: urlSource(url ?? '', hashes), editable };
    case 'file':
      return { source: fileSource(url ?? '', hashes), editable };
    case 'directory':
      return { source: directorySource(url ?? ''), editable };
    case undefined:
    case 'legacy':
    case 'pypi':
      // "legacy" is a PEP 503 index configured in pyproject.toml: still a registry.
      return { source: registrySource(hashes, type === 'legacy' && url ? stripUserinfo(url) : undefined), editable };
    default:
      return {
        source: {
          source: 'unknown',
          pinned: false,
          unpinnedReason: `source type "${type}" that aibom does not know`,
          ...(url ? { url: stripUserinfo(url) } : {}),
        },
        editable,
      };
  }
}
