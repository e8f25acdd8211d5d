import { lstat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { type Node as JsonNode, parseTree } from 'jsonc-parser';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { parseJsonText } from '../util/json.js';
import { lazy } from '../util/lazy.js';
import { lineIndex } from '../util/lines.js';
import { duplicateKey, parseYamlDocument } from '../util/yaml.js';
import { type SchemaValidator, schemaValidator } from '../util/precompiled.js';
import type { Location } from './types.js';

const require = createRequire(import.meta.url);

/** Loaded only for a YAML config (see lazy). */
const yaml = lazy(() => require('yaml') as typeof import('yaml'));

/**
 * The `aibom.config.json` / `aibom.config.yaml` / `aibom.config.yml` file at the root of a
 * scanned folder (schemas/aibom-config.schema.json). A config file is hostile input like any
 * other: unknown keys and wrong types are errors naming the file, the key's path and its line,
 * never silently ignored.
 */

export const CONFIG_FILE_NAMES = ['aibom.config.json', 'aibom.config.yaml', 'aibom.config.yml'] as const;

const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_CONFIG_DEPTH = 32;
const MAX_ERRORS_SHOWN = 10;

export interface DatasetConfig {
  path: string;
  name?: string;
  description?: string;
  classification?: string;
  sensitiveData?: string[];
  format?: string;
  license?: string;
}

export interface ServiceConfig {
  name: string;
  endpoints: string[];
  provider?: string;
  description?: string;
}

export interface AibomConfig {
  exclude?: string[];
  models?: { paths?: string[]; exclude?: string[] };
  datasets?: DatasetConfig[];
  plugins?: { paths?: string[]; exclude?: string[] };
  mcp?: { configs?: string[] };
  services?: ServiceConfig[];
  /** Where the settings came from; absent when there was no config file. */
  source?: ConfigSource;
}

export interface ConfigSource {
  /** The file as shown to users (relative to the scanned folder when it is inside it). */
  file: string;
  /** Line of each key or array item, by JSON pointer (`/datasets/0/path`). */
  lines: Map<string, number>;
}

/** Default plugin folders when the config does not say. */
export const DEFAULT_PLUGIN_PATHS = ['plugins'];

/** Where a value of the config is, for findings that point back at it. */
export function configLocation(config: AibomConfig | undefined, pointer: string): Location | undefined {
  if (!config?.source) return undefined;
  const line = config.source.lines.get(pointer);
  return line === undefined ? { file: config.source.file } : { file: config.source.file, line };
}

export interface LoadConfigOptions {
  /** A config file named by the user (relative to the current folder); it must exist. */
  file?: string;
  /** How to show the scanned folder in messages (as the user typed it). */
  display?: string;
}

/**
 * Load the config for a scanned folder: the file named by `options.file`, else the one
 * `aibom.config.*` at the root, else defaults ({}). Two config files at the root is an error
 * (which one wins would be a guess).
 */
export async function loadConfig(root: string, options: LoadConfigOptions = {}): Promise<AibomConfig> {
  const absRoot = resolve(root);
  let abs: string;
  let display: string;
  let shownInBom: string;
  if (options.file !== undefined) {
    abs = resolve(options.file);
    display = options.file;
    const rel = posix.relative(toPosixPath(absRoot), toPosixPath(abs));
    shownInBom = rel && !rel.startsWith('../') && !isAbsolute(rel) ? rel : posix.basename(toPosixPath(abs));
  } else {
    const present: string[] = [];
    for (const name of CONFIG_FILE_NAMES) {
      let st: Awaited<ReturnType<typeof lstat>> | undefined;
      try {
        st = await lstat(join(absRoot, name));
      } catch {
        // not there
      }
      if (!st) continue;
      if (!st.isFile()) {
        // A link, folder or pipe by that name: reading no config would drop its settings (model and plugin paths).
        throw new AibomError('INPUT', 'not a regular file (a symbolic link, folder or special file); aibom reads its config only from a regular file', {
          file: options.display && options.display !== '.' ? posix.join(toPosixPath(options.display), name) : name,
        });
      }
      present.push(name);
    }
    if (present.length === 0) return {};
    const shown = (n: string) => (options.display && options.display !== '.' ? posix.join(toPosixPath(options.display), n) : n);
    if (present.length > 1) {
      throw new AibomError('INPUT', `more than one aibom config file (${present.join(', ')}); keep one`, {
        file: shown(present[0]!),
      });
    }
    abs = join(absRoot, present[0]!);
    display = shown(present[0]!);
    shownInBom = present[0]!;
  }
  const text = await readTextBounded(abs, MAX_CONFIG_BYTES, display);
  const isJson = abs.toLowerCase().endsWith('.json');
  const { data, lines } = isJson ? parseJsonConfig(text, display) : parseYamlConfig(text, display);
  await checkSchema(data, lines, display);
  const config = data as AibomConfig;
  checkPaths(config, lines, display);
  config.source = { file: shownInBom, lines };
  return config;
}

function toPosixPath(p: string): string {
  return p.split('\\').join('/');
}

function parseJsonConfig(text: string, display: string): { data: unknown; lines: Map<string, number> } {
  const data = parseJsonText(text, display, MAX_CONFIG_DEPTH);
  const lines = new Map<string, number>();
  const tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  if (tree) {
    const lineOf = lineIndex(text);
    // Iterative walk: no recursion on input depth (already bounded above, but stay flat anyway).
    const stack: Array<{ node: JsonNode; pointer: string }> = [{ node: tree, pointer: '' }];
    while (stack.length) {
      const { node, pointer } = stack.pop()!;
      if (node.type === 'object') {
        for (const p of node.children ?? []) {
          const key = p.children?.[0];
          const value = p.children?.[1];
          if (!key || typeof key.value !== 'string') continue;
          const ptr = `${pointer}/${escapePointer(key.value)}`;
          lines.set(ptr, lineOf(key.offset));
          if (value) stack.push({ node: value, pointer: ptr });
        }
      } else if (node.type === 'array') {
        (node.children ?? []).forEach((child, i) => {
          const ptr = `${pointer}/${i}`;
          lines.set(ptr, lineOf(child.offset));
          stack.push({ node: child, pointer: ptr });
        });
      }
    }
  }
  return { data, lines };
}

function parseYamlConfig(text: string, display: string): { data: unknown; lines: Map<string, number> } {
  const { isMap, isScalar, isSeq, LineCounter } = yaml();
  const lc = new LineCounter();
  let doc: ReturnType<typeof parseYamlDocument>;
  try {
    // Bounded (src/util/yaml.ts); duplicate keys in one linear pass (yaml's own check is quadratic).
    doc = parseYamlDocument(text, { lineCounter: lc, uniqueKeys: false });
  } catch (err) {
    throw new AibomError('INPUT', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { file: display });
  }
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const { line } = lc.linePos(e.pos[0]);
    throw new AibomError('INPUT', `line ${line}: not valid YAML: ${e.message.split('\n')[0]}`, { file: display });
  }
  const dup = duplicateKey(doc);
  if (dup) {
    throw new AibomError('INPUT', `line ${lc.linePos(dup.offset).line}: not valid YAML: duplicate key ${JSON.stringify(dup.key)}`, {
      file: display,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new AibomError('INPUT', `cannot read the config: ${(err as Error).message.split('\n')[0]}`, { file: display });
  }
  if (data === null || data === undefined) data = {};
  const lines = new Map<string, number>();
  const depthOk = { ok: true };
  const stack: Array<{ node: unknown; pointer: string; depth: number }> = [{ node: doc.contents, pointer: '', depth: 0 }];
  while (stack.length) {
    const { node, pointer, depth } = stack.pop()!;
    if (depth > MAX_CONFIG_DEPTH) {
      depthOk.ok = false;
      break;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key : undefined;
        if (!key || (typeof key.value !== 'string' && typeof key.value !== 'number')) continue;
        const ptr = `${pointer}/${escapePointer(String(key.value))}`;
        if (key.range) lines.set(ptr, lc.linePos(key.range[0]).line);
        stack.push({ node: pair.value, pointer: ptr, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const ptr = `${pointer}/${i}`;
        const range = (item as { range?: [number, number, number] } | null)?.range;
        if (range) lines.set(ptr, lc.linePos(range[0]).line);
        stack.push({ node: item, pointer: ptr, depth: depth + 1 });
      });
    }
  }
  if (!depthOk.ok) throw new AibomError('TOO_LARGE', `nests deeper than ${MAX_CONFIG_DEPTH} levels`, { file: display });
  return { data, lines };
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function configValidator(): SchemaValidator {
  // Precompiled by npm run build (scripts/gen-schema-validators.mjs); compiled now when stale.
  return schemaValidator('aibom-config', 'aibom-config.schema.json');
}

async function checkSchema(data: unknown, lines: Map<string, number>, display: string): Promise<void> {
  const validate = configValidator();
  if (validate(data)) return;
  const seen = new Set<string>();
  const found: Array<{ line: number; msg: string }> = [];
  for (const e of validate.errors ?? []) {
    let pointer = e.instancePath;
    let what = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      pointer = `${pointer}/${escapePointer(e.params.additionalProperty)}`;
      what = 'unknown key';
    } else if (e.keyword === 'type' && typeof e.params.type === 'string') {
      what = `must be ${article(e.params.type)} ${e.params.type}`;
    } else if (e.keyword === 'pattern' && pointer.includes('/endpoints/')) {
      what = 'must be a URL (scheme://host/...)';
    } else if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      what = `"${e.params.missingProperty}" is required`;
    }
    const msg = describeAt(pointer, lines, what);
    if (seen.has(msg)) continue;
    seen.add(msg);
    found.push({ line: nearestLine(pointer, lines) ?? 0, msg });
  }
  // In file order, as a person fixes them.
  const msgs = found.sort((a, b) => a.line - b.line).map((f) => f.msg);
  const shown = msgs.slice(0, MAX_ERRORS_SHOWN);
  const more = msgs.length > shown.length ? `\n  ... and ${msgs.length - shown.length} more` : '';
  throw new AibomError(
    'INPUT',
    `invalid aibom config (schemas/aibom-config.schema.json):${shown.length === 1 ? ' ' : '\n  '}${shown.join('\n  ')}${more}`,
    { file: display },
  );
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? 'an' : 'a';
}

/** `line 4: datasets[0].sensitiveData: must be an array` */
function describeAt(pointer: string, lines: Map<string, number>, what: string): string {
  const line = nearestLine(pointer, lines);
  const path = pointerToPath(pointer);
  return `${line !== undefined ? `line ${line}: ` : ''}${path || '(top level)'}: ${what}`;
}

function nearestLine(pointer: string, lines: Map<string, number>): number | undefined {
  for (let p = pointer; p; p = p.slice(0, p.lastIndexOf('/'))) {
    const l = lines.get(p);
    if (l !== undefined) return l;
  }
  return undefined;
}

function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Every path in the config must stay inside the scanned folder; endpoints must be URLs. */
function checkPaths(config: AibomConfig, lines: Map<string, number>, display: string): void {
  const errors: string[] = [];
  const check = (value: string, pointer: string) => {
    const why = outsideReason(value);
    if (why) errors.push(describeAt(pointer, lines, `${JSON.stringify(value)} ${why}`));
  };
  for (const [i, p] of (config.models?.paths ?? []).entries()) check(p, `/models/paths/${i}`);
  for (const [i, p] of (config.plugins?.paths ?? []).entries()) check(p, `/plugins/paths/${i}`);
  for (const [i, p] of (config.mcp?.configs ?? []).entries()) check(p, `/mcp/configs/${i}`);
  for (const [i, d] of (config.datasets ?? []).entries()) check(d.path, `/datasets/${i}/path`);
  for (const [i, s] of (config.services ?? []).entries()) {
    for (const [j, u] of s.endpoints.entries()) {
      let ok = false;
      try {
        ok = !!new URL(u).host;
      } catch {
        ok = false;
      }
      if (!ok) errors.push(describeAt(`/services/${i}/endpoints/${j}`, lines, 'not a valid URL'));
    }
  }
  if (errors.length) {
    throw new AibomError('INPUT', `invalid aibom config:${errors.length === 1 ? ' ' : '\n  '}${errors.join('\n  ')}`, {
      file: display,
    });
  }
}

/** Why a configured path is not usable (absolute or leaving the folder), or undefined. */
function outsideReason(p: string): string | undefined {
  if (p.includes('\0')) return 'contains a NUL character';
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\')) {
    return 'is absolute; paths are relative to the scanned folder';
  }
  const norm = posix.normalize(toPosixPath(p));
  if (norm === '..' || norm.startsWith('../')) return 'leaves the scanned folder';
  return undefined;
}

/** A configured path normalized: POSIX, no './', no trailing '/'; '' for the root itself. */
export function normalizeConfigPath(p: string): string {
  const norm = posix.normalize(toPosixPath(p)).replace(/\/+$/, '');
  return norm === '.' ? '' : norm.replace(/^\.\//, '');
}
