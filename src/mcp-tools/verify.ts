import { AibomError } from '../errors.js';
import { isObject } from '../util/json.js';
import { compareToolPins, pinTools, type ToolChanges, type ToolPin, type ToolSetPin } from './definitions.js';

/**
 * The check an agent runs right after connecting to an MCP server and before it shows the tools
 * to the model: the live tools/list must be exactly what the BOM pins (same names, same
 * definitions). Any difference, a server the BOM does not pin, or a BOM that pins nothing for it
 * refuses (fail-closed).
 *
 *   import { verifyMcpTools } from 'aibom';
 *   const { tools } = await client.listTools();      // every page
 *   verifyMcpTools({ bom, server: 'reports', tools }); // throws McpToolsChangedError
 */

export interface PinnedServer {
  ref: string;
  name: string;
  config?: string;
  pins: ToolSetPin;
}

export class McpToolsChangedError extends AibomError {
  constructor(
    readonly server: string,
    readonly changes: ToolChanges,
  ) {
    super('VERIFY_FAILED', `MCP server "${server}": its tools are not the ones the BOM pins: ${describeChanges(changes)}`);
    this.name = 'McpToolsChangedError';
  }
}

export function describeChanges(c: ToolChanges): string {
  const parts: string[] = [];
  const list = (xs: string[]) => xs.map((x) => JSON.stringify(x.slice(0, 100))).join(', ');
  if (c.added.length) parts.push(`added ${list(c.added)}`);
  if (c.removed.length) parts.push(`removed ${list(c.removed)}`);
  if (c.changed.length) parts.push(`changed ${list(c.changed)}`);
  return parts.join('; ') || 'no change';
}

const PIN = /^(.+) sha256:([0-9a-f]{64})$/s;

/** Every MCP server the BOM pins tools for (aibom build --mcp-tools). */
export function pinnedServers(bom: unknown): PinnedServer[] {
  if (!isObject(bom)) throw new AibomError('INPUT', 'the BOM is not a JSON object');
  const out: PinnedServer[] = [];
  const entities = [...(Array.isArray(bom.components) ? bom.components : []), ...(Array.isArray(bom.services) ? bom.services : [])];
  for (const e of entities) {
    if (!isObject(e) || !Array.isArray(e.properties)) continue;
    const props = e.properties.filter(isObject) as Array<{ name?: unknown; value?: unknown }>;
    const get = (n: string) => props.filter((p) => p.name === n && typeof p.value === 'string').map((p) => p.value as string);
    if (get('aibom:kind')[0] !== 'mcp-server') continue;
    const setHash = get('aibom:mcp:tools-sha256')[0];
    if (setHash === undefined) continue;
    const m = /^sha256:([0-9a-f]{64})$/.exec(setHash);
    if (!m) throw new AibomError('INPUT', `MCP server ${String(e['bom-ref']).slice(0, 200)}: aibom:mcp:tools-sha256 is not sha256:<64 hex>`);
    const tools: ToolPin[] = [];
    for (const v of get('aibom:mcp:tool')) {
      const t = PIN.exec(v);
      if (!t) throw new AibomError('INPUT', `MCP server ${String(e['bom-ref']).slice(0, 200)}: aibom:mcp:tool ${JSON.stringify(v.slice(0, 100))} is not "<name> sha256:<hex>"`);
      tools.push({ name: t[1]!, sha256: t[2]! });
    }
    const name = get('aibom:mcp:server')[0] ?? String(e.name ?? '');
    const s: PinnedServer = { ref: String(e['bom-ref'] ?? ''), name, pins: { sha256: m[1]!, tools } };
    const config = get('aibom:mcp:config')[0];
    if (config !== undefined) s.config = config;
    out.push(s);
  }
  return out;
}

/** The pinned server named by bom-ref or by its name in the config (a name used twice must be given by bom-ref). */
export function findPinnedServer(bom: unknown, server: string): PinnedServer {
  const all = pinnedServers(bom);
  const byRef = all.find((s) => s.ref === server);
  if (byRef) return byRef;
  const byName = all.filter((s) => s.name === server);
  if (byName.length > 1)
    throw new AibomError('USAGE', `MCP server "${server}" is pinned ${byName.length} times (${byName.map((s) => s.ref).join(', ')}); name it by bom-ref`);
  if (!byName[0]) throw new AibomError('VERIFY_FAILED', `the BOM pins no tools for an MCP server "${server}" (build with --mcp-tools)`);
  return byName[0];
}

export interface VerifyMcpToolsOptions {
  /** The BOM (parsed CycloneDX JSON). */
  bom: unknown;
  /** The server's bom-ref (`mcp:<config>#<name>`) or its name in the config. */
  server: string;
  /** The tools the server lists now (all pages of tools/list). */
  tools: readonly unknown[];
}

/** Compare live tools with the BOM's pins; throws McpToolsChangedError on any difference. */
export function verifyMcpTools(options: VerifyMcpToolsOptions): { server: PinnedServer; live: ToolSetPin } {
  const server = findPinnedServer(options.bom, options.server);
  let live: ToolSetPin;
  try {
    live = pinTools(options.tools);
  } catch (err) {
    throw new AibomError('VERIFY_FAILED', `MCP server "${server.name}": ${(err as Error).message}`);
  }
  const changes = compareToolPins(server.pins.tools, live.tools);
  if (changes.added.length || changes.removed.length || changes.changed.length || live.sha256 !== server.pins.sha256) {
    throw new McpToolsChangedError(server.name, changes);
  }
  return { server, live };
}
