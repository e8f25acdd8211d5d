import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { isAibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { parserFor } from './lockfiles/index.js';
import type { LockPackage, ParsedLockfile } from './lockfiles/types.js';
import { npmPurl, pypiPurl } from './purl.js';
import type { Component, Finding, Location } from './types.js';
import { NS, prop } from './types.js';
import type { WalkResult } from './walk.js';

export interface PackagesResult {
  components: Component[];
  /** bom-ref → bom-refs */
  dependencies: Map<string, Set<string>>;
  /** Direct dependencies of each lockfile's project, by lockfile path. */
  lockfiles: Array<{ path: string; kind: string; formatVersion?: string; root: ParsedLockfile['root']; direct: string[] }>;
  findings: Finding[];
}

export interface PackagesOptions {
  maxLockfileBytes?: number;
}

const SCOPE_RANK = { required: 2, optional: 1, excluded: 0 } as const;
/** Properties about one occurrence of a package that merging occurrences must not drop. */
const OCCURRENCE_FACTS = new Set([`${NS}npm:alias`, `${NS}bundled`]);

/**
 * Entries named like a lockfile that the walk could not give as a regular file: a broken
 * symbolic link, one that leads out of the folder or is not followed, a named pipe or device,
 * a folder. Each is a fatal finding: the BOM would silently miss its packages.
 */
function insideInstalledPackages(rel: string): boolean {
  return rel.startsWith('node_modules/') || rel.includes('/node_modules/');
}

function unreadableLockfiles(walked: WalkResult): Finding[] {
  const out: Finding[] = [];
  const files = new Set(walked.files.map((f) => f.rel));
  const named = (rel: string) => !files.has(rel) && !insideInstalledPackages(rel) && parserFor(posix.basename(rel)) !== undefined;
  const fatal = (rel: string, why: string): Finding => ({
    code: 'lockfile-unreadable',
    severity: 'high',
    message: `cannot read the lockfile: ${why}; its packages would not be in the BOM`,
    location: { file: rel },
    fatal: true,
  });
  for (const l of walked.symlinks) {
    if (!named(l.rel)) continue;
    if (l.broken) out.push(fatal(l.rel, `broken symbolic link to ${l.target}`));
    else if (l.outside) out.push(fatal(l.rel, `symbolic link to ${l.target}, outside the scanned folder`));
    else out.push(fatal(l.rel, `symbolic link to ${l.target}, not followed (build with --follow-symlinks, or replace the link with the file)`));
  }
  for (const f of walked.findings) {
    if (f.code === 'special-file' && f.location && named(f.location.file)) out.push(fatal(f.location.file, 'not a regular file (a named pipe, socket or device)'));
  }
  for (const d of walked.dirs) {
    if (d && named(d)) out.push(fatal(d, 'it is a folder, not a file'));
  }
  return out;
}

/** Find, parse and merge every lockfile in a walked tree into package components. */
export async function collectPackages(walked: WalkResult, options: PackagesOptions = {}): Promise<PackagesResult> {
  const byRef = new Map<string, Component>();
  const dependencies = new Map<string, Set<string>>();
  const findings: Finding[] = [];
  const lockfiles: PackagesResult['lockfiles'] = [];

  // Lockfiles shipped inside installed packages (walked only within plugin and model folders,
  // where nothing is skipped) describe how those packages were developed, not what is installed.
  const candidates = walked.files.filter((f) => parserFor(posix.basename(f.rel)) !== undefined && !insideInstalledPackages(f.rel));
  findings.push(...unreadableLockfiles(walked));
  for (const file of candidates) {
    const parser = parserFor(posix.basename(file.rel))!;
    let parsed: ParsedLockfile;
    let text: string;
    try {
      text = await readTextBounded(file.abs, options.maxLockfileBytes, file.rel);
    } catch (err) {
      if (!isAibomError(err)) throw err;
      const tooLarge = err.code === 'TOO_LARGE';
      findings.push({
        code: tooLarge ? 'lockfile-too-large' : 'lockfile-unreadable',
        severity: 'high',
        message: tooLarge ? err.message : `cannot read the lockfile (${err.message}); its packages are not in the BOM`,
        location: { file: file.rel },
        fatal: true,
      });
      continue;
    }
    // UTF-16 text without a byte-order mark (every other byte NUL) or a binary file: refused
    // here, once for every format, rather than read as garbage (a requirements.txt would give
    // a BOM without packages and a warning per line). A stray NUL is left to the parser.
    if (mostlyNul(text)) {
      findings.push({
        code: 'lockfile-invalid',
        severity: 'high',
        message: 'not a text lockfile: NUL bytes throughout (binary, or UTF-16 without a byte-order mark; save it as UTF-8)',
        location: { file: file.rel },
        fatal: true,
      });
      continue;
    }
    try {
      const dir = dirname(file.abs);
      parsed = await parser.parse(text, file.rel, {
        readSibling: (rel) => readSiblingBounded(walked.root, dir, rel, options.maxLockfileBytes),
        findSiblings: async (globs) => findSiblings(walked, file.rel, globs),
      });
    } catch (err) {
      if (!isAibomError(err)) throw err;
      findings.push({
        code: err.code === 'TOO_LARGE' ? 'lockfile-too-large' : 'lockfile-invalid',
        severity: 'high',
        message: err.message,
        location: { file: file.rel },
        fatal: true,
      });
      continue;
    }
    for (const w of parsed.warnings) {
      findings.push({ code: 'lockfile-warning', severity: 'low', message: w, location: { file: parsed.path } });
    }
    const packages = withinSchemaBounds(parsed, findings);
    const keyToRef = new Map<string, string>();
    for (const p of packages) {
      const comp = toComponent(p, parsed);
      keyToRef.set(p.key, comp.ref);
      const prev = byRef.get(comp.ref);
      if (prev) merge(prev, comp);
      else byRef.set(comp.ref, comp);
    }
    for (const p of packages) {
      const from = keyToRef.get(p.key)!;
      let set = dependencies.get(from);
      if (!set) dependencies.set(from, (set = new Set()));
      for (const d of p.dependencies) {
        const to = keyToRef.get(d);
        if (to && to !== from) set.add(to);
      }
    }
    const direct = parsed.root.dependencies.flatMap((k) => {
      const r = keyToRef.get(k);
      return r ? [r] : [];
    });
    const entry: PackagesResult['lockfiles'][number] = {
      path: parsed.path,
      kind: parsed.kind,
      root: parsed.root,
      direct,
    };
    if (parsed.formatVersion !== undefined) entry.formatVersion = parsed.formatVersion;
    lockfiles.push(entry);
  }
  const components = [...byRef.values()];
  for (const c of components) keepAllHashes(c);
  return { components, dependencies, lockfiles, findings };
}

/** CycloneDX's bound on a version string (schema `version`: maxLength 1024). */
const MAX_VERSION_LENGTH = 1024;

/**
 * Entries whose version no BOM can hold (a corrupted or hostile lockfile: no real version is
 * a kilobyte long) are left out, with one warning per lockfile, instead of failing the BOM's
 * schema validation.
 */
function withinSchemaBounds(parsed: ParsedLockfile, findings: Finding[]): LockPackage[] {
  if (parsed.root.version !== undefined && parsed.root.version.length > MAX_VERSION_LENGTH) {
    findings.push({
      code: 'lockfile-warning',
      severity: 'medium',
      message: `the project's version is longer than ${MAX_VERSION_LENGTH} characters; left out`,
      location: { file: parsed.path },
    });
    delete parsed.root.version;
  }
  const tooLong = parsed.packages.filter((p) => p.version !== undefined && p.version.length > MAX_VERSION_LENGTH);
  if (!tooLong.length) return parsed.packages;
  const first = tooLong[0]!;
  const name = first.name.length > 80 ? `${first.name.slice(0, 80)}…` : first.name;
  const location: Location = { file: first.file ?? parsed.path };
  if (first.line !== undefined) location.line = first.line;
  findings.push({
    code: 'lockfile-warning',
    severity: 'medium',
    message: `${tooLong.length} entr${tooLong.length > 1 ? 'ies' : 'y'} left out: version longer than ${MAX_VERSION_LENGTH} characters (first: ${JSON.stringify(name)})`,
    location,
  });
  const skip = new Set(tooLong);
  return parsed.packages.filter((p) => !skip.has(p));
}

/** A quarter or more of the first 4,096 characters are NUL. */
function mostlyNul(text: string): boolean {
  const n = Math.min(text.length, 4096);
  let nul = 0;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) === 0) nul++;
  return n > 0 && nul * 4 >= n;
}

/**
 * A PyPI release has one file per platform (wheels) plus an sdist, and the lockfile pins
 * them all; pip installs whichever one fits. The cyclonedx library keeps one hash per
 * algorithm, so a component with several of one algorithm carries the full, sorted list
 * in `extra` (any one of them matches what was installed; see schemas/aibom-properties.md).
 */
function keepAllHashes(c: Component): void {
  const algs = new Set(c.hashes.map((h) => h.alg));
  if (algs.size === c.hashes.length) return;
  const sorted = [...c.hashes].sort((a, b) =>
    a.alg < b.alg ? -1 : a.alg > b.alg ? 1 : a.content < b.content ? -1 : a.content > b.content ? 1 : 0,
  );
  c.extra = { ...c.extra, hashes: sorted.map((h) => ({ alg: h.alg, content: h.content })) };
}

/**
 * A file a lockfile references (package.json beside it, a requirements `-r` include): bounded
 * like the lockfile itself, and never outside the scanned root, not even through a symlink
 * (a hostile `-r ../../../etc/passwd` must not pull outside text into the BOM).
 * Missing or unreadable → undefined; over the size bound → the TOO_LARGE error is thrown.
 */
async function readSiblingBounded(
  root: string,
  dir: string,
  rel: string,
  maxBytes: number | undefined,
): Promise<string | undefined> {
  if (isAbsolute(rel) || rel.includes('\0')) return undefined;
  const abs = resolve(dir, rel);
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(abs), realpath(root)]);
  } catch {
    return undefined;
  }
  const inside = relative(realRoot, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return undefined;
  try {
    return await readTextBounded(real, maxBytes, rel);
  } catch (err) {
    if (isAibomError(err) && err.code === 'TOO_LARGE') throw err;
    return undefined;
  }
}

/** Walked files below the lockfile's folder matching globs relative to it (workspace globs). */
function findSiblings(walked: WalkResult, lockfileRel: string, globs: string[]): string[] {
  const dir = posix.dirname(lockfileRel);
  const prefix = dir === '.' ? '' : `${dir}/`;
  const isMatch = picomatch(globs, { dot: false });
  const out: string[] = [];
  for (const f of walked.files) {
    if (!f.rel.startsWith(prefix)) continue;
    const rel = f.rel.slice(prefix.length);
    if (isMatch(rel)) out.push(rel);
  }
  return out.sort();
}

function purlFor(p: LockPackage): string {
  const q: Record<string, string> = {};
  const src = p.source;
  if (src.source === 'git' && src.url) q.vcs_url = src.url;
  else if ((src.source === 'url' || src.source === 'file') && src.url) q.download_url = src.url;
  // A registry package whose version the lockfile does not give: its tarball tells it apart
  // from other versions of the same name, which must not merge into one component.
  else if (src.source === 'registry' && src.url && p.version === undefined) q.download_url = src.url;
  const qualifiers = Object.keys(q).length ? q : undefined;
  return p.ecosystem === 'npm' ? npmPurl(p.name, p.version, qualifiers) : pypiPurl(p.name, p.version, qualifiers);
}

function toComponent(p: LockPackage, lock: ParsedLockfile): Component {
  const purl = purlFor(p);
  const location: Location = { file: p.file ?? lock.path };
  if (p.line !== undefined) location.line = p.line;
  let group: string | undefined;
  let name = p.name;
  if (p.ecosystem === 'npm' && name.startsWith('@') && name.includes('/')) {
    group = name.slice(0, name.indexOf('/'));
    name = name.slice(name.indexOf('/') + 1);
  }
  const properties = [
    prop(`${NS}package-manager`, lock.kind),
    prop(`${NS}source`, p.source.source),
    prop(`${NS}pinned`, p.source.pinned),
  ];
  if (p.source.url && p.source.source !== 'registry') properties.push(prop(`${NS}source:url`, p.source.url));
  if (!p.source.pinned && p.source.unpinnedReason) properties.push(prop(`${NS}unpinned-reason`, p.source.unpinnedReason));
  if (p.alias) properties.push(prop(`${NS}npm:alias`, p.alias));
  if (p.bundled) properties.push(prop(`${NS}bundled`, true));
  if (p.workspace) properties.push(prop(`${NS}workspace`, true));
  if (p.properties) properties.push(...p.properties);
  const comp: Component = {
    ref: purl,
    type: p.workspace ? 'application' : 'library',
    name,
    purl,
    scope: p.dev ? 'excluded' : p.optional ? 'optional' : 'required',
    hashes: [...p.hashes],
    properties,
    provenance: p.source,
    locations: [location],
  };
  if (group) comp.group = group;
  if (p.version !== undefined) comp.version = p.version;
  if (p.license) comp.licenses = [p.license];
  return comp;
}

function merge(into: Component, from: Component): void {
  for (const h of from.hashes) {
    if (!into.hashes.some((x) => x.alg === h.alg && x.content === h.content)) into.hashes.push(h);
  }
  const a = into.scope ?? 'required';
  const b = from.scope ?? 'required';
  if (SCOPE_RANK[b] > SCOPE_RANK[a]) into.scope = b;
  for (const l of from.locations) {
    if (!into.locations.some((x) => x.file === l.file && x.line === l.line)) into.locations.push(l);
  }
  // Unpinned anywhere means unpinned.
  const kept = into.properties.filter((p) => OCCURRENCE_FACTS.has(p.name));
  if (into.provenance && from.provenance && into.provenance.pinned && !from.provenance.pinned) {
    into.provenance = from.provenance;
    into.properties = [...from.properties];
  }
  // Facts about one occurrence (installed under an alias, bundled in another package) hold
  // for the package whichever occurrence came first: `string-width-cjs` → string-width@4.2.3
  // sits beside string-width@4.2.3 itself in most npm lockfiles.
  for (const p of [...kept, ...from.properties]) {
    if (OCCURRENCE_FACTS.has(p.name) && !into.properties.some((x) => x.name === p.name)) into.properties.push(p);
  }
  if (!into.licenses && from.licenses) into.licenses = from.licenses;
}
