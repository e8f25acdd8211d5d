import { createHash } from 'node:crypto';
import { AibomError } from '../errors.js';

/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by their names' UTF-16 code
 * units, no whitespace, numbers in ECMAScript's shortest round-trip form (what JSON.stringify
 * writes for a finite number), strings escaped as JSON.stringify escapes them (RFC 8785 §3.2.2.2
 * is ECMAScript's rule). No recursion on input depth: an explicit stack, bounded.
 */
const MAX_DEPTH = 128;

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  type Frame = { kind: 'value'; v: unknown; depth: number } | { kind: 'text'; s: string };
  const stack: Frame[] = [{ kind: 'value', v: value, depth: 0 }];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.kind === 'text') {
      out.push(f.s);
      continue;
    }
    const v = f.v;
    if (f.depth > MAX_DEPTH) throw new AibomError('TOO_LARGE', `JSON nests deeper than ${MAX_DEPTH} levels`);
    if (v === null || typeof v === 'boolean') out.push(String(v));
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new AibomError('INPUT', 'a number that JSON cannot hold (NaN or Infinity)');
      out.push(JSON.stringify(v));
    } else if (typeof v === 'string') out.push(JSON.stringify(v));
    else if (Array.isArray(v)) {
      const frames: Frame[] = [{ kind: 'text', s: '[' }];
      v.forEach((x, i) => {
        if (i) frames.push({ kind: 'text', s: ',' });
        frames.push({ kind: 'value', v: x === undefined ? null : x, depth: f.depth + 1 });
      });
      frames.push({ kind: 'text', s: ']' });
      for (let i = frames.length - 1; i >= 0; i--) stack.push(frames[i]!);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort(compareUtf16);
      const frames: Frame[] = [{ kind: 'text', s: '{' }];
      keys.forEach((k, i) => {
        frames.push({ kind: 'text', s: `${i ? ',' : ''}${JSON.stringify(k)}:` });
        frames.push({ kind: 'value', v: (v as Record<string, unknown>)[k], depth: f.depth + 1 });
      });
      frames.push({ kind: 'text', s: '}' });
      for (let i = frames.length - 1; i >= 0; i--) stack.push(frames[i]!);
    } else throw new AibomError('INPUT', `a ${typeof v} is not JSON`);
  }
  return out.join('');
}

/** Code-unit order (RFC 8785 §3.2.3), not locale order. */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
