import { AibomError } from '../errors.js';

export const DEFAULT_MAX_JSON_DEPTH = 512;

/**
 * Parse JSON text that came from outside. Checks nesting depth first (a document nested
 * 10,000 levels deep must not blow the stack of whatever walks it later), then parses,
 * and reports any failure as an AibomError naming the file, with line and column.
 */
export function parseJsonText(text: string, file: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw new AibomError('TOO_LARGE', `JSON nests deeper than ${maxDepth} levels`, { file });
  }
  try {
    return JSON.parse(stripBom(text));
  } catch (err) {
    throw new AibomError('INPUT', `not valid JSON: ${describeJsonError(err, text)}`, { file, cause: err });
  }
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Maximum nesting depth of a JSON text, stopping early once over `limit`.
 * Strings are skipped so brackets inside them do not count. Linear, no recursion.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return max;
}

function describeJsonError(err: unknown, text: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    return `${msg.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '')} at line ${line}, column ${col}`;
  }
  if (/Unexpected end of JSON input/.test(msg)) return 'unexpected end of input (truncated file?)';
  return msg;
}

/** Type guard for plain JSON objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
