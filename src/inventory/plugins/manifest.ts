import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { isObject, parseJsonText } from '../../util/json.js';
import { duplicateKey, parseYamlDocument } from '../../util/yaml.js';
import { isInside } from '../walk.js';
import { checkAgentPluginManifest, isAgentPluginsDoc, type ManifestCheck } from '../agent-plugins/manifest.js';

/**
 * Plugin manifests: what a plugin folder says about itself. Several formats exist and a
 * folder may hold more than one (an npm package that is also a Claude Code plugin, an MCP
 * bundle with its package.json); the most specific one names the plugin, package manifests
 * still give its package identity (purl).
 */

export type PluginFormat = 'agent-plugins' | 'claude-plugin' | 'agent-plugin' | 'mcpb' | 'npm' | 'python';

export interface PluginAuthor {
  name: string;
  email?: string;
  url?: string;
}

export interface PluginManifest {
  format: PluginFormat;
  /** POSIX path of the manifest relative to the plugin folder. */
  file: string;
  name?: string;
  version?: string;
  description?: string;
  license?: string;
  author?: PluginAuthor;
  homepage?: string;
  repository?: string;
  /** MCP bundle (MCPB, formerly DXT) server facts. */
  server?: { type?: string; entryPoint?: string };
  /** MCPB manifest_version / dxt_version. */
  manifestVersion?: string;
  /** package.json `"private": true`: never published, so no registry identity. */
  private?: boolean;
  /** Agent Plugins 1.0: the spec's check of the manifest (src/inventory/agent-plugins/manifest.ts). */
  agentPlugins?: ManifestCheck & { schema?: string };
}

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface PluginManifests {
  /** The manifest that names the plugin (first with a name, most specific format first). */
  primary?: PluginManifest;
  all: PluginManifest[];
  problems: ManifestProblem[];
}

const MAX_MANIFEST_BYTES = 1024 * 1024;

interface Candidate {
  format: PluginFormat;
  files: string[];
  read: (text: string, file: string) => PluginManifest | undefined;
}

/** Most specific first: a plugin manifest beats a package manifest when both name the plugin. */
const CANDIDATES: Candidate[] = [
  { format: 'agent-plugins', files: ['plugin.json'], read: readAgentPlugins },
  { format: 'claude-plugin', files: ['.claude-plugin/plugin.json'], read: (t, f) => fromJson('claude-plugin', t, f) },
  { format: 'agent-plugin', files: ['agent-plugin.yaml', 'agent-plugin.yml'], read: readAgentPluginYaml },
  { format: 'mcpb', files: ['manifest.json'], read: readMcpb },
  { format: 'npm', files: ['package.json'], read: (t, f) => fromJson('npm', t, f) },
  { format: 'python', files: ['pyproject.toml'], read: readPyproject },
];

/** The file names (relative to a plugin folder) that can be a plugin manifest. */
export const MANIFEST_FILES = CANDIDATES.flatMap((c) => c.files);


export async function readPluginManifests(absDir: string, relDir: string): Promise<PluginManifests> {
  const all: PluginManifest[] = [];
  const problems: ManifestProblem[] = [];
  const realDir = await realpath(absDir);
  for (const c of CANDIDATES) {
    for (const file of c.files) {
      const display = `${relDir}/${file}`;
      const abs = join(absDir, ...file.split('/'));
      const real = await realpath(abs).catch(() => undefined);
      if (real === undefined) continue; // absent (a broken link is reported with the folder's symlinks)
      if (!isInside(realDir, real)) {
        // Never read through a link that leads out of the plugin folder; it is recorded as a symlink.
        problems.push({ file, message: 'is a symbolic link out of the plugin folder; not read' });
        continue;
      }
      let text: string;
      try {
        text = await readTextBounded(abs, MAX_MANIFEST_BYTES, display);
      } catch (err) {
        if (isAibomError(err) && err.code === 'INPUT' && /no such file|not a directory/.test(err.message)) continue;
        problems.push({ file, message: messageOf(err) });
        continue;
      }
      try {
        const m = c.read(text, display);
        if (m) all.push({ ...m, file });
      } catch (err) {
        problems.push({ file, message: messageOf(err) });
      }
      break; // one file per format (agent-plugin.yaml wins over .yml)
    }
  }
  const primary = all.find((m) => m.name);
  const out: PluginManifests = { all, problems };
  if (primary) out.primary = primary;
  return out;
}

function messageOf(err: unknown): string {
  return isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/**
 * package.json / plugin.json / manifest.json people fields: "Name <email> (url)" or an object.
 * Read by hand, not by one regex: the regex this replaces backtracked catastrophically on a
 * string of spaces and a stray `<` (250 spaces: 80 s).
 */
export function parseAuthor(v: unknown): PluginAuthor | undefined {
  if (typeof v === 'string') {
    const s = v.trim();
    const cut = s.search(/[<(]/);
    const name = (cut < 0 ? s : s.slice(0, cut)).trim();
    if (!name) return undefined;
    let rest = cut < 0 ? '' : s.slice(cut);
    let email: string | undefined;
    let url: string | undefined;
    if (rest.startsWith('<')) {
      const close = rest.indexOf('>');
      if (close < 0) return undefined;
      email = rest.slice(1, close).trim();
      rest = rest.slice(close + 1).trimStart();
    }
    if (rest.startsWith('(')) {
      const close = rest.indexOf(')');
      if (close < 0) return undefined;
      url = rest.slice(1, close).trim();
      rest = rest.slice(close + 1).trimStart();
    }
    if (rest) return undefined;
    const a: PluginAuthor = { name };
    if (email) a.email = email;
    if (url) a.url = url;
    return a;
  }
  if (isObject(v) && str(v.name)) {
    const a: PluginAuthor = { name: str(v.name)! };
    if (str(v.email)) a.email = str(v.email)!;
    if (str(v.url)) a.url = str(v.url)!;
    return a;
  }
  return undefined;
}

function repositoryOf(v: unknown): string | undefined {
  if (typeof v === 'string') return str(v);
  if (isObject(v)) return str(v.url);
  return undefined;
}

function licenseOf(v: unknown): string | undefined {
  if (typeof v === 'string') return str(v);
  // Old package.json style: { type: "MIT" }
  if (isObject(v)) return str(v.type);
  return undefined;
}

function common(format: PluginFormat, doc: Record<string, unknown>): PluginManifest {
  const m: PluginManifest = { format, file: '' };
  const set = <K extends keyof PluginManifest>(k: K, v: PluginManifest[K] | undefined) => {
    if (v !== undefined) m[k] = v;
  };
  set('name', str(doc.name));
  set('version', str(doc.version));
  set('description', str(doc.description));
  set('license', licenseOf(doc.license));
  set('author', parseAuthor(doc.author));
  set('homepage', str(doc.homepage));
  set('repository', repositoryOf(doc.repository));
  return m;
}

function fromJson(format: PluginFormat, text: string, file: string): PluginManifest | undefined {
  const doc = parseJsonText(text, file, 64);
  if (!isObject(doc)) throw new Error('not a JSON object');
  const m = common(format, doc);
  if (format === 'npm' && doc.private === true) m.private = true;
  return m;
}

/**
 * Agent Plugins 1.0 root `plugin.json`: only one carrying an agent-plugins.org `$schema` is one.
 * Checked by the spec's rules; an invalid manifest still names the plugin in the BOM (its
 * problems are findings), but gives no other facts: a client loads nothing from it.
 */
function readAgentPlugins(text: string, file: string): PluginManifest | undefined {
  let doc: unknown;
  try {
    doc = parseJsonText(text, file, 64);
  } catch {
    return undefined; // not JSON: not recognisable as an Agent Plugins manifest
  }
  if (!isAgentPluginsDoc(doc)) return undefined;
  const check = checkAgentPluginManifest(text, file);
  const m: PluginManifest = check.manifest ? common('agent-plugins', check.manifest as unknown as Record<string, unknown>) : { format: 'agent-plugins', file: '' };
  if (!check.manifest && check.rawName) m.name = check.rawName.slice(0, 214);
  m.agentPlugins = { ...check, schema: (doc as { $schema: string }).$schema };
  return m;
}

function readAgentPluginYaml(text: string, file: string): PluginManifest | undefined {
  // Bounded YAML (src/util/yaml.ts); duplicate keys in one linear pass (yaml's own check is quadratic).
  const doc = parseYamlDocument(text, { uniqueKeys: false });
  if (doc.errors.length) throw new Error(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const dup = duplicateKey(doc);
  if (dup) throw new Error(`not valid YAML: duplicate key ${JSON.stringify(dup.key)}`);
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isObject(data)) throw new Error(`${file} is not a YAML mapping`);
  // YAML reads `version: 1.10` as a number: keep what the author wrote.
  if (typeof data.version === 'number') {
    const node = doc.get('version', true) as { source?: string } | undefined;
    data.version = node?.source ?? String(data.version);
  }
  return common('agent-plugin', data);
}

/** MCP bundle manifest (MCPB, formerly DXT): only a manifest.json that looks like one counts. */
function readMcpb(text: string, file: string): PluginManifest | undefined {
  const doc = parseJsonText(text, file, 64);
  if (!isObject(doc)) return undefined;
  const looksLikeBundle =
    isObject(doc.server) || typeof doc.manifest_version === 'string' || typeof doc.dxt_version === 'string';
  if (!looksLikeBundle) return undefined;
  const m = common('mcpb', doc);
  const mv = str(doc.manifest_version) ?? str(doc.dxt_version);
  if (mv) m.manifestVersion = mv;
  if (isObject(doc.server)) {
    const server: NonNullable<PluginManifest['server']> = {};
    if (str(doc.server.type)) server.type = str(doc.server.type)!;
    if (str(doc.server.entry_point)) server.entryPoint = str(doc.server.entry_point)!;
    m.server = server;
  }
  return m;
}

function readPyproject(text: string, _file: string): PluginManifest | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const project = isObject(doc.project) ? doc.project : undefined;
  const poetry = isObject(doc.tool) && isObject(doc.tool.poetry) ? doc.tool.poetry : undefined;
  const src = project && str(project.name) ? project : poetry;
  if (!src) return undefined;
  const m = common('python', { ...src, author: undefined, license: undefined, repository: undefined });
  const lic = src.license;
  if (typeof lic === 'string' && lic.trim()) m.license = lic.trim();
  else if (isObject(lic) && str(lic.text) && str(lic.text)!.length < 100) m.license = str(lic.text)!;
  const authors = Array.isArray(src.authors) ? src.authors : [];
  const first = authors[0];
  const author = typeof first === 'string' ? parseAuthor(first) : isObject(first) ? parseAuthor(first) : undefined;
  if (author) m.author = author;
  return m;
}
