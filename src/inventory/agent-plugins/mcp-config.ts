import { isObject } from '../../util/json.js';
import { parseStrictJson } from './json.js';
import { MCP_SCHEMA_1_0 } from './manifest.js';

/**
 * Agent Plugins 1.0.0 `mcp.json` (spec §7.2): a closed object with `$schema` and `mcpServers`,
 * each server exactly one of three closed variants (stdio, streamable-http, sse). Failure
 * boundaries (§7.2.2): an invalid file disables MCP for the plugin; an invalid entry skips that
 * server only. `${PLUGIN_ROOT}` and `${PLUGIN_DATA}` are expanded once, textually, in `args`,
 * `env` values and `cwd` only (§9.2).
 */

export type AgentMcpServer =
  | { name: string; type: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string }
  | { name: string; type: 'streamable-http' | 'sse'; url: string; headers: Record<string, string> };

export interface AgentMcpEntry {
  name: string;
  /** The raw definition (for the generic MCP inventory). */
  def: Record<string, unknown> | unknown;
  server?: AgentMcpServer;
  /** Why the entry is invalid (a conformant client skips it). */
  errors: string[];
}

export type AgentMcpConfig = { ok: true; entries: AgentMcpEntry[] } | { ok: false; error: string; line?: number };

const STDIO = new Set(['type', 'command', 'args', 'env', 'cwd']);
const REMOTE = new Set(['type', 'url', 'headers']);
const RESERVED_ENV = new Set(['PLUGIN_ROOT', 'PLUGIN_DATA']);
/** RFC 9110 token characters (a header name). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible ASCII, space and tab, and obs-text; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function checkAgentMcpConfig(text: string, file: string, pluginSchema: string | undefined): AgentMcpConfig {
  const parsed = parseStrictJson(text, file);
  if (!parsed.ok) return parsed.line !== undefined ? { ok: false, error: parsed.error, line: parsed.line } : { ok: false, error: parsed.error };
  const doc = parsed.value;
  if (!isObject(doc)) return { ok: false, error: 'not a JSON object' };
  const extra = Object.keys(doc).filter((k) => k !== '$schema' && k !== 'mcpServers');
  if (extra.length) return { ok: false, error: `top-level field ${JSON.stringify(extra[0]!.slice(0, 80))} is not allowed` };
  if (typeof doc.$schema !== 'string') return { ok: false, error: '"$schema" is missing or not a string' };
  if (doc.$schema !== MCP_SCHEMA_1_0)
    return { ok: false, error: `"$schema" ${JSON.stringify(doc.$schema.slice(0, 200))} is not an Agent Plugins version aibom supports (${MCP_SCHEMA_1_0})` };
  if (pluginSchema !== undefined && versionOf(pluginSchema) !== versionOf(doc.$schema))
    return { ok: false, error: 'its Agent Plugins version differs from the one plugin.json declares' };
  if (!isObject(doc.mcpServers)) return { ok: false, error: '"mcpServers" is missing or not an object' };
  const entries: AgentMcpEntry[] = [];
  for (const [name, def] of Object.entries(doc.mcpServers)) entries.push(checkServer(name, def));
  return { ok: true, entries };
}

function versionOf(schemaId: string): string | undefined {
  return /\/schemas\/([^/]+)\//.exec(schemaId)?.[1];
}

function stringMap(v: unknown, what: string, errors: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined) return out;
  if (!isObject(v)) {
    errors.push(`"${what}" is not an object`);
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') errors.push(`"${what}.${k.slice(0, 80)}" is not a string`);
    else Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function checkServer(name: string, def: unknown): AgentMcpEntry {
  const errors: string[] = [];
  const entry: AgentMcpEntry = { name, def, errors };
  if (!isObject(def)) {
    errors.push('the server entry is not an object');
    return entry;
  }
  const type = def.type;
  if (type === 'stdio') {
    for (const k of Object.keys(def)) if (!STDIO.has(k)) errors.push(`field ${JSON.stringify(k.slice(0, 80))} is not allowed in a stdio server`);
    const command = def.command;
    if (typeof command !== 'string' || !command) errors.push('"command" is missing or empty');
    else if (!isCommandToken(command))
      errors.push(`"command" ${JSON.stringify(command.slice(0, 200))} is neither a bare executable name nor a plugin-relative path (./…) inside the plugin`);
    const args: string[] = [];
    if (def.args !== undefined) {
      if (!Array.isArray(def.args)) errors.push('"args" is not an array');
      else
        for (const a of def.args) {
          if (typeof a !== 'string') errors.push('"args" holds a value that is not a string');
          else args.push(a);
        }
    }
    const env = stringMap(def.env, 'env', errors);
    for (const k of Object.keys(env)) if (RESERVED_ENV.has(k.toUpperCase())) errors.push(`"env" sets the reserved variable ${k}`);
    let cwd: string | undefined;
    if (def.cwd !== undefined) {
      if (typeof def.cwd !== 'string') errors.push('"cwd" is not a string');
      else if (!/^(?:\.\/|\$\{PLUGIN_ROOT\}(?:\/|$)|\$\{PLUGIN_DATA\}(?:\/|$))/.test(def.cwd) || hasDotDot(def.cwd))
        errors.push(`"cwd" ${JSON.stringify(def.cwd.slice(0, 200))} is not ./…, \${PLUGIN_ROOT}/… or \${PLUGIN_DATA}/… inside its root`);
      else cwd = def.cwd;
    }
    if (!errors.length) {
      const s: AgentMcpServer = { name, type: 'stdio', command: command as string, args, env };
      if (cwd !== undefined) s.cwd = cwd;
      entry.server = s;
    }
    return entry;
  }
  if (type === 'streamable-http' || type === 'sse') {
    for (const k of Object.keys(def)) if (!REMOTE.has(k)) errors.push(`field ${JSON.stringify(k.slice(0, 80))} is not allowed in a ${type} server`);
    const url = def.url;
    if (typeof url !== 'string' || !url) errors.push('"url" is missing or empty');
    else {
      const why = remoteUrlProblem(url);
      if (why) errors.push(why);
    }
    const headers = stringMap(def.headers, 'headers', errors);
    const seen = new Set<string>();
    for (const [k, v] of Object.entries(headers)) {
      if (!TOKEN.test(k)) errors.push(`header name ${JSON.stringify(k.slice(0, 80))} is not a valid HTTP header name`);
      if (!FIELD_VALUE.test(v)) errors.push(`header ${k.slice(0, 80)} has a value that is not a valid HTTP header value`);
      const lower = k.toLowerCase();
      if (seen.has(lower)) errors.push(`header ${k.slice(0, 80)} is given twice (header names are case-insensitive)`);
      seen.add(lower);
    }
    if (!errors.length) entry.server = { name, type, url: url as string, headers };
    return entry;
  }
  errors.push(type === undefined ? '"type" is missing' : `"type" ${JSON.stringify(String(type).slice(0, 80))} is not stdio, streamable-http or sse`);
  return entry;
}

function hasDotDot(p: string): boolean {
  return p.split(/[\\/]/).includes('..');
}

/** A single executable token: a bare name (no separators), or `./…` staying inside the plugin. */
export function isCommandToken(command: string): boolean {
  if (/[\0\r\n]/.test(command)) return false;
  if (command.startsWith('./')) return command.length > 2 && !hasDotDot(command) && !command.includes('\\');
  return !/[\\/]/.test(command) && !/\s/.test(command) && command !== '.' && command !== '..';
}

/** §7.2.1: absolute http(s), no user info or fragment; plain http only to loopback. */
export function remoteUrlProblem(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '"url" is not an absolute URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return '"url" is not an http or https URL';
  if (u.username || u.password) return '"url" carries user information';
  if (raw.includes('#')) return '"url" has a fragment';
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) return '"url" uses plain http to a host that is not loopback';
  return undefined;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface PluginPaths {
  root: string;
  data: string;
}

/** §9.2: one textual pass, replacing exact `${PLUGIN_ROOT}` / `${PLUGIN_DATA}`; nothing rescanned. */
export function expandPlaceholders(value: string, paths: PluginPaths): string {
  return value.replace(/\$\{PLUGIN_(ROOT|DATA)\}/g, (_m, which: string) => (which === 'ROOT' ? paths.root : paths.data));
}

/** A stdio server with its placeholders expanded (args, env values, cwd; never command). */
export function expandServer(
  s: Extract<AgentMcpServer, { type: 'stdio' }>,
  paths: PluginPaths,
): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.env))
    Object.defineProperty(env, k, { value: expandPlaceholders(v, paths), enumerable: true, writable: true, configurable: true });
  env.PLUGIN_ROOT = paths.root;
  env.PLUGIN_DATA = paths.data;
  const cwd = s.cwd === undefined ? paths.root : s.cwd.startsWith('./') ? `${paths.root}/${s.cwd.slice(2)}` : expandPlaceholders(s.cwd, paths);
  const command = s.command.startsWith('./') ? `${paths.root}/${s.command.slice(2)}` : s.command;
  return { command, args: s.args.map((a) => expandPlaceholders(a, paths)), env, cwd };
}
