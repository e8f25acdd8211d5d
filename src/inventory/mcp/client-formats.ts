import { isAibomError } from '../../errors.js';
import { isObject } from '../../util/json.js';
import { lazyRequire } from '../../util/lazy.js';
import { duplicateKey, parseYamlDocument } from '../../util/yaml.js';
import { parseTomlText } from '../lockfiles/python/common.js';
import type { McpConfigParse, McpServerEntry } from './config-file.js';

/** Loaded when there is a YAML client config to read (see lazyRequire). */
const yaml = lazyRequire<typeof import('yaml')>('yaml');

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

/** Parse a TOML or YAML client config, or undefined when `rel` is not one. */
export function parseNonJsonConfig(text: string, rel: string): McpConfigParse | undefined {
  if (isCodexConfig(rel)) return parseCodex(text, rel);
  if (isContinueYaml(rel) || isGooseConfig(rel)) return parseYamlClient(text, rel);
  return undefined;
}

function parseCodex(text: string, rel: string): McpConfigParse {
  let doc: Record<string, unknown>;
  try {
    doc = parseTomlText(text, rel);
  } catch (err) {
    return { ok: false, error: isAibomError(err) ? err.message : 'not valid TOML' };
  }
  const section = doc.mcp_servers;
  if (section === undefined) return { ok: true, servers: [], sections: [] };
  if (!isObject(section)) return { ok: false, error: '"mcp_servers" is not a table' };
  const lines = text.split('\n');
  const servers: McpServerEntry[] = [];
  for (const [name, def] of Object.entries(section)) {
    servers.push({ name, def: normalizeServerDef(def), line: tomlLine(lines, name), section: 'mcp_servers' });
  }
  return { ok: true, servers, sections: ['mcp_servers'] };
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
    if (ext === undefined) return { ok: true, servers: [], sections: [] };
    if (!isObject(ext)) return { ok: false, error: '"extensions" is not a map' };
    for (const [name, def] of Object.entries(ext)) {
      // Built-in extensions run inside Goose itself.
      if (isObject(def) && (def.type === 'builtin' || def.type === 'platform' || def.bundled === true) && def.cmd === undefined) continue;
      servers.push({ name, def: normalizeServerDef(def), line: lineOfKey(['extensions', name]), section: 'extensions' });
    }
    return { ok: true, servers, sections: ['extensions'] };
  }
  const list = data.mcpServers;
  if (list === undefined) return { ok: true, servers: [], sections: [] };
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
  return { ok: true, servers, sections: ['mcpServers'] };
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
