import { isObject } from '../util/json.js';
import { canonicalJson, sha256Hex } from './canonical.js';

/**
 * What an MCP tool tells the model, pinned: per tool a SHA-256 over the RFC 8785 canonical JSON
 * of {name, description, inputSchema, outputSchema, annotations} (members the server leaves out
 * are left out), and per server a SHA-256 over the sorted set: the canonical JSON of the list of
 * [name, tool hash] pairs sorted by name. A changed description, schema or annotation (a "rug
 * pull": the server says something else after it was reviewed) changes both.
 */

export const TOOL_FIELDS = ['name', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

export interface ToolPin {
  name: string;
  sha256: string;
}

export interface ToolSetPin {
  /** SHA-256 over the sorted set of tool pins. */
  sha256: string;
  tools: ToolPin[];
}

/** The pinned part of a tool definition. */
export function pinnedPart(tool: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TOOL_FIELDS) if (tool[k] !== undefined) out[k] = tool[k];
  return out;
}

export function toolHash(tool: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(pinnedPart(tool)));
}

export function toolSetHash(pins: readonly ToolPin[]): string {
  const sorted = [...pins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sha256Hex(canonicalJson(sorted.map((p) => [p.name, p.sha256])));
}

/** Pins of a tools/list result's tools (each must be an object with a string name). */
export function pinTools(tools: readonly unknown[]): ToolSetPin {
  const pins: ToolPin[] = [];
  const seen = new Set<string>();
  for (const t of tools) {
    if (!isObject(t) || typeof t.name !== 'string') throw new Error('the server lists a tool without a name');
    // Two definitions under one name: which one a client keeps is anyone's guess.
    if (seen.has(t.name)) throw new Error(`the server lists the tool ${JSON.stringify(t.name.slice(0, 100))} twice`);
    seen.add(t.name);
    pins.push({ name: t.name, sha256: toolHash(t) });
  }
  pins.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { sha256: toolSetHash(pins), tools: pins };
}

export interface ToolChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/** What differs between the pinned tools and the live ones, by name. */
export function compareToolPins(pinned: readonly ToolPin[], live: readonly ToolPin[]): ToolChanges {
  const a = new Map(pinned.map((p) => [p.name, p.sha256]));
  const b = new Map(live.map((p) => [p.name, p.sha256]));
  const added = [...b.keys()].filter((n) => !a.has(n)).sort();
  const removed = [...a.keys()].filter((n) => !b.has(n)).sort();
  const changed = [...a.keys()].filter((n) => b.has(n) && b.get(n) !== a.get(n)).sort();
  return { added, removed, changed };
}
