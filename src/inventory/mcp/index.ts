import { realpath } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { configLocation, normalizeConfigPath } from '../config.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from '../discoverer.js';
import type { Component, Finding, Property, Service } from '../types.js';
import { NS, prop } from '../types.js';
import { isInside, type WalkResult } from '../walk.js';
import {
  isKnownMcpConfig,
  MAX_KNOWN_CONFIG_BYTES,
  MAX_SNIFFED_JSON_BYTES,
  mayHoldMcpServers,
  mayMentionServers,
  parseMcpConfig,
} from './config-file.js';
import type { McpServerEntry } from './config-types.js';
import { analyzeCommand, type LaunchInfo, transportOf } from './launch.js';
import { familyOf, type SourceSettings, SourceSettingsReader } from './source-settings.js';
import { looksLikeSecret, REDACTED, type RedactedArgs, redactArgs, sanitizeToken, sanitizeUrl, splitCommandLine } from './redact.js';

/**
 * MCP servers from the MCP client configs in the scanned folder. A server the agent reaches
 * over the network becomes a CycloneDX `service` (with its endpoint, crossing a trust
 * boundary); a server it launches locally (npx, uvx, docker, a binary) becomes a component
 * of the package or image it runs. Each records how it runs and whether what it runs is
 * pinned. `env` and `headers` values are never read into the BOM (only their names), and
 * arguments and URLs are redacted (redact.ts) before anything else looks at them.
 */

/** Total bytes read while sniffing JSON files for an `mcpServers` object. */
const MAX_SNIFF_TOTAL_BYTES = 64 * 1024 * 1024;
/** Files read ahead of the one being looked at (each at most 256 KiB when sniffed). */
const READ_AHEAD = 16;

export const mcpDiscoverer: Discoverer = {
  name: 'mcp',
  discover: discoverMcp,
};

interface ConfigFile {
  rel: string;
  abs: string;
  /** Read whatever it holds and report problems (named by convention or in the config). */
  known: boolean;
}

async function discoverMcp(ctx: DiscoverContext): Promise<DiscoverResult> {
  const findings: Finding[] = [];
  const components: Component[] = [];
  const services: Service[] = [];
  const files = await configFiles(ctx, findings);
  const settings = new SourceSettingsReader(ctx.walked);
  let sniffed = 0;
  // Read a few files ahead: one at a time, 50,000 small JSON files cost 15 s of waiting on I/O.
  const read = (f: ConfigFile) =>
    readTextBounded(f.abs, f.known ? MAX_KNOWN_CONFIG_BYTES : MAX_SNIFFED_JSON_BYTES, f.rel).then(
      (text) => ({ text }),
      (err: unknown) => ({ err }),
    );
  const ahead: Array<ReturnType<typeof read>> = [];
  for (let i = 0; i < files.length; i++) {
    while (ahead.length < READ_AHEAD && i + ahead.length < files.length) ahead.push(read(files[i + ahead.length]!));
    const f = files[i]!;
    const got = await ahead.shift()!;
    if ('err' in got) {
      if (f.known) findings.push(invalidConfig(f.rel, isAibomError(got.err) ? got.err.message : String(got.err)));
      continue;
    }
    const text = got.text;
    if (!f.known) {
      sniffed += text.length;
      if (sniffed > MAX_SNIFF_TOTAL_BYTES) {
        findings.push({
          code: 'mcp-sniff-limit',
          severity: 'info',
          message: `stopped looking for mcpServers in JSON files after ${MAX_SNIFF_TOTAL_BYTES / 1024 / 1024} MiB; name other MCP configs in aibom.config (mcp.configs)`,
          location: { file: f.rel },
        });
        break;
      }
      if (!mayMentionServers(text)) continue;
    }
    const parsed = parseMcpConfig(text, f.rel, f.known);
    if (!parsed) continue;
    if (!parsed.ok) {
      findings.push(invalidConfig(f.rel, parsed.error, parsed.line));
      continue;
    }
    // One server per section and name: the same name in two sections (`mcpServers` and
    // `servers`, two projects of ~/.claude.json) is two servers, each judged (different
    // clients, or projects, run each one).
    const byName = new Map<string, McpServerEntry>();
    for (const s of parsed.servers) {
      const key = `${s.section}\u0000${s.name}`;
      const prev = byName.get(key);
      if (prev) {
        findings.push({
          code: 'mcp-server-duplicate',
          severity: 'low',
          message: `MCP server "${safeName(s.name)}" is defined twice in ${f.rel}; the later one (line ${s.line}) is used`,
          location: { file: f.rel, line: prev.line },
        });
      }
      byName.set(key, s);
    }
    const sources = await settings.forConfig(f.rel);
    const refs = new Set<string>();
    for (const entry of byName.values()) {
      const res = describeServer(entry, f.rel, { ...(await cwdSettings(entry.def, f.rel, settings)), ...dropUndefined(sources) }, refs);
      if (res.component) components.push(res.component);
      if (res.service) services.push(res.service);
      findings.push(...res.findings);
    }
  }
  const rootDependencies = [...components.map((c) => c.ref), ...services.map((s) => s.ref)];
  return { components, services, findings, rootDependencies };
}

function dropUndefined(s: SourceSettings): SourceSettings {
  const out: SourceSettings = {};
  if (s.npm) out.npm = s.npm;
  if (s.python) out.python = s.python;
  return out;
}

/**
 * The registry settings of the folder a server runs in (`cwd`): VS Code's `${workspaceFolder}`
 * is the scanned root, a relative path is relative to the config's folder. A folder aibom did
 * not scan (absolute, above the root, other variables) may hold any settings.
 */
async function cwdSettings(def: unknown, configRel: string, settings: SourceSettingsReader): Promise<SourceSettings> {
  if (typeof def !== 'object' || def === null || Array.isArray(def)) return {};
  const cwd = (def as Record<string, unknown>).cwd;
  if (typeof cwd !== 'string' || !cwd.trim()) return {};
  let p = cwd.trim().replace(/\\/g, '/');
  let base = posix.dirname(configRel);
  const ws = /^\$\{(workspaceFolder|workspaceRoot)\}(\/|$)/.exec(p);
  if (ws) {
    p = p.slice(ws[0].length);
    base = '.';
  }
  const rel = posix.normalize(posix.join(base, p || '.'));
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('${') || p.startsWith('~') || rel === '..' || rel.startsWith('../')) {
    const why = `runs in ${sanitizeToken(cwd)}, outside the scanned folder, whose registry settings aibom cannot see`;
    return { npm: why, python: why };
  }
  return settings.forConfig(rel === '.' ? 'x' : `${rel}/x`);
}

function invalidConfig(rel: string, error: string, line?: number): Finding {
  return {
    code: 'mcp-config-invalid',
    severity: 'medium',
    message: `cannot read MCP client config: ${error}; its servers are not in the BOM`,
    location: line !== undefined ? { file: rel, line } : { file: rel },
  };
}

/** Folders MCP clients keep their configs in. */
const CLIENT_FOLDERS = new Set(['.vscode', '.cursor', '.codex', '.gemini', '.zed', '.continue', '.roo', '.amazonq', '.windsurf', '.codeium', 'goose']);

/** Config files named by convention, named in aibom.config (mcp.configs), then JSON files that may hold mcpServers. */
async function configFiles(ctx: DiscoverContext, findings: Finding[]): Promise<ConfigFile[]> {
  const out: ConfigFile[] = [];
  const seen = new Set<string>();
  // Configs inside installed packages (walked only within plugin and model folders) are not
  // ones a client reads.
  const installed = (rel: string) => rel.startsWith('node_modules/') || rel.includes('/node_modules/');
  for (const f of ctx.walked.files) {
    if (installed(f.rel)) continue;
    // Read by the discoverer that owns it (an Agent Plugins package's mcp.json: src/inventory/agent-plugins).
    if (ctx.claimed?.has(f.rel)) {
      seen.add(f.rel);
      continue;
    }
    if (isKnownMcpConfig(f.rel)) {
      out.push({ rel: f.rel, abs: f.abs, known: true });
      seen.add(f.rel);
    }
  }
  // Configs and client folders that are symbolic links (not walked): read a link to a file
  // inside the scanned folder; anything else is a config aibom cannot read, so a finding
  // (and a gate failure): the client follows the link.
  const walkedFiles = new Set(ctx.walked.files.map((f) => f.rel));
  const walkedDirs = new Set(ctx.walked.dirs);
  for (const l of ctx.walked.symlinks) {
    if (installed(l.rel) || walkedFiles.has(l.rel) || walkedDirs.has(l.rel)) continue;
    const base = l.rel.slice(l.rel.lastIndexOf('/') + 1);
    if (isKnownMcpConfig(l.rel)) {
      if (l.broken || l.outside) {
        findings.push(invalidConfig(l.rel, `symbolic link to ${sanitizeToken(l.target)}, ${l.broken ? 'which leads nowhere' : 'outside the scanned folder'}`));
      } else {
        out.push({ rel: l.rel, abs: join(ctx.root, ...l.rel.split('/')), known: true });
        seen.add(l.rel);
      }
    } else if (CLIENT_FOLDERS.has(base)) {
      findings.push(invalidConfig(l.rel, `the client folder is a symbolic link to ${sanitizeToken(l.target)}, not scanned`));
    }
  }
  const config = ctx.options.config;
  const realRoot = await realpath(ctx.root);
  for (const [i, p] of (config?.mcp?.configs ?? []).entries()) {
    const rel = normalizeConfigPath(p);
    if (seen.has(rel)) continue;
    const abs = join(ctx.root, ...rel.split('/'));
    const loc = configLocation(config, `/mcp/configs/${i}`);
    let real: string | undefined;
    try {
      real = await realpath(abs);
    } catch {
      real = undefined;
    }
    if (!real || !isInside(realRoot, real)) {
      const f: Finding = {
        code: 'mcp-config-missing',
        severity: 'medium',
        message: real ? `MCP config ${rel} leads outside the scanned folder; not read` : `MCP config ${rel} not found`,
      };
      if (loc) f.location = loc;
      findings.push(f);
      continue;
    }
    out.push({ rel, abs, known: true });
    seen.add(rel);
  }
  for (const f of ctx.walked.files) {
    if (!seen.has(f.rel) && !installed(f.rel) && mayHoldMcpServers(f.rel, f.size)) out.push({ rel: f.rel, abs: f.abs, known: false });
  }
  return out;
}

/** A name from the config as it may appear in the BOM: never something shaped like a credential. */
export function safeName(name: string): string {
  return looksLikeSecret(name) ? REDACTED : name;
}

function rawNames(v: unknown): string[] {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
}

function namesOf(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  return Object.keys(v).map(safeName);
}

function firstString(def: Record<string, unknown>, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = def[k];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return undefined;
}

function isLocalHost(url: string): boolean {
  try {
    const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return h === 'localhost' || h === '::1' || /^127\./.test(h) || h.endsWith('.localhost');
  } catch {
    return false;
  }
}

const AUTH_HEADER = /^(authorization|proxy-authorization|x-api-key|api-key|x-auth-token|cookie)$/i;

export interface Described {
  component?: Component;
  service?: Service;
  findings: Finding[];
}

const readers = new WeakMap<WalkResult, SourceSettingsReader>();

/**
 * One server of a config another discoverer owns (an Agent Plugins package's `mcp.json`), judged
 * exactly as the configs read here: with the registry and index settings beside the config, up to
 * the root, and in the server's `cwd`.
 */
export async function describeOwnedServer(entry: McpServerEntry, file: string, walked: WalkResult, refs: Set<string>): Promise<Described> {
  let settings = readers.get(walked);
  if (!settings) readers.set(walked, (settings = new SourceSettingsReader(walked)));
  const sources = await settings.forConfig(file);
  return describeServer(entry, file, { ...(await cwdSettings(entry.def, file, settings)), ...dropUndefined(sources) }, refs);
}

/** One server entry being described: its identity, its raw definition, and the properties every kind records. */
interface ServerDraft {
  name: string;
  ref: string;
  location: { file: string; line: number };
  def: Record<string, unknown>;
  properties: Property[];
  envNames: Set<string>;
  headerNames: Set<string>;
  envFile: string | undefined;
  disabled: boolean;
  /** Sanitized. */
  url: string | undefined;
}

function describeServer(entry: McpServerEntry, file: string, sources: SourceSettings, refs: Set<string>): Described {
  const name = safeName(entry.name);
  let ref = `mcp:${file}#${name}`;
  if (refs.has(ref)) ref = `mcp:${file}#${entry.section}/${name}`;
  refs.add(ref);
  const location = { file, line: entry.line };
  const def = entry.def;
  if (typeof def !== 'object' || def === null || Array.isArray(def)) {
    return {
      findings: [
        { code: 'mcp-server-invalid', severity: 'medium', message: `MCP server "${name}" is not an object; left out`, location },
      ],
    };
  }
  const d = def as Record<string, unknown>;
  const rawUrl = firstString(d, ['url', 'serverUrl', 'httpUrl', 'uri']);
  const command = typeof d.command === 'string' && d.command.trim() ? d.command.trim() : undefined;
  const draft: ServerDraft = {
    name,
    ref,
    location,
    def: d,
    properties: [prop(`${NS}kind`, 'mcp-server'), prop(`${NS}mcp:server`, name), prop(`${NS}mcp:config`, file)],
    envNames: new Set(namesOf(d.env)),
    headerNames: new Set(namesOf(d.headers)),
    envFile: typeof d.envFile === 'string' ? d.envFile : undefined,
    disabled: d.disabled === true || d.enabled === false,
    url: rawUrl ? sanitizeUrl(rawUrl) : undefined,
  };
  if (command) return describeLocalServer(draft, command, sources);
  if (draft.url) return describeRemoteServer(draft, draft.url);
  return {
    findings: [
      {
        code: 'mcp-server-invalid',
        severity: 'medium',
        message: `MCP server "${name}" has neither a command nor a url; left out`,
        location,
      },
    ],
  };
}

/** A server reached by URL only: a service (a trust boundary unless on this host), never pinned. */
function describeRemoteServer(s: ServerDraft, url: string): Described {
  const { ref, name, properties, location } = s;
  const transport = transportOf(s.def, url);
  const reason = 'remote server: no version pin possible';
  properties.push(prop(`${NS}mcp:transport`, transport), prop(`${NS}mcp:launcher`, 'url'));
  addNames(properties, s.envNames, s.headerNames, s.envFile, s.disabled);
  properties.push(prop(`${NS}pinned`, false), prop(`${NS}unpinned-reason`, reason));
  const local = isLocalHost(url);
  const service: Service = {
    ref,
    name,
    properties,
    locations: [location],
    trustZone: local ? 'local' : 'external',
    extra: { 'x-trust-boundary': !local },
  };
  if (isUrl(url)) service.endpoints = [url];
  else properties.push(prop(`${NS}mcp:url`, url));
  const auth = [...s.headerNames].some((h) => AUTH_HEADER.test(h)) || s.def.oauth !== undefined;
  if (auth) service.extra = { ...service.extra, authenticated: true };
  const finding: Finding = {
    code: 'mcp-server-unpinned',
    severity: 'low',
    message: `MCP server "${name}" is not pinned: ${reason}`,
    component: ref,
    location,
  };
  return { service, findings: [finding] };
}

/** A server the client launches: its command line, redacted, judged for a pin; a component. */
function describeLocalServer(s: ServerDraft, command: string, sources: SourceSettings): Described {
  const { name, ref, location, properties } = s;
  // A local server: redact before anything reads the command line.
  const { safeCommand, red } = redactedCommandLine(s.def, command);
  for (const n of red.envNames) s.envNames.add(safeName(n));
  for (const n of red.headerNames) s.headerNames.add(safeName(n));
  // The variable names the client sets (raw: only tested, never written) judge registry overrides.
  const info: LaunchInfo = analyzeCommand(safeCommand, red.args, [...rawNames(s.def.env), ...red.envNames]);
  unpinIfSourceMoved(info, sources, s.envFile);
  for (const n of info.envNames) s.envNames.add(safeName(n));
  const transport = transportOf(s.def, undefined);
  properties.push(prop(`${NS}mcp:transport`, transport), prop(`${NS}mcp:launcher`, info.launcher));
  properties.push(prop(`${NS}mcp:command`, safeCommand));
  if (red.args.length) properties.push(prop(`${NS}mcp:args`, JSON.stringify(red.args)));
  if (red.redactions) properties.push(prop(`${NS}mcp:redacted-args`, red.redactions));
  if (info.wrapper) properties.push(prop(`${NS}mcp:wrapper`, info.wrapper));
  if (info.package) properties.push(prop(`${NS}mcp:package`, info.package.spec));
  if (info.extraPackages?.length) properties.push(prop(`${NS}mcp:extra-packages`, JSON.stringify(info.extraPackages)));
  if (info.package?.tag) properties.push(prop(`${NS}mcp:image-tag`, info.package.tag));
  if (s.url) properties.push(prop(`${NS}mcp:url`, s.url));
  addNames(properties, s.envNames, s.headerNames, s.envFile, s.disabled);
  properties.push(prop(`${NS}pinned`, info.pinned));
  if (!info.pinned && info.reason) properties.push(prop(`${NS}unpinned-reason`, info.reason));
  const component = launchedComponent(s, info);
  const findings: Finding[] = [];
  if (!info.pinned) {
    findings.push({
      code: 'mcp-server-unpinned',
      severity: info.launcher === 'binary' ? 'low' : 'medium',
      message: `MCP server "${name}" is not pinned: ${info.reason ?? 'unknown'}`,
      component: ref,
      location,
    });
  }
  return { component, findings };
}

/** The command and its arguments (a whole command line in `command` split into words), redacted. */
function redactedCommandLine(d: Record<string, unknown>, command: string): { safeCommand: string; red: RedactedArgs } {
  let rawArgs: string[] = [];
  if (Array.isArray(d.args)) {
    for (const a of d.args) {
      if (typeof a === 'string') rawArgs.push(a);
      else if (typeof a === 'number' || typeof a === 'boolean') rawArgs.push(String(a));
    }
  }
  let rawCommand = command;
  if (!rawArgs.length && /\s/.test(rawCommand)) {
    // "command": "npx -y pkg@1.2.3" — the whole line in one string.
    const words = splitCommandLine(rawCommand);
    rawCommand = words[0] ?? rawCommand;
    rawArgs = words.slice(1);
  }
  return { safeCommand: sanitizeToken(rawCommand), red: redactArgs(rawArgs) };
}

/** Settings beside the config, or an env file, can move where the package comes from: then it is not pinned. */
function unpinIfSourceMoved(info: LaunchInfo, sources: SourceSettings, envFile: string | undefined): void {
  const family = familyOf(info.launcher);
  if (!info.pinned || !family) return;
  const moved = sources[family] ?? (envFile ? `reads its environment from the env file ${sanitizeToken(envFile)}, which may set another ${family === 'npm' ? 'registry' : 'index'}` : undefined);
  if (moved) {
    info.pinned = false;
    info.reason = moved;
  }
}

/** The component of a launched server: named after its package (npm, PyPI, image) when it has one. */
function launchedComponent(s: ServerDraft, info: LaunchInfo): Component {
  const pkg = info.package;
  const isImage = pkg?.ecosystem === 'docker';
  const component: Component = {
    ref: s.ref,
    type: isImage ? 'container' : 'application',
    name: s.name,
    hashes: [],
    properties: s.properties,
    locations: [s.location],
  };
  if (pkg?.name && (pkg.ecosystem === 'npm' || pkg.ecosystem === 'pypi' || pkg.ecosystem === 'docker')) {
    if (pkg.ecosystem === 'npm' && pkg.group) {
      component.group = pkg.group;
      component.name = pkg.name.slice(pkg.group.length + 1);
    } else if (pkg.ecosystem === 'docker' && pkg.group) {
      component.group = pkg.group;
      component.name = pkg.name;
    } else component.name = pkg.name;
    // The version only when it is exact: a range or a tag is in aibom:mcp:package.
    if (info.pinned && pkg.version) component.version = pkg.version;
    if (pkg.purl) component.purl = pkg.purl;
  }
  if (pkg?.digest?.startsWith('sha256:')) component.hashes.push({ alg: 'SHA-256', content: pkg.digest.slice(7) });
  if (s.disabled) component.description = 'disabled in its MCP client config';
  return component;
}

function addNames(properties: Property[], env: Set<string>, headers: Set<string>, envFile: string | undefined, disabled: boolean): void {
  if (env.size) properties.push(prop(`${NS}mcp:env-names`, [...env].sort().join(',')));
  if (headers.size) properties.push(prop(`${NS}mcp:header-names`, [...headers].sort().join(',')));
  if (envFile) properties.push(prop(`${NS}mcp:env-file`, sanitizeToken(envFile)));
  if (disabled) properties.push(prop(`${NS}mcp:disabled`, true));
}

function isUrl(u: string): boolean {
  try {
    return !!new URL(u).protocol && !/\s/.test(u);
  } catch {
    return false;
  }
}
