import { createRequire } from 'node:module';
import { isAibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import { lazy } from '../../util/lazy.js';
import { duplicateKey, parseYamlDocument } from '../../util/yaml.js';
import { parseTomlText } from '../lockfiles/python/common.js';
import type { McpConfigParse, McpServerEntry } from './config-types.js';

const require = createRequire(import.meta.url);

/** Loaded when there is a YAML client config to read (see lazy). */
const yaml = lazy(() => require('yaml') as typeof import('yaml'));

/**
 * The MCP client config formats that are not `mcpServers` JSON, and the server definition
 * shapes of each client, brought to one shape (`command` string, `args` list, `env` object,
 * `url`) before anything judges them:
 * - Codex CLI: `.codex/config.toml`, `[mcp_servers.NAME]` with command / args / env / url;
 * - Continue: `.continue/config.yaml` and `.continue/mcpServers/*.yaml`, `mcpServers:` a list
 *   of `{name, command, args, env}` (or `url` with `type: sse | streamable-http`);
 * - Goose: `goose/config.yaml`, `extensions:` a map of `{cmd, args, envs, type, uri}`
 *   (`type: builtin` / `platform` extensions run inside Goose: not servers);
 * - Zed: `context_servers`, with `command` a string or (older) `{path, args, env}`;
 * - opencode: `mcp`, with `command` an array and `environment` for env.
 */

/** Is this path one of the non-JSON client configs read here? */
export function isKnownNonJsonConfig(rel: string): boolean {
  return isCodexConfig(rel) || isContinueYaml(rel) || isGooseConfig(rel);
}

function isCodexConfig(rel: string): boolean {
  return rel === '.codex/config.toml' || rel.endsWith('/.codex/config.toml');
}

function isContinueYaml(rel: string): boolean {
  return /(^|\/)\.continue\/(config\.ya?ml|mcpServers\/[^/]+\.ya?ml)$/.test(rel);
}

function isGooseConfig(rel: string): boolean {
  return /(^|\/)goose\/config\.ya?ml$/.test(rel);
}

/**
 * Parse a TOML or YAML client config, or undefined when `rel` is not one. Other YAML and TOML
 * files are read by the generic rule (genericServerContainers): undefined when they hold no
 * server definitions under an MCP-named key (or do not parse, unless `known`).
 */
export function parseNonJsonConfig(text: string, rel: string, known = false): McpConfigParse | undefined {
  if (isCodexConfig(rel)) return parseCodex(text, rel);
  if (isContinueYaml(rel) || isGooseConfig(rel)) return parseYamlClient(text, rel);
  if (/\.(ya?ml|toml)$/i.test(rel)) return parseGeneric(text, rel, known);
  return undefined;
}

function parseGeneric(text: string, rel: string, known: boolean): McpConfigParse | undefined {
  let data: unknown;
  let lineOf: (path: Array<string | number>) => number = () => 1;
  if (/\.toml$/i.test(rel)) {
    try {
      data = parseTomlText(text, rel);
    } catch (err) {
      return known ? { ok: false, error: isAibomError(err) ? err.message : 'not valid TOML' } : undefined;
    }
  } else {
    const lc = new (yaml().LineCounter)();
    const doc = parseYamlDocument(text, { lineCounter: lc, uniqueKeys: false });
    const err = doc.errors[0];
    if (err) return known ? { ok: false, error: `not valid YAML at line ${lc.linePos(err.pos[0]).line}: ${err.message.split('\n')[0]}` } : undefined;
    // Duplicate keys: the last counts, as in the YAML readers clients use (PyYAML, js-yaml's
    // json mode); refusing them here would let a duplicate hide a server from the generic rule.
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch {
      return { ok: false, error: 'not valid YAML: too many aliases' };
    }
    lineOf = (path) => {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lc.linePos(node.range[0]).line : 1;
    };
  }
  const servers: McpServerEntry[] = [];
  const sections: string[] = [];
  addGeneric(data, [], servers, sections, lineOf);
  if (!servers.length && !known) return undefined;
  return { ok: true, servers, sections };
}

/** The servers the generic rule finds in parsed data (outside the `declared` paths), appended. */
function addGeneric(
  data: unknown,
  declared: Array<Array<string | number>>,
  servers: McpServerEntry[],
  sections: string[],
  lineOf: (path: Array<string | number>) => number,
): void {
  for (const path of genericServerContainers(data, declared)) {
    let v: unknown = data;
    for (const seg of path) v = (v as Record<string | number, unknown>)[seg];
    const label = path.join('.');
    sections.push(label);
    const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((d, i) => [i, d] as [number, unknown]) : Object.entries(v as Record<string, unknown>);
    for (const [k, d] of entries) {
      const def = normalizeServerDef(d);
      const name = typeof k === 'string' ? k : isObject(def) && typeof def.name === 'string' && def.name ? def.name : `#${k + 1}`;
      servers.push({ name, def, line: lineOf([...path, k]), section: label });
    }
  }
}

function parseCodex(text: string, rel: string): McpConfigParse {
  let doc: Record<string, unknown>;
  try {
    doc = parseTomlText(text, rel);
  } catch (err) {
    return { ok: false, error: isAibomError(err) ? err.message : 'not valid TOML' };
  }
  const section = doc.mcp_servers;
  if (section !== undefined && !isObject(section)) return { ok: false, error: '"mcp_servers" is not a table' };
  const lines = text.split('\n');
  const servers: McpServerEntry[] = [];
  const sections: string[] = [];
  if (section !== undefined) {
    sections.push('mcp_servers');
    for (const [name, def] of Object.entries(section)) {
      servers.push({ name, def: normalizeServerDef(def), line: tomlLine(lines, name), section: 'mcp_servers' });
    }
  }
  // Servers elsewhere under an MCP-named key (profiles, newer layouts): the generic rule.
  addGeneric(doc, [['mcp_servers']], servers, sections, () => 1);
  return { ok: true, servers, sections };
}

/** The line of `[mcp_servers.NAME]` (bare or quoted key), or 1. */
function tomlLine(lines: string[], name: string): number {
  const quoted = JSON.stringify(name);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l.startsWith('[')) continue;
    const inner = l.replace(/^\[\s*|\s*\].*$/g, '');
    if (inner === `mcp_servers.${name}` || inner === `mcp_servers.${quoted}` || inner === `mcp_servers.'${name}'`) return i + 1;
  }
  return 1;
}

function parseYamlClient(text: string, rel: string): McpConfigParse {
  const lc = new (yaml().LineCounter)();
  const doc = parseYamlDocument(text, { lineCounter: lc, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const line = lc.linePos(err.pos[0]).line;
    return { ok: false, error: `not valid YAML at line ${line}: ${err.message.split('\n')[0]}`, line };
  }
  const dup = duplicateKey(doc);
  if (dup) {
    const line = lc.linePos(dup.offset).line;
    return { ok: false, error: `not valid YAML: duplicate key ${JSON.stringify(dup.key)} at line ${line}`, line };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return { ok: false, error: 'not valid YAML: too many aliases' };
  }
  if (!isObject(data)) return { ok: true, servers: [], sections: [] };
  const servers: McpServerEntry[] = [];
  const lineOfKey = (path: Array<string | number>): number => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lc.linePos(node.range[0]).line : 1;
  };
  if (isGooseConfig(rel)) {
    const ext = data.extensions;
    const sections: string[] = [];
    if (ext !== undefined && !isObject(ext)) return { ok: false, error: '"extensions" is not a map' };
    if (isObject(ext)) {
      sections.push('extensions');
      for (const [name, def] of Object.entries(ext)) {
        // Built-in extensions run inside Goose itself.
        if (isObject(def) && (def.type === 'builtin' || def.type === 'platform' || def.bundled === true) && def.cmd === undefined) continue;
        servers.push({ name, def: normalizeServerDef(def), line: lineOfKey(['extensions', name]), section: 'extensions' });
      }
    }
    addGeneric(data, [['extensions']], servers, sections, lineOfKey);
    return { ok: true, servers, sections };
  }
  const list = data.mcpServers;
  if (list === undefined) {
    const sections: string[] = [];
    addGeneric(data, [['mcpServers']], servers, sections, lineOfKey);
    return { ok: true, servers, sections };
  }
  if (Array.isArray(list)) {
    list.forEach((def, i) => {
      const name = isObject(def) && typeof def.name === 'string' && def.name ? def.name : `#${i + 1}`;
      servers.push({ name, def: normalizeServerDef(def), line: lineOfKey(['mcpServers', i]), section: 'mcpServers' });
    });
  } else if (isObject(list)) {
    for (const [name, def] of Object.entries(list)) {
      servers.push({ name, def: normalizeServerDef(def), line: lineOfKey(['mcpServers', name]), section: 'mcpServers' });
    }
  } else return { ok: false, error: '"mcpServers" is neither a list nor a map' };
  const sections = ['mcpServers'];
  addGeneric(data, [['mcpServers']], servers, sections, lineOfKey);
  return { ok: true, servers, sections };
}

/**
 * One server definition in the common shape: `command` a string and `args` a list, whatever
 * the client wrote (Zed's `{path, args, env}`, opencode's command array, Goose's `cmd` and
 * `envs`, opencode's `environment`). Fields are copied, never merged from two spellings: a
 * definition with both `cmd` and `command` keeps `command` (what the client reads first).
 */
export function normalizeServerDef(def: unknown): unknown {
  if (!isObject(def)) return def;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  // Continue's config.json: {"transport": {"type": "stdio", "command", "args", "env"} or {"type": "sse", "url"}}
  if (isObject(out.transport)) {
    for (const k of ['command', 'args', 'env', 'url'] as const) if (out[k] === undefined && out.transport[k] !== undefined) out[k] = out.transport[k];
  }
  if (out.command === undefined && typeof out.cmd === 'string') out.command = out.cmd;
  if (isObject(out.command)) {
    // Zed before 0.194: "command": {"path": "...", "args": [...], "env": {...}}
    const c = out.command;
    if (typeof c.path === 'string') out.command = c.path;
    if (Array.isArray(c.args) && out.args === undefined) out.args = c.args;
    if (isObject(c.env) && out.env === undefined) out.env = c.env;
  } else if (Array.isArray(out.command)) {
    // opencode: "command": ["npx", "-y", "pkg"]
    const words = out.command.filter((w): w is string => typeof w === 'string');
    if (words.length) {
      out.command = words[0];
      out.args = [...words.slice(1), ...(Array.isArray(out.args) ? out.args : [])];
    } else delete out.command;
  }
  if (out.env === undefined && isObject(out.envs)) out.env = out.envs;
  if (out.env === undefined && isObject(out.environment)) out.env = out.environment;
  if (out.url === undefined && typeof out.uri === 'string') out.url = out.uri;
  return out;
}

/** A key that names MCP servers: what the generic rule looks under. */
export const MCP_KEY = /mcp|context_?servers|modelcontextprotocol/i;

/**
 * The generic rule: paths (object keys, list indexes) to every object or list holding at
 * least one server definition (after normalizeServerDef), found below a key MCP_KEY matches,
 * other than the `declared` paths (read already) and not inside another container found.
 * Walked with an explicit stack; the input's depth is bounded by the parser.
 */
export function genericServerContainers(data: unknown, declared: ReadonlyArray<ReadonlyArray<string | number>> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const isDeclared = (p: Array<string | number>) => declared.some((d) => d.length === p.length && d.every((seg, i) => seg === p[i]));
  const stack: Array<{ value: unknown; path: Array<string | number>; under: boolean }> = [{ value: data, path: [], under: false }];
  while (stack.length) {
    const { value, path, under } = stack.pop()!;
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v] as [number, unknown])
      : isObject(value)
        ? Object.entries(value)
        : [];
    for (const [k, v] of entries) {
      const p = [...path, k];
      if (isDeclared(p)) continue;
      const u = under || (typeof k === 'string' && MCP_KEY.test(k));
      if (u && holdsServers(v)) {
        out.push(p);
        continue;
      }
      if (typeof v === 'object' && v !== null) stack.push({ value: v, path: p, under: u });
    }
  }
  return out.sort((a, b) => (a.join('\0') < b.join('\0') ? -1 : 1));
}

function holdsServers(v: unknown): boolean {
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  return items.some((d) => looksLikeServer(normalizeServerDef(d)));
}

/** A server definition: a command to run, or an endpoint (clients name the field differently). */
export function looksLikeServer(def: unknown): boolean {
  if (!isObject(def)) return false;
  return ['command', 'url', 'serverUrl', 'httpUrl'].some((k) => typeof def[k] === 'string');
}

