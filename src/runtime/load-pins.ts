/**
 * What the start-up check saw, for the load-time hook (load-hook.ts): the SHA-256 of every
 * file of every checked plugin folder and of every pinned file beside the plugins (absolute
 * real paths), and the folders whose modules must be among them. Attached to a result without
 * showing in it (JSON output stays the report).
 */
import { sep } from 'node:path';
import type { VerifyPluginsResult } from './types.js';

export interface LoadPins {
  /** Files pinned beside the plugins: absolute real path → lowercase hex SHA-256 of the bytes that were checked. */
  files: Map<string, string>;
  /** Each checked plugin folder (absolute real path) with its files as hashed (POSIX names; looked up only when the hook asks). */
  folders: Array<{ dir: string; resources: ReadonlyArray<{ name: string; digest: string }> }>;
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

/** The checked digest of the file at an absolute path, from the pinned files or a checked plugin folder. */
export function pinnedDigest(p: LoadPins, path: string): string | undefined {
  const direct = p.files.get(path);
  if (direct !== undefined) return direct;
  for (const f of p.folders) {
    if (!path.startsWith(f.dir) || path[f.dir.length] !== sep) continue;
    let byName = indexes.get(f);
    if (!byName) {
      byName = new Map(f.resources.map((r) => [r.name, r.digest]));
      indexes.set(f, byName);
    }
    return byName.get(path.slice(f.dir.length + 1).split(sep).join('/'));
  }
  return undefined;
}

const indexes = new WeakMap<object, Map<string, string>>();
