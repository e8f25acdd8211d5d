import type { Component, Finding, Inventory, Service } from '../inventory/types.js';
import { NS, prop } from '../inventory/types.js';
import { describeHit, findInvisible } from '../inventory/agent-plugins/invisible.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { McpProbeError, type ProbeOptions, probeServer, type ServerListing } from './client.js';
import { pinTools, type ToolSetPin } from './definitions.js';
import { describeFailure, prepareTarget, type ServerRef } from './targets.js';

/**
 * `aibom build --mcp-tools`: start (or connect to) each MCP server the inventory lists, read its
 * tools, prompts and resources, and pin them in the BOM:
 *   aibom:mcp:tools-sha256   sha256:<hex> over the sorted set of tool pins (definitions.ts)
 *   aibom:mcp:tool           `<name> sha256:<hex>`, one per tool
 *   aibom:mcp:prompts-sha256 / aibom:mcp:resources-sha256  over the canonical JSON of each list, sorted by name / uri
 *   aibom:mcp:server-info    name@version the server reports
 * A server that cannot be read (it hangs, crashes, floods, loops its cursor) gives a finding and
 * no pins; invisible characters in what a tool tells the model give a finding too.
 */

export interface McpToolsOptions extends ProbeOptions {
  /** Only these servers (bom-ref, or server name). */
  only?: string[];
  env?: NodeJS.ProcessEnv;
  /** Variables configs may take from aibom's environment (`${VAR}`); none by default. */
  passEnv?: readonly string[];
  onProgress?: (done: number, total: number, name: string) => void;
}

type Entity = Component | Service;

export function serverRefs(inv: { components: Entity[]; services: Entity[] }): Array<{ entity: Entity; ref: ServerRef }> {
  const out: Array<{ entity: Entity; ref: ServerRef }> = [];
  for (const e of [...inv.components, ...inv.services]) {
    const props = e.properties;
    const get = (n: string) => props.find((p) => p.name === `${NS}${n}`)?.value;
    if (get('kind') !== 'mcp-server') continue;
    const config = get('mcp:config');
    const name = get('mcp:server');
    if (!config || !name) continue;
    const r: ServerRef = { ref: e.ref, config, name };
    const plugin = get('plugin');
    if (plugin?.startsWith('plugin:')) r.plugin = plugin.slice('plugin:'.length);
    if (get('agent-plugins:loadable') !== undefined) r.agentPlugins = true;
    out.push({ entity: e, ref: r });
  }
  return out;
}

/** Read one server live: its listing and tool pins. */
export async function readServerTools(root: string, s: ServerRef, options: McpToolsOptions = {}): Promise<{ listing: ServerListing; pins: ToolSetPin }> {
  const prepared = await prepareTarget(root, s, { ...(options.env ? { env: options.env } : {}), ...(options.passEnv ? { passEnv: options.passEnv } : {}) });
  try {
    const listing = await probeServer(prepared.target, options);
    return { listing, pins: pinTools(listing.tools) };
  } finally {
    await prepared.cleanup();
  }
}

export async function pinMcpTools(inv: Inventory, root: string, options: McpToolsOptions = {}): Promise<void> {
  const targets = serverRefs(inv).filter(({ ref }) => !options.only?.length || options.only.includes(ref.ref) || options.only.includes(ref.name));
  let done = 0;
  for (const { entity, ref } of targets) {
    options.onProgress?.(done++, targets.length, ref.name);
    const location = { file: ref.config };
    let got: Awaited<ReturnType<typeof readServerTools>>;
    try {
      got = await readServerTools(root, ref, options);
    } catch (err) {
      const reason = err instanceof McpProbeError ? err.reason : 'config';
      inv.findings.push({
        code: 'mcp-tools-unreadable',
        severity: 'medium',
        message: `MCP server "${ref.name}": its tools could not be read (${reason}): ${describeFailure(err)}; no tool pins`,
        component: ref.ref,
        location,
      });
      entity.properties.push(prop(`${NS}mcp:tools-unreadable`, reason));
      continue;
    }
    const { listing, pins } = got;
    entity.properties.push(prop(`${NS}mcp:tools-sha256`, `sha256:${pins.sha256}`));
    for (const t of pins.tools) entity.properties.push(prop(`${NS}mcp:tool`, `${t.name} sha256:${t.sha256}`));
    entity.properties.push(prop(`${NS}mcp:prompts-sha256`, `sha256:${listHash(listing.prompts, 'name')}`));
    entity.properties.push(prop(`${NS}mcp:resources-sha256`, `sha256:${listHash(listing.resources, 'uri')}`));
    if (listing.serverInfo?.name) entity.properties.push(prop(`${NS}mcp:server-info`, `${listing.serverInfo.name}@${listing.serverInfo.version ?? ''}`));
    inv.findings.push(...toolTextFindings(listing, ref, location));
  }
}

/** SHA-256 over the canonical JSON of a list sorted by one key. */
export function listHash(items: readonly Record<string, unknown>[], key: string): string {
  const k = (x: Record<string, unknown>) => (typeof x[key] === 'string' ? (x[key] as string) : '');
  return sha256Hex(canonicalJson([...items].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0))));
}

/** Invisible characters in anything a tool, prompt or resource tells the model. */
function toolTextFindings(listing: ServerListing, ref: ServerRef, location: { file: string }): Finding[] {
  const out: Finding[] = [];
  const scan = (kind: string, items: Record<string, unknown>[]) => {
    for (const item of items) {
      const label = typeof item.name === 'string' ? item.name.slice(0, 100) : '?';
      for (const hit of findInvisible(canonicalJson(item)).slice(0, 3)) {
        out.push({
          code: 'invisible-unicode',
          severity: hit.kind === 'zero-width' ? 'medium' : 'high',
          message: `MCP server "${ref.name}": ${kind} "${label}" carries ${describeHit(hit)}`,
          component: ref.ref,
          location,
        });
      }
    }
  };
  scan('tool', listing.tools);
  scan('prompt', listing.prompts);
  scan('resource', listing.resources);
  return out;
}
