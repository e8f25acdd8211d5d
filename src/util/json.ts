import { AibomError } from '../errors.js';

export const DEFAULT_MAX_JSON_DEPTH = 512;

/**
 * Parse JSON text that came from outside. Checks nesting depth first (a document nested
 * 10,000 levels deep must not blow the stack of whatever walks it later), then parses,
 * then refuses duplicate object keys (compared after unescaping, so `"a"` and `"\u0061"` are
 * the same key): JSON.parse keeps the last of two, other readers the first, so a document
 * with both says two things at once and is never judged. Any failure is an AibomError
 * naming the file, with line and column.
 */
export function parseJsonText(text: string, file: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const body = stripBom(text);
  const depth = jsonDepth(body, maxDepth);
  if (depth > maxDepth) {
    throw new AibomError('TOO_LARGE', `JSON nests deeper than ${maxDepth} levels`, { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new AibomError('INPUT', `not valid JSON: ${describeJsonError(err, body)}`, { file, cause: err });
  }
  const dup = findDuplicateKey(body);
  if (dup) {
    const { line, column } = lineColumn(body, dup.offset);
    throw new AibomError('INPUT', `not valid JSON: duplicate key ${JSON.stringify(dup.key)} at line ${line}, column ${column}`, { file });
  }
  if (mayHoldTooLargeNumber(body)) {
    const at = nonFiniteNumber(value);
    if (at !== undefined) throw new AibomError('INPUT', `not valid JSON: the number at ${at} is too large (it reads as Infinity)`, { file });
  }
  return value;
}

/**
 * Whether the text has, outside its strings, what a number too large for a double needs: an
 * exponent of 3 digits or more, or 309 digits in a row. One pass (a regular expression for
 * "309 digits" would try every start in a run of digits: quadratic on hostile text), and
 * strings are skipped, so hex digests (`…e123…`) do not count.
 */
function mayHoldTooLargeNumber(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string (its escapes too); JSON.parse has already accepted the text.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
      run = 0;
      continue;
    }
    if (c >= 48 && c <= 57) {
      if (++run >= 309) return true;
      continue;
    }
    run = 0;
    if (c === 101 || c === 69 /* e E */) {
      let j = i + 1;
      if (text.charCodeAt(j) === 43 /* + */) j++;
      while (text.charCodeAt(j) === 48 /* 0 */) j++;
      let digits = 0;
      while (text.charCodeAt(j + digits) >= 48 && text.charCodeAt(j + digits) <= 57) digits++;
      if (digits >= 3) return true;
    }
  }
  return false;
}

/** JSONPath of the first ±Infinity in a parsed value (JSON.parse's reading of 1e400), iteratively; the path is spelled only when found. */
function nonFiniteNumber(value: unknown): string | undefined {
  type Frame = { v: unknown; key: string | number | undefined; up: Frame | undefined };
  const stack: Frame[] = [{ v: value, key: undefined, up: undefined }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    const v = f.v;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      let path = '';
      for (let at: Frame | undefined = f; at?.up; at = at.up) {
        const k = at.key!;
        path = (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`) + path;
      }
      return `$${path}`;
    }
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], key: i, up: f });
    else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ v: (v as Record<string, unknown>)[keys[i]!], key: keys[i]!, up: f });
    }
  }
  return undefined;
}

/** Where a duplicate key is: the key (unescaped) and the offset of its second occurrence. */
export interface DuplicateKey {
  key: string;
  offset: number;
}

/**
 * The first object key that appears twice in the same object of a JSON text (keys compared
 * after unescaping), or undefined. Meant for text JSON.parse accepted; on other text it
 * returns whatever it finds without throwing. Linear, no recursion: one Set per open object.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // Per open container: a Set of keys for an object, null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      // The closing quote: the next one not preceded by an odd run of backslashes.
      let end = text.indexOf('"', i + 1);
      while (end > 0) {
        let k = end - 1;
        while (k > start && text.charCodeAt(k) === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end < 0 ? n : end;
      if (!expectKey) continue;
      const keys = stack[stack.length - 1];
      if (keys) {
        let key = text.slice(start + 1, i);
        if (key.includes('\\')) {
          try {
            key = JSON.parse(text.slice(start, i + 1)) as string;
          } catch {
            // not valid JSON: the parser reports it
          }
        }
        if (keys.has(key)) return { key, offset: start };
        keys.add(key);
      }
      expectKey = false;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === 0x3a /* : */) {
      expectKey = false;
    }
  }
  return undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
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
