import { build } from './pickle-arrays.js';
import { call } from './pickle-calls.js';
import { MAX_KEPT_STRING, NONE, OTHER, type PickleMachine, type V } from './pickle-machine.js';
import { FormatError } from './reader.js';

/**
 * The pickle opcode table (protocols 0–5): for each opcode its name, its fixed-width argument
 * (read by the machine before the opcode runs) and its effect on the stack, the memo and the
 * scan. Opcodes come in families (marks and stack, numbers, text, bytes, containers, imports
 * and calls, memo, framing), one list each; variable-length arguments (lines, length-prefixed
 * strings) are read by the effect itself through the machine's bounded readers.
 */

/** A fixed-width argument: unsigned byte, unsigned/signed little-endian 16/32 bits. */
export type ArgReader = 'u8' | 'u16' | 'u32' | 'i32';

export interface OpSpec {
  code: number;
  name: string;
  arg?: ArgReader;
  /** The effect; `arg` is the fixed-width argument (0 when there is none), `at` the opcode's offset. */
  run: (m: PickleMachine, arg: number, at: number) => void | Promise<void>;
}

export const ARG_WIDTH: Record<ArgReader, number> = { u8: 1, u16: 2, u32: 4, i32: 4 };

const int = (v: bigint): V => ({ k: 'i', v });
const other = (m: PickleMachine) => m.push(OTHER);

/** Marks, STOP and plain stack moves. */
const STACK_OPS: OpSpec[] = [
  { code: 0x28, name: 'MARK', run: (m) => m.mark() },
  {
    code: 0x2e,
    name: 'STOP',
    run: (m) => {
      m.pop();
      m.stopped = true;
    },
  },
  { code: 0x30, name: 'POP', run: (m) => void (m.stack.length === 0 ? m.popMark() : m.pop()) },
  { code: 0x31, name: 'POP_MARK', run: (m) => void m.popMark() },
  {
    code: 0x32,
    name: 'DUP',
    run: (m, _arg, at) => {
      const top = m.top();
      if (top === undefined) throw new FormatError(`DUP on an empty stack at offset ${at}`);
      m.push(top);
    },
  },
];

/** Parse an INT / GET / PUT text argument ('00' and '01' are protocol 0's False and True). */
function parseIntLine(line: string): bigint | undefined {
  const t = line.trim().replace(/L$/, '');
  if (t === '00') return 0n;
  if (t === '01') return 1n;
  return /^[-+]?\d{1,4300}$/.test(t) ? BigInt(t) : undefined;
}

/** Numbers and constants: integers are tracked (array shapes, torch's magic number); floats are not. */
const NUMBER_OPS: OpSpec[] = [
  {
    code: 0x49,
    name: 'INT',
    run: async (m) => {
      const text = await m.line(64);
      const v = text === undefined ? undefined : parseIntLine(text);
      m.push(v === undefined ? OTHER : int(v));
      if (m.wasFirst && v !== undefined) m.scan.firstInt = v;
    },
  },
  { code: 0x4a, name: 'BININT', arg: 'i32', run: (m, v) => m.push(int(BigInt(v))) },
  { code: 0x4b, name: 'BININT1', arg: 'u8', run: (m, v) => m.push(int(BigInt(v))) },
  { code: 0x4d, name: 'BININT2', arg: 'u16', run: (m, v) => m.push(int(BigInt(v))) },
  { code: 0x8a, name: 'LONG1', run: long1 },
  {
    code: 0x8b,
    name: 'LONG4',
    arg: 'i32',
    run: async (m, n, at) => {
      if (n < 0) throw new FormatError(`negative LONG4 length at offset ${at}`);
      if (n > m.src.remaining) throw new FormatError(`a length of ${n} bytes at offset ${at} runs past the end of the data`);
      await m.skipArg(n);
      m.push(OTHER);
    },
  },
  { code: 0x46, name: 'FLOAT', run: lineThenOther },
  { code: 0x4c, name: 'LONG', run: lineThenOther },
  {
    code: 0x47,
    name: 'BINFLOAT',
    run: async (m) => {
      await m.skipArg(8);
      m.push(OTHER);
    },
  },
  { code: 0x4e, name: 'NONE', run: (m) => m.push(NONE) },
  { code: 0x88, name: 'NEWTRUE', run: other },
  { code: 0x89, name: 'NEWFALSE', run: other },
];

/** LONG1: a length byte, then a little-endian two's complement integer. */
async function long1(m: PickleMachine): Promise<void> {
  const n = await m.lenBytes(1);
  await m.need(n);
  const b = m.src.take(n);
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (n > 0 && b[n - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
  m.push(int(v));
  if (m.wasFirst) m.scan.firstInt = v;
}

/** A text-line argument whose value is not tracked (FLOAT, LONG, PERSID). */
async function lineThenOther(m: PickleMachine): Promise<void> {
  await m.line(0);
  m.push(OTHER);
}

/** Strings: short ones are kept (module and attribute names for STACK_GLOBAL, dict keys). */
const TEXT_OPS: OpSpec[] = [
  {
    code: 0x53,
    name: 'STRING',
    run: async (m) => {
      // A quoted Python 2 str literal.
      const text = await m.line(MAX_KEPT_STRING + 2);
      const q = text === undefined ? null : /^(['"])(.*)\1$/.exec(text.trim());
      m.push(q && !q[2]!.includes('\\') ? { k: 's', s: q[2]! } : OTHER);
    },
  },
  {
    code: 0x56,
    name: 'UNICODE',
    run: async (m) => {
      // raw-unicode-escape text
      const text = await m.line(MAX_KEPT_STRING);
      m.push(text !== undefined && !text.includes('\\') ? { k: 's', s: text } : OTHER);
    },
  },
  { code: 0x54, name: 'BINSTRING', run: async (m) => m.pushText(await m.lenBytes(4), 'latin1') },
  { code: 0x55, name: 'SHORT_BINSTRING', run: async (m) => m.pushText(await m.lenBytes(1), 'latin1') },
  { code: 0x58, name: 'BINUNICODE', run: async (m) => m.pushText(await m.lenBytes(4), 'utf8') },
  { code: 0x8c, name: 'SHORT_BINUNICODE', run: async (m) => m.pushText(await m.lenBytes(1), 'utf8') },
  { code: 0x8d, name: 'BINUNICODE8', run: async (m) => m.pushText(await m.lenBytes(8), 'utf8') },
];

/**
 * Bytes payloads: their place in the input is kept (torch.storage._load_from_bytes scans them).
 * The C unpickler reads them with readinto, straight on past a frame's end (no divergence).
 */
async function pushBytes(m: PickleMachine, width: 1 | 4 | 8): Promise<void> {
  const n = await m.lenBytes(width);
  const start = m.src.pos;
  await m.src.skip(n);
  m.push({ k: 'bytes', at: start, len: n });
}

const BYTES_OPS: OpSpec[] = [
  { code: 0x42, name: 'BINBYTES', run: (m) => pushBytes(m, 4) },
  { code: 0x43, name: 'SHORT_BINBYTES', run: (m) => pushBytes(m, 1) },
  { code: 0x8e, name: 'BINBYTES8', run: (m) => pushBytes(m, 8) },
  {
    code: 0x96,
    name: 'BYTEARRAY8',
    run: async (m) => {
      await m.src.skip(await m.lenBytes(8));
      m.push(OTHER);
    },
  },
  { code: 0x97, name: 'NEXT_BUFFER', run: other },
  {
    code: 0x98,
    name: 'READONLY_BUFFER',
    run: (m) => {
      m.pop();
      m.push(OTHER);
    },
  },
];

/** Containers: tuples and dicts are tracked (small ones); lists and sets are not. BUILD: pickle-arrays.ts. */
const CONTAINER_OPS: OpSpec[] = [
  { code: 0x7d, name: 'EMPTY_DICT', run: (m) => m.push({ k: 'd', map: new Map() }) },
  { code: 0x29, name: 'EMPTY_TUPLE', run: (m) => m.push({ k: 't', items: [] }) },
  { code: 0x5d, name: 'EMPTY_LIST', run: other },
  { code: 0x8f, name: 'EMPTY_SET', run: other },
  { code: 0x61, name: 'APPEND', run: (m) => void m.pop() },
  { code: 0x65, name: 'APPENDS', run: (m) => void m.popMark() },
  { code: 0x90, name: 'ADDITEMS', run: (m) => void m.popMark() },
  {
    code: 0x75,
    name: 'SETITEMS',
    run: (m) => {
      const items = m.popMark();
      m.setItems(m.top(), items);
    },
  },
  {
    code: 0x73,
    name: 'SETITEM',
    run: (m) => {
      const value = m.pop();
      const key = m.pop();
      m.setItem(m.top(), key, value);
    },
  },
  {
    code: 0x64,
    name: 'DICT',
    run: (m) => {
      const items = m.popMark();
      const d: V = { k: 'd', map: new Map() };
      m.setItems(d, items);
      m.push(d);
    },
  },
  { code: 0x74, name: 'TUPLE', run: (m) => m.push(m.tuple(m.popMark())) },
  { code: 0x85, name: 'TUPLE1', run: (m) => m.push(m.tuple([m.pop()])) },
  {
    code: 0x86,
    name: 'TUPLE2',
    run: (m) => {
      const b = m.pop();
      m.push(m.tuple([m.pop(), b]));
    },
  },
  {
    code: 0x87,
    name: 'TUPLE3',
    run: (m) => {
      const c = m.pop();
      const b = m.pop();
      m.push(m.tuple([m.pop(), b, c]));
    },
  },
  { code: 0x6c, name: 'LIST', run: popMarkThenOther },
  { code: 0x91, name: 'FROZENSET', run: popMarkThenOther },
  { code: 0x62, name: 'BUILD', run: build },
];

function popMarkThenOther(m: PickleMachine): void {
  m.popMark();
  m.push(OTHER);
}

/** Imports (GLOBAL, STACK_GLOBAL, INST), calls, persistent ids and the copyreg extension registry. */
const IMPORT_AND_CALL_OPS: OpSpec[] = [
  {
    code: 0x63,
    name: 'GLOBAL',
    run: async (m) => {
      const module = await m.readLine();
      const name = await m.readLine();
      m.push(m.addImport(module, name));
    },
  },
  {
    code: 0x93,
    name: 'STACK_GLOBAL',
    run: (m) => {
      const name = m.pop();
      const module = m.pop();
      if (module.k === 's' && name.k === 's') m.push(m.addImport(module.s, name.s));
      else {
        m.scan.dynamicImports++;
        m.push(OTHER);
      }
    },
  },
  {
    code: 0x69,
    name: 'INST',
    run: async (m) => {
      // module\nname\n: import and call with the items above the mark.
      const module = await m.readLine();
      const name = await m.readLine();
      m.popMark();
      const g = m.addImport(module, name);
      m.push(call(m.scan, g, true));
    },
  },
  {
    code: 0x6f,
    name: 'OBJ',
    run: (m, _arg, at) => {
      // The first item above the mark is the class, called with the rest.
      const cls = m.popMark()[0];
      if (!cls) throw new FormatError(`OBJ without a class at offset ${at}`);
      m.push(call(m.scan, cls, true));
    },
  },
  {
    code: 0x52,
    name: 'REDUCE',
    run: (m) => {
      // callable(*args)
      const args = m.pop();
      m.push(call(m.scan, m.pop(), true, args));
    },
  },
  {
    code: 0x81,
    name: 'NEWOBJ',
    run: (m) => {
      // cls.__new__(cls, *args)
      const args = m.pop();
      m.push(call(m.scan, m.pop(), false, args));
    },
  },
  {
    code: 0x92,
    name: 'NEWOBJ_EX',
    run: (m) => {
      m.pop();
      const args = m.pop();
      m.push(call(m.scan, m.pop(), false, args));
    },
  },
  { code: 0x50, name: 'PERSID', run: lineThenOther },
  {
    code: 0x51,
    name: 'BINPERSID',
    run: (m) => {
      // The loader's persistent_load(pid). torch's legacy loader returns the class inside a
      // ('module', cls, file, source) id (how legacy torch.save pickles nn.Module classes).
      const pid = m.pop();
      m.push(pid.k === 't' && pid.items[0]?.k === 's' && pid.items[0].s === 'module' && pid.items[1]?.k === 'g' ? pid.items[1] : OTHER);
    },
  },
  { code: 0x82, name: 'EXT1', run: (m) => extension(m, 1) },
  { code: 0x83, name: 'EXT2', run: (m) => extension(m, 2) },
  { code: 0x84, name: 'EXT4', run: (m) => extension(m, 4) },
];

/** EXT1/2/4: a callable from copyreg's extension registry, which the file cannot name. */
async function extension(m: PickleMachine, width: number): Promise<void> {
  await m.skipArg(width);
  m.scan.extensionImports++;
  m.push(OTHER);
}

/** A GET / PUT text index. */
async function textIndex(m: PickleMachine, op: string, at: number, negativeAllowed: boolean): Promise<number | bigint> {
  const idx = parseIntLine(await m.readLine());
  if (idx === undefined || (!negativeAllowed && idx < 0n)) throw new FormatError(`${op} with an invalid index at offset ${at}`);
  return idx <= BigInt(Number.MAX_SAFE_INTEGER) && (!negativeAllowed || idx >= 0n) ? Number(idx) : idx;
}

/** The memo: stores and reads (the machine bounds and checks them). */
const MEMO_OPS: OpSpec[] = [
  { code: 0x67, name: 'GET', run: async (m, _arg, at) => m.memoGet(await textIndex(m, 'GET', at, true)) },
  { code: 0x68, name: 'BINGET', arg: 'u8', run: (m, i) => m.memoGet(i) },
  { code: 0x6a, name: 'LONG_BINGET', arg: 'u32', run: (m, i) => m.memoGet(i) },
  { code: 0x70, name: 'PUT', run: async (m, _arg, at) => m.memoPut(await textIndex(m, 'PUT', at, false)) },
  { code: 0x71, name: 'BINPUT', arg: 'u8', run: (m, i) => m.memoPut(i) },
  { code: 0x72, name: 'LONG_BINPUT', arg: 'u32', run: (m, i) => m.memoPut(i) },
  { code: 0x94, name: 'MEMOIZE', run: (m) => m.memoize() },
];

/** Protocol and framing. */
const FRAMING_OPS: OpSpec[] = [
  {
    code: 0x80,
    name: 'PROTO',
    arg: 'u8',
    run: (m, v, at) => {
      if (v > 5) throw new FormatError(`unsupported pickle protocol ${v}`);
      if (!m.wasFirst) m.anomaly(`PROTO opcode in the middle of the pickle (offset ${at})`);
      m.scan.protocol ??= v;
      m.first = true; // the first value after PROTO is still "first"
    },
  },
  {
    code: 0x95,
    name: 'FRAME',
    run: async (m) => {
      // An 8-byte length, then that many bytes of opcodes.
      const n = await m.lenBytes(8);
      // A frame that starts inside another and runs past its end: the readers diverge too.
      await m.enter(n);
      m.frameEnd = m.src.pos + n;
    },
  },
];

/** Every opcode, by code; an unlisted code is an invalid opcode. */
export const OPCODES: ReadonlyArray<OpSpec | undefined> = (() => {
  const table: Array<OpSpec | undefined> = new Array(256).fill(undefined);
  for (const family of [STACK_OPS, NUMBER_OPS, TEXT_OPS, BYTES_OPS, CONTAINER_OPS, IMPORT_AND_CALL_OPS, MEMO_OPS, FRAMING_OPS]) {
    for (const spec of family) {
      if (table[spec.code]) throw new Error(`pickle opcode 0x${spec.code.toString(16)} listed twice`);
      table[spec.code] = spec;
    }
  }
  return table;
})();
