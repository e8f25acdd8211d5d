/**
 * Deterministic mutation of input files for robustness tests: every input aibom parses is
 * hostile, so each valid file is turned into a bounded set of broken variants (truncated,
 * bytes flipped, lines duplicated or removed, huge numbers, deep nesting, invalid UTF-8, NUL
 * bytes, CRLF / CR line ends, a BOM, very long lines, empty). The same file name and content
 * always give the same mutants (a seeded PRNG, never Math.random), so a failure reproduces.
 */

import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** mulberry32: a small, seedable 32-bit PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string: the seed of a file's mutants. */
export function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type InputKind = 'json' | 'yaml' | 'toml' | 'text' | 'markdown' | 'binary';

export interface Mutant {
  /** Short, file-name-safe name of the mutation (`trunc-50`, `flip-3`, ...). */
  name: string;
  data: Buffer;
}

export interface MutateOptions {
  kind: InputKind;
  /** Offsets of length/count fields in a binary file, overwritten with huge values. */
  lengthFields?: Array<{ offset: number; bytes: 4 | 8 }>;
  /** Nesting depth of the injected deep structures (default 20,000). */
  depth?: number;
  /** Length of the injected long line (default 128 KiB). */
  longLine?: number;
  /** How many mutants that still parse (a value replaced; JSON, YAML, TOML). Default 5. */
  structural?: number;
}

/** Kind of input a file is, from its name. */
export function kindOf(file: string): InputKind {
  const base = file.slice(file.lastIndexOf('/') + 1).toLowerCase();
  if (base.endsWith('.json') || base.endsWith('.jsonl') || base === 'pipfile.lock') return 'json';
  if (base.endsWith('.yaml') || base.endsWith('.yml') || base === 'yarn.lock') return 'yaml';
  if (base.endsWith('.toml') || base === 'poetry.lock' || base === 'uv.lock' || base === 'pipfile') return 'toml';
  if (base.endsWith('.md')) return 'markdown';
  if (/\.(safetensors|gguf|onnx|pt|pth|bin|ckpt|pkl|tgz|zip|sig)$/.test(base)) return 'binary';
  return 'text';
}

const HUGE_NUMBERS = ['18446744073709551615', '-9223372036854775809', '1e999999', '99999999999999999999999999999999999999'];
const INVALID_UTF8 = [
  [0xff],
  [0xc3, 0x28], // bad continuation
  [0xc0, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // UTF-16 surrogate encoded in UTF-8
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xe2, 0x82], // truncated sequence
];

/**
 * The mutants of one file. Bounded: about 30 per file whatever its size, each at most the
 * file's size plus the injected long line or deep structure.
 */
export function mutate(fileName: string, data: Buffer, options: MutateOptions): Mutant[] {
  const rand = prng(seedOf(`${fileName}:${data.length}`));
  const int = (n: number) => Math.floor(rand() * n);
  const depth = options.depth ?? 20_000;
  const longLen = options.longLine ?? 128 * 1024;
  const out: Mutant[] = [];
  const add = (name: string, d: Buffer) => out.push({ name, data: d });
  const len = data.length;

  add('empty', Buffer.alloc(0));
  // Truncations: one byte, a tenth, half, nine tenths, all but one, and one random offset.
  const cuts = new Set([1, Math.floor(len * 0.1), Math.floor(len / 2), Math.floor(len * 0.9), len - 1, 1 + int(Math.max(1, len - 2))]);
  for (const c of [...cuts].sort((a, b) => a - b)) if (c > 0 && c < len) add(`trunc-${c}`, data.subarray(0, c));

  // Byte flips: 1, 4 and 16 random bytes XOR a random non-zero value.
  for (const n of [1, 4, 16]) {
    if (len === 0) break;
    const d = Buffer.from(data);
    for (let i = 0; i < n; i++) {
      const at = int(len);
      d[at] = d[at]! ^ (1 + int(255));
    }
    add(`flip-${n}`, d);
  }

  // Lines duplicated and removed (text formats); for binaries these cut/copy a chunk instead.
  const lines = splitLines(data);
  if (lines.length > 1) {
    for (let k = 0; k < 1; k++) {
      const i = int(lines.length);
      add(`dup-line-${i + 1}`, Buffer.concat([...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)]));
    }
    for (let k = 0; k < 1; k++) {
      const i = int(lines.length);
      add(`del-line-${i + 1}`, Buffer.concat([...lines.slice(0, i), ...lines.slice(i + 1)]));
    }
    const i = int(lines.length);
    add(`dup-block-${i + 1}`, Buffer.concat([...lines.slice(0, i), ...lines.slice(i), ...lines.slice(i)]));
  }

  // Huge numbers: a random digit run replaced, and binary length fields set to 2^63-ish.
  if (options.kind !== 'binary') {
    const text = data.toString('latin1');
    const runs = [...text.matchAll(/\d+/g)];
    for (let k = 0; k < 2 && runs.length; k++) {
      const m = runs[int(runs.length)]!;
      const huge = HUGE_NUMBERS[int(HUGE_NUMBERS.length)]!;
      add(`huge-number-${k}`, Buffer.concat([data.subarray(0, m.index), Buffer.from(huge), data.subarray(m.index + m[0].length)]));
    }
  }
  for (const [k, f] of (options.lengthFields ?? []).entries()) {
    if (f.offset + f.bytes > len) continue;
    for (const [v, value] of [0xffffffffffffffffn, 0x7fffffffffffffffn, 0x80000000n].entries()) {
      const d = Buffer.from(data);
      if (f.bytes === 8) d.writeBigUInt64LE(value, f.offset);
      else d.writeUInt32LE(Number(value & 0xffffffffn), f.offset);
      add(`huge-length-${k}-${v}`, d);
    }
  }

  // Deep nesting, in the file's own syntax where it has one.
  for (const [name, d] of deepNesting(data, options.kind, depth, int)) add(name, d);

  // Invalid UTF-8 at random places, NUL bytes inserted and a zeroed block.
  for (let k = 0; k < 1; k++) {
    const d = insertAt(data, int(len + 1), Buffer.from(INVALID_UTF8[int(INVALID_UTF8.length)]!));
    add(`invalid-utf8-${k}`, insertAt(d, int(d.length + 1), Buffer.from(INVALID_UTF8[int(INVALID_UTF8.length)]!)));
  }
  add('nul-insert', insertAt(insertAt(data, int(len + 1), Buffer.from([0])), int(len + 1), Buffer.from([0, 0])));
  if (len > 0) {
    const d = Buffer.from(data);
    const at = int(len);
    d.fill(0, at, Math.min(len, at + 64));
    add('nul-block', d);
  }

  // Line endings and a byte-order mark.
  if (lines.length > 1) {
    add('crlf', Buffer.from(data.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
    add('cr', Buffer.from(data.toString('latin1').replace(/\r?\n/g, '\r'), 'latin1'));
  }
  add('utf8-bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), data]));
  add('utf16-bom', Buffer.concat([Buffer.from([0xff, 0xfe]), data]));

  // Very long lines: a new line of one repeated character, and an existing line stretched.
  const at = lineStart(lines, int(lines.length + 1));
  add('long-line', insertAt(data, at, Buffer.from(`${'a'.repeat(longLen)}\n`)));
  if (lines.length) {
    const i = int(lines.length);
    const line = lines[i]!;
    const body = trimEol(line);
    const filler = body.length ? body[body.length - 1]! : 0x20;
    const stretched = Buffer.concat([body, Buffer.alloc(longLen, filler), line.subarray(body.length)]);
    add(`long-line-${i + 1}`, Buffer.concat([...lines.slice(0, i), stretched, ...lines.slice(i + 1)]));
  }
  const spaces = Buffer.from(`${' '.repeat(longLen)}#${' \t'.repeat(1024)}x\n`);
  add('long-whitespace', insertAt(data, lineStart(lines, int(lines.length + 1)), spaces));
  for (const m of structureMutants(data, options.kind, int, options.structural ?? 5)) out.push(m);
  return out;
}

/**
 * Mutants that still parse: the document read, one value somewhere in it replaced by a value
 * of another type (null, a number, a huge number, a string, a long string, an empty or a wide
 * array, an empty object, a deep array) or a key removed, and the document written back in
 * its own syntax. These get past the syntax checks and test what reads the values.
 */
function structureMutants(data: Buffer, kind: InputKind, int: (n: number) => number, count: number): Mutant[] {
  let doc: unknown;
  let write: (v: unknown) => string;
  try {
    const text = data.toString('utf8');
    if (kind === 'json') {
      doc = JSON.parse(text);
      write = (v) => JSON.stringify(v, null, 2);
    } else if (kind === 'yaml') {
      doc = parseYaml(text, { maxAliasCount: 100 });
      write = (v) => stringifyYaml(v, { aliasDuplicateObjects: false });
    } else if (kind === 'toml') {
      doc = parseToml(text);
      write = (v) => stringifyToml(v as Record<string, unknown>);
    } else return [];
  } catch {
    return [];
  }
  const paths: Array<Array<string | number>> = [];
  const stack: Array<{ v: unknown; path: Array<string | number> }> = [{ v: doc, path: [] }];
  while (stack.length && paths.length < 100_000) {
    const { v, path } = stack.pop()!;
    if (path.length) paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => void stack.push({ v: x, path: [...path, i] }));
    else if (v && typeof v === 'object' && !(v instanceof Date)) for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  if (!paths.length) return [];
  const deep = (n: number): unknown => {
    let v: unknown = [];
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const replacements: Array<[string, () => unknown]> = [
    ['null', () => null],
    ['zero', () => 0],
    ['negative', () => -1],
    ['huge', () => 1e308],
    ['true', () => true],
    ['string', () => 'x'],
    ['long-string', () => 'x'.repeat(64 * 1024)],
    ['empty-array', () => []],
    ['wide-array', () => Array.from({ length: 5_000 }, (_, i) => `item-${i}`)],
    ['object', () => ({})],
    ['wide-object', () => Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]))],
    ['object-of-objects', () => ({ a: { b: { c: 1 } }, __proto__x: 'y' })],
    ['deep-array', () => deep(200)],
  ];
  const out: Mutant[] = [];
  for (let k = 0; k < count; k++) {
    const path = paths[int(paths.length)]!;
    const clone = structuredClone(doc);
    let parent: any = clone;
    for (const seg of path.slice(0, -1)) parent = parent[seg];
    const last = path[path.length - 1]!;
    let name: string;
    if (int(5) === 0 && !Array.isArray(parent)) {
      delete parent[last];
      name = 'removed';
    } else {
      const [n, make] = replacements[int(replacements.length)]!;
      if (kind === 'toml' && n === 'null') continue; // TOML has no null
      parent[last] = make();
      name = n;
    }
    try {
      out.push({ name: `value-${name}-${k}`, data: Buffer.from(write(clone)) });
    } catch {
      // not writable in this syntax (TOML: mixed arrays of tables): skip
    }
  }
  return out;
}

function deepNesting(data: Buffer, kind: InputKind, depth: number, int: (n: number) => number): Array<[string, Buffer]> {
  const text = data.toString('utf8');
  const arrays = '['.repeat(depth) + ']'.repeat(depth);
  switch (kind) {
    case 'json': {
      const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const brace = text.indexOf('{');
      if (brace < 0) return [['deep-json', Buffer.from(arrays)]];
      const tail = text.slice(brace + 1).trimStart().startsWith('}') ? '' : ',';
      return [
        ['deep-arrays', Buffer.from(`${text.slice(0, brace + 1)}"aibom-deep":${arrays}${tail}${text.slice(brace + 1)}`)],
        ['deep-objects', Buffer.from(`${text.slice(0, brace + 1)}"aibom-deep":${objects}${tail}${text.slice(brace + 1)}`)],
      ];
    }
    case 'yaml':
    case 'markdown': {
      // Flow collections, and block sequences nested on one line (`- - - - x`).
      const flow = `aibom-deep: ${arrays}\n`;
      const block = `aibom-deep-block:\n  ${'- '.repeat(depth)}x\n`;
      const anchors = `aibom-alias: &a [${'*a, '.repeat(4)}x]\n`;
      const pos = kind === 'markdown' && text.startsWith('---\n') ? 4 : 0;
      return [
        ['deep-flow', Buffer.concat([data.subarray(0, pos), Buffer.from(flow), data.subarray(pos)])],
        ['deep-block', Buffer.concat([data.subarray(0, pos), Buffer.from(block), data.subarray(pos)])],
        ['self-alias', Buffer.concat([data.subarray(0, pos), Buffer.from(anchors), data.subarray(pos)])],
      ];
    }
    case 'toml': {
      const tables = '{a='.repeat(depth) + '1' + '}'.repeat(depth);
      return [
        ['deep-arrays', Buffer.from(`aibom-deep = ${arrays}\n${text}`)],
        ['deep-tables', Buffer.from(`aibom-deep = ${tables}\n${text}`)],
      ];
    }
    case 'text': {
      // Brackets mean nothing to line formats, but their own parsers must not choke on them.
      const lines = splitLines(data);
      const i = int(lines.length + 1);
      return [['deep-brackets', insertAt(data, lineStart(lines, i), Buffer.from(`x${'['.repeat(depth)}\n`))]];
    }
    case 'binary':
      return [];
  }
}

/** Lines with their line ends kept, so joining them gives the file back. */
export function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      out.push(data.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

function lineStart(lines: Buffer[], i: number): number {
  let at = 0;
  for (let k = 0; k < i && k < lines.length; k++) at += lines[k]!.length;
  return at;
}

function trimEol(line: Buffer): Buffer {
  let end = line.length;
  while (end > 0 && (line[end - 1] === 0x0a || line[end - 1] === 0x0d)) end--;
  return line.subarray(0, end);
}

function insertAt(data: Buffer, at: number, what: Buffer): Buffer {
  return Buffer.concat([data.subarray(0, at), what, data.subarray(at)]);
}
