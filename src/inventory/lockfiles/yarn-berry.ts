import { posix } from 'node:path';
import { AibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import type { Property, Provenance } from '../types.js';
import { NS, prop } from '../types.js';
import { isCommitSha, looksLikeGit, pinnedByDigest, registryProvenance } from './source.js';
import { type Level, markScopes, packageEdges, type ScopeSeed, scopeLevels } from './scopes.js';
import type { LockPackage, ParseContext, ParsedLockfile } from './types.js';
import { MAX_SIMILAR_WARNINGS, type Warnings } from './warnings.js';
import {
  declaredLevel,
  EdgeBudget,
  forcedRanges,
  keyLines,
  type Manifest,
  readManifest,
  readYarnCatalogs,
  safeWorkspaceDir,
  splitDescriptor,
  splitDescriptors,
  str,
  stringMap,
} from './yarn-common.js';

/**
 * Berry (yarn 2+) yarn.lock: `__metadata: { version, cacheKey }`, then one entry per
 * resolution keyed by its descriptors (`"lodash@npm:^4.17.0, lodash@npm:^4.17.21"`), with
 * `resolution` (the locator: `lodash@npm:4.17.21`), `version`, `checksum`, `dependencies`,
 * `peerDependencies`, `dependenciesMeta`, `languageName`, `linkType`.
 *
 * `checksum` is NOT a hash of the package as published: it is the SHA-512 of the zip
 * archive yarn builds from the tarball for its cache (the `10c0/` prefix is the cache
 * key: archive layout and compression). Nobody can check it against the registry or the
 * tarball, so it is recorded as the property `aibom:yarn:checksum`, never as a component
 * hash. It does pin the content for yarn, which refuses a fetched package whose archive
 * does not match, so a package with a checksum counts as pinned.
 */

/** `__metadata.version` values written by the yarn releases we have seen (2.x: 4, 3.x: 6, 4.x: 8 and up). */
const KNOWN_VERSIONS = new Set(['4', '5', '6', '7', '8', '9', '10']);

export async function parseBerry(
  doc: Record<string, unknown>,
  text: string,
  path: string,
  ctx: ParseContext,
  warnings: Warnings,
): Promise<ParsedLockfile> {
  const formatVersion = checkMetadata(doc, warnings);
  const lock = readEntries(doc, keyLines(text, path), path);
  const built = buildPackages(lock, warnings);
  const resolver = await makeResolver(lock, built, ctx, warnings, EdgeBudget.forText(path, text));
  const graph = resolveEdges(lock, built, resolver, warnings);
  resolvePeers(lock, graph, EdgeBudget.forPeers(path));
  for (const pkg of built.packages) pkg.dependencies = [...(graph.edges.get(pkg.key) ?? [])];
  const roots = await workspaceRoots(lock, built, graph, ctx, warnings);
  await linkVersions(built, ctx, warnings);
  if (roots.missingManifests > 0) {
    warnings.add(
      'no package.json beside yarn.lock (or a workspace\'s): yarn.lock has no dev flag, so development-only packages cannot be told apart there; they are marked required',
    );
  }
  const levels = scopeLevels(roots.seeds, packageEdges(built.packages, graph.optionalEdges));
  const unreachable = markScopes(built.packages, levels, { unreached: 'required' });
  if (unreachable > 0) {
    warnings.add(
      `${unreachable} lockfile ${unreachable === 1 ? 'entry is' : 'entries are'} not reachable from any workspace (a stale lockfile?); kept as required`,
    );
  }

  const root: ParsedLockfile['root'] = { dependencies: [...roots.rootDeps] };
  const rootName = roots.rootManifest?.name ?? (built.rootIdentity ? splitDescriptor(built.rootIdentity)?.[0] : undefined);
  if (rootName) root.name = rootName;
  if (roots.rootManifest?.version) root.version = roots.rootManifest.version;
  const parsed: ParsedLockfile = { path, kind: 'yarn-berry', root, packages: built.packages, warnings: warnings.done() };
  if (formatVersion !== undefined) parsed.formatVersion = formatVersion;
  return parsed;
}

/** `__metadata.version`, with a warning when it is missing or unknown. */
function checkMetadata(doc: Record<string, unknown>, warnings: Warnings): string | undefined {
  const meta = isObject(doc.__metadata) ? doc.__metadata : undefined;
  const formatVersion = meta ? str(meta.version) : undefined;
  if (!meta) warnings.add('no __metadata in yarn.lock; read as a berry lockfile on a best effort');
  else if (formatVersion === undefined || !KNOWN_VERSIONS.has(formatVersion)) {
    warnings.add(
      `unknown yarn.lock __metadata.version ${JSON.stringify(meta.version)}; read as version 8 on a best effort (fields it does not know are skipped)`,
    );
  }
  return formatVersion;
}

interface Entry {
  key: string;
  descriptors: string[];
  value: Record<string, unknown>;
  resolution: string;
  patch?: string;
  line?: number;
}

/** The lockfile's entries, grouped by the package they resolve to, and its descriptor index. */
interface BerryLock {
  groups: Map<string, Entry[]>; // identity locator → entries
  byDescriptor: Map<string, string>; // descriptor → identity
  byBareDescriptor: Map<string, Set<string>>; // descriptor without `::` bindings → identities
}

/**
 * Load: entries grouped by the package they resolve to. A `patch:` resolution wraps a real
 * package (a user patch or one of yarn's built-in compatibility patches): it is recorded on
 * that package, not made a package of its own.
 */
function readEntries(doc: Record<string, unknown>, lines: Map<string, number>, path: string): BerryLock {
  const lock: BerryLock = { groups: new Map(), byDescriptor: new Map(), byBareDescriptor: new Map() };
  for (const [key, value] of Object.entries(doc)) {
    if (key === '__metadata') continue;
    const descriptors = splitDescriptors(key);
    const line = descriptors.length ? lines.get(descriptors[0]!) : undefined;
    const at = line !== undefined ? `line ${line}: ` : '';
    if (!isObject(value)) {
      throw new AibomError('INPUT', `${at}entry ${JSON.stringify(key)} is not a mapping: not a yarn.lock, or a damaged one`, {
        file: path,
      });
    }
    const resolution = str(value.resolution);
    if (resolution === undefined || !splitDescriptor(resolution)) {
      throw new AibomError(
        'INPUT',
        `${at}entry ${JSON.stringify(key)} has no valid "resolution": the file is truncated or not written by yarn`,
        { file: path },
      );
    }
    const { identity, patch } = unwrapPatch(resolution);
    const entry: Entry = { key, descriptors, value, resolution };
    if (patch !== undefined) entry.patch = patch;
    if (line !== undefined) entry.line = line;
    addTo(lock.groups, identity, entry);
    for (const d of descriptors) {
      lock.byDescriptor.set(d, identity);
      addToSet(lock.byBareDescriptor, stripBindings(d), identity);
    }
  }
  return lock;
}

function addTo<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function addToSet<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

interface BerryPackages {
  packages: LockPackage[];
  byKey: Map<string, LockPackage>;
  /** The root workspace: the project, not a package. */
  rootIdentity: string | undefined;
  workspaceDirs: Map<string, string>; // identity → folder
}

/** Packages: one per identity (the root workspace is the project, not a package). */
function buildPackages(lock: BerryLock, warnings: Warnings): BerryPackages {
  const out: BerryPackages = { packages: [], byKey: new Map(), rootIdentity: undefined, workspaceDirs: new Map() };
  for (const [identity, entries] of lock.groups) {
    const [name, reference] = splitDescriptor(identity)!;
    if (reference.startsWith('workspace:')) {
      const dir = safeWorkspaceDir(decodeSafe(stripBindings(reference.slice('workspace:'.length))));
      if (dir === undefined) {
        warnings.add(`skipped workspace ${JSON.stringify(identity)}: its folder is outside the project`);
        continue;
      }
      out.workspaceDirs.set(identity, dir);
      if (dir === '') {
        out.rootIdentity = identity;
        continue;
      }
    }
    const pkg = berryPackage(identity, name, reference, entries);
    if (out.workspaceDirs.has(identity)) pkg.workspace = true;
    out.packages.push(pkg);
    out.byKey.set(identity, pkg);
  }
  return out;
}

/** One package from its entries: the unpatched one is the base; patches and checksums are properties. */
function berryPackage(identity: string, name: string, reference: string, entries: Entry[]): LockPackage {
  const base = entries.find((e) => e.patch === undefined) ?? entries[0]!;
  const checksums = entries.filter((e) => e.patch === undefined).map((e) => str(e.value.checksum));
  const patched = entries.filter((e) => e.patch !== undefined);
  const anyChecksum = entries.some((e) => str(e.value.checksum) !== undefined);
  const properties: Property[] = [];
  for (const c of checksums) if (c) properties.push(prop(`${NS}yarn:checksum`, c));
  for (const e of patched) {
    properties.push(prop(`${NS}yarn:patch`, e.patch!));
    const c = str(e.value.checksum);
    if (c) properties.push(prop(`${NS}yarn:patch-checksum`, c));
  }
  const pkg: LockPackage = {
    key: identity,
    ecosystem: 'npm',
    name,
    hashes: [],
    source: berrySource(reference, anyChecksum),
    dependencies: [],
  };
  const version = str(base.value.version);
  if (version !== undefined && version !== '0.0.0-use.local') pkg.version = version;
  const alias = entries.flatMap((e) => e.descriptors.map((d) => splitDescriptor(d)?.[0])).find((n) => n && n !== name);
  if (alias) pkg.alias = alias;
  if (base.line !== undefined) pkg.line = base.line;
  if (properties.length) pkg.properties = properties;
  return pkg;
}

type Resolver = (name: string, range: string, parentLocator: string) => string | undefined;

/**
 * How a dependency `name: range` finds its package: the descriptor `name@range`; descriptors
 * of file:/link:/portal:/patch: dependencies are bound to their dependent in the key
 * (`::locator=<dependent>`); lockfiles before v6 wrote ranges without `npm:`. `catalog:`
 * ranges come from .yarnrc.yml; `resolutions` in the root package.json replace the range a
 * dependent asks for (the lockfile then holds only the forced descriptor).
 */
async function makeResolver(
  lock: BerryLock,
  built: BerryPackages,
  ctx: ParseContext,
  warnings: Warnings,
  budget: EdgeBudget,
): Promise<Resolver> {
  const forced = forcedRanges(await readManifest(ctx, 'package.json', undefined));
  const catalogs = await readYarnCatalogs(ctx, warnings);
  const identitiesByName = new Map<string, Set<string>>();
  for (const identity of built.byKey.keys()) {
    const name = splitDescriptor(identity)?.[0];
    if (name !== undefined) addToSet(identitiesByName, name, identity);
  }
  const { byDescriptor, byBareDescriptor } = lock;
  const lookup = (name: string, range: string, parentLocator: string): string | undefined => {
    const d = `${name}@${range}`;
    return (
      byDescriptor.get(d) ??
      byDescriptor.get(`${d}::locator=${encodeURIComponent(parentLocator)}`) ??
      (/^[a-z][a-z0-9+.-]*:/i.test(range) ? undefined : byDescriptor.get(`${name}@npm:${range}`))
    );
  };
  return (name, range, parentLocator) => {
    budget.spend();
    const hit = lookup(name, range, parentLocator);
    if (hit) return hit;
    if (range.startsWith('catalog:')) {
      const fromCatalog = catalogs.get(range.slice('catalog:'.length))?.get(name);
      const to = fromCatalog === undefined ? undefined : lookup(name, fromCatalog, parentLocator);
      if (to) return to;
    }
    const bare = byBareDescriptor.get(stripBindings(`${name}@${range}`));
    if (bare?.size === 1) return bare.values().next().value;
    for (const f of forced.get(name) ?? []) {
      if (f.range !== undefined && f.range !== range && `npm:${f.range}` !== range) continue;
      // A forced link:/portal:/file: range is bound to the root workspace, where it is written.
      const to =
        lookup(name, f.to, parentLocator) ?? (built.rootIdentity === undefined ? undefined : lookup(name, f.to, built.rootIdentity));
      if (to) return to;
    }
    // Remapped by something aibom cannot see (`resolutions` in a package.json that is not
    // there, a plugin): with a single package of that name the edge is still unambiguous.
    const named = identitiesByName.get(name);
    return named?.size === 1 ? named.values().next().value : undefined;
  };
}

interface BerryGraph {
  depsByName: Map<string, Map<string, string>>; // identity → dep name → identity
  optionalEdges: Map<string, Set<string>>;
  parents: Map<string, string[]>;
  edges: Map<string, Set<string>>;
}

/** Edges: each entry's `dependencies`, resolved; `dependenciesMeta` optional ones are optional edges. */
function resolveEdges(lock: BerryLock, built: BerryPackages, resolveDep: Resolver, warnings: Warnings): BerryGraph {
  const graph: BerryGraph = { depsByName: new Map(), optionalEdges: new Map(), parents: new Map(), edges: new Map() };
  const missing = warnings.kind(MAX_SIMILAR_WARNINGS, (n) => `… and ${n} more dependencies that are not in the lockfile`);
  for (const [identity, entries] of lock.groups) {
    if (!built.workspaceDirs.has(identity) && !built.byKey.has(identity)) continue;
    let names = graph.depsByName.get(identity);
    if (!names) graph.depsByName.set(identity, (names = new Map()));
    let out = graph.edges.get(identity);
    if (!out) graph.edges.set(identity, (out = new Set()));
    for (const e of entries) {
      const optionalNames = metaOptional(e.value.dependenciesMeta);
      for (const [n, r] of stringMap(e.value.dependencies)) {
        const to = resolveDep(n, r, e.resolution);
        const optional = optionalNames.has(n);
        if (to === undefined) {
          if (!optional) missing.add(`${e.descriptors[0] ?? e.key}: dependency "${n}@${r}" is not in the lockfile`);
          continue;
        }
        if (to === identity) continue;
        names.set(n, to);
        if (!out.has(to)) {
          out.add(to);
          addTo(graph.parents, to, identity);
        }
        if (optional) addToSet(graph.optionalEdges, identity, to);
      }
    }
  }
  missing.close();
  return graph;
}

/**
 * Peers are provided by the dependent: resolve each through the parents' own dependencies,
 * then through what the parents' peers resolved to (one more level).
 */
function resolvePeers(lock: BerryLock, graph: BerryGraph, peerBudget: EdgeBudget): void {
  const peerResolved = new Map<string, Map<string, string>>();
  for (let pass = 0; pass < 2; pass++) {
    for (const [identity, entries] of lock.groups) {
      const out = graph.edges.get(identity);
      if (!out) continue;
      for (const e of entries) {
        for (const [n] of stringMap(e.value.peerDependencies)) {
          if (peerResolved.get(identity)?.has(n)) continue;
          for (const q of graph.parents.get(identity) ?? []) {
            peerBudget.spend();
            const to = graph.depsByName.get(q)?.get(n) ?? (pass > 0 ? peerResolved.get(q)?.get(n) : undefined);
            if (to === undefined || to === identity) continue;
            out.add(to);
            let m = peerResolved.get(identity);
            if (!m) peerResolved.set(identity, (m = new Map()));
            m.set(n, to);
            break;
          }
        }
      }
    }
  }
}

interface BerryRoots {
  seeds: ScopeSeed[];
  rootDeps: Set<string>;
  rootManifest: Manifest | undefined;
  missingManifests: number;
}

/**
 * Scope roots: each workspace's dependencies with the kind its package.json gives them
 * (yarn.lock has no dev flag); workspace versions from the same manifests.
 */
async function workspaceRoots(
  lock: BerryLock,
  built: BerryPackages,
  graph: BerryGraph,
  ctx: ParseContext,
  warnings: Warnings,
): Promise<BerryRoots> {
  const roots: BerryRoots = { seeds: [], rootDeps: new Set(), rootManifest: undefined, missingManifests: 0 };
  for (const [identity, dir] of built.workspaceDirs) {
    const manifest = await readManifest(ctx, dir ? `${dir}/package.json` : 'package.json', warnings);
    if (!manifest) roots.missingManifests++;
    if (dir === '') roots.rootManifest = manifest;
    else {
      const pkg = built.byKey.get(identity);
      if (pkg && manifest?.version) pkg.version = manifest.version;
      roots.rootDeps.add(identity);
      roots.seeds.push({ key: identity, level: 2 });
    }
    const optionalNames = new Set<string>();
    for (const e of lock.groups.get(identity) ?? []) for (const n of metaOptional(e.value.dependenciesMeta)) optionalNames.add(n);
    for (const [n, to] of graph.depsByName.get(identity) ?? []) {
      const level: Level = (manifest && declaredLevel(manifest, n)) ?? (optionalNames.has(n) ? 1 : 2);
      roots.seeds.push({ key: to, level });
      if (dir === '') roots.rootDeps.add(to);
    }
  }
  if (built.rootIdentity === undefined) {
    // No root workspace entry (a hand-made or partial lockfile): the project's direct
    // dependencies are the entries nothing else needs.
    roots.rootManifest = await readManifest(ctx, 'package.json', warnings);
    const needed = new Set(built.packages.flatMap((p) => p.dependencies));
    for (const p of built.packages) {
      if (!needed.has(p.key)) {
        roots.rootDeps.add(p.key);
        const n = p.alias ?? p.name;
        roots.seeds.push({ key: p.key, level: (roots.rootManifest && declaredLevel(roots.rootManifest, n)) ?? 2 });
      }
    }
    if (!roots.rootManifest) roots.missingManifests++;
  }
  return roots;
}

/**
 * link:/portal: folders: yarn writes the placeholder version 0.0.0-use.local; the folder's
 * own package.json (inside the project only) has the real one.
 */
async function linkVersions(built: BerryPackages, ctx: ParseContext, warnings: Warnings): Promise<void> {
  for (const pkg of built.packages) {
    if (pkg.version !== undefined || pkg.workspace || pkg.source.source !== 'directory' || !pkg.source.url) continue;
    const parentLocator = bindings(pkg.key).get('locator');
    const parentDir = parentLocator ? built.workspaceDirs.get(parentLocator) : '';
    if (parentDir === undefined) continue;
    const dir = safeWorkspaceDir(posix.normalize(posix.join(parentDir, pkg.source.url)));
    if (!dir) continue;
    const m = await readManifest(ctx, `${dir}/package.json`, warnings);
    if (m?.version) pkg.version = m.version;
  }
}

/** Names flagged `optional: true` in a `dependenciesMeta` map (keys are `name` or `name@version`). */
function metaOptional(meta: unknown): Set<string> {
  const out = new Set<string>();
  if (!isObject(meta)) return out;
  for (const [k, v] of Object.entries(meta)) {
    if (!isObject(v) || (v.optional !== true && v.optional !== 'true')) continue;
    out.add(splitDescriptor(k)?.[0] ?? k);
  }
  return out;
}

/** `::` starts bindings (`::locator=...`, `::version=...&hash=...`, `::__archiveUrl=...`). */
function stripBindings(s: string): string {
  const i = s.indexOf('::');
  return i >= 0 ? s.slice(0, i) : s;
}

function bindings(s: string): URLSearchParams {
  const i = s.indexOf('::');
  return new URLSearchParams(i >= 0 ? s.slice(i + 2) : '');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * `is-number@patch:is-number@npm%3A7.0.0#./patches/x.patch::version=7.0.0&hash=...`
 * → identity `is-number@npm:7.0.0`, patch `./patches/x.patch`. Built-in compatibility
 * patches read `optional!builtin<compat/resolve>` (`~builtin<...>` before yarn 4).
 * Nested patches are unwrapped a few levels deep at most.
 */
function unwrapPatch(resolution: string): { identity: string; patch?: string } {
  let identity = resolution;
  const patches: string[] = [];
  for (let i = 0; i < 4; i++) {
    const split = splitDescriptor(identity);
    if (!split?.[1].startsWith('patch:')) break;
    const body = split[1].slice('patch:'.length);
    const hash = body.indexOf('#');
    if (hash < 0) break;
    const inner = decodeSafe(body.slice(0, hash));
    if (!splitDescriptor(inner)) break;
    patches.push(stripBindings(body.slice(hash + 1)));
    identity = inner;
  }
  return patches.length ? { identity, patch: patches.join(' ') } : { identity };
}

/** Where a berry package comes from, by the protocol of its locator's reference. */
function berrySource(reference: string, hasChecksum: boolean): Provenance {
  const ref = stripBindings(reference);
  if (ref.startsWith('npm:')) {
    const archive = bindings(reference).get('__archiveUrl') || undefined;
    return registryProvenance(hasChecksum, archive, 'registry package without a checksum in the lockfile');
  }
  if (ref.startsWith('workspace:')) return { source: 'workspace', url: ref.slice('workspace:'.length), pinned: true };
  if (ref.startsWith('link:') || ref.startsWith('portal:')) {
    return {
      source: 'directory',
      url: ref.slice(ref.indexOf(':') + 1),
      pinned: false,
      unpinnedReason: `${ref.slice(0, ref.indexOf(':'))}: dependency on a local folder: its content is not pinned by the lockfile`,
    };
  }
  if (ref.startsWith('file:')) {
    const hash = ref.indexOf('#');
    const local = ref.slice('file:'.length, hash >= 0 ? hash : undefined);
    if (/\.(tgz|tar\.gz|tar)$/i.test(local)) return pinnedByDigest('file', local, hasChecksum, 'local tarball without a checksum in the lockfile');
    return {
      source: 'directory',
      url: local,
      pinned: false,
      unpinnedReason: 'local folder dependency: its content is not pinned by the lockfile',
    };
  }
  if (isBerryGit(ref)) {
    const commit = /[#&]commit=([0-9a-f]+)/i.exec(ref)?.[1];
    if (isCommitSha(commit)) return { source: 'git', url: ref, pinned: true };
    const movable = /[#&](head|tag|semver)=([^&]*)/.exec(ref);
    return {
      source: 'git',
      url: ref,
      pinned: false,
      unpinnedReason: movable
        ? `git dependency pinned to ${movable[1]} "${decodeSafe(movable[2] ?? '')}", which can move, not a commit`
        : 'git dependency without a commit',
    };
  }
  if (/^https?:\/\//i.test(ref)) {
    return pinnedByDigest('url', ref, hasChecksum, 'URL dependency without a checksum in the lockfile');
  }
  const protocol = /^([a-z][a-z0-9+.-]*):/i.exec(ref)?.[1];
  if (protocol === 'exec') {
    return { source: 'unknown', url: ref, pinned: false, unpinnedReason: 'exec: dependency: generated by a script at install time' };
  }
  return {
    source: 'unknown',
    url: ref,
    pinned: false,
    unpinnedReason: protocol ? `unknown protocol "${protocol}:"` : 'no protocol in the resolution',
  };
}

function isBerryGit(ref: string): boolean {
  return (
    looksLikeGit(ref) ||
    /^(git\+[a-z]+|ssh):\/\//i.test(ref) ||
    /#([^#]*&)?(commit|head|tag|semver)=/i.test(ref) ||
    /^https?:\/\/(www\.)?(github\.com|gitlab\.com|bitbucket\.org)\/[^/]+\/[^/#]+(#|$)/i.test(ref)
  );
}
