import { isAibomError } from '../../errors.js';
import { parseJsonText } from '../../util/json.js';

/**
 * Strict JSON for Agent Plugins files (plugin.json, mcp.json): JSON, not JSONC, bounded in
 * depth, and a key given twice in one object is an error. Parsers disagree on duplicate keys
 * (JSON.parse keeps the last, others the first), so a manifest that says two things at once is
 * refused rather than read the way one client would read it.
 */
export type StrictJson = { ok: true; value: unknown } | { ok: false; error: string; line?: number };

export const MAX_JSON_DEPTH = 64;

export function parseStrictJson(text: string, file: string): StrictJson {
  try {
    // parseJsonText refuses a key given twice in one object (src/util/json.ts).
    return { ok: true, value: parseJsonText(text, file, MAX_JSON_DEPTH) };
  } catch (err) {
    const message = isAibomError(err) ? err.message : String(err);
    const at = / at line (\d+), column \d+/.exec(message);
    return at ? { ok: false, error: message, line: Number(at[1]) } : { ok: false, error: message };
  }
}
