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

/**
 * The first key given twice in one object, in one linear pass over text that JSON.parse has
 * accepted (no parser library: this module is on the start-up check's import path).
 */
export function duplicateKey(text: string): { key: string; line: number } | undefined {
  // One frame per open container: the keys of an object (undefined for an array), and
  // whether the next string in it is a key.
  const stack: Array<{ keys?: Set<string>; expectKey: boolean }> = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 0x7b /* { */) stack.push({ keys: new Set(), expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ expectKey: false });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return { key, line };
        top.keys.add(key);
        top.expectKey = false;
      }
    }
  }
  return undefined;
}
