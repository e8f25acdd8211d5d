import { posix } from 'node:path';
import picomatch from 'picomatch';
import { AibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import type { Hash, Provenance } from '../types.js';
import { hashFromHex, hashesFromSri, pushUnique } from './integrity.js';
import { gitProvenance, isCommitSha, localProvenance, looksLikeGit, registryProvenance, urlProvenance } from './source.js';
import { markScopes, packageEdges, type ScopeSeed, scopeLevels } from './scopes.js';
import type { LockPackage, ParseContext, ParsedLockfile } from './types.js';
import { MAX_SIMILAR_WARNINGS, type WarningKind, type Warnings } from './warnings.js';
import {
  EdgeBudget,
  keyLines,
  type Manifest,
  readManifest,
  safeWorkspaceDir,
  splitDescriptor,
  str,
  stringMap,
} from './yarn-common.js';

/**
 * Classic yarn.lock (`# yarn lockfile v1`). Each entry is keyed by the `name@range`
 * descriptors that resolved to it (several share one entry); fields: version, resolved
 * (URL, `#<sha1 of the tarball>` or `#<git commit>` after it), integrity, dependencies,
 * optionalDependencies. The lockfile has no root entry, no workspace entries and no dev
 * flag: those come from package.json (the root's and each workspace's).
 */
export async function parseClassic(
  doc: Record<string, unknown>,
  text: string,
  path: string,
  ctx: ParseContext,
  warnings: Warnings,
  lineOffset: number,
): Promise<ParsedLockfile> {
  const lines = keyLines(text, path, lineOffset);
  const lock = readPackages(groupEntries(doc, lines, path), lines, path, warnings);
  reportBadIntegrity(lock, warnings);
  await linkVersions(lock.links, ctx, warnings);

  // The project and its workspaces (classic lockfiles list neither).
  const rootManifest = await readManifest(ctx, 'package.json', warnings);
  const workspaces = rootManifest ? await classicWorkspaces(rootManifest, ctx, warnings) : [];
  const resolveDep = makeResolver(lock, workspaces, EdgeBudget.forText(path, text));
  const missing = warnings.kind(MAX_SIMILAR_WARNINGS, (n) => `… and ${n} more dependencies that are not in the lockfile`);
  const optionalEdges = resolveEdges(lock, resolveDep, missing);
  const roots = workspaceRoots(lock.packages, workspaces, rootManifest, resolveDep, missing);
  missing.close();
  if (rootManifest) {
    const levels = scopeLevels(roots.seeds, packageEdges(lock.packages, optionalEdges));
    const unreachable = markScopes(lock.packages, levels, { unreached: 'required' });
    if (unreachable > 0) {
      warnings.add(
        `${unreachable} lockfile ${unreachable === 1 ? 'entry is' : 'entries are'} not reachable from package.json (a stale lockfile?); kept as required`,
      );
    }
  } else {
    warnings.add(
      'no package.json beside yarn.lock: yarn.lock has no dev flag, so development-only packages cannot be told apart; all are marked required',
    );
    // Without the manifest, the project's direct dependencies are the entries nothing else needs.
    const needed = new Set(lock.packages.flatMap((p) => p.dependencies));
    for (const p of lock.packages) if (!needed.has(p.key)) roots.rootDeps.add(p.key);
  }

  const root: ParsedLockfile['root'] = { dependencies: [...roots.rootDeps] };
  if (rootManifest?.name) root.name = rootManifest.name;
  if (rootManifest?.version) root.version = rootManifest.version;
  return { path, kind: 'yarn-classic', formatVersion: '1', root, packages: lock.packages, warnings: warnings.done() };
}

/**
 * Load: yarn writes one block per resolved package, keyed by all its descriptors; the
 * parser gives each descriptor the same object, so entries are grouped by object identity.
 */
function groupEntries(doc: Record<string, unknown>, lines: Map<string, number>, path: string): Map<object, string[]> {
  const groups = new Map<object, string[]>();
  for (const [descriptor, value] of Object.entries(doc)) {
    if (!isObject(value)) {
      const line = lines.get(descriptor);
      throw new AibomError(
        'INPUT',
        `${line !== undefined ? `line ${line}: ` : ''}entry ${JSON.stringify(descriptor)} is not a mapping: not a yarn.lock, or a damaged one`,
        { file: path },
      );
    }
    let g = groups.get(value);
    if (!g) groups.set(value, (g = []));
    g.push(descriptor);
  }
  return groups;
}

interface ClassicLock {
  packages: LockPackage[];
  entries: Map<string, Record<string, unknown>>;
  byDescriptor: Map<string, string>; // descriptor → package key
  byName: Map<string, Set<string>>; // dependency name → keys (for a lenient fallback)
  links: Array<{ pkg: LockPackage; folder: string }>;
}

/** Packages: one per entry, keyed by its first descriptor; `npm:` aliases name the real package. */
function readPackages(groups: Map<object, string[]>, lines: Map<string, number>, path: string, warnings: Warnings): ClassicLock {
  const lock: ClassicLock = { packages: [], entries: new Map(), byDescriptor: new Map(), byName: new Map(), links: [] };
  for (const [value, descriptors] of groups) {
    const entry = value as Record<string, unknown>;
    const key = descriptors[0]!;
    const line = lines.get(key);
    const version = str(entry.version);
    if (version === undefined) {
      throw new AibomError(
        'INPUT',
        `${line !== undefined ? `line ${line}: ` : ''}entry ${JSON.stringify(key)} has no version: the file is truncated or damaged`,
        { file: path },
      );
    }
    const split = splitDescriptor(key);
    if (!split) {
      warnings.add(`skipped entry ${JSON.stringify(key)}: not a name@range descriptor`);
      continue;
    }
    const { pkg, spec } = classicPackage(key, split, version, entry);
    if (line !== undefined) pkg.line = line;
    if (spec.startsWith('link:')) lock.links.push({ pkg, folder: spec.slice('link:'.length) });
    lock.packages.push(pkg);
    lock.entries.set(key, entry);
    for (const d of descriptors) {
      lock.byDescriptor.set(d, key);
      const n = splitDescriptor(d)?.[0];
      if (n) {
        let set = lock.byName.get(n);
        if (!set) lock.byName.set(n, (set = new Set()));
        set.add(key);
      }
    }
  }
  return lock;
}

function classicPackage(
  key: string,
  [depName, range]: [string, string],
  version: string,
  entry: Record<string, unknown>,
): { pkg: LockPackage; spec: string } {
  let name = depName;
  let alias: string | undefined;
  let spec = range;
  if (range.startsWith('npm:')) {
    // "old-ms@npm:ms@2.0.0": the dependent calls it old-ms; the package is ms
    const inner = splitDescriptor(range.slice(4));
    if (inner) {
      name = inner[0];
      alias = depName;
      spec = inner[1];
    } else spec = range.slice(4);
  }
  const { source, hashes } = classicSource(spec, str(entry.resolved), str(entry.integrity));
  const pkg: LockPackage = { key, ecosystem: 'npm', name, version, hashes, source, dependencies: [] };
  if (alias) pkg.alias = alias;
  return { pkg, spec };
}

/** Unreadable integrity values, after the entries' own warnings: capped, then counted. */
function reportBadIntegrity(lock: ClassicLock, warnings: Warnings): void {
  const badIntegrity = warnings.kind(MAX_SIMILAR_WARNINGS, (n) => `… and ${n} more unreadable integrity values`);
  for (const pkg of lock.packages) {
    const integrity = str(lock.entries.get(pkg.key)!.integrity);
    if (integrity !== undefined && hashesFromSri(integrity).length === 0) {
      badIntegrity.add(`${pkg.key}: integrity ${JSON.stringify(integrity.slice(0, 40))} is not a digest aibom can read; left out`);
    }
  }
  badIntegrity.close();
}

/**
 * `link:` entries carry the placeholder version "0.0.0"; the folder's package.json (inside
 * the project only) has the real one.
 */
async function linkVersions(links: ClassicLock['links'], ctx: ParseContext, warnings: Warnings): Promise<void> {
  for (const { pkg, folder } of links) {
    if (pkg.version !== '0.0.0') continue;
    delete pkg.version;
    const dir = safeWorkspaceDir(posix.normalize(folder));
    const m = dir ? await readManifest(ctx, `${dir}/package.json`, warnings) : undefined;
    if (m?.version) pkg.version = m.version;
  }
}

type Resolver = (name: string, range: string) => string | undefined;

function makeResolver(lock: ClassicLock, workspaces: ClassicWorkspace[], budget: EdgeBudget): Resolver {
  const workspaceByName = new Map<string, string>();
  for (const w of workspaces) if (w.manifest.name) workspaceByName.set(w.manifest.name, w.key);
  return (name, range) => {
    budget.spend();
    const hit = lock.byDescriptor.get(`${name}@${range}`);
    if (hit) return hit;
    const ws = workspaceByName.get(name);
    if (ws) return ws;
    // `resolutions` in package.json can force another range than the one requested;
    // with a single entry of that name the edge is still unambiguous.
    const named = lock.byName.get(name);
    return named?.size === 1 ? named.values().next().value : undefined;
  };
}

/** Edges: each entry's dependencies and optionalDependencies (optional edges); returns the optional ones. */
function resolveEdges(lock: ClassicLock, resolveDep: Resolver, missing: WarningKind): Map<string, Set<string>> {
  const optionalEdges = new Map<string, Set<string>>();
  for (const pkg of lock.packages) {
    const entry = lock.entries.get(pkg.key)!;
    const deps = new Set<string>();
    for (const [field, optional] of [
      ['dependencies', false],
      ['optionalDependencies', true],
    ] as const) {
      for (const [n, r] of stringMap(entry[field])) {
        const to = resolveDep(n, r);
        if (to === undefined) {
          if (!optional) missing.add(`${pkg.key}: dependency "${n}@${r}" is not in the lockfile`);
          continue;
        }
        if (to === pkg.key) continue;
        deps.add(to);
        if (optional) {
          let set = optionalEdges.get(pkg.key);
          if (!set) optionalEdges.set(pkg.key, (set = new Set()));
          set.add(to);
        }
      }
    }
    pkg.dependencies = [...deps];
  }
  return optionalEdges;
}

/**
 * Scope roots: workspace members are components of their own, and their manifests (and the
 * root's) say which dependencies are required, optional or development only.
 */
function workspaceRoots(
  packages: LockPackage[],
  workspaces: ClassicWorkspace[],
  rootManifest: Manifest | undefined,
  resolveDep: Resolver,
  missing: WarningKind,
): { seeds: ScopeSeed[]; rootDeps: Set<string> } {
  const seeds: ScopeSeed[] = [];
  const rootDeps = new Set<string>();
  const seedFrom = (m: Manifest, fromKey: string | undefined, out: Set<string>) => {
    for (const [field, level] of [
      ['dependencies', 2],
      ['optionalDependencies', 1],
      ['devDependencies', 0],
    ] as const) {
      for (const [n, r] of Object.entries(m[field])) {
        const to = resolveDep(n, r);
        if (to === undefined) {
          missing.add(`${fromKey ?? 'package.json'}: dependency "${n}@${r}" is not in the lockfile`);
          continue;
        }
        if (to === fromKey) continue;
        out.add(to);
        seeds.push({ key: to, level });
      }
    }
  };
  for (const w of workspaces) {
    const deps = new Set<string>();
    seedFrom(w.manifest, w.key, deps);
    const pkg: LockPackage = {
      key: w.key,
      ecosystem: 'npm',
      name: w.manifest.name ?? w.dir,
      hashes: [],
      source: { source: 'workspace', url: w.dir, pinned: true },
      dependencies: [...deps],
      workspace: true,
    };
    if (w.manifest.version) pkg.version = w.manifest.version;
    packages.push(pkg);
    rootDeps.add(w.key);
    seeds.push({ key: w.key, level: 2 });
  }
  if (rootManifest) seedFrom(rootManifest, undefined, rootDeps);
  return { seeds, rootDeps };
}

/** Where a classic entry comes from: the descriptor's range says the protocol, `resolved` the place. */
function classicSource(
  spec: string,
  resolved: string | undefined,
  integrity: string | undefined,
): { source: Provenance; hashes: Hash[] } {
  const hashes = hashesFromSri(integrity);
  const isGit =
    looksLikeGit(spec) || (resolved !== undefined && looksLikeGit(resolved)) || /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec);
  if (isGit) {
    // git: the fragment of `resolved` is the commit, not a tarball hash.
    if (resolved && !/^https?:\/\/codeload\./i.test(resolved)) return { source: gitProvenance(resolved), hashes };
    // GitHub shorthand resolves to a codeload tarball whose last path segment is the commit.
    const commit = resolved?.split(/[?#]/)[0]?.split('/').pop();
    if (resolved && isCommitSha(commit)) return { source: { source: 'git', url: resolved, pinned: true }, hashes };
    return { source: gitProvenance(resolved ?? spec), hashes };
  }
  // `resolved` ends in `#<sha1 of the tarball>` (hex): a second hash of the same tarball.
  let url = resolved;
  if (resolved) {
    const hash = resolved.lastIndexOf('#');
    if (hash >= 0) {
      const sha1 = hashFromHex('sha1', resolved.slice(hash + 1));
      if (sha1) pushUnique(hashes, sha1);
      url = resolved.slice(0, hash);
    }
  }
  const hasHash = hashes.length > 0;
  if (spec.startsWith('file:') || spec.startsWith('link:') || spec.startsWith('.') || spec.startsWith('/')) {
    const local = (url ?? spec).replace(/^(file|link):/, '');
    const isTar = /\.(tgz|tar\.gz|tar)$/i.test(local);
    return { source: localProvenance(local, isTar, hasHash), hashes };
  }
  if (/^https?:\/\//i.test(spec)) return { source: urlProvenance(url ?? spec, hasHash), hashes };
  // A registry range (or an exact version): from the registry, pinned by its integrity.
  return { source: registryProvenance(hasHash, url || undefined), hashes };
}

interface ClassicWorkspace {
  key: string;
  dir: string;
  manifest: Manifest;
}

/** Workspace members from the root manifest's `workspaces` globs, found among the scanned files. */
async function classicWorkspaces(root: Manifest, ctx: ParseContext, warnings: Warnings): Promise<ClassicWorkspace[]> {
  if (root.workspaces.length === 0) return [];
  if (!ctx.findSiblings) {
    warnings.add('package.json declares workspaces, but this build cannot list files: workspace members are left out');
    return [];
  }
  const clean = (g: string) => g.replace(/^\.\/+/, '').replace(/(?<!\/)\/+$/, '');
  const pos = root.workspaces.filter((g) => !g.startsWith('!')).map(clean);
  const neg = root.workspaces.filter((g) => g.startsWith('!')).map((g) => clean(g.slice(1)));
  if (pos.length === 0) return [];
  const excluded = neg.length ? picomatch(neg) : () => false;
  const files = await ctx.findSiblings(pos.map((g) => `${g}/package.json`));
  const out: ClassicWorkspace[] = [];
  for (const file of [...files].sort()) {
    const dir = safeWorkspaceDir(file.slice(0, -'/package.json'.length));
    if (!dir || excluded(dir)) continue;
    const manifest = await readManifest(ctx, `${dir}/package.json`, warnings);
    if (!manifest) continue;
    out.push({ key: `workspace:${dir}`, dir, manifest });
  }
  return out;
}
