import { type Node as JsonNode, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { jsonDepth } from '../../util/json.js';
import { lineIndex } from '../../util/lines.js';
import type { McpConfigParse, McpServerEntry } from './config-types.js';
import { genericServerContainers, isKnownNonJsonConfig, looksLikeServer, normalizeServerDef, parseNonJsonConfig } from './client-formats.js';

/**
 * MCP client configuration files: which files are ones, and the server entries in them.
 *
 * Formats: the table CLIENT_FORMATS (file pattern → where its servers are; a new client is
 * one line), plus Claude Code's per-project `projects.*.mcpServers` in ~/.claude.json and
 * MCPB bundles' manifest.json. Beyond the table, any object or list of server definitions
 * (a command, or an endpoint) under a key that names MCP (`mcp`, `context_servers`,
 * `modelContextProtocol...`) is read too (genericServerContainers), so a client aibom does
 * not know yet is not a blind spot. VS Code and Zed files are JSON with comments and
 * trailing commas, so every file is read as JSONC. TOML and YAML clients (Codex CLI,
 * Continue, Goose, and the same generic rule) are in client-formats.ts.
 *
 * Read as the client reads it: of two equal keys the last one counts (JSON.parse, jsonc's
 * parse and every JSON client keep the last), escaped keys are the keys they spell.
 *
 * Parsed with jsonc-parser's tree, which keeps offsets: each server's key line goes into the
 * BOM for SARIF. Its errors carry codes and offsets only, never a slice of the text, so a
 * broken file's secrets cannot leak through an error message.
 */

/**
 * MCP clients' JSON config formats: which files (POSIX path relative to the scanned root),
 * and the paths in them to a map of servers (name → definition), or with `list` to a list of
 * definitions. A known file whose section has the other shape is a config aibom cannot read.
 */
export const CLIENT_FORMATS: ReadonlyArray<{ client: string; file: RegExp; paths: string[][]; list?: boolean }> = [
  { client: 'Claude Desktop/Code, Cursor, Windsurf, Cline, Gemini CLI, Roo, Zed...', file: /./, paths: [['mcpServers'], ['context_servers']] },
  { client: 'Amp (VS Code or CLI settings)', file: /./, paths: [['amp.mcpServers']] },
  { client: 'VS Code mcp.json', file: /(^|\/)mcp\.json$/, paths: [['servers']] },
  { client: 'VS Code settings', file: /(^|\/)settings\.jsonc?$/, paths: [['mcp', 'servers']] },
  { client: 'VS Code workspace', file: /\.code-workspace$/, paths: [['settings', 'mcp', 'servers'], ['settings', 'amp.mcpServers']] },
  { client: 'opencode', file: /(^|\/)opencode\.jsonc?$/, paths: [['mcp']] },
  { client: 'Charm Crush', file: /(^|\/)\.?crush\.json$/, paths: [['mcp']] },
  { client: 'Continue (config.json)', file: /(^|\/)\.continue\/config\.json$/, paths: [['experimental', 'modelContextProtocolServers']], list: true },
];

/** File names that are MCP client configs wherever they are. */
const KNOWN_NAMES = new Set([
  '.mcp.json',
  'mcp.json',
  'claude_desktop_config.json',
  'mcp_config.json',
  'cline_mcp_settings.json',
  '.claude.json',
  'opencode.json',
  'opencode.jsonc',
  'crush.json',
  '.crush.json',
]);

/** Settings files that are MCP configs in their client's folder. */
const KNOWN_SETTINGS = /(^|\/)(\.vscode\/settings|\.zed\/settings|zed\/settings|\.gemini\/settings|\.continue\/config|\.continue\/mcpServers\/[^/]+)\.jsonc?$/;

/** Lockfiles and other big machine-written JSON never hold MCP servers. */
const NEVER = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'composer.lock', 'bun.lock', 'deno.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'poetry.lock', 'uv.lock']);

export const MAX_KNOWN_CONFIG_BYTES = 1024 * 1024;
export const MAX_SNIFFED_JSON_BYTES = 256 * 1024;
const MAX_DEPTH = 64;

/** Is this path (POSIX, relative) an MCP client config by its name alone? */
export function isKnownMcpConfig(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (KNOWN_NAMES.has(base) || base.endsWith('.code-workspace')) return true;
  return KNOWN_SETTINGS.test(rel) || isKnownNonJsonConfig(rel);
}

/** Could this text hold a servers section (before escapes, a key can be spelled any way)? */
export function mayMentionServers(text: string): boolean {
  return /mcp|context_?servers|modelcontextprotocol|\\u/i.test(text);
}

/** Could this JSON file hold an `mcpServers` object (worth reading to find out)? */
export function mayHoldMcpServers(rel: string, size: number): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (NEVER.has(base) || !/\.(jsonc?|ya?ml|toml|code-workspace)$/i.test(base)) return false;
  return size <= MAX_SNIFFED_JSON_BYTES;
}

/** A place in a config where servers may be: a path, its label in the BOM, and the shape its format gives it. */
interface ServerSection {
  path: Array<string | number>;
  label: string;
  shape: 'map' | 'list' | 'any';
}

/** Servers read so far, and the labels of the sections they came from. */
interface ReadServers {
  servers: McpServerEntry[];
  found: string[];
}

/**
 * Parse a config. `known` files report a missing servers section as an empty list; for other
 * files (sniffed because they mention `mcpServers`) `undefined` means "not an MCP config".
 */
export function parseMcpConfig(text: string, rel: string, known: boolean): McpConfigParse | undefined {
  const other = parseNonJsonConfig(text, rel, known);
  if (other || /\.(ya?ml|toml)$/i.test(rel)) return other;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const parsed = parseJsonConfigTree(body, known);
  if (!parsed || 'ok' in parsed) return parsed;
  const { tree, lineOf } = parsed;
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const read: ReadServers = { servers: [], found: [] };
  const bad = readSections(tree, serverSections(tree, rel, base), known, lineOf, read);
  if (bad) return bad;
  if (base === 'manifest.json') readBundleServer(tree, rel, lineOf, read);
  if (known && !read.found.length && (base === '.mcp.json' || base === 'mcp.json')) readTopLevelServers(tree, lineOf, read);
  if (!known) {
    // A file found by sniffing counts when it really looks like a client config: one server
    // definition is enough (a note or a disabled entry beside it must not hide the rest).
    if (!read.found.length || !read.servers.some((s) => looksLikeServer(s.def))) return undefined;
  }
  return { ok: true, servers: read.servers, sections: read.found };
}

/**
 * The JSON(C) tree of a config whose top level is an object, with a line index; a failure (or
 * undefined: not an MCP config) when it is too deep, not JSON, or not an object.
 */
function parseJsonConfigTree(body: string, known: boolean): { tree: JsonNode; lineOf: (offset: number) => number } | McpConfigParse | undefined {
  // A file found by sniffing is a config aibom cannot read only when it names a servers
  // section; one that merely mentions MCP (a fixture, a package name) is not a config.
  const namesServers = known || /mcpServers|context_servers|mcp_config|modelContextProtocolServers|\\u/.test(body);
  if (jsonDepth(body, MAX_DEPTH) > MAX_DEPTH) return namesServers ? { ok: false, error: `nests deeper than ${MAX_DEPTH} levels` } : undefined;
  const errors: ParseError[] = [];
  const tree = parseTree(body, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const lineOf = lineIndex(body);
  if (errors.length || !tree) {
    if (!namesServers) return undefined;
    const e = errors[0];
    if (!e) return { ok: false, error: 'empty file' };
    const line = lineOf(e.offset);
    const col = e.offset - body.lastIndexOf('\n', e.offset - 1);
    return { ok: false, error: `not valid JSON: ${describe(e)} at line ${line}, column ${col}`, line };
  }
  if (tree.type !== 'object') return known ? { ok: false, error: 'top level is not a JSON object' } : undefined;
  return { tree, lineOf };
}

/** Where servers may be: the client formats' sections for this file name, Claude Code's per-project ones, then any MCP-named key. */
function serverSections(tree: JsonNode, rel: string, base: string): ServerSection[] {
  const sections: ServerSection[] = [];
  for (const f of CLIENT_FORMATS) if (f.file.test(rel)) for (const path of f.paths) sections.push({ path, label: path.join('.'), shape: f.list ? 'list' : 'map' });
  if (base === '.claude.json') {
    // Claude Code keeps per-project servers under projects.<path>.mcpServers.
    const projects = child(tree, ['projects']);
    if (projects?.type === 'object') {
      const seen = new Set<string>();
      let i = 0;
      for (const p of [...(projects.children ?? [])].reverse()) {
        const k = p.children?.[0]?.value;
        if (typeof k !== 'string' || seen.has(k)) continue;
        seen.add(k);
        // Labelled by position: project keys are home-folder paths.
        sections.push({ path: ['projects', k, 'mcpServers'], label: `projects[${i++}].mcpServers`, shape: 'map' });
      }
    }
  }
  // Then whatever else looks like servers under an MCP-named key (a client not in the table).
  const declared = sections.map((s) => s.path);
  for (const path of genericServerContainers(plainValue(tree), declared)) sections.push({ path, label: path.join('.'), shape: 'any' });
  return sections;
}

/** The servers of every section present (a list, or a map by name); a failure when a known config's section has the wrong shape. */
function readSections(tree: JsonNode, sections: ServerSection[], known: boolean, lineOf: (offset: number) => number, read: ReadServers): McpConfigParse | undefined {
  for (const s of sections) {
    const node = child(tree, s.path);
    if (!node) continue;
    // A known config's section must have its format's shape; elsewhere either shape is read.
    const shapeOk = s.shape === 'any' || !known ? node.type === 'array' || node.type === 'object' : node.type === (s.shape === 'list' ? 'array' : 'object');
    if (!shapeOk) {
      if (known && s.shape !== 'any') return { ok: false, error: `"${s.label}" is not ${s.shape === 'list' ? 'a list' : 'an object'}`, line: lineOf(node.offset) };
      continue;
    }
    read.found.push(s.label);
    if (node.type === 'array') {
      (node.children ?? []).forEach((item, i) => {
        const def = normalizeServerDef(plainValue(item));
        const name = isPlainObject(def) && typeof def.name === 'string' && def.name ? def.name : `#${i + 1}`;
        read.servers.push({ name, def, line: lineOf(item.offset), section: s.label });
      });
      continue;
    }
    for (const p of node.children ?? []) {
      const key = p.children?.[0];
      const value = p.children?.[1];
      if (!key || typeof key.value !== 'string' || !value) continue;
      read.servers.push({ name: key.value, def: normalizeServerDef(plainValue(value)), line: lineOf(key.offset), section: s.label });
    }
  }
  return undefined;
}

/** An MCPB (formerly DXT) bundle: the client runs server.mcp_config, named by the bundle. */
function readBundleServer(tree: JsonNode, rel: string, lineOf: (offset: number) => number, read: ReadServers): void {
  const cfg = child(tree, ['server', 'mcp_config']);
  const nameNode = child(tree, ['name']);
  if (cfg?.type !== 'object') return;
  const name = typeof nameNode?.value === 'string' && nameNode.value ? nameNode.value : rel;
  read.servers.push({ name, def: normalizeServerDef(plainValue(cfg)), line: lineOf(cfg.offset), section: 'server.mcp_config' });
  read.found.push('server.mcp_config');
}

/**
 * Claude Code plugins' .mcp.json may hold the servers at the top level, without an
 * `mcpServers` wrapper ({"github": {"type": "http", "url": ...}}). Entries that look like
 * server definitions are servers; other keys ("$schema") are not.
 */
function readTopLevelServers(tree: JsonNode, lineOf: (offset: number) => number, read: ReadServers): void {
  for (const p of tree.children ?? []) {
    const key = p.children?.[0];
    const value = p.children?.[1];
    if (!key || typeof key.value !== 'string' || value?.type !== 'object') continue;
    const def = normalizeServerDef(plainValue(value));
    if (!looksLikeServer(def)) continue;
    read.servers.push({ name: key.value, def, line: lineOf(key.offset), section: '(top level)' });
  }
  if (read.servers.length) read.found.push('(top level)');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at `path`, taking the last of equal keys at every level (as JSON clients do). */
function child(node: JsonNode, path: ReadonlyArray<string | number>): JsonNode | undefined {
  let cur: JsonNode | undefined = node;
  for (const seg of path) {
    if (typeof seg === 'number') {
      cur = cur?.type === 'array' ? cur.children?.[seg] : undefined;
      continue;
    }
    if (cur?.type !== 'object') return undefined;
    const prop: JsonNode | undefined = cur.children?.findLast((p) => p.children?.[0]?.value === seg);
    cur = prop?.children?.[1];
  }
  return cur;
}

/** The plain value of a tree node, without recursion on input depth (an explicit stack). */
function plainValue(root: JsonNode): unknown {
  const make = (n: JsonNode): unknown => (n.type === 'object' ? {} : n.type === 'array' ? [] : n.value);
  const out = make(root);
  const stack: Array<{ node: JsonNode; target: unknown }> = [{ node: root, target: out }];
  while (stack.length) {
    const { node, target } = stack.pop()!;
    if (node.type === 'object') {
      for (const p of node.children ?? []) {
        const k = p.children?.[0];
        const v = p.children?.[1];
        if (!k || typeof k.value !== 'string' || !v) continue;
        const val = make(v);
        // Own data property even for "__proto__": no prototype games with hostile keys.
        Object.defineProperty(target, k.value, { value: val, enumerable: true, writable: true, configurable: true });
        if (v.type === 'object' || v.type === 'array') stack.push({ node: v, target: val });
      }
    } else if (node.type === 'array') {
      for (const v of node.children ?? []) {
        const val = make(v);
        (target as unknown[]).push(val);
        if (v.type === 'object' || v.type === 'array') stack.push({ node: v, target: val });
      }
    }
  }
  return out;
}

function describe(e: ParseError): string {
  const code = printParseErrorCode(e.error);
  // "InvalidSymbol" → "invalid symbol"
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
