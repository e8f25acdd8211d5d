/**
 * The lock: what a signed AI-BOM pins for each plugin, read from the BOM's JSON without the
 * CycloneDX library (the start-up path must stay light). Pure: bytes in, pins out.
 *
 * Per plugin component (`aibom:kind` = `plugin`), as `aibom build` writes them
 * (schemas/aibom-properties.md):
 *   name (+ group), version, bom-ref,
 *   aibom:install-path        folder relative to the agent root (POSIX),
 *   aibom:folder-digest       sha256:<hex>, the model_signing manifest digest,
 *   aibom:files-digest        sha256:<hex>, the full manifest: names + digests (files-digest.ts),
 *   aibom:plugin:manifest     the manifest that gave name and version (relative to the root),
 *   aibom:plugin:format       its format,
 *   aibom:signature-bundle    signature files in the folder (left out of the digest),
 *   aibom:symlink             `rel -> target` links in the folder (left out of the digest),
 *   aibom:publisher:*         the publisher pinned at build time (key fingerprint + key, or
 *                             certificate identity + issuer).
 * And on the BOM's root component, `aibom:plugin-path`: every plugin folder (configured, present
 * or not, and the folder holding each plugin package found, the agent root included),
 * so anything added to one later is refused as unlisted; `aibom:plugin-path-file`: the
 * files beside the plugins (`path sha256:<hex>`); metadata.timestamp, serialNumber and version
 * identify the release for the rollback check.
 */
import { posix } from 'node:path';
import { AibomError } from '../errors.js';
import { parseBom } from '../bom/read.js';
import { isObject } from '../util/json.js';

export interface PublisherPin {
  /** `sha256:<hex>` of the DER SubjectPublicKeyInfo. */
  keyFingerprint?: string;
  /** Base64 DER SubjectPublicKeyInfo (the PEM body). */
  key?: string;
  identity?: string;
  issuer?: string;
  /** The bundle (relative to the root) that verified at build time. */
  bundle?: string;
}

export interface PluginPin {
  ref: string;
  /** `@scope/name` for scoped packages, else the name. */
  name: string;
  version?: string;
  purl?: string;
  /** POSIX, relative to the root, normalized. */
  path: string;
  /** Lowercase hex (without `sha256:`): the model_signing folder digest (file digests only). */
  digest?: string;
  /** Lowercase hex: the full manifest, every file's exact name bytes with its digest (files-digest.ts). */
  filesDigest?: string;
  /** Files the digest covered at build time (aibom:file-count), for messages. */
  fileCount?: number;
  manifest?: string;
  format?: string;
  /** Signature files, POSIX, relative to the plugin folder. */
  bundles: string[];
  /** Recorded links: POSIX path relative to the plugin folder → link text. */
  symlinks: Map<string, string>;
  publisher?: PublisherPin;
}

export interface Lock {
  project: { name?: string; version?: string };
  plugins: PluginPin[];
  /** Plugin folders (POSIX, relative to the root) the BOM was built with, present or not. */
  pluginPaths: string[];
  /** Files beside the plugins (in a plugin folder, or resolution entries between one and the root) → sha256 hex. */
  pathFiles: Map<string, string>;
  /** What identifies this release, for the rollback check (all from the signed bytes). */
  release: { serialNumber?: string; bomVersion?: number; timestamp?: string };
}

/** Files pinned beside the plugins are small (a README, a package.json); bigger ones are refused. */
export const MAX_PLUGIN_PATH_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Entries Node's module resolution consults in a folder between a plugin folder and the agent
 * root: package.json (module type, `exports`, self-references), node_modules (bare imports)
 * and index files (a plugin importing the folder itself).
 */
export function isResolutionEntry(name: string): boolean {
  return name === 'package.json' || name === 'node_modules' || /^index\./.test(name);
}

/** BOMs of big monorepos run to tens of MiB. */
const MAX_BOM_DEPTH = 128;

const HEX64 = /^[0-9a-f]{64}$/;

/** Parse the BOM (already read, and verified by the caller) into the pins. */
export function readLock(bytes: Uint8Array, file: string): Lock {
  const json = parseBom(bytes, file, MAX_BOM_DEPTH);
  const meta = isObject(json.metadata) ? json.metadata : {};
  const root = isObject(meta.component) ? meta.component : {};
  const lock: Lock = { project: {}, plugins: [], pluginPaths: [], pathFiles: new Map(), release: {} };
  if (typeof json.serialNumber === 'string') lock.release.serialNumber = json.serialNumber;
  if (typeof json.version === 'number' && Number.isSafeInteger(json.version)) lock.release.bomVersion = json.version;
  if (typeof meta.timestamp === 'string') lock.release.timestamp = meta.timestamp;
  if (typeof root.name === 'string') lock.project.name = root.name;
  if (typeof root.version === 'string') lock.project.version = root.version;
  for (const v of propsOf(root).get('aibom:plugin-path') ?? []) {
    const p = safeRelative(v);
    if (p === undefined) throw new AibomError('INPUT', `aibom:plugin-path ${JSON.stringify(v).slice(0, 200)} is not a relative path inside the agent`, { file });
    if (!lock.pluginPaths.includes(p)) lock.pluginPaths.push(p);
  }
  for (const v of propsOf(root).get('aibom:plugin-path-file') ?? []) {
    const m = /^(.+) sha256:([0-9a-f]{64})$/.exec(v);
    const p = m ? safeRelative(m[1]!) : undefined;
    if (!m || p === undefined || p === '') throw new AibomError('INPUT', `aibom:plugin-path-file ${JSON.stringify(v).slice(0, 200)} is not "path sha256:<hex>" inside the agent`, { file });
    lock.pathFiles.set(p, m[2]!);
  }
  const seenPaths = new Set<string>();
  for (const c of Array.isArray(json.components) ? json.components : []) {
    if (!isObject(c)) continue;
    const props = propsOf(c);
    if (props.get('aibom:kind')?.[0] !== 'plugin') continue;
    const pin = readPin(c, props, file);
    if (seenPaths.has(pin.path)) throw new AibomError('INPUT', `two plugins are installed at ${pin.path}`, { file });
    seenPaths.add(pin.path);
    lock.plugins.push(pin);
  }
  return lock;
}

function readPin(c: Record<string, unknown>, props: Map<string, string[]>, file: string): PluginPin {
  const ref = typeof c['bom-ref'] === 'string' ? c['bom-ref'] : '';
  const baseName = typeof c.name === 'string' ? c.name : '';
  const name = typeof c.group === 'string' && c.group ? `${c.group}/${baseName}` : baseName;
  const where = ref || name || 'a plugin';
  const rawPath = props.get('aibom:install-path')?.[0];
  if (rawPath === undefined) throw new AibomError('INPUT', `plugin ${where} has no aibom:install-path`, { file });
  const path = safeRelative(rawPath);
  if (path === undefined || path === '') {
    throw new AibomError('INPUT', `plugin ${where}: aibom:install-path ${JSON.stringify(rawPath).slice(0, 200)} is not a folder inside the agent`, { file });
  }
  const pin: PluginPin = { ref, name: name || posix.basename(path), path, bundles: [], symlinks: new Map() };
  if (typeof c.version === 'string') pin.version = c.version;
  if (typeof c.purl === 'string') pin.purl = c.purl;
  const digest = props.get('aibom:folder-digest')?.[0];
  if (digest !== undefined) {
    const hex = digest.replace(/^sha256:/, '').toLowerCase();
    if (!HEX64.test(hex)) throw new AibomError('INPUT', `plugin ${where}: aibom:folder-digest is not sha256:<64 hex>`, { file });
    pin.digest = hex;
  }
  const files = props.get('aibom:files-digest')?.[0];
  if (files !== undefined) {
    const hex = files.replace(/^sha256:/, '').toLowerCase();
    if (!HEX64.test(hex)) throw new AibomError('INPUT', `plugin ${where}: aibom:files-digest is not sha256:<64 hex>`, { file });
    pin.filesDigest = hex;
  }
  const count = props.get('aibom:file-count')?.[0];
  if (count !== undefined && /^\d{1,9}$/.test(count)) pin.fileCount = Number(count);
  const manifest = props.get('aibom:plugin:manifest')?.[0];
  if (manifest !== undefined) {
    const m = safeRelative(manifest);
    if (m === undefined || !isUnder(m, path)) throw new AibomError('INPUT', `plugin ${where}: aibom:plugin:manifest is not inside the plugin folder`, { file });
    pin.manifest = m;
  }
  const format = props.get('aibom:plugin:format')?.[0];
  if (format !== undefined) pin.format = format;
  for (const b of props.get('aibom:signature-bundle') ?? []) {
    const rel = safeRelative(b);
    if (rel === undefined || !isUnder(rel, path)) throw new AibomError('INPUT', `plugin ${where}: aibom:signature-bundle ${JSON.stringify(b).slice(0, 200)} is not inside the plugin folder`, { file });
    pin.bundles.push(rel.slice(path.length + 1));
  }
  for (const s of props.get('aibom:symlink') ?? []) {
    const i = s.indexOf(' -> ');
    const rel = i > 0 ? safeRelative(s.slice(0, i)) : undefined;
    if (rel === undefined || rel === '') throw new AibomError('INPUT', `plugin ${where}: aibom:symlink ${JSON.stringify(s).slice(0, 200)} is not "path -> target"`, { file });
    pin.symlinks.set(rel, s.slice(i + 4));
  }
  const publisher: PublisherPin = {};
  const fp = props.get('aibom:publisher:key-fingerprint')?.[0];
  if (fp !== undefined) {
    const hex = fp.replace(/^sha256:/, '').toLowerCase();
    if (!HEX64.test(hex)) throw new AibomError('INPUT', `plugin ${where}: aibom:publisher:key-fingerprint is not sha256:<64 hex>`, { file });
    publisher.keyFingerprint = `sha256:${hex}`;
  }
  const key = props.get('aibom:publisher:key')?.[0];
  if (key !== undefined) publisher.key = key;
  const identity = props.get('aibom:publisher:identity')?.[0];
  if (identity !== undefined) publisher.identity = identity;
  const issuer = props.get('aibom:publisher:issuer')?.[0];
  if (issuer !== undefined) publisher.issuer = issuer;
  const bundle = props.get('aibom:publisher:bundle')?.[0];
  if (bundle !== undefined) {
    const rel = safeRelative(bundle);
    if (rel === undefined || !isUnder(rel, path)) throw new AibomError('INPUT', `plugin ${where}: aibom:publisher:bundle is not inside the plugin folder`, { file });
    publisher.bundle = rel.slice(path.length + 1);
  }
  if (Object.keys(publisher).length) {
    // A pin is a key (fingerprint + key) or a certificate identity + issuer; anything else is refused whole.
    const isKey = publisher.keyFingerprint !== undefined && publisher.key !== undefined;
    const isKeyless = publisher.identity !== undefined && publisher.issuer !== undefined;
    if (isKey === isKeyless) {
      throw new AibomError(
        'INPUT',
        `plugin ${where}: the publisher pin needs aibom:publisher:key-fingerprint with aibom:publisher:key, or aibom:publisher:identity with aibom:publisher:issuer`,
        { file },
      );
    }
    pin.publisher = publisher;
  }
  return pin;
}

function propsOf(node: Record<string, unknown>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(node.properties)) return out;
  for (const p of node.properties) {
    if (!isObject(p) || typeof p.name !== 'string' || typeof p.value !== 'string') continue;
    const list = out.get(p.name);
    if (list) list.push(p.value);
    else out.set(p.name, [p.value]);
  }
  return out;
}

/**
 * A POSIX path relative to the root, normalized, that stays inside it; undefined otherwise
 * ('' is the root itself). Backslashes, drive letters, NUL and `..` escapes are refused.
 */
export function safeRelative(p: string): string | undefined {
  if (p.length > 4096 || p.includes('\0') || p.includes('\\') || /^[A-Za-z]:/.test(p) || p.startsWith('/')) return undefined;
  const n = posix.normalize(p).replace(/\/+$/, '');
  if (n === '.') return '';
  if (n === '..' || n.startsWith('../')) return undefined;
  return n;
}

/** Whether `p` is strictly below folder `dir` (both normalized relative POSIX paths). */
export function isUnder(p: string, dir: string): boolean {
  return p.startsWith(`${dir}/`) && p.length > dir.length + 1;
}
