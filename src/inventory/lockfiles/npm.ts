import { AibomError } from '../../errors.js';
import { isObject, parseJsonText } from '../../util/json.js';
import type { Provenance } from '../types.js';
import { hashesFromSri } from './integrity.js';
import {
  gitProvenance,
  isRegistryTarball,
  lineIndex,
  localProvenance,
  looksLikeGit,
  urlProvenance,
} from './source.js';
import type { LockfileParser, LockPackage, ParseContext, ParsedLockfile } from './types.js';

/**
 * package-lock.json (lockfileVersion 1, 2, 3) and npm-shrinkwrap.json.
 * v2/v3 are read from the flat `packages` map (node_modules paths); v1 from the nested
 * `dependencies` tree. Edges are resolved the way Node resolves modules: from the
 * dependent's folder up through every enclosing node_modules.
 */
export const npmParser: LockfileParser = {
  kind: 'npm',
  matches: (base) => base === 'package-lock.json' || base === 'npm-shrinkwrap.json',
  async parse(text, path, ctx) {
    const doc = parseJsonText(text, path);
    if (!isObject(doc)) throw new AibomError('INPUT', 'not an npm lockfile: top level is not an object', { file: path });
    const version = doc.lockfileVersion;
    const warnings: string[] = [];
    if (isObject(doc.packages) && (version === 2 || version === 3 || version === undefined || typeof version === 'number')) {
      if (version !== 2 && version !== 3) {
        warnings.push(`unknown lockfileVersion ${JSON.stringify(version)}; read its "packages" map as version 3`);
      }
      return parsePackagesMap(doc, doc.packages, text, path, warnings);
    }
    if (isObject(doc.dependencies) || version === 1) {
      if (version !== 1) warnings.push(`unknown lockfileVersion ${JSON.stringify(version)}; read as version 1`);
      const rootNames = await rootDependencyNames(ctx.readSibling);
      return parseV1(doc, text, path, warnings, rootNames);
    }
    if (version === undefined) {
      throw new AibomError('INPUT', 'not an npm lockfile: no "lockfileVersion", "packages" or "dependencies"', {
        file: path,
      });
    }
    return { path, kind: 'npm', formatVersion: String(version), root: rootOf(doc, []), packages: [], warnings };
  },
};

async function rootDependencyNames(read: ParseContext['readSibling']): Promise<string[] | undefined> {
  const text = await read?.('package.json');
  if (text === undefined) return undefined;
  try {
    const pkg = JSON.parse(text) as unknown;
    if (!isObject(pkg)) return undefined;
    const names = new Set<string>();
    for (const f of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      const d = pkg[f];
      if (isObject(d)) for (const n of Object.keys(d)) names.add(n);
    }
    return [...names];
  } catch {
    return undefined;
  }
}

function rootOf(doc: Record<string, unknown>, deps: string[]): ParsedLockfile['root'] {
  const r: ParsedLockfile['root'] = { dependencies: deps };
  if (typeof doc.name === 'string') r.name = doc.name;
  if (typeof doc.version === 'string') r.version = doc.version;
  return r;
}

function nameFromPath(p: string): string {
  const i = p.lastIndexOf('node_modules/');
  return i >= 0 ? p.slice(i + 'node_modules/'.length) : p.slice(p.lastIndexOf('/') + 1);
}

function depNames(entry: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    const deps = entry[field];
    if (isObject(deps)) {
      for (const n of Object.keys(deps)) {
        // Optional peers that are not installed are fine to miss.
        names.add(n);
      }
    }
  }
  return names;
}

function optionalPeers(entry: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const meta = entry.peerDependenciesMeta;
  if (isObject(meta)) for (const [k, v] of Object.entries(meta)) if (isObject(v) && v.optional === true) out.add(k);
  return out;
}

function provenanceFor(resolved: string | undefined, integrity: string | undefined, fallbackVersion?: string): Provenance {
  const spec = resolved ?? fallbackVersion;
  if (!spec) {
    return { source: 'unknown', pinned: false, unpinnedReason: 'the lockfile records no resolved source' };
  }
  if (looksLikeGit(spec)) return gitProvenance(spec);
  if (spec.startsWith('file:') || spec.startsWith('link:') || spec.startsWith('.') || spec.startsWith('/')) {
    const isTar = /\.(tgz|tar\.gz|tar)$/i.test(spec);
    return localProvenance(spec, isTar, !!integrity);
  }
  if (/^https?:\/\//i.test(spec)) {
    if (isRegistryTarball(spec)) {
      return integrity
        ? { source: 'registry', url: spec, pinned: true }
        : { source: 'registry', url: spec, pinned: false, unpinnedReason: 'registry package without an integrity hash' };
    }
    return urlProvenance(spec, !!integrity);
  }
  // A bare version (v1 entries without "resolved"): from the registry, pinned by version only.
  return integrity
    ? { source: 'registry', pinned: true }
    : { source: 'registry', pinned: false, unpinnedReason: 'no integrity hash in the lockfile' };
}

function parsePackagesMap(
  doc: Record<string, unknown>,
  pkgs: Record<string, unknown>,
  text: string,
  path: string,
  warnings: string[],
): ParsedLockfile {
  const lineOf = lineIndex(text);
  const entries = new Map<string, Record<string, unknown>>();
  for (const [k, v] of Object.entries(pkgs)) {
    if (!isObject(v)) {
      warnings.push(`skipped entry ${JSON.stringify(k)}: not an object`);
      continue;
    }
    entries.set(k, v);
  }
  // Workspace links: "node_modules/a": { link: true, resolved: "packages/a" }.
  const linkTarget = new Map<string, string>();
  for (const [k, v] of entries) {
    if (v.link === true && typeof v.resolved === 'string') linkTarget.set(k, v.resolved);
  }
  const workspaceFolders = new Set(linkTarget.values());

  const resolve = (from: string, name: string): string | undefined => {
    // from: a package path ("node_modules/a/node_modules/b" or "packages/x" or "").
    let base = from;
    for (;;) {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (entries.has(candidate)) return linkTarget.get(candidate) ?? candidate;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      if (i >= 0) base = base.slice(0, i);
      else if (base.startsWith('node_modules/')) base = '';
      else {
        // a workspace folder: continue at the root
        base = '';
      }
    }
  };

  const packages: LockPackage[] = [];
  let rootDeps: string[] = [];
  for (const [k, v] of entries) {
    const line = lineOf(`${JSON.stringify(k)}:`);
    if (v.link === true) continue; // the link's target folder carries the package
    const deps: string[] = [];
    const optPeers = optionalPeers(v);
    for (const n of depNames(v)) {
      const target = resolve(k, n);
      if (target !== undefined && target !== k) deps.push(target);
      else if (target === undefined && !optPeers.has(n) && !(isObject(v.optionalDependencies) && n in v.optionalDependencies)) {
        const isPeer = isObject(v.peerDependencies) && n in v.peerDependencies;
        if (!isPeer) warnings.push(`${k || '(root)'}: dependency "${n}" is not in the lockfile`);
      }
    }
    if (k === '') {
      rootDeps = deps;
      continue;
    }
    const isWorkspace = workspaceFolders.has(k) || !k.includes('node_modules/');
    const name = typeof v.name === 'string' ? v.name : isWorkspace ? undefined : nameFromPath(k);
    if (!name) {
      warnings.push(`skipped ${JSON.stringify(k)}: no package name`);
      continue;
    }
    const integrity = typeof v.integrity === 'string' ? v.integrity : undefined;
    const resolved = typeof v.resolved === 'string' ? v.resolved : undefined;
    const pkg: LockPackage = {
      key: k,
      ecosystem: 'npm',
      name,
      hashes: hashesFromSri(integrity),
      source: isWorkspace
        ? { source: 'workspace', url: k, pinned: true }
        : v.inBundle === true && !resolved
          ? { source: 'registry', pinned: true }
          : provenanceFor(resolved, integrity, typeof v.version === "string" ? v.version : undefined),
      dependencies: deps,
    };
    if (typeof v.version === 'string') pkg.version = v.version;
    if (v.dev === true) pkg.dev = true;
    if (v.optional === true || v.devOptional === true) pkg.optional = true;
    if (v.inBundle === true) {
      pkg.bundled = true;
      if (!resolved) pkg.source = { source: 'registry', pinned: true, url: 'bundled' };
    }
    if (isWorkspace) pkg.workspace = true;
    if (line !== undefined) pkg.line = line;
    if (typeof v.license === 'string') pkg.license = v.license;
    const alias = nameFromPath(k);
    if (!isWorkspace && alias !== name) pkg.alias = alias;
    packages.push(pkg);
  }
  return {
    path,
    kind: 'npm',
    formatVersion: String(doc.lockfileVersion ?? ''),
    root: rootOf(doc, rootDeps),
    packages,
    warnings,
  };
}

/** lockfileVersion 1: a nested tree of `dependencies`, each with `requires`. */
function parseV1(
  doc: Record<string, unknown>,
  text: string,
  path: string,
  warnings: string[],
  rootNames: string[] | undefined,
): ParsedLockfile {
  const packages: LockPackage[] = [];
  type Node = { key: string; parent: Node | undefined; children: Map<string, Node>; entry: Record<string, unknown> };
  const rootNode: Node = { key: '', parent: undefined, children: new Map(), entry: doc };
  const lineOf = lineIndex(text);
  const stack: Node[] = [rootNode];
  const all: Node[] = [];
  // Iterative DFS to build the tree (no recursion: depth is untrusted).
  while (stack.length) {
    const node = stack.pop()!;
    const deps = node.entry.dependencies;
    if (!isObject(deps)) continue;
    const kids: Node[] = [];
    for (const [n, v] of Object.entries(deps)) {
      if (!isObject(v)) {
        warnings.push(`skipped dependency ${JSON.stringify(n)}: not an object`);
        continue;
      }
      const key = node.key ? `${node.key}/node_modules/${n}` : `node_modules/${n}`;
      const child: Node = { key, parent: node, children: new Map(), entry: v };
      node.children.set(n, child);
      kids.push(child);
      all.push(child);
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  const resolve = (from: Node, name: string): Node | undefined => {
    for (let n: Node | undefined = from; n; n = n.parent) {
      const hit = n.children.get(name);
      if (hit) return hit;
    }
    return undefined;
  };
  // Lines: the tree was walked in document order (pre-order), so keys appear in order.
  for (const node of all) {
    const v = node.entry;
    const name = nameFromPath(node.key);
    const rawVersion = typeof v.version === 'string' ? v.version : undefined;
    const integrity = typeof v.integrity === 'string' ? v.integrity : undefined;
    const resolved = typeof v.resolved === 'string' ? v.resolved : undefined;
    let realName = name;
    let version = rawVersion;
    let alias: string | undefined;
    if (rawVersion?.startsWith('npm:')) {
      // "foo": { "version": "npm:bar@1.2.3" }
      const spec = rawVersion.slice(4);
      const at = spec.lastIndexOf('@');
      if (at > 0) {
        realName = spec.slice(0, at);
        version = spec.slice(at + 1);
        alias = name;
      }
    }
    let source: Provenance;
    if (version && (looksLikeGit(version) || version.startsWith('file:') || /^https?:/.test(version))) {
      source = provenanceFor(resolved ?? version, integrity, version);
      version = undefined;
    } else if (v.bundled === true && !resolved) {
      source = { source: 'registry', pinned: true, url: 'bundled' };
    } else {
      source = provenanceFor(resolved, integrity, version);
    }
    const deps: string[] = [];
    const requires = v.requires;
    if (isObject(requires)) {
      for (const n of Object.keys(requires)) {
        const t = resolve(node, n);
        if (t && t !== node) deps.push(t.key);
        else if (!t) warnings.push(`${node.key}: dependency "${n}" is not in the lockfile`);
      }
    }
    const pkg: LockPackage = {
      key: node.key,
      ecosystem: 'npm',
      name: realName,
      hashes: hashesFromSri(integrity),
      source,
      dependencies: deps,
    };
    if (version) pkg.version = version;
    if (v.dev === true) pkg.dev = true;
    if (v.optional === true) pkg.optional = true;
    if (v.bundled === true) pkg.bundled = true;
    if (alias) pkg.alias = alias;
    const line = lineOf(`${JSON.stringify(name)}:`);
    if (line !== undefined) pkg.line = line;
    packages.push(pkg);
  }
  // Root edges: v1 has no root "requires". Use package.json's dependency names when it is
  // there; else the top-level packages nothing else requires.
  let rootDeps: string[];
  if (rootNames) {
    rootDeps = rootNames.flatMap((n) => {
      const hit = rootNode.children.get(n);
      return hit ? [hit.key] : [];
    });
  } else {
    const required = new Set(packages.flatMap((p) => p.dependencies));
    rootDeps = [...rootNode.children.values()].map((c) => c.key).filter((k) => !required.has(k));
  }
  return { path, kind: 'npm', formatVersion: '1', root: rootOf(doc, rootDeps), packages, warnings };
}
