import { AibomError } from '../../../errors.js';
import { isObject } from '../../../util/json.js';
import type { Hash, Property, Provenance } from '../../types.js';
import { lineIndex } from '../source.js';
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
  normalizePypiName,
  obj,
  own,
  parseTomlText,
  PYTHON_SCOPES,
  registrySource,
  str,
  stripUserinfo,
  urlSource,
  pythonWarnings,
  type Warnings,
} from './common.js';

/**
 * uv.lock (`version = 1`, `revision` 1 to 3 or absent). The project is the package whose
 * source is `{ editable = "." }` or `{ virtual = "." }`: it is the root, not a component;
 * other workspace members (`[manifest] members`) are workspace components. Its
 * `dependencies` are required, its `optional-dependencies` (extras) optional, its
 * `dev-dependencies` (dependency groups) dev; scopes follow the graph: a package reachable
 * only through dev groups is dev, only through extras optional.
 */
export const uvParser: LockfileParser = {
  kind: 'uv',
  matches: (base) => base === 'uv.lock',
  parse(text, path) {
    const doc = parseTomlText(text, path);
    return parseUv(doc, text, path);
  },
};

const MAX_KNOWN_REVISION = 3;

interface Dep {
  name: string;
  norm: string;
  version?: string;
  source?: string;
  extras: string[];
  marker?: string;
}

interface Pkg {
  key: string;
  name: string;
  norm: string;
  version?: string;
  entry: Record<string, unknown>;
  sourceKey: string;
  source: Record<string, unknown> | undefined;
  line?: number;
  deps: Dep[];
  optional: Map<string, Dep[]>;
  dev: Map<string, Dep[]>;
}

function parseUv(doc: Record<string, unknown>, text: string, path: string): ParsedLockfile {
  const warnings = pythonWarnings();
  const rawPackages = own(doc, 'package');
  if (rawPackages !== undefined && !Array.isArray(rawPackages)) {
    throw new AibomError('INPUT', 'not a uv lockfile: "package" is not an array of tables', { file: path });
  }
  if (rawPackages === undefined && own(doc, 'distribution') !== undefined) {
    // uv's pre-release lock layout (`[[distribution]]`, 2024): not read.
    warnings.add('pre-release uv.lock layout ([[distribution]]) is not supported; its packages are missing, run `uv lock` to upgrade it');
    return { path, kind: 'uv', root: { dependencies: [] }, packages: [], warnings: warnings.done() };
  }
  const formatVersion = checkVersion(doc, rawPackages, path, warnings);
  const { pkgs, byNorm } = readPackages(rawPackages, text, warnings);
  const project = projectOf(doc, pkgs);
  const graph = buildGraph(pkgs, project, makeResolver(byNorm, warnings));
  const { rootPkg, workspace } = project;
  const haveRoots = !!rootPkg || workspace.size > 0;
  const levels = scopeLevels(
    [...[...graph.requiredRoots, ...workspace].map((p) => ({ key: p.key, level: 2 as const })), ...graph.optionalRoots.map((p) => ({ key: p.key, level: 1 as const }))],
    (k, visit) => {
      for (const t of graph.edgesOf(graph.byKey.get(k)!)) visit(t.key, false);
    },
  );
  const packages: LockPackage[] = [];
  for (const p of pkgs) {
    if (p === rootPkg) continue;
    const { pkg, editable } = uvPackage(p, graph, project);
    if (haveRoots) {
      const scope = scopeOf(levels.get(p.key), PYTHON_SCOPES);
      if (scope === 'optional') pkg.optional = true;
      else if (scope === 'dev') pkg.dev = true;
    }
    const props: Property[] = [];
    const x = extrasProperty(graph.activated.get(p) ?? []);
    if (x) props.push(x);
    if (editable) props.push(editableProperty());
    if (props.length) pkg.properties = props;
    packages.push(pkg);
  }

  let rootDeps: string[];
  if (haveRoots) {
    // The project's own dependencies, extras and groups, and every workspace member.
    rootDeps = [...new Set([...(rootPkg ? (graph.projectEdges.get(rootPkg) ?? []) : []), ...workspace])]
      .filter((p) => p !== rootPkg)
      .map((p) => p.key);
  } else {
    if (pkgs.length) warnings.add('no project package (source editable or virtual ".") in the lockfile; scopes cannot be told apart, all packages are reported as required');
    const depended = new Set(pkgs.flatMap((p) => graph.edgesOf(p)));
    rootDeps = pkgs.filter((p) => !depended.has(p)).map((p) => p.key);
  }
  const root: ParsedLockfile['root'] = { dependencies: rootDeps };
  if (rootPkg) {
    root.name = rootPkg.name;
    if (rootPkg.version) root.version = rootPkg.version;
  }
  return { path, kind: 'uv', formatVersion, root, packages, warnings: warnings.done() };
}

/** Version and revision, with a warning for what aibom does not know; the format version written. */
function checkVersion(doc: Record<string, unknown>, rawPackages: unknown, path: string, warnings: Warnings): string {
  const version = own(doc, 'version');
  const revision = own(doc, 'revision');
  if (version === undefined && rawPackages === undefined) {
    throw new AibomError('INPUT', 'not a uv lockfile: no "version" and no [[package]]', { file: path });
  }
  if (version !== 1) {
    warnings.add(`unknown uv.lock version ${JSON.stringify(version ?? null)} (aibom knows version 1); read on a best effort as version 1`);
  } else if (typeof revision === 'number' && revision > MAX_KNOWN_REVISION) {
    warnings.add(`uv.lock revision ${revision} is newer than aibom knows (up to ${MAX_KNOWN_REVISION}); read on a best effort`);
  }
  return `${typeof version === 'number' ? version : '?'}${typeof revision === 'number' ? `.${revision}` : ''}`;
}

/** Load: every [[package]] with its dependencies, extras and groups; keys unique (`#n` for repeats). */
function readPackages(rawPackages: unknown, text: string, warnings: Warnings): { pkgs: Pkg[]; byNorm: Map<string, Pkg[]> } {
  const lineOf = lineIndex(text);
  const pkgs: Pkg[] = [];
  const byNorm = new Map<string, Pkg[]>();
  /** How many packages share a name@version so far (duplicates get a "#n" key; O(1) each). */
  const keyCount = new Map<string, number>();
  for (const [i, raw] of arr(rawPackages).entries()) {
    if (!isObject(raw)) {
      warnings.add(`[[package]] #${i + 1} is not a table; skipped`);
      continue;
    }
    const name = str(own(raw, 'name'));
    if (!name) {
      warnings.add(`[[package]] #${i + 1} has no name; skipped`);
      continue;
    }
    const norm = normalizePypiName(name);
    const v = str(own(raw, 'version'));
    const source = obj(own(raw, 'source'));
    const base = v ? `${norm}@${v}` : norm;
    const seenCount = keyCount.get(base) ?? 0;
    keyCount.set(base, seenCount + 1);
    const p: Pkg = {
      key: seenCount ? `${base}#${seenCount + 1}` : base,
      name,
      norm,
      entry: raw,
      source,
      sourceKey: sourceKeyOf(source),
      deps: depsOf(own(raw, 'dependencies'), warnings, name),
      optional: groupsOf(own(raw, 'optional-dependencies'), warnings, name),
      dev: groupsOf(own(raw, 'dev-dependencies'), warnings, name),
    };
    if (v) p.version = v;
    const line = lineOf(`name = ${JSON.stringify(name)}`);
    if (line !== undefined) p.line = line;
    pkgs.push(p);
    const list = byNorm.get(norm);
    if (list) list.push(p);
    else byNorm.set(norm, [p]);
  }
  return { pkgs, byNorm };
}

type Resolve = (d: Dep, from: Pkg) => Pkg[];

/** A dependency's packages: by name, narrowed by version and source where the name is locked more than once. */
function makeResolver(byNorm: Map<string, Pkg[]>, warnings: Warnings): Resolve {
  const tooMany = new Set<string>();
  return (d, from) => {
    let c = byNorm.get(d.norm) ?? [];
    if (c.length > MAX_VERSIONS_PER_NAME) {
      if (!tooMany.has(d.norm)) warnings.add(`"${d.name}" is locked ${c.length} times; edges to it are not resolved`);
      tooMany.add(d.norm);
      return [];
    }
    if (c.length > 1 && d.version) c = c.filter((p) => p.version === d.version);
    if (c.length > 1 && d.source) c = c.filter((p) => p.sourceKey === d.source);
    if (!c.length) warnings.add(`${from.name}: dependency "${d.name}"${d.version ? ` ${d.version}` : ''} is not in the lockfile`);
    return c;
  };
}

interface Project {
  /** The package whose source is `{ editable = "." }` or `{ virtual = "." }`: the root. */
  rootPkg: Pkg | undefined;
  /** Other workspace members (`[manifest] members`). */
  workspace: Set<Pkg>;
}

function projectOf(doc: Record<string, unknown>, pkgs: Pkg[]): Project {
  const members = new Set(
    arr(own(obj(own(doc, 'manifest')), 'members'))
      .filter((x): x is string => typeof x === 'string')
      .map(normalizePypiName),
  );
  const isDot = (p: Pkg) => {
    const e = str(own(p.source, 'editable')) ?? str(own(p.source, 'virtual'));
    return e === '.' || e === './';
  };
  const rootPkg = pkgs.find(isDot);
  const isMember = (p: Pkg) =>
    p !== rootPkg &&
    members.has(p.norm) &&
    (own(p.source, 'editable') !== undefined || own(p.source, 'virtual') !== undefined || own(p.source, 'directory') !== undefined);
  return { rootPkg, workspace: new Set(pkgs.filter(isMember)) };
}

interface UvGraph {
  byKey: Map<string, Pkg>;
  /** Extras someone activates on a package. */
  activated: Map<Pkg, Set<string>>;
  /** A project's (root's or member's) own edges: dependencies, extras and dependency groups. */
  projectEdges: Map<Pkg, Pkg[]>;
  requiredRoots: Pkg[];
  optionalRoots: Pkg[];
  /** A package's dependencies, plus those of each extra someone activates on it. */
  edgesOf(p: Pkg): Pkg[];
  /** The same; in the BOM graph a workspace member also points at its own extras and dev groups. */
  graphEdgesOf(p: Pkg): Pkg[];
}

/**
 * Edges: a package's dependencies, plus those of each extra someone activates on it. The
 * project's and members' extras and dev groups are roots of their own; they activate
 * extras too.
 */
function buildGraph(pkgs: Pkg[], { rootPkg, workspace }: Project, resolve: Resolve): UvGraph {
  const activated = new Map<Pkg, Set<string>>();
  const noteExtras = (d: Dep, targets: Pkg[]) => {
    if (!d.extras.length) return;
    for (const t of targets) {
      let s = activated.get(t);
      if (!s) activated.set(t, (s = new Set()));
      for (const e of d.extras) s.add(e);
    }
  };
  const resolved = new Map<Pkg, Array<{ dep: Dep; targets: Pkg[] }>>();
  for (const p of pkgs) {
    const list = p.deps.map((dep) => ({ dep, targets: resolve(dep, p) }));
    for (const { dep, targets } of list) noteExtras(dep, targets);
    resolved.set(p, list);
  }
  const resolveDeps = (p: Pkg, deps: Iterable<Dep>, out: Pkg[]) => {
    for (const d of deps) {
      const t = resolve(d, p);
      noteExtras(d, t);
      out.push(...t);
    }
    return out;
  };
  const resolveGroup = (p: Pkg, groups: Map<string, Dep[]>) => {
    const out: Pkg[] = [];
    for (const deps of groups.values()) resolveDeps(p, deps, out);
    return out;
  };
  const graph: UvGraph = {
    byKey: new Map(pkgs.map((p) => [p.key, p])),
    activated,
    projectEdges: new Map(),
    requiredRoots: [],
    optionalRoots: [],
    edgesOf,
    graphEdgesOf: (p) =>
      workspace.has(p) ? [...new Set([...edgesOf(p), ...(graph.projectEdges.get(p) ?? [])])].filter((t) => t !== p) : edgesOf(p),
  };
  for (const m of [...(rootPkg ? [rootPkg] : []), ...workspace]) {
    const req = (resolved.get(m) ?? []).flatMap((r) => r.targets);
    const opt = resolveGroup(m, m.optional);
    const dev = resolveGroup(m, m.dev);
    graph.requiredRoots.push(...req);
    graph.optionalRoots.push(...opt);
    graph.projectEdges.set(m, [...req, ...opt, ...dev]);
  }
  // Extras activated on a package pull in its optional-dependencies (iterate: extras chain).
  const extraEdges = new Map<Pkg, Pkg[]>();
  const done = new Map<Pkg, Set<string>>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [p, extras] of activated) {
      const seen = done.get(p) ?? new Set<string>();
      for (const e of extras) {
        if (seen.has(e)) continue;
        seen.add(e);
        changed = true;
        const deps = p.optional.get(e) ?? p.optional.get(normalizePypiName(e)) ?? [];
        extraEdges.set(p, resolveDeps(p, deps, extraEdges.get(p) ?? []));
      }
      done.set(p, seen);
    }
  }
  function edgesOf(p: Pkg): Pkg[] {
    const out = new Set<Pkg>();
    for (const r of resolved.get(p) ?? []) for (const t of r.targets) out.add(t);
    if (p !== rootPkg && !workspace.has(p)) for (const t of extraEdges.get(p) ?? []) out.add(t);
    out.delete(p);
    return [...out];
  }
  return graph;
}

/** One component: hashes, source, edges (never to the project itself). */
function uvPackage(p: Pkg, graph: UvGraph, { rootPkg, workspace }: Project): { pkg: LockPackage; editable: boolean } {
  const hashes = hashesOf(p.entry);
  const { source, editable } = provenanceOf(p, hashes, workspace.has(p));
  const pkg: LockPackage = {
    key: p.key,
    ecosystem: 'pypi',
    name: p.name,
    hashes,
    source,
    dependencies: graph.graphEdgesOf(p).filter((t) => t !== rootPkg).map((t) => t.key),
  };
  if (p.version) pkg.version = p.version;
  if (p.line !== undefined) pkg.line = p.line;
  if (workspace.has(p)) pkg.workspace = true;
  return { pkg, editable };
}

function sourceKeyOf(source: Record<string, unknown> | undefined): string {
  if (!source) return '';
  return Object.keys(source)
    .sort()
    // A hostile file may put a table where a string belongs (TOML tables have no prototype: String() throws).
    .map((k) => `${k}=${typeof source[k] === 'string' ? source[k] : JSON.stringify(source[k])}`)
    .join('&');
}

function depsOf(v: unknown, warnings: Warnings, owner: string): Dep[] {
  const out: Dep[] = [];
  for (const d of arr(v)) {
    const t = obj(d);
    const name = str(own(t, 'name'));
    if (!t || !name) {
      warnings.add(`${owner}: a dependency entry without a name; skipped`);
      continue;
    }
    const dep: Dep = {
      name,
      norm: normalizePypiName(name),
      extras: arr(own(t, 'extra')).filter((x): x is string => typeof x === 'string'),
    };
    const ver = str(own(t, 'version'));
    if (ver) dep.version = ver;
    const src = obj(own(t, 'source'));
    if (src) dep.source = sourceKeyOf(src);
    const marker = str(own(t, 'marker'));
    if (marker) dep.marker = marker;
    out.push(dep);
  }
  return out;
}

function groupsOf(v: unknown, warnings: Warnings, owner: string): Map<string, Dep[]> {
  const out = new Map<string, Dep[]>();
  const t = obj(v);
  if (!t) return out;
  for (const [g, list] of Object.entries(t)) out.set(g, depsOf(list, warnings, owner));
  return out;
}

function hashesOf(entry: Record<string, unknown>): Hash[] {
  const out: Hash[] = [];
  const sdist = obj(own(entry, 'sdist'));
  addPrefixedHashes(out, [own(sdist, 'hash')]);
  addPrefixedHashes(
    out,
    arr(own(entry, 'wheels')).map((w) => own(obj(w), 'hash')),
  );
  return out;
}

/** `{ git = "https://host/org/repo?rev=main#<commit>" }` → URL, requested ref, commit. */
function parseUvGit(spec: string): { url: string; ref?: string; commit?: string } {
  const hash = spec.indexOf('#');
  const commit = hash >= 0 ? spec.slice(hash + 1) : undefined;
  const noFrag = hash >= 0 ? spec.slice(0, hash) : spec;
  const q = noFrag.indexOf('?');
  const base = q >= 0 ? noFrag.slice(0, q) : noFrag;
  let ref: string | undefined;
  let sub: string | undefined;
  if (q >= 0) {
    for (const kv of noFrag.slice(q + 1).split('&')) {
      const [k, v] = kv.split('=', 2) as [string, string | undefined];
      if ((k === 'rev' || k === 'tag' || k === 'branch') && v) ref = decodeURIComponentSafe(v);
      if (k === 'subdirectory' && v) sub = decodeURIComponentSafe(v);
    }
  }
  const url = gitUrl(base, commit || ref) + (sub ? `#subdirectory=${sub}` : '');
  const out: { url: string; ref?: string; commit?: string } = { url };
  if (ref) out.ref = ref;
  if (commit) out.commit = commit;
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function provenanceOf(p: Pkg, hashes: Hash[], isWorkspace: boolean): { source: Provenance; editable: boolean } {
  const s = p.source;
  const editablePath = str(own(s, 'editable'));
  if (isWorkspace) {
    const where = editablePath ?? str(own(s, 'virtual')) ?? str(own(s, 'directory')) ?? '';
    return { source: { source: 'workspace', url: where, pinned: true }, editable: editablePath !== undefined };
  }
  const registry = str(own(s, 'registry'));
  if (registry !== undefined) return { source: registrySource(hashes, registry), editable: false };
  const git = str(own(s, 'git'));
  if (git !== undefined) {
    const g = parseUvGit(git);
    return { source: gitSource(g.url, g.ref, g.commit), editable: false };
  }
  const url = str(own(s, 'url'));
  if (url !== undefined) return { source: urlSource(stripUserinfo(url), hashes), editable: false };
  const path = str(own(s, 'path'));
  if (path !== undefined) return { source: fileSource(path, hashes), editable: false };
  if (editablePath !== undefined) return { source: directorySource(editablePath), editable: true };
  const dir = str(own(s, 'directory')) ?? str(own(s, 'virtual'));
  if (dir !== undefined) return { source: directorySource(dir), editable: false };
  return {
    source: { source: 'unknown', pinned: false, unpinnedReason: 'the lockfile records no source for this package' },
    editable: false,
  };
}
