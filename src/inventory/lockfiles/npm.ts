import picomatch from 'picomatch';
import { AibomError } from '../../errors.js';
import { isObject, parseJsonText } from '../../util/json.js';
import type { Provenance } from '../types.js';
import { hashesFromSri } from './integrity.js';
import { gitProvenance, isRegistryTarball, localProvenance, looksLikeGit, registryProvenance, registryTarballVersion, urlProvenance } from './source.js';
import { readJsonManifest } from './manifest.js';
import type { LockfileParser, LockPackage, ParseContext, ParsedLockfile } from './types.js';
import { Warnings } from './warnings.js';

/**
 * package-lock.json (lockfileVersion 1, 2, 3) and npm-shrinkwrap.json (same format).
 *
 * v2/v3 are read from the flat `packages` map, keyed by install path ("node_modules/a",
 * "node_modules/a/node_modules/b", "packages/app" for a workspace, "" for the root); v2's
 * legacy `dependencies` tree is ignored, as npm 7+ does. v1 is read from the nested
 * `dependencies` tree. Either way an edge is resolved the way Node resolves a `require`: from
 * the dependent's folder up through every enclosing node_modules, following workspace links.
 */
export const npmParser: LockfileParser = {
  kind: 'npm',
  matches: (base) => base === 'package-lock.json' || base === 'npm-shrinkwrap.json',
  async parse(text, path, ctx) {
    rejectMergeConflict(text, path);
    const doc = parseJsonText(text, path);
    if (!isObject(doc)) throw new AibomError('INPUT', 'not an npm lockfile: the top level is not an object', { file: path });
    const version = doc.lockfileVersion;
    const warnings = new Warnings();
    const hasPackages = isObject(doc.packages);
    const hasTree = isObject(doc.dependencies);
    const known = version === 1 || version === 2 || version === 3;
    if (version === undefined && !hasPackages && !hasTree) {
      throw new AibomError('INPUT', 'not an npm lockfile: no "lockfileVersion", "packages" or "dependencies"', { file: path });
    }
    if (doc.packages !== undefined && !hasPackages) {
      throw new AibomError('INPUT', '"packages" is not an object', { file: path });
    }
    if (doc.dependencies !== undefined && !hasTree) {
      throw new AibomError('INPUT', '"dependencies" is not an object', { file: path });
    }
    const shown = JSON.stringify(version);
    if ((version === 2 || version === 3) && !hasPackages) {
      if (!hasTree) {
        throw new AibomError('INPUT', `lockfileVersion ${version} without a "packages" map (truncated or hand-edited?)`, {
          file: path,
        });
      }
      warnings.add(`lockfileVersion ${version} without a "packages" map: read the legacy "dependencies" tree instead`);
    }
    if (hasPackages && version !== 1) {
      if (!known) {
        warnings.add(
          `unknown lockfileVersion ${shown} (aibom reads 1, 2 and 3): read its "packages" map as in version 3; fields aibom does not know were ignored`,
        );
      }
      return parsePackagesMap(doc, doc.packages as Record<string, unknown>, text, path, warnings);
    }
    if (!known) {
      if (hasTree) {
        warnings.add(
          `unknown lockfileVersion ${shown} (aibom reads 1, 2 and 3): read its "dependencies" tree as in version 1; fields aibom does not know were ignored`,
        );
      } else {
        warnings.add(`unknown lockfileVersion ${shown} (aibom reads 1, 2 and 3) and no "packages" or "dependencies": no packages read`);
      }
    }
    return parseTree(doc, text, path, warnings, ctx);
  },
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function rootOf(doc: Record<string, unknown>, deps: string[]): ParsedLockfile['root'] {
  const r: ParsedLockfile['root'] = { dependencies: deps };
  if (typeof doc.name === 'string') r.name = doc.name;
  if (typeof doc.version === 'string') r.version = doc.version;
  return r;
}

/** The package folder name an install path ends with: "node_modules/@s/a" → "@s/a". */
function nameFromPath(p: string): string {
  const i = p.lastIndexOf('node_modules/');
  return i >= 0 ? p.slice(i + 'node_modules/'.length) : p.slice(p.lastIndexOf('/') + 1);
}

function parentDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function isInNodeModules(p: string): boolean {
  return p.startsWith('node_modules/') || p.includes('/node_modules/');
}

/**
 * A lockfile committed in the middle of a git merge: npm resolves such a file itself on the
 * next install, but its text is no JSON, and neither side alone is what gets installed.
 * Named as what it is rather than as a JSON syntax error at the first marker.
 */
function rejectMergeConflict(text: string, path: string): void {
  const m = /^<{7}(?: |$)/m.exec(text);
  if (!m || !/^={7}$/m.test(text) || !/^>{7}(?: |$)/m.test(text)) return;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < m.index; i = text.indexOf('\n', i + 1)) line++;
  throw new AibomError(
    'INPUT',
    `line ${line}: unresolved git merge conflict (<<<<<<< / ======= / >>>>>>> markers); resolve it (npm install does) and build again`,
    { file: path },
  );
}

/**
 * Where a package that is not bundled and not a local folder comes from, from its `resolved`
 * (a URL, git URL or `file:` path) or, in v1, its `version` when that is a spec.
 */
function provenanceFor(resolved: string | undefined, integrity: string | undefined): Provenance {
  if (!resolved) {
    // No "resolved": npm omits registry URLs when omit-lockfile-registry-resolved is set.
    return registryProvenance(!!integrity, undefined, 'registry package without an integrity hash in the lockfile');
  }
  if (looksLikeGit(resolved)) return gitProvenance(resolved);
  if (resolved.startsWith('file:')) {
    const isTar = /\.(tgz|tar\.gz|tar)$/i.test(resolved);
    return localProvenance(resolved, isTar, !!integrity);
  }
  if (/^https?:\/\//i.test(resolved)) {
    if (isRegistryTarball(resolved)) return registryProvenance(!!integrity, resolved);
    return urlProvenance(resolved, !!integrity);
  }
  return { source: 'unknown', url: resolved, pinned: false, unpinnedReason: `unrecognised source "${resolved}"` };
}

/** A bundled package is pinned exactly as much as the package it ships inside. */
function bundledProvenance(parent: LockPackage | undefined): Provenance {
  if (!parent) return { source: 'unknown', pinned: false, unpinnedReason: 'bundled inside a package the lockfile does not list' };
  const p: Provenance = { source: parent.source.source, pinned: parent.source.pinned };
  if (!parent.source.pinned) p.unpinnedReason = `bundled inside ${parent.name}, whose source is not pinned`;
  return p;
}

/**
 * Line numbers of object keys, searched in document order: a key counts only where it opens
 * an object (`"key": {`), so the same name in an earlier `requires` or `dependencies` map is
 * skipped. Linear overall; gives up after repeated misses (keys JSON reorders, odd escapes)
 * rather than rescanning a large file for each.
 */
function keyLines(text: string): (key: string) => number | undefined {
  let pos = 0;
  let line = 1;
  let nextNewline = text.indexOf('\n');
  let misses = 0;
  const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
  return (key) => {
    if (misses > 50) return undefined;
    const needle = JSON.stringify(key);
    let at = text.indexOf(needle, pos);
    while (at >= 0) {
      let j = at + needle.length;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 58 /* : */) {
        j++;
        while (j < text.length && isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) === 123 /* { */) break;
      }
      at = text.indexOf(needle, at + 1);
    }
    if (at < 0) {
      misses++;
      return undefined;
    }
    while (nextNewline >= 0 && nextNewline < at) {
      line++;
      nextNewline = text.indexOf('\n', nextNewline + 1);
    }
    pos = at;
    return line;
  };
}

/** `workspaces` globs from the root entry (array, or yarn-style `{ packages: [...] }`). */
function workspaceMatcher(root: Record<string, unknown> | undefined): (path: string) => boolean {
  let globs: unknown = root?.workspaces;
  if (isObject(globs)) globs = globs.packages;
  if (!Array.isArray(globs)) return () => false;
  const clean = (g: string) => g.replace(/^\.\//, '').replace(/(?<!\/)\/+$/, '');
  const pos = globs.filter((g): g is string => typeof g === 'string' && !g.startsWith('!')).map(clean);
  const neg = globs.filter((g): g is string => typeof g === 'string' && g.startsWith('!')).map((g) => clean(g.slice(1)));
  if (!pos.length) return () => false;
  const yes = picomatch(pos, { dot: false });
  const no = neg.length ? picomatch(neg) : () => false;
  return (path) => yes(path) && !no(path);
}

const EDGE_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * Bounds against hostile lockfiles: real install paths are a few node_modules levels deep,
 * and resolving a real lockfile's edges builds a few million characters of candidate paths.
 */
const MAX_PATH_CHARS = 4096;
const MAX_NESTING = 64;
const RESOLVE_BUDGET = 50_000_000;

function nesting(p: string): number {
  let n = 0;
  for (let i = p.indexOf('node_modules/'); i >= 0; i = p.indexOf('node_modules/', i + 13)) n++;
  return n;
}

function parsePackagesMap(
  doc: Record<string, unknown>,
  pkgs: Record<string, unknown>,
  text: string,
  path: string,
  warnings: Warnings,
): ParsedLockfile {
  const { entries, lines } = readEntries(pkgs, text, warnings);
  const rootEntry = entries.get('');
  const resolver = new InstallPathResolver(entries, linkTargets(entries, warnings));
  const edgesOf = (k: string, v: Record<string, unknown>, isProject: boolean) => installEdges(resolver, k, v, isProject, warnings);
  const { packages, workspaceKeys } = readPackages(entries, lines, workspaceMatcher(rootEntry), edgesOf, warnings);
  applyBundledProvenance(packages, entries);

  let rootDeps: string[];
  if (rootEntry) {
    rootDeps = edgesOf('', rootEntry, true);
    for (const w of workspaceKeys) if (!rootDeps.includes(w)) rootDeps.push(w);
  } else {
    warnings.add('no root entry ("packages[\\"\\"]"): the project\'s direct dependencies are inferred');
    const required = new Set(packages.flatMap((p) => p.dependencies));
    rootDeps = packages.filter((p) => !p.key.includes('/node_modules/') && !required.has(p.key)).map((p) => p.key);
  }
  if (resolver.exhausted) warnings.add('the dependency graph is too large to resolve completely: some edges are missing');
  return {
    path,
    kind: 'npm',
    formatVersion: String(doc.lockfileVersion ?? ''),
    root: rootOf(doc, rootDeps),
    packages,
    warnings: warnings.done(),
  };
}

/** Load: the entries by install path (bounded), and the line each starts on. */
function readEntries(
  pkgs: Record<string, unknown>,
  text: string,
  warnings: Warnings,
): { entries: Map<string, Record<string, unknown>>; lines: Map<string, number> } {
  const lineOf = keyLines(text);
  const entries = new Map<string, Record<string, unknown>>();
  const lines = new Map<string, number>();
  for (const [k, v] of Object.entries(pkgs)) {
    const line = lineOf(k);
    if (line !== undefined) lines.set(k, line);
    if (!isObject(v)) {
      warnings.add(`skipped packages[${JSON.stringify(k)}]: not an object`);
      continue;
    }
    if (k.length > MAX_PATH_CHARS || nesting(k) > MAX_NESTING) {
      warnings.add(`skipped packages[${JSON.stringify(k.slice(0, 80))}…]: an install path nested deeper than npm ever writes`);
      continue;
    }
    entries.set(k, v);
  }
  return { entries, lines };
}

/** Links: "node_modules/a": { "link": true, "resolved": "packages/a" } (workspaces, file: folders). */
function linkTargets(entries: Map<string, Record<string, unknown>>, warnings: Warnings): Map<string, string> {
  const linkTarget = new Map<string, string>();
  for (const [k, v] of entries) {
    if (v.link !== true) continue;
    const target = str(v.resolved);
    if (target === undefined) warnings.add(`${k}: a link without a "resolved" target`);
    else if (!entries.has(target)) warnings.add(`${k}: links to "${target}", which the lockfile does not list`);
    else linkTarget.set(k, target);
  }
  return linkTarget;
}

/**
 * Node's module resolution over install paths: `<dir>/node_modules/<name>` from the
 * dependent's folder up to the root, skipping folders that are themselves node_modules,
 * following links. Bounded: the candidate paths it builds are counted against a budget.
 */
class InstallPathResolver {
  private budget = RESOLVE_BUDGET;
  constructor(
    private readonly entries: Map<string, Record<string, unknown>>,
    private readonly linkTarget: Map<string, string>,
  ) {}
  get exhausted(): boolean {
    return this.budget < 0;
  }
  resolve(from: string, name: string): string | undefined {
    let dir = from;
    for (;;) {
      const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      this.budget -= candidate.length;
      if (this.budget < 0) return undefined;
      const hit = this.entries.get(candidate);
      if (hit) return hit.link === true ? this.linkTarget.get(candidate) : candidate;
      if (dir === '') return undefined;
      dir = parentDir(dir);
      if (dir === 'node_modules' || dir.endsWith('/node_modules')) dir = parentDir(dir);
    }
  }
}

/** Edges of one entry: its dependency maps resolved from its install path; missing ones warned about. */
function installEdges(
  resolver: InstallPathResolver,
  k: string,
  v: Record<string, unknown>,
  isProject: boolean,
  warnings: Warnings,
): string[] {
  const out = new Set<string>();
  const optionalPeers = new Set<string>();
  if (isObject(v.peerDependenciesMeta)) {
    for (const [n, m] of Object.entries(v.peerDependenciesMeta)) if (isObject(m) && m.optional === true) optionalPeers.add(n);
  }
  // npm installs devDependencies only for the root project and its workspaces.
  const fields = isProject ? [...EDGE_FIELDS, 'devDependencies'] : EDGE_FIELDS;
  for (const field of fields) {
    const deps = v[field];
    if (!isObject(deps)) continue;
    for (const n of Object.keys(deps)) {
      const target = resolver.resolve(k, n);
      if (target !== undefined) {
        if (target !== k) out.add(target);
        continue;
      }
      if (resolver.exhausted) return [...out];
      // Optional dependencies for other platforms and peers npm was told to skip
      // (legacy-peer-deps) are legitimately absent.
      if (field === 'optionalDependencies' || field === 'peerDependencies' || optionalPeers.has(n)) continue;
      warnings.missingDep(`${k || '(root)'}: dependency "${n}" is not in the lockfile`);
    }
  }
  return [...out];
}

/** Packages: every entry but the root (the project) and links (their targets carry the package). */
function readPackages(
  entries: Map<string, Record<string, unknown>>,
  lines: Map<string, number>,
  isWorkspacePath: (path: string) => boolean,
  edgesOf: (k: string, v: Record<string, unknown>, isProject: boolean) => string[],
  warnings: Warnings,
): { packages: LockPackage[]; workspaceKeys: string[] } {
  const packages: LockPackage[] = [];
  const workspaceKeys: string[] = [];
  for (const [k, v] of entries) {
    if (k === '' || v.link === true) continue;
    const folder = !isInNodeModules(k);
    const workspace = folder && isWorkspacePath(k);
    const folderName = nameFromPath(k);
    const name = str(v.name) ?? folderName;
    if (!name) {
      warnings.add(`skipped ${JSON.stringify(k)}: no package name`);
      continue;
    }
    const integrity = str(v.integrity);
    const pkg: LockPackage = {
      key: k,
      ecosystem: 'npm',
      name,
      hashes: hashesFromSri(integrity),
      source: entrySource(k, v, folder, workspace),
      dependencies: edgesOf(k, v, workspace),
    };
    const version = str(v.version);
    if (version) pkg.version = version;
    if (v.dev === true) pkg.dev = true;
    if (v.optional === true || v.devOptional === true) pkg.optional = true;
    if (v.inBundle === true) pkg.bundled = true;
    if (workspace) {
      pkg.workspace = true;
      workspaceKeys.push(k);
    }
    const line = lines.get(k);
    if (line !== undefined) pkg.line = line;
    const license = str(v.license);
    if (license) pkg.license = license;
    if (!folder && name !== folderName) pkg.alias = folderName;
    packages.push(pkg);
  }
  return { packages, workspaceKeys };
}

function entrySource(k: string, v: Record<string, unknown>, folder: boolean, workspace: boolean): Provenance {
  const integrity = str(v.integrity);
  const resolved = str(v.resolved);
  if (workspace) return { source: 'workspace', url: k, pinned: true };
  if (folder) return localProvenance(k, false, false);
  if (isUnresolvedBundle(v)) return { source: 'unknown', pinned: false }; // set from the bundling parent
  return provenanceFor(resolved, integrity);
}

/** A bundled package the lockfile gives no source of its own. */
function isUnresolvedBundle(v: Record<string, unknown>): boolean {
  return v.inBundle === true && !str(v.resolved) && !str(v.integrity);
}

/**
 * Bundled packages take their provenance from the package they ship inside: the nearest
 * enclosing install path that is not itself bundled.
 */
function applyBundledProvenance(packages: LockPackage[], entries: Map<string, Record<string, unknown>>): void {
  const byKey = new Map<string, LockPackage>();
  for (const p of packages) byKey.set(p.key, p);
  for (const pkg of packages) {
    if (!isUnresolvedBundle(entries.get(pkg.key)!)) continue;
    let parent: LockPackage | undefined;
    let at = pkg.key;
    for (;;) {
      const i = at.lastIndexOf('/node_modules/');
      if (i < 0) break;
      at = at.slice(0, i);
      const p = byKey.get(at);
      if (p && !p.bundled) {
        parent = p;
        break;
      }
    }
    pkg.source = bundledProvenance(parent);
  }
}

/** lockfileVersion 1: a nested tree of `dependencies`, each with `requires`. */
async function parseTree(
  doc: Record<string, unknown>,
  text: string,
  path: string,
  warnings: Warnings,
  ctx: ParseContext,
): Promise<ParsedLockfile> {
  const tree = readTree(doc, warnings);
  const lineOf = keyLines(text);
  const budget = { left: RESOLVE_BUDGET / 10 }; // lookups up the tree
  const packages: LockPackage[] = [];
  for (const node of tree.order) {
    const pkg = await treePackage(node, ctx);
    pkg.dependencies = treeEdges(tree, node, budget, warnings);
    const line = lineOf(node.name);
    if (line !== undefined) pkg.line = line;
    node.pkg = pkg;
    packages.push(pkg);
  }
  for (const node of tree.order) {
    const pkg = node.pkg!;
    if (!(pkg.bundled && !str(node.entry.resolved) && !str(node.entry.integrity))) continue;
    let parent = node.parent;
    while (parent?.pkg?.bundled) parent = parent.parent;
    pkg.source = bundledProvenance(parent?.pkg);
  }
  const rootDeps = await treeRootDeps(tree.root, packages, ctx);
  const formatVersion = doc.lockfileVersion === undefined ? '1' : String(doc.lockfileVersion);
  if (budget.left <= 0) warnings.add('the dependency graph is too large to resolve completely: some edges are missing');
  return { path, kind: 'npm', formatVersion, root: rootOf(doc, rootDeps), packages, warnings: warnings.done() };
}

/** A node of the v1 tree. Install paths grow with depth: nodes get short keys, paths are spelled out for warnings only. */
interface TreeNode {
  key: string;
  name: string;
  parent: TreeNode | undefined;
  children: Map<string, TreeNode>;
  entry: Record<string, unknown>;
  pkg?: LockPackage;
}

interface Tree {
  root: TreeNode;
  /** Every node but the root, pre-order in document order. */
  order: TreeNode[];
  pathOf(node: TreeNode): string;
}

/** Load: the nested `dependencies`, walked iteratively (the depth is untrusted). */
function readTree(doc: Record<string, unknown>, warnings: Warnings): Tree {
  const root: TreeNode = { key: '', name: '', parent: undefined, children: new Map(), entry: doc };
  const pathOf = (node: TreeNode): string => {
    const names: string[] = [];
    for (let n: TreeNode | undefined = node; n && n !== root; n = n.parent) names.push(n.name);
    return names.reverse().map((n) => `node_modules/${n}`).join('/');
  };
  let ids = 0;
  const order: TreeNode[] = [];
  const stack: TreeNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node !== root) order.push(node);
    const deps = node.entry.dependencies;
    if (deps === undefined) continue;
    if (!isObject(deps)) {
      warnings.add(`${pathOf(node)}: "dependencies" is not an object`);
      continue;
    }
    const kids: TreeNode[] = [];
    for (const [n, v] of Object.entries(deps)) {
      if (!isObject(v)) {
        warnings.add(`skipped ${node === root ? '' : `${pathOf(node)} > `}${JSON.stringify(n)}: not an object`);
        continue;
      }
      const child: TreeNode = { key: `v1:${++ids}`, name: n, parent: node, children: new Map(), entry: v };
      node.children.set(n, child);
      kids.push(child);
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return { root, order, pathOf };
}

/** One package from its node: aliases (`npm:`), specs written as the version, source. */
async function treePackage(node: TreeNode, ctx: ParseContext): Promise<LockPackage> {
  const v = node.entry;
  const rawVersion = str(v.version);
  const integrity = str(v.integrity);
  const resolved = str(v.resolved);
  let name = node.name;
  let version = rawVersion;
  let alias: string | undefined;
  let source: Provenance;
  if (rawVersion?.startsWith('npm:')) {
    // An alias: "foo": { "version": "npm:bar@1.2.3" } (scoped: "npm:@s/bar@1.2.3").
    const spec = rawVersion.slice(4);
    const at = spec.lastIndexOf('@');
    if (at > 0) {
      name = spec.slice(0, at);
      version = spec.slice(at + 1);
      alias = node.name;
    }
  }
  if (v.bundled === true && !resolved && !integrity) {
    source = { source: 'unknown', pinned: false }; // set below, from the bundling parent
  } else if (version && (looksLikeGit(version) || /^(file|https?):/i.test(version))) {
    // Non-registry packages carry their spec in "version": the git URL with the commit,
    // "file:folder", "file:x.tgz" or a tarball URL. The real version is not recorded.
    // npm 5 also wrote registry tarball URLs there: their file name carries the version.
    source = version.startsWith('file:') ? fileSource(version, integrity) : provenanceFor(version, integrity);
    version =
      source.source === 'directory'
        ? await folderVersion(version.slice(5), ctx)
        : source.source === 'registry'
          ? registryTarballVersion(version, name)
          : undefined;
  } else {
    source = provenanceFor(resolved, integrity);
  }
  const pkg: LockPackage = { key: node.key, ecosystem: 'npm', name, hashes: hashesFromSri(integrity), source, dependencies: [] };
  if (version) pkg.version = version;
  if (v.dev === true) pkg.dev = true;
  if (v.optional === true) pkg.optional = true;
  if (v.bundled === true) pkg.bundled = true;
  if (alias) pkg.alias = alias;
  return pkg;
}

/** Edges: each `requires` name resolved up the tree from the node, as Node resolves a require. */
function treeEdges(tree: Tree, node: TreeNode, budget: { left: number }, warnings: Warnings): string[] {
  const deps: string[] = [];
  const requires = node.entry.requires;
  if (!isObject(requires)) return deps;
  for (const n of Object.keys(requires)) {
    let t: TreeNode | undefined;
    for (let at: TreeNode | undefined = node; at && budget.left-- > 0; at = at.parent) {
      t = at.children.get(n);
      if (t) break;
    }
    if (t && t !== node) deps.push(t.key);
    else if (!t && budget.left > 0) warnings.missingDep(`${tree.pathOf(node)}: dependency "${n}" is not in the lockfile`);
  }
  return deps;
}

/**
 * v1 records no root edges: take package.json's dependency names when it is there; else
 * the top-level packages nothing else requires.
 */
async function treeRootDeps(root: TreeNode, packages: LockPackage[], ctx: ParseContext): Promise<string[]> {
  const rootNames = await rootDependencyNames(ctx);
  if (rootNames) {
    return rootNames.flatMap((n) => {
      const hit = root.children.get(n);
      return hit ? [hit.key] : [];
    });
  }
  const required = new Set(packages.flatMap((p) => p.dependencies));
  return [...root.children.values()].map((c) => c.key).filter((k) => !required.has(k));
}

function fileSource(spec: string, integrity: string | undefined): Provenance {
  const isTar = /\.(tgz|tar\.gz|tar)$/i.test(spec);
  return localProvenance(spec, isTar, !!integrity);
}

/** The version of a local folder dependency, from its package.json when it is readable. */
async function folderVersion(folder: string, ctx: ParseContext): Promise<string | undefined> {
  const manifest = await readJsonManifest(ctx, `${folder.replace(/(?<!\/)\/+$/, '')}/package.json`);
  return manifest && typeof manifest.version === 'string' ? manifest.version : undefined;
}

async function rootDependencyNames(ctx: ParseContext): Promise<string[] | undefined> {
  const pkg = await readJsonManifest(ctx, 'package.json');
  if (!pkg) return undefined;
  const names = new Set<string>();
  for (const f of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    const d = pkg[f];
    if (isObject(d)) for (const n of Object.keys(d)) names.add(n);
  }
  return [...names];
}
