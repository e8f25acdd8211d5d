import { AibomError } from '../../../errors.js';
import { isObject, parseJsonText } from '../../../util/json.js';
import type { Hash, Property, Provenance } from '../../types.js';
import { lineIndex } from '../source.js';
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
  isDistFile,
  markersProperty,
  normalizePypiName,
  obj,
  own,
  registrySource,
  str,
  stripUserinfo,
  urlSource,
  versionFromFilename,
  pythonWarnings,
} from './common.js';
import { isUrl } from './pep508.js';

/**
 * Pipfile.lock (`_meta.pipfile-spec` 6). `default` is what the project installs, `develop`
 * is dev-only, and any other section (Pipenv package categories such as `docs`) is only
 * installed on request, so it is treated as development-only too. A package in `default`
 * and another section is required. Pipfile.lock records no dependency graph: every locked
 * package is recorded as a dependency of the project itself.
 */
export const pipenvParser: LockfileParser = {
  kind: 'pipenv',
  matches: (base) => base === 'Pipfile.lock',
  parse(text, path) {
    const doc = parseJsonText(text, path);
    if (!isObject(doc)) throw new AibomError('INPUT', 'not a Pipfile.lock: top level is not an object', { file: path });
    return parsePipenv(doc, text, path);
  },
};

const KNOWN_SPEC = 6;

interface Found {
  key: string;
  name: string;
  version?: string;
  entry: Record<string, unknown>;
  sections: Set<string>;
  line?: number;
}

function parsePipenv(doc: Record<string, unknown>, text: string, path: string): ParsedLockfile {
  const warnings = pythonWarnings();
  const meta = obj(own(doc, '_meta'));
  const spec = own(meta, 'pipfile-spec');
  const sectionNames = Object.keys(doc).filter((k) => k !== '_meta' && isObject(doc[k]));
  if (!meta && !sectionNames.includes('default') && !sectionNames.includes('develop')) {
    throw new AibomError('INPUT', 'not a Pipfile.lock: no "_meta", "default" or "develop"', { file: path });
  }
  if (spec !== KNOWN_SPEC) {
    warnings.add(`unknown pipfile-spec ${JSON.stringify(spec ?? null)} (aibom knows ${KNOWN_SPEC}); read on a best effort`);
  }
  for (const k of Object.keys(doc)) {
    if (k !== '_meta' && !isObject(doc[k])) warnings.add(`section "${k}" is not an object; skipped`);
  }
  const indexes = new Map<string, string>();
  for (const s of arr(own(meta, 'sources'))) {
    const name = str(own(obj(s), 'name'));
    const url = str(own(obj(s), 'url'));
    if (name && url) indexes.set(name, stripUserinfo(url));
  }

  const lineOf = lineIndex(text);
  const found = new Map<string, Found>();
  for (const section of sectionNames) {
    const entries = doc[section] as Record<string, unknown>;
    for (const [name, raw] of Object.entries(entries)) {
      const line = lineOf(`${JSON.stringify(name)}:`);
      if (!isObject(raw)) {
        warnings.add(`${section}: entry "${name}" is not an object; skipped`);
        continue;
      }
      // The project itself, installed editable from its own folder, is the root.
      const p = str(own(raw, 'path'));
      if (p !== undefined && (p === '.' || p === './') && own(raw, 'editable') === true) {
        continue;
      }
      const v = str(own(raw, 'version'));
      const version = v?.startsWith('==') ? v.slice(v.startsWith('===') ? 3 : 2) : undefined;
      if (v && !version && v !== '*') warnings.add(`${section}: "${name}" has version ${JSON.stringify(v)}, not an exact pin`);
      const norm = normalizePypiName(name);
      const key = version ? `${norm}@${version}` : norm;
      const prev = found.get(key);
      if (prev) {
        prev.sections.add(section);
        continue;
      }
      const f: Found = { key, name, entry: raw, sections: new Set([section]) };
      if (version) f.version = version;
      if (line !== undefined) f.line = line;
      found.set(key, f);
    }
  }

  const packages: LockPackage[] = [];
  for (const f of found.values()) {
    const hashes: Hash[] = [];
    addPrefixedHashes(hashes, arr(own(f.entry, 'hashes')));
    const { source, version } = provenanceOf(f, hashes, indexes);
    const pkg: LockPackage = {
      key: f.key,
      ecosystem: 'pypi',
      name: f.name,
      hashes,
      source,
      dependencies: [],
    };
    const ver = f.version ?? version;
    if (ver) pkg.version = ver;
    if (f.line !== undefined) pkg.line = f.line;
    if (!f.sections.has('default')) pkg.dev = true;
    const props: Property[] = [];
    const m = markersProperty(str(own(f.entry, 'markers')));
    if (m) props.push(m);
    const x = extrasProperty(arr(own(f.entry, 'extras')).filter((e): e is string => typeof e === 'string'));
    if (x) props.push(x);
    if (own(f.entry, 'editable') === true) props.push(editableProperty());
    if (props.length) pkg.properties = props;
    packages.push(pkg);
  }
  const out: ParsedLockfile = {
    path,
    kind: 'pipenv',
    root: { dependencies: packages.map((p) => p.key) },
    packages,
    warnings: warnings.done(),
  };
  if (typeof spec === 'number' || typeof spec === 'string') out.formatVersion = String(spec);
  return out;
}

function provenanceOf(
  f: Found,
  hashes: Hash[],
  indexes: Map<string, string>,
): { source: Provenance; version?: string } {
  const e = f.entry;
  const git = str(own(e, 'git'));
  if (git !== undefined) {
    const ref = str(own(e, 'ref'));
    const sub = str(own(e, 'subdirectory'));
    const url = gitUrl(git.replace(/^git\+/i, ''), ref) + (sub ? `#subdirectory=${sub}` : '');
    return { source: gitSource(url, ref, ref) };
  }
  for (const vcs of ['hg', 'svn', 'bzr']) {
    const u = str(own(e, vcs));
    if (u !== undefined) {
      const ref = str(own(e, 'ref'));
      return {
        source: {
          source: 'url',
          url: `${vcs}+${stripUserinfo(u.replace(new RegExp(`^${vcs}\\+`, 'i'), ''))}${ref ? `@${ref}` : ''}`,
          pinned: false,
          unpinnedReason: ref
            ? `version-control dependency pinned to "${ref}", not an immutable revision`
            : 'version-control dependency without a revision',
        },
      };
    }
  }
  const file = str(own(e, 'file'));
  if (file !== undefined) {
    const version = versionFromFilename(file, f.name)?.version;
    const out: { source: Provenance; version?: string } = {
      source: isUrl(file) && !/^file:/i.test(file) ? urlSource(file, hashes) : fileSource(file.replace(/^file:(\/\/)?/i, ''), hashes),
    };
    if (version) out.version = version;
    return out;
  }
  const path = str(own(e, 'path'));
  if (path !== undefined) {
    if (isDistFile(path)) {
      const version = versionFromFilename(path, f.name)?.version;
      return version ? { source: fileSource(path, hashes), version } : { source: fileSource(path, hashes) };
    }
    return { source: directorySource(path) };
  }
  const index = str(own(e, 'index'));
  const url = index ? indexes.get(index) : undefined;
  if (!f.version) {
    return {
      source: {
        source: 'registry',
        pinned: false,
        unpinnedReason: 'the lockfile records no exact version',
        ...(url ? { url } : {}),
      },
    };
  }
  return { source: registrySource(hashes, url) };
}
