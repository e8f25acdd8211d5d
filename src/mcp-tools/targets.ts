import { accessSync, constants } from 'node:fs';
import { mkdtemp, mkdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { isAibomError } from '../errors.js';
import { checkAgentMcpConfig, expandServer } from '../inventory/agent-plugins/mcp-config.js';
import { parseMcpConfig } from '../inventory/mcp/config-file.js';
import { safeName } from '../inventory/mcp/index.js';
import { readTextBounded } from '../util/fs.js';
import { isObject } from '../util/json.js';
import { isInside } from '../inventory/walk.js';
import type { HttpTarget, ProbeTarget, StdioTarget } from './client.js';

/**
 * How to reach an MCP server the BOM lists, read again from its config file (the BOM holds only
 * redacted arguments and no env values). A stdio server runs isolated: its environment is only
 * what its config names (literal values, and `${VAR}` references taken from aibom's own
 * environment for the names the caller allows, `passEnv`), a fresh temporary HOME and TMPDIR, PATH reduced to the folders of the resolved
 * command and of this Node.js (so `#!/usr/bin/env node` scripts start); an Agent Plugins server
 * also gets PLUGIN_ROOT and a temporary PLUGIN_DATA, with `${PLUGIN_ROOT}`/`${PLUGIN_DATA}`
 * expanded by the spec's rules (§9.2).
 */

export interface ServerRef {
  /** bom-ref: `mcp:<config>#<name>`. */
  ref: string;
  /** POSIX path of the config, relative to the root. */
  config: string;
  name: string;
  /** The plugin folder, when the server is a plugin's. */
  plugin?: string;
  agentPlugins?: boolean;
}

export interface PreparedTarget {
  target: ProbeTarget;
  /** Remove the temporary HOME / PLUGIN_DATA. */
  cleanup: () => Promise<void>;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface TargetOptions {
  /** aibom's environment (default process.env): where PATH and allowed `${VAR}` values come from. */
  env?: NodeJS.ProcessEnv;
  /**
   * Variables a config may take from aibom's environment with `${VAR}` (in env values, args,
   * headers, urls). None by default: a config in a pull request must not be able to send the
   * CI's secrets to a server of its choosing just by naming them.
   */
  passEnv?: readonly string[];
}

export async function prepareTarget(root: string, s: ServerRef, options: TargetOptions = {}): Promise<PreparedTarget> {
  const parentEnv = options.env ?? process.env;
  const allowed = new Set(options.passEnv ?? []);
  const abs = join(root, ...s.config.split('/'));
  const realRoot = await realpath(root);
  const real = await realpath(abs).catch(() => undefined);
  if (!real || !isInside(realRoot, real)) throw new Error(`${s.config} is missing or leads outside the scanned folder`);
  const text = await readTextBounded(abs, MAX_CONFIG_BYTES, s.config);
  const configDir = dirname(abs);
  const home = await mkdtemp(join(tmpdir(), 'aibom-mcp-'));
  const cleanup = () => rm(home, { recursive: true, force: true });
  try {
    if (s.agentPlugins) {
      const checked = checkAgentMcpConfig(text, s.config, undefined);
      if (!checked.ok) throw new Error(`${s.config}: ${checked.error}`);
      const e = checked.entries.find((x) => safeName(x.name) === s.name && x.name === s.name);
      if (!e?.server) throw new Error(`${s.config}: server "${s.name}" is not a valid entry${e?.errors.length ? `: ${e.errors.join('; ')}` : ''}`);
      if (e.server.type !== 'stdio') return { target: { transport: 'http', url: e.server.url, headers: e.server.headers }, cleanup };
      const data = join(home, 'plugin-data');
      await mkdir(data);
      const x = expandServer(e.server, { root: configDir, data });
      const env = { ...baseEnv(home), ...x.env };
      return { target: stdioTarget(x.command, x.args, env, x.cwd, parentEnv), cleanup };
    }
    const parsed = parseMcpConfig(text, s.config, true);
    if (!parsed?.ok) throw new Error(`${s.config}: ${parsed?.ok === false ? parsed.error : 'not an MCP config'}`);
    const entry = [...parsed.servers].reverse().find((x) => x.name === s.name);
    if (!entry || !isObject(entry.def)) throw new Error(`${s.config}: no server "${s.name}"`);
    const d = entry.def;
    const vars = (v: string) => expandVars(v, parentEnv, allowed, s.plugin ? join(root, ...s.plugin.split('/')) : undefined);
    const url = [d.url, d.serverUrl, d.httpUrl].find((u): u is string => typeof u === 'string');
    if (typeof d.command !== 'string') {
      if (!url) throw new Error(`${s.config}: server "${s.name}" has neither a command nor a url`);
      const headers: Record<string, string> = {};
      if (isObject(d.headers)) for (const [k, v] of Object.entries(d.headers)) if (typeof v === 'string') headers[k] = vars(v);
      const t: HttpTarget = { transport: 'http', url: vars(url), headers };
      return { target: t, cleanup };
    }
    const args = Array.isArray(d.args) ? d.args.filter((a): a is string => typeof a === 'string').map(vars) : [];
    const env = baseEnv(home);
    if (isObject(d.env)) for (const [k, v] of Object.entries(d.env)) if (typeof v === 'string') env[k] = vars(v);
    const cwd = typeof d.cwd === 'string' ? resolveIn(configDir, vars(d.cwd)) : configDir;
    return { target: stdioTarget(vars(d.command), args, env, cwd, parentEnv), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function baseEnv(home: string): Record<string, string> {
  return { HOME: home, USERPROFILE: home, TMPDIR: home, TEMP: home, TMP: home };
}

function resolveIn(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

/** `${VAR}`, `${env:VAR}` (VS Code) for allowed names, and `${CLAUDE_PLUGIN_ROOT}` inside a plugin; nothing else. */
function expandVars(v: string, env: NodeJS.ProcessEnv, allowed: ReadonlySet<string>, pluginDir: string | undefined): string {
  return v.replace(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => {
    if (name === 'CLAUDE_PLUGIN_ROOT' && pluginDir) return pluginDir;
    if (!allowed.has(name)) return m;
    const x = env[name];
    return typeof x === 'string' ? x : m;
  });
}

/** Resolve a bare command on aibom's PATH; the child's PATH holds only what it needs. */
function stdioTarget(command: string, args: string[], env: Record<string, string>, cwd: string, parentEnv: NodeJS.ProcessEnv): StdioTarget {
  let resolved = command;
  if (!command.includes('/') && !command.includes('\\')) {
    const found = (parentEnv.PATH ?? '').split(delimiter).find((dir) => dir && isExecutable(join(dir, command)));
    if (!found) throw new Error(`${command} is not on PATH`);
    resolved = join(found, command);
  } else if (!isAbsolute(command)) resolved = join(cwd, command);
  if (env.PATH === undefined) env.PATH = [...new Set([dirname(resolved), dirname(process.execPath)])].join(delimiter);
  return { transport: 'stdio', command: resolved, args, env, cwd };
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A failure as one line (typed errors keep their message). */
export function describeFailure(err: unknown): string {
  return isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err);
}

