import { visit } from 'jsonc-parser';
import { isAibomError } from '../../errors.js';
import { lineIndex } from '../../util/lines.js';
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
  let value: unknown;
  try {
    value = parseJsonText(text, file, MAX_JSON_DEPTH);
  } catch (err) {
    return { ok: false, error: isAibomError(err) ? err.message : String(err) };
  }
  const dup = duplicateKey(text);
  if (dup) return { ok: false, error: `key ${JSON.stringify(dup.key)} is given twice in one object`, line: dup.line };
  return { ok: true, value };
}

/** The first key given twice in one object, in one linear pass (jsonc-parser's visitor). */
export function duplicateKey(text: string): { key: string; line: number } | undefined {
  const stack: Array<Set<string>> = [];
  let found: { key: string; offset: number } | undefined;
  visit(text, {
    onObjectBegin: () => {
      stack.push(new Set());
    },
    onObjectEnd: () => {
      stack.pop();
    },
    onObjectProperty: (key, offset) => {
      const keys = stack[stack.length - 1];
      if (!keys || found) return;
      if (keys.has(key)) found = { key, offset };
      keys.add(key);
    },
  });
  if (!found) return undefined;
  return { key: found.key, line: lineIndex(text)(found.offset) };
}
