/**
 * The version an installed plugin's manifest declares now, read from the manifest the BOM
 * pinned (`aibom:plugin:manifest`, the one `aibom build` took the version from). JSON
 * manifests (package.json, .claude-plugin/plugin.json, MCP bundle manifest.json) are read
 * here, as the plugins discoverer reads them (a trimmed, non-empty string); YAML and TOML
 * manifests go through the discoverer's own reader, imported only when one is met so the
 * start-up path does not load the YAML and TOML parsers for JSON manifests.
 */
import { posix } from 'node:path';
import { AibomError } from '../errors.js';
import { isObject, parseJsonText } from '../util/json.js';
import { readSmallFileSync } from './folder.js';

const MAX_MANIFEST_BYTES = 1024 * 1024;
const JSON_FORMATS = new Set(['npm', 'claude-plugin', 'mcpb', 'agent-plugins']);

export type ManifestVersion = { version?: string } | { problem: string };

/**
 * `manifestAbs` is the manifest's absolute path; `pluginAbs`/`pluginRel` the plugin folder's;
 * `bytes` the manifest's bytes when the caller already read them (while hashing the folder).
 */
export async function readManifestVersion(
  manifestAbs: string,
  manifestRel: string,
  format: string | undefined,
  pluginAbs: string,
  pluginRel: string,
  bytes?: Buffer,
): Promise<ManifestVersion> {
  if (format !== undefined && JSON_FORMATS.has(format)) {
    let text: string;
    try {
      text = (bytes ?? readSmallFileSync(manifestAbs, MAX_MANIFEST_BYTES, manifestRel)).toString('utf8');
    } catch (err) {
      return { problem: `cannot read ${manifestRel}: ${err instanceof AibomError ? err.message : String(err)}` };
    }
    let doc: unknown;
    try {
      doc = parseJsonText(text, manifestRel, 64);
    } catch (err) {
      return { problem: err instanceof AibomError ? err.describe() : String(err) };
    }
    if (!isObject(doc)) return { problem: `${manifestRel} is not a JSON object` };
    const v = typeof doc.version === 'string' && doc.version.trim() ? doc.version.trim() : undefined;
    return v === undefined ? {} : { version: v };
  }
  const { readPluginManifests } = await import('../inventory/plugins/manifest.js');
  const file = posix.relative(pluginRel, manifestRel);
  let found: Awaited<ReturnType<typeof readPluginManifests>>;
  try {
    found = await readPluginManifests(pluginAbs, pluginRel);
  } catch (err) {
    return { problem: `cannot read the manifests of ${pluginRel}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const m = found.all.find((x) => x.file === file);
  if (m) return m.version === undefined ? {} : { version: m.version };
  const p = found.problems.find((x) => x.file === file);
  return { problem: p ? `${manifestRel}: ${p.message}` : `${manifestRel} is gone` };
}
