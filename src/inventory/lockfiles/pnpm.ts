import { createRequire } from 'node:module';
import { posix } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { AibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import { lazy } from '../../util/lazy.js';
import { duplicateKey, parseYamlDocuments } from '../../util/yaml.js';
import type { Provenance } from '../types.js';
import { NS, prop } from '../types.js';
import { hashesFromSri } from './integrity.js';
import { gitProvenance, isRegistryTarball, localProvenance, registryProvenance, urlProvenance } from './source.js';
import { readJsonManifest, readSiblingText } from './manifest.js';
import { markScopes, type ScopeSeed, scopeLevels } from './scopes.js';
import type { LockfileParser, LockPackage, ParseContext, ParsedLockfile } from './types.js';
import { Warnings } from './warnings.js';

const require = createRequire(import.meta.url);

/** Loaded when there is a pnpm-lock.yaml to read (see lazy). */
const yaml = lazy(() => require('yaml') as typeof import('yaml'));

/**
 * pnpm-lock.yaml: lockfileVersion '9.0' (pnpm 9, 10: `importers`, `packages` with resolutions,
 * `snapshots` with the resolved graph) and '6.0'/'6.1' (pnpm 8: `packages` keyed
 * `/name@version(peer@x)`, `dev`/`optional` flags). 5.x (`/name/version_peer`) and other
 * versions are read on a best effort, with a warning.
 *
 * Each importer (workspace project) other than the root becomes a component of its own with
 * its edges; `link:` dependencies resolve to the importer they point at, or to a local folder.
 * Scopes come from the graph: reachable from some importer's `dependencies` through
 * non-optional edges → required; only through optional edges → optional; only from
 * `devDependencies` → excluded. v6 `dev` and any `optional` flag are honoured as written.
 */
export const pnpmParser: LockfileParser = {
  kind: 'pnpm',
  matches: (base) => base === 'pnpm-lock.yaml',
  parse: (text, path, ctx) => parsePnpm(text, path, ctx),
};

/** pnpm never writes YAML aliases; a few are tolerated, an expansion attack is refused. */
const MAX_ALIAS_COUNT = 100;
/** pnpm's flow collections nest two levels deep at most (`resolution: {...}`). */
const MAX_FLOW_DEPTH = 64;
/** pnpm 11+ writes two documents (its own environment, then the project). */
const MAX_DOCUMENTS = 8;
/** 5.x: pnpm 3 to 7 (`/name/version_peer` keys); 6.x: pnpm 8; 9.0: pnpm 9 and later. */
const KNOWN_VERSIONS = new Set(['5', '5.0', '5.1', '5.2', '5.3', '5.4', '6.0', '6.1', '9.0']);

type Style = 'v9' | 'v6' | 'v5';
type Rec = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** The failsafe schema keeps every scalar a string: `true` is 'true', `5.4` is '5.4'. */
const flag = (v: unknown): boolean | undefined => (v === 'true' || v === true ? true : v === 'false' || v === false ? false : undefined);

interface Loaded {
  data: Rec;
  /** 1-based line of a key in a top-level section ('packages', 'snapshots', 'importers'). */
  lineOf(section: string, key: string): number | undefined;
}

/** Parse the YAML, bounded: flow depth checked first, aliases capped, errors with a line. */
function loadYaml(text: string, path: string): Loaded {
  checkFlowDepth(text, path);
  const { LineCounter } = yaml();
  const lineCounter = new LineCounter();
  // Bounded (src/util/yaml.ts): stops at the first syntax error, survives deep nesting.
  const docs = parseYamlDocuments(text, {
    lineCounter,
    schema: 'failsafe',
    // yaml's own uniqueKeys check is quadratic in a map's size; duplicates are found in one
    // pass below instead.
    uniqueKeys: false,
  });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length === 0) throw new AibomError('INPUT', 'not a pnpm lockfile: the file is empty', { file: path });
  if (list.length > MAX_DOCUMENTS) {
    throw new AibomError('TOO_LARGE', `${list.length} YAML documents in one lockfile (at most ${MAX_DOCUMENTS})`, { file: path });
  }
  for (const doc of list) {
    const err = doc.errors[0];
    if (!err) continue;
    const msg = err.message.split('\n')[0]!.replace(/:\s*$/, '');
    if (/call stack|stack overflow/i.test(msg)) {
      throw new AibomError('TOO_LARGE', 'YAML nests too deeply to read', { file: path });
    }
    const line = err.pos ? lineCounter.linePos(err.pos[0]).line : undefined;
    const where = line !== undefined && !/ at line \d+/.test(msg) ? ` at line ${line}` : '';
    throw new AibomError('INPUT', `not valid YAML: ${msg}${where}`, { file: path });
  }
  for (const doc of list) rejectDuplicateKeys(doc, lineCounter, path);
  const values = list.map((doc) => {
    try {
      return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (err) {
      if (err instanceof ReferenceError || /alias/i.test(String((err as Error)?.message))) {
        throw new AibomError('TOO_LARGE', `YAML aliases expand beyond ${MAX_ALIAS_COUNT} nodes (an alias "bomb"?)`, {
          file: path,
        });
      }
      throw new AibomError('INPUT', `not valid YAML: ${(err as Error)?.message ?? String(err)}`, { file: path });
    }
  });
  // The project's document is the last one that is not pnpm's own environment (config and
  // package-manager dependencies) document.
  let index = values.length - 1;
  for (let i = values.length - 1; i >= 0; i--) {
    if (!isEnvDocument(values[i])) {
      index = i;
      break;
    }
  }
  const data = values[index];
  if (!isObject(data)) throw new AibomError('INPUT', 'not a pnpm lockfile: the top level is not a mapping', { file: path });
  const doc = list[index]!;
  const lines = sectionLines(doc, lineCounter);
  return { data, lineOf: (section, key) => lines.get(section)?.get(key) };
}

function isEnvDocument(v: unknown): boolean {
  if (!isObject(v) || !isObject(v.importers)) return false;
  const importers = Object.values(v.importers);
  const envKeys = new Set(['configDependencies', 'packageManagerDependencies']);
  return (
    importers.length > 0 && importers.every((imp) => isObject(imp) && Object.keys(imp).length > 0 && Object.keys(imp).every((k) => envKeys.has(k)))
  );
}

/**
 * Two entries with one key: YAML would keep the last silently (a second `ms@2.0.0` with
 * another integrity could hide behind the first). Every mapping is checked, iteratively.
 */
function rejectDuplicateKeys(doc: Document, lc: LineCounter, path: string): void {
  // pnpm writes only plain keys: a mapping or list as a key is no lockfile.
  const bad = duplicateKey(doc, { plainKeysOnly: true });
  if (!bad) return;
  const line = lc.linePos(bad.offset).line;
  if (bad.notPlain) throw new AibomError('INPUT', `not valid: a mapping key that is not a plain value at line ${line}`, { file: path });
  throw new AibomError('INPUT', `not valid YAML: duplicate key ${JSON.stringify(bad.key)} at line ${line}`, { file: path });
}

function sectionLines(doc: Document, lc: LineCounter): Map<string, Map<string, number>> {
  const { isMap, isScalar } = yaml();
  const out = new Map<string, Map<string, number>>();
  const top = doc.contents;
  if (!isMap(top)) return out;
  for (const pair of top.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const section = String(pair.key.value);
    if (section !== 'packages' && section !== 'snapshots' && section !== 'importers') continue;
    const lines = new Map<string, number>();
    for (const item of pair.value.items) {
      if (isScalar(item.key) && item.key.range) lines.set(String(item.key.value), lc.linePos(item.key.range[0]).line);
    }
    out.set(section, lines);
  }
  return out;
}

/**
 * Refuse deeply nested flow collections before the YAML parser recurses into them. A linear
 * scan: quoted scalars and comments are skipped, and a bracket counts only where a flow
 * collection can start (line start, after `:`, `-`, `,`, `?` or another bracket).
 */
function checkFlowDepth(text: string, path: string): void {
  let depth = 0;
  let prev = '\n';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (c === '\n') {
      prev = '\n';
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    const canStart = prev === '\n' || prev === ':' || prev === '-' || prev === ',' || prev === '?' || prev === '[' || prev === '{';
    if (c === '#' && (text[i - 1] === ' ' || text[i - 1] === '\t' || prev === '\n')) {
      while (i < n && text[i] !== '\n') i++;
      prev = '\n';
      continue;
    }
    if ((c === '"' || c === "'") && canStart) {
      for (i++; i < n; i++) {
        const d = text[i];
        if (c === '"' && d === '\\') i++;
        else if (d === c) {
          if (c === "'" && text[i + 1] === "'") i++;
          else break;
        }
      }
      prev = c;
      continue;
    }
    if ((c === '[' || c === '{') && canStart) {
      depth++;
      if (depth > MAX_FLOW_DEPTH) {
        throw new AibomError('TOO_LARGE', `YAML flow collections nest deeper than ${MAX_FLOW_DEPTH} levels`, { file: path });
      }
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    }
    prev = c;
  }
}

/** A dependency path without its peer / patch suffix: `a@1.0.0(b@2.0.0)(c@3)` → `a@1.0.0`. */
function removeSuffix(key: string): string {
  let end = key.length;
  while (end > 0 && key[end - 1] === ')') {
    let depth = 0;
    let i = end - 1;
    for (; i >= 0; i--) {
      if (key[i] === ')') depth++;
      else if (key[i] === '(') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (i <= 0) break; // unbalanced: leave it
    end = i;
  }
  return key.slice(0, end);
}

/**
 * A section whose keys start with "/" rebuilt without it (the same object when none does).
 * The copy has no prototype, so a key such as `__proto__` stays an ordinary key.
 */
function withoutLeadingSlash(sec: Rec): Rec {
  if (!Object.keys(sec).some((k) => k.startsWith('/'))) return sec;
  const out: Rec = Object.create(null) as Rec;
  for (const [k, v] of Object.entries(sec)) {
    const nk = k.startsWith('/') ? k.slice(1) : k;
    if (!Object.hasOwn(out, nk)) out[nk] = v;
  }
  return out;
}

/** The snapshot / package key a dependency reference points at (pnpm's own rules per format). */
function refToKey(ref: string, name: string, style: Style): string {
  if (style === 'v9') {
    if (ref.startsWith('@')) return ref;
    const at = ref.indexOf('@');
    if (at === -1) return `${name}@${ref}`;
    const colon = ref.indexOf(':');
    const paren = ref.indexOf('(');
    if ((colon === -1 || at < colon) && (paren === -1 || at < paren)) return ref; // an alias: "lodash@4.17.21"
    return `${name}@${ref}`;
  }
  if (ref.startsWith('file:')) return ref;
  if (style === 'v6') {
    const paren = ref.indexOf('(');
    if (!ref.includes('/') || (paren >= 0 && ref.lastIndexOf('/', paren) === -1)) return `/${name}@${ref}`;
    return ref;
  }
  return ref.includes('/') ? ref : `/${name}/${ref}`;
}

/** What a package name in a key can be (`name` or `@scope/name`); anything else is no name. */
const NPM_NAME = /^(?:@[^/@\s]+\/)?[^/@\s.][^/@\s]*$/;

/** Name and version from a key, for registry packages (others carry `name`/`version` fields). */
function parseKey(key: string, style: Style): { name: string; version?: string } | undefined {
  if (style === 'v5') {
    if (!key.startsWith('/')) return undefined;
    const parts = key.slice(1).split('/');
    const scoped = parts[0]?.startsWith('@');
    const name = scoped ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
    const ver = scoped ? parts[2] : parts[1];
    if (!name || !ver || parts.length > (scoped ? 3 : 2) || !NPM_NAME.test(name)) return undefined;
    return { name, version: ver.split('_')[0]! };
  }
  let k = removeSuffix(key);
  if (style === 'v6') {
    if (!k.startsWith('/')) return undefined;
    k = k.slice(1);
  }
  const at = k.indexOf('@', 1);
  if (at <= 0) return undefined;
  const name = k.slice(0, at);
  const ver = k.slice(at + 1);
  if (!NPM_NAME.test(name)) return undefined;
  // Non-registry ids (file:, https://, git+...) are not versions.
  return /[:/]/.test(ver) || !ver ? { name } : { name, version: ver };
}

function gitUrl(repo: string): string {
  if (/^git\+/i.test(repo)) return repo;
  if (/^(https?|ssh|git|file):\/\//i.test(repo)) return `git+${repo}`;
  const scp = /^([\w.-]+@[\w.-]+):(?!\/\/)(.+)$/.exec(repo);
  if (scp) return `git+ssh://${scp[1]}/${scp[2]}`;
  return repo;
}

/** Where a package comes from, from its `resolution`. */
function provenanceOf(res: unknown): Provenance {
  if (!isObject(res)) return { source: 'unknown', pinned: false, unpinnedReason: 'the lockfile records no resolution' };
  const integrity = str(res.integrity);
  const type = str(res.type);
  if (type === 'directory') return localProvenance(str(res.directory) ?? '', false, false);
  if (type === 'git') {
    const repo = str(res.repo);
    if (!repo) return { source: 'git', pinned: false, unpinnedReason: 'git resolution without a repository' };
    const commit = str(res.commit);
    return gitProvenance(commit ? `${gitUrl(repo)}#${commit}` : gitUrl(repo));
  }
  const tarball = str(res.tarball);
  if (tarball) {
    if (tarball.startsWith('file:')) return localProvenance(tarball, true, !!integrity);
    // Git-hosted packages pnpm fetches as a codeload tarball of a commit.
    const codeload = /^https?:\/\/codeload\.github\.com\/([^/]+)\/([^/]+)\/tar\.gz\/([^/?#]+)$/i.exec(tarball);
    if (codeload) return gitProvenance(`git+https://github.com/${codeload[1]}/${codeload[2]}.git#${codeload[3]}`);
    if (isRegistryTarball(tarball)) return registryProvenance(!!integrity, tarball);
    return urlProvenance(tarball, !!integrity);
  }
  if (type && !integrity) return { source: 'unknown', pinned: false, unpinnedReason: `unknown resolution type "${type}"` };
  return registryProvenance(!!integrity);
}

/** A folder path relative to the lockfile, normalized; '' for the lockfile's own folder. */
function folder(base: string, rel: string): string {
  const p = posix.normalize(posix.join(base === '.' ? '' : base, rel));
  return p === '.' ? '' : p.replace(/(?<!\/)\/+$/, '');
}

const IMPORTER_FIELDS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;
type DepKind = 'prod' | 'optional' | 'dev';
const KIND: Record<string, DepKind> = { dependencies: 'prod', optionalDependencies: 'optional', devDependencies: 'dev' };

async function parsePnpm(text: string, path: string, ctx: ParseContext): Promise<ParsedLockfile> {
  const loaded = loadYaml(text, path);
  const lineOf: LineOf = (section, key) => loaded.lineOf(section, key) ?? loaded.lineOf(section, `/${key}`);
  const warnings = new Warnings();
  const layout = readLayout(loaded.data, path, warnings);
  const refs = makeRefs(layout, warnings);
  const { packages, byKey } = await readPackageNodes(layout, lineOf, ctx, warnings);
  const edges = packageEdgesOf(layout, packages, refs);
  const rootEdges = refs.depsOf(layout.importers.get('.') ?? {}, IMPORTER_FIELDS, '.', '(root)');
  const importerEdges: EdgeKinds[] = [rootEdges];
  const workspaceKeys: string[] = [];
  for (const [ip, imp] of layout.importers) {
    if (ip === '.') continue;
    const pkg = await importerPackage(ip, imp, refs, lineOf, ctx, importerEdges);
    packages.push(pkg);
    byKey.set(pkg.key, pkg);
    workspaceKeys.push(pkg.key);
  }
  for (const pkg of await linkFolderPackages(refs.linkDirs, ctx)) {
    packages.push(pkg);
    byKey.set(pkg.key, pkg);
  }
  applyAliases(refs.usedNames, byKey);
  applyScopes(packages, edges, importerEdges, layout);
  const rootManifest = await readJsonManifest(ctx, 'package.json');
  const declaredPatches: Rec = {
    ...(isObject(rootManifest?.pnpm) && isObject(rootManifest.pnpm.patchedDependencies) ? rootManifest.pnpm.patchedDependencies : {}),
    ...((await readWorkspacePatches(ctx)) ?? {}),
  };
  applyPatches(packages, layout.data.patchedDependencies, declaredPatches, warnings);

  if (warnings.missingCount > 0 && !text.endsWith('\n')) warnings.add('the file does not end with a newline: truncated?');

  const root: ParsedLockfile['root'] = {
    dependencies: [...new Set([...rootEdges.prod, ...rootEdges.optional, ...rootEdges.dev, ...workspaceKeys])],
  };
  const rn = str(rootManifest?.name);
  if (rn) root.name = rn;
  const rv = str(rootManifest?.version);
  if (rv) root.version = rv;
  const out: ParsedLockfile = { path, kind: 'pnpm', root, packages, warnings: warnings.done() };
  if (layout.version !== undefined) out.formatVersion = layout.version;
  return out;
}

type LineOf = (section: string, key: string) => number | undefined;

/** What the lockfile's sections are, once its version says how to read them. */
interface Layout {
  data: Rec;
  version: string | undefined;
  style: Style;
  packagesSec: Rec;
  snapshotsSec: Rec | undefined;
  /** The resolved graph: v9 snapshots (or, failing them, packages); v6/v5 packages. */
  nodesSec: Rec;
  nodeSection: 'snapshots' | 'packages';
  /** The workspace projects by folder ('.' the root); a single project's v5/v6 lockfile has them at the top. */
  importers: Map<string, Rec>;
}

/** Load: the version, the key style it implies, and the sections (with warnings for what is odd). */
function readLayout(data: Rec, path: string, warnings: Warnings): Layout {
  const rawVersion = data.lockfileVersion;
  const version = typeof rawVersion === 'string' || typeof rawVersion === 'number' ? String(rawVersion) : undefined;
  const hasImporters = isObject(data.importers);
  const hasPackages = isObject(data.packages);
  if (version === undefined && !hasImporters && !hasPackages) {
    throw new AibomError('INPUT', 'not a pnpm lockfile: no "lockfileVersion", "importers" or "packages"', { file: path });
  }
  for (const section of ['importers', 'packages', 'snapshots']) {
    const v = data[section];
    if (v !== undefined && v !== '' && !isObject(v)) {
      throw new AibomError('INPUT', `"${section}" is not a mapping`, { file: path });
    }
  }
  let packagesSec: Rec = hasPackages ? (data.packages as Rec) : {};
  let snapshotsSec: Rec | undefined = isObject(data.snapshots) ? data.snapshots : undefined;
  const style = styleOf(version, packagesSec, snapshotsSec, warnings);
  if (style === 'v9') {
    // 9.0 keys have no leading "/"; files converted by hand or by other tools from 6.0 keep
    // it (`/name@1.0.0` under lockfileVersion '9.0'). Read them as pnpm would without it.
    const p = withoutLeadingSlash(packagesSec);
    const sn = snapshotsSec && withoutLeadingSlash(snapshotsSec);
    if (p !== packagesSec || sn !== snapshotsSec) {
      packagesSec = p;
      snapshotsSec = sn;
      warnings.add(`keys with a leading "/" (the 6.0 form) in a lockfileVersion ${JSON.stringify(version ?? '')} file: read without it`);
    }
  }
  if (style === 'v9' && !snapshotsSec && hasPackages && (version === '9.0' || version === undefined)) {
    warnings.add('no "snapshots" section: the dependency graph was read from "packages"');
  }
  const fromSnapshots = style === 'v9' && snapshotsSec !== undefined;
  return {
    data,
    version,
    style,
    packagesSec,
    snapshotsSec,
    nodesSec: fromSnapshots ? snapshotsSec! : packagesSec,
    nodeSection: fromSnapshots ? 'snapshots' : 'packages',
    importers: readImporters(data, hasImporters, warnings),
  };
}

/** The key style: from the version, or, without a known one, from what the keys look like. */
function styleOf(version: string | undefined, packagesSec: Rec, snapshotsSec: Rec | undefined, warnings: Warnings): Style {
  const major = version === undefined ? Number.NaN : Number.parseInt(version, 10);
  let style: Style;
  if (major >= 7) style = 'v9';
  else if (major === 6) style = 'v6';
  else if (major <= 5) style = 'v5';
  else {
    const keys = Object.keys(packagesSec);
    style = snapshotsSec ? 'v9' : keys.some((k) => /^\/(@[^/]+\/)?[^/@]+@/.test(k)) ? 'v6' : keys.some((k) => k.startsWith('/')) ? 'v5' : 'v9';
  }
  if (version === undefined || !KNOWN_VERSIONS.has(version)) {
    const as = style === 'v9' ? "'9.0'" : style === 'v6' ? "'6.0'" : '5.x (keys /name/version)';
    warnings.add(
      `unknown lockfileVersion ${version === undefined ? '(none)' : JSON.stringify(version)} (aibom reads 5.x, '6.0' and '9.0'): read as ${as}; fields aibom does not know were ignored`,
    );
  }
  return style;
}

function readImporters(data: Rec, hasImporters: boolean, warnings: Warnings): Map<string, Rec> {
  const importers = new Map<string, Rec>();
  if (!hasImporters) {
    importers.set('.', data);
    return importers;
  }
  for (const [ip, imp] of Object.entries(data.importers as Rec)) {
    if (isObject(imp)) importers.set(ip === '' ? '.' : ip, imp);
    else if (imp !== '' && imp !== undefined) warnings.add(`skipped importers[${JSON.stringify(ip)}]: not a mapping`);
    else importers.set(ip, {});
  }
  return importers;
}

const importerKey = (ip: string) => `importer:${ip}`;

/** Dependency references resolved to keys, remembering what the resolution found on the way. */
interface Refs {
  /** A dependency map's targets by kind; unresolvable ones are warned about and left out. */
  depsOf(entry: Rec, fields: readonly string[], fromDir: string, from: string): EdgeKinds;
  /** `link:` folders that are not importers: folder → dependency name that first named it. */
  linkDirs: Map<string, string>;
  /** Target key → names dependents use for it (aliases). */
  usedNames: Map<string, Set<string>>;
}

function makeRefs(layout: Layout, warnings: Warnings): Refs {
  const { importers, nodesSec, packagesSec, style } = layout;
  const refs: Refs = { depsOf, linkDirs: new Map(), usedNames: new Map() };
  const resolveRef = (ref: string, name: string, fromDir: string, from: string): string | undefined => {
    if (ref.startsWith('link:')) {
      const target = folder(fromDir, ref.slice(5));
      const asImporter = importers.has(target === '' ? '.' : target) ? target || '.' : undefined;
      if (asImporter !== undefined) return asImporter === '.' ? undefined : importerKey(asImporter);
      if (!refs.linkDirs.has(target)) refs.linkDirs.set(target, name);
      return `link:${target}`;
    }
    const key = refToKey(ref, name, style);
    if (Object.hasOwn(nodesSec, key)) return key;
    // A v9 package without a snapshot (written by hand, or a partial lockfile).
    if (style === 'v9' && Object.hasOwn(packagesSec, key)) return key;
    warnings.missingDep(`${from}: dependency "${name}" (${ref}) is not in the lockfile`);
    return undefined;
  };
  function depsOf(entry: Rec, fields: readonly string[], fromDir: string, from: string): EdgeKinds {
    const out: EdgeKinds = { prod: [], optional: [], dev: [] };
    for (const field of fields) {
      const map = entry[field];
      if (map === undefined || map === '') continue;
      if (!isObject(map)) {
        warnings.add(`${from}: "${field}" is not a mapping`);
        continue;
      }
      for (const [depName, spec] of Object.entries(map)) {
        const ref = typeof spec === 'string' ? spec : isObject(spec) ? str(spec.version) : undefined;
        if (!ref) {
          warnings.add(`${from}: dependency "${depName}" has no version`);
          continue;
        }
        const target = resolveRef(ref, depName, fromDir, from);
        if (target === undefined) continue;
        out[KIND[field] ?? 'prod'].push(target);
        let names = refs.usedNames.get(target);
        if (!names) refs.usedNames.set(target, (names = new Set()));
        names.add(depName);
      }
    }
    return out;
  }
  return refs;
}

/** The raw graph node of a package key (a snapshot, or a v9 package without one). */
function nodeOf(layout: Layout, key: string): unknown {
  return Object.hasOwn(layout.nodesSec, key) ? layout.nodesSec[key] : layout.packagesSec[key];
}

/** Packages: one per graph node, plus (v9) packages nothing snapshots, which hand-made files have. */
async function readPackageNodes(
  layout: Layout,
  lineOf: LineOf,
  ctx: ParseContext,
  warnings: Warnings,
): Promise<{ packages: LockPackage[]; byKey: Map<string, LockPackage> }> {
  const { style, nodesSec, packagesSec, snapshotsSec, nodeSection } = layout;
  const packages: LockPackage[] = [];
  const byKey = new Map<string, LockPackage>();
  const keys = new Set(Object.keys(nodesSec));
  if (style === 'v9' && snapshotsSec) {
    const snapshotted = new Set([...keys].map(removeSuffix));
    for (const k of Object.keys(packagesSec)) if (!snapshotted.has(k)) keys.add(k);
  }
  for (const key of keys) {
    const raw = nodeOf(layout, key);
    if (!isObject(raw) && raw !== '' && raw !== undefined) {
      warnings.add(`skipped ${nodeSection}[${JSON.stringify(key)}]: not a mapping`);
      continue;
    }
    const pkgKey = style === 'v9' ? removeSuffix(key) : key;
    let info: Rec = isObject(raw) ? raw : {};
    if (style === 'v9' && snapshotsSec) {
      const p = packagesSec[pkgKey];
      if (isObject(p)) info = p;
      else {
        info = {};
        warnings.add(`snapshot ${JSON.stringify(key)} has no entry in "packages": no resolution or integrity for it`);
      }
    }
    const pkg = await nodePackage(key, pkgKey, info, style, ctx, warnings);
    if (!pkg) continue;
    const line = lineOf('packages', pkgKey) ?? lineOf(nodeSection, key);
    if (line !== undefined) pkg.line = line;
    packages.push(pkg);
    byKey.set(key, pkg);
  }
  return { packages, byKey };
}

/** One package from its node: name and version from the key or the entry, source from `resolution`. */
async function nodePackage(
  key: string,
  pkgKey: string,
  info: Rec,
  style: Style,
  ctx: ParseContext,
  warnings: Warnings,
): Promise<LockPackage | undefined> {
  const parsed = parseKey(pkgKey, style);
  const name = str(info.name) ?? parsed?.name;
  if (!name) {
    warnings.add(`skipped ${JSON.stringify(key)}: no package name in the key or the entry`);
    return undefined;
  }
  const source = provenanceOf(info.resolution);
  let pkgVersion = str(info.version) ?? parsed?.version;
  if (pkgVersion === undefined && isObject(info.resolution) && info.resolution.type === 'directory') {
    const dir = str(info.resolution.directory);
    if (dir !== undefined) {
      const m = await readJsonManifest(ctx, `${folder('.', dir) || '.'}/package.json`);
      pkgVersion = str(m?.version);
    }
  }
  const pkg: LockPackage = {
    key,
    ecosystem: 'npm',
    name,
    hashes: isObject(info.resolution) ? hashesFromSri(str(info.resolution.integrity)) : [],
    source,
    dependencies: [],
  };
  if (pkgVersion !== undefined) pkg.version = pkgVersion;
  return pkg;
}

/** Edges between packages (after every node exists, so forward references resolve), by kind. */
function packageEdgesOf(layout: Layout, packages: LockPackage[], refs: Refs): Map<string, EdgeKinds> {
  const edges = new Map<string, EdgeKinds>();
  for (const pkg of packages) {
    const raw = nodeOf(layout, pkg.key);
    const e = refs.depsOf(isObject(raw) ? raw : {}, ['dependencies', 'optionalDependencies'], '.', pkg.key);
    edges.set(pkg.key, e);
    pkg.dependencies = [...new Set([...e.prod, ...e.optional])].filter((k) => k !== pkg.key);
  }
  return edges;
}

/** A workspace project other than the root: a component of its own, named by its package.json. */
async function importerPackage(
  ip: string,
  imp: Rec,
  refs: Refs,
  lineOf: LineOf,
  ctx: ParseContext,
  importerEdges: EdgeKinds[],
): Promise<LockPackage> {
  const key = importerKey(ip);
  const manifest = await readJsonManifest(ctx, `${ip}/package.json`);
  const e = refs.depsOf(imp, IMPORTER_FIELDS, ip, ip);
  importerEdges.push(e);
  const pkg: LockPackage = {
    key,
    ecosystem: 'npm',
    name: str(manifest?.name) ?? posix.basename(ip),
    hashes: [],
    source: { source: 'workspace', url: ip, pinned: true },
    dependencies: [...new Set([...e.prod, ...e.optional, ...e.dev])].filter((k) => k !== key),
    workspace: true,
  };
  const v = str(manifest?.version);
  if (v) pkg.version = v;
  const lic = str(manifest?.license);
  if (lic) pkg.license = lic;
  const line = lineOf('importers', ip);
  if (line !== undefined) pkg.line = line;
  return pkg;
}

/** link: folders that are not importers: local folder dependencies, content unpinned. */
async function linkFolderPackages(linkDirs: Map<string, string>, ctx: ParseContext): Promise<LockPackage[]> {
  const out: LockPackage[] = [];
  for (const [dir, depName] of linkDirs) {
    const manifest = await readJsonManifest(ctx, `${dir || '.'}/package.json`);
    const pkg: LockPackage = {
      key: `link:${dir}`,
      ecosystem: 'npm',
      name: str(manifest?.name) ?? depName,
      hashes: [],
      source: localProvenance(dir || '.', false, false),
      dependencies: [],
    };
    const v = str(manifest?.version);
    if (v) pkg.version = v;
    out.push(pkg);
  }
  return out;
}

/** Aliases: the name a dependent uses, where it differs from the package's own. */
function applyAliases(usedNames: Map<string, Set<string>>, byKey: Map<string, LockPackage>): void {
  for (const [key, names] of usedNames) {
    const pkg = byKey.get(key);
    if (!pkg || pkg.workspace || key.startsWith('link:')) continue;
    const alias = [...names].filter((n) => n !== pkg.name).sort()[0];
    if (alias !== undefined) pkg.alias = alias;
  }
}

/**
 * `patchedDependencies`: packages pnpm patches after fetching them, keyed `name@version` (or
 * `name` for every version, pnpm 10). The value is the patch's hash ('9.0') or
 * `{hash, path}` ('6.0'); '9.0' leaves the patch file's path to package.json
 * (`pnpm.patchedDependencies`) or, from pnpm 10, pnpm-workspace.yaml. Recorded on the package the patch changes, as yarn's are.
 */
function applyPatches(packages: LockPackage[], section: unknown, declared: Rec, warnings: Warnings): void {
  if (section === undefined || section === '') return;
  if (!isObject(section)) {
    warnings.add('"patchedDependencies" is not a mapping: patches not recorded');
    return;
  }
  const patches = new Map<string, { hash?: string; path?: string }>();
  for (const [key, v] of Object.entries(section)) {
    const hash = str(v) ?? (isObject(v) ? str(v.hash) : undefined);
    let path = (isObject(v) ? str(v.path) : undefined) ?? (Object.hasOwn(declared, key) ? str(declared[key]) : undefined);
    if (path !== undefined && path.length > 1024) path = undefined;
    const info: { hash?: string; path?: string } = {};
    if (hash) info.hash = hash;
    if (path) info.path = path;
    patches.set(key, info);
  }
  if (!patches.size) return;
  for (const pkg of packages) {
    if (pkg.workspace || pkg.key.startsWith('link:')) continue;
    const p = (pkg.version !== undefined ? patches.get(`${pkg.name}@${pkg.version}`) : undefined) ?? patches.get(pkg.name);
    if (!p) continue;
    const props = (pkg.properties ??= []);
    props.push(prop(`${NS}pnpm:patch`, p.path ?? '(path not recorded)'));
    if (p.hash) props.push(prop(`${NS}pnpm:patch-hash`, p.hash));
  }
}

/** `patchedDependencies` of pnpm-workspace.yaml beside the lockfile (pnpm 10), when readable. */
async function readWorkspacePatches(ctx: ParseContext): Promise<Rec | undefined> {
  const text = await readSiblingText(ctx, 'pnpm-workspace.yaml');
  if (text === undefined || !/^patchedDependencies:/m.test(text)) return undefined;
  try {
    const docs = parseYamlDocuments(text, { schema: 'failsafe', uniqueKeys: false });
    const doc = Array.isArray(docs) ? docs[0] : undefined;
    if (!doc || doc.errors.length) return undefined;
    const v = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    return isObject(v) && isObject(v.patchedDependencies) ? v.patchedDependencies : undefined;
  } catch {
    return undefined;
  }
}

type EdgeKinds = { prod: string[]; optional: string[]; dev: string[] };

/**
 * Scopes from the graph (the kernel's walk): importers' `dependencies` are required roots,
 * `optionalDependencies` optional, `devDependencies` development only; a package's
 * `optionalDependencies` are optional edges. v6 `dev` and any `optional` flag written in
 * the lockfile override the graph; a package no importer reaches stays required.
 */
function applyScopes(
  packages: LockPackage[],
  edges: Map<string, EdgeKinds>,
  importerEdges: EdgeKinds[],
  { nodesSec, packagesSec, style }: Layout,
): void {
  const seeds: ScopeSeed[] = [];
  for (const e of importerEdges) {
    for (const key of e.prod) seeds.push({ key, level: 2 });
    for (const key of e.optional) seeds.push({ key, level: 1 });
    for (const key of e.dev) seeds.push({ key, level: 0 });
  }
  const levels = scopeLevels(seeds, (key, visit) => {
    const e = edges.get(key);
    if (!e) return;
    for (const t of e.prod) visit(t, false);
    for (const t of e.optional) visit(t, true);
  });
  markScopes(packages, levels, { unreached: 'required' }, (pkg) => {
    const raw = Object.hasOwn(nodesSec, pkg.key) ? nodesSec[pkg.key] : undefined;
    const snap: Rec = isObject(raw) ? raw : {};
    const info = style === 'v9' ? (packagesSec[removeSuffix(pkg.key)] as Rec | undefined) : snap;
    return {
      dev: flag(snap.dev) ?? (isObject(info) ? flag(info.dev) : undefined),
      optional: flag(snap.optional) ?? (isObject(info) ? flag(info.optional) : undefined),
    };
  });
}
