/**
 * What the start-up check saw, for the load-time hook (load-hook.ts): the SHA-256 of every
 * file of every checked plugin folder and of every pinned file beside the plugins (absolute
 * real paths), and the folders whose modules must be among them. Attached to a result without
 * showing in it (JSON output stays the report).
 */
import type { VerifyPluginsResult } from './types.js';

export interface LoadPins {
  /** Absolute real path → lowercase hex SHA-256 of the bytes that were checked. */
  files: Map<string, string>;
  /** Absolute real paths of the plugin folders: every module loaded below one must be in `files`. */
  pluginDirs: string[];
  /** Absolute real paths of the folders between a plugin folder and the agent root. */
  betweenDirs: string[];
}

const pins = new WeakMap<VerifyPluginsResult, LoadPins>();

export function attachLoadPins(result: VerifyPluginsResult, p: LoadPins): void {
  pins.set(result, p);
}

export function loadPinsOf(result: VerifyPluginsResult): LoadPins | undefined {
  return pins.get(result);
}
