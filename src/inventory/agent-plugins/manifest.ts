import { isObject } from '../../util/json.js';
import { parseStrictJson } from './json.js';

/**
 * Agent Plugins 1.0.0 `plugin.json` (agent-plugins.org, spec §5), checked by the spec's rules as
 * written here (the published JSON Schema is a cross-check in the conformance suite; the spec
 * text governs where they differ):
 * - a JSON object; its schema is closed: an unknown top-level field is reported and ignored
 *   (non-fatal), as is a non-object `extensions` (§8.1);
 * - every other violation is fatal (§5.2, §11.3): the client rejects the plugin and loads none
 *   of its components. aibom still lists them (so the BOM shows what is there), marked as not
 *   loadable, and reports the manifest.
 */

export const PLUGIN_SCHEMA_1_0 = 'https://agent-plugins.org/schemas/1.0.0/plugin.schema.json';
export const MCP_SCHEMA_1_0 = 'https://agent-plugins.org/schemas/1.0.0/mcp.schema.json';
/** Any Agent Plugins manifest schema id (recognized or not): marks a plugin.json as one. */
export const AGENT_PLUGINS_SCHEMA_PREFIX = 'https://agent-plugins.org/schemas/';

const FIELDS = new Set(['$schema', 'name', 'version', 'description', 'author', 'homepage', 'repository', 'license', 'keywords', 'extensions']);
const STRING_FIELDS = ['version', 'description', 'homepage', 'repository', 'license'] as const;
const AUTHOR_FIELDS = new Set(['name', 'email', 'url']);

/** §5.5: 1-64 of a-z 0-9 - ., alphanumeric at both ends, no `--` or `..`. */
export function isValidPluginName(name: string): boolean {
  if (name.length < 1 || name.length > 64) return false;
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(name)) return false;
  return !name.includes('--') && !name.includes('..');
}

/** A reverse-domain extension namespace (`com.github.copilot`): two or more dot-separated labels. */
export function isExtensionNamespace(name: string): boolean {
  return name.length <= 253 && /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(name);
}

export interface AgentPluginManifest {
  schema: string;
  name: string;
  version?: string;
  description?: string;
  license?: string;
  homepage?: string;
  repository?: string;
  author?: { name?: string; email?: string; url?: string };
  keywords?: string[];
  /** Namespaces under `extensions` (values are opaque). */
  extensions: string[];
}

export interface ManifestCheck {
  /** Set when the manifest is valid (possibly with reported, non-fatal problems). */
  manifest?: AgentPluginManifest;
  /** Fatal violations: the plugin is rejected by a conformant client. */
  errors: string[];
  /** Non-fatal: unknown fields, a non-object `extensions` (reported and ignored). */
  warnings: string[];
  /** The line of the first problem, when known. */
  line?: number;
  /** The name, when it is a string (for the BOM, even from an invalid manifest). */
  rawName?: string;
  rawVersion?: string;
}

/** Is this parsed plugin.json an Agent Plugins manifest (has an agent-plugins.org `$schema`)? */
export function isAgentPluginsDoc(doc: unknown): boolean {
  return isObject(doc) && typeof doc.$schema === 'string' && doc.$schema.startsWith(AGENT_PLUGINS_SCHEMA_PREFIX);
}

export function checkAgentPluginManifest(text: string, file: string): ManifestCheck {
  const parsed = parseStrictJson(text, file);
  if (!parsed.ok) {
    const out: ManifestCheck = { errors: [parsed.error], warnings: [] };
    if (parsed.line !== undefined) out.line = parsed.line;
    return out;
  }
  return checkManifestValue(parsed.value);
}

export function checkManifestValue(doc: unknown): ManifestCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!isObject(doc)) return { errors: ['the manifest is not a JSON object'], warnings };
  const out: ManifestCheck = { errors, warnings };
  if (typeof doc.name === 'string') out.rawName = doc.name;
  if (typeof doc.version === 'string') out.rawVersion = doc.version;
  for (const k of Object.keys(doc)) {
    if (!FIELDS.has(k)) warnings.push(`unknown field ${JSON.stringify(k)} (ignored)`);
  }
  const schema = doc.$schema;
  if (schema === undefined) errors.push('"$schema" is missing');
  else if (typeof schema !== 'string') errors.push('"$schema" is not a string');
  else if (schema !== PLUGIN_SCHEMA_1_0)
    errors.push(`"$schema" ${JSON.stringify(schema.slice(0, 200))} is not an Agent Plugins version aibom supports (${PLUGIN_SCHEMA_1_0})`);
  const name = doc.name;
  if (name === undefined) errors.push('"name" is missing');
  else if (typeof name !== 'string') errors.push('"name" is not a string');
  else if (!isValidPluginName(name))
    errors.push(
      `"name" ${JSON.stringify(name.slice(0, 80))} breaks the naming rules (1-64 of a-z, 0-9, "-", "."; alphanumeric at both ends; no "--" or "..")`,
    );
  for (const k of STRING_FIELDS) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') errors.push(`"${k}" is not a string`);
  }
  if (doc.author !== undefined) {
    if (!isObject(doc.author)) errors.push('"author" is not an object');
    else
      for (const [k, v] of Object.entries(doc.author)) {
        if (!AUTHOR_FIELDS.has(k)) errors.push(`"author" has a field ${JSON.stringify(k.slice(0, 80))} (only name, email and url are allowed)`);
        else if (typeof v !== 'string') errors.push(`"author.${k}" is not a string`);
      }
  }
  if (doc.keywords !== undefined) {
    if (!Array.isArray(doc.keywords)) errors.push('"keywords" is not an array');
    else if (!doc.keywords.every((x) => typeof x === 'string')) errors.push('"keywords" holds a value that is not a string');
  }
  const extensions: string[] = [];
  if (doc.extensions !== undefined) {
    if (!isObject(doc.extensions)) warnings.push('"extensions" is not an object (ignored)');
    else
      for (const [k, v] of Object.entries(doc.extensions)) {
        // The spec leaves unimplemented namespaces unvalidated, but the published schema requires
        // object values; a non-object value is not a conforming manifest.
        if (!isObject(v)) errors.push(`"extensions.${k.slice(0, 80)}" is not an object`);
        else extensions.push(k);
      }
  }
  if (errors.length) return out;
  const d = doc as Record<string, unknown>;
  const m: AgentPluginManifest = { schema: schema as string, name: name as string, extensions: extensions.sort() };
  for (const k of STRING_FIELDS) if (typeof d[k] === 'string') m[k] = d[k] as string;
  if (isObject(d.author)) m.author = d.author as AgentPluginManifest['author'] & object;
  if (Array.isArray(d.keywords)) m.keywords = d.keywords as string[];
  out.manifest = m;
  return out;
}
