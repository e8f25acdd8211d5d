import { classifyImport, type ImportVerdict, normalizeModule } from './pickle-policy.js';
import { type ByteSource, bufferSource, FormatError } from './reader.js';

/**
 * A pickle opcode scanner. It never unpickles: it walks the opcodes (protocols 0–5), keeps an
 * abstract stack (strings, imported callables, "something else", marks) and a bounded memo so
 * that imports made by STACK_GLOBAL from memoized strings are named correctly, and records
 *  - every import (GLOBAL, STACK_GLOBAL, INST) as module.name,
 *  - which of them are called (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST),
 *  - calls whose target cannot be named (a callable computed at load time), and
 *  - anomalies real picklers never produce (memo indices far out of range, reads of memo entries
 *    never stored), which are how crafted files try to confuse scanners.
 * Bounded: opcodes, stack depth, memo entries, line and string lengths; lengths are checked
 * against the input before anything is skipped or read.
 */

export interface PickleImport {
  module: string;
  name: string;
  verdict: ImportVerdict;
  /** How many times the pickle calls it (REDUCE / NEWOBJ / OBJ / INST). */
  calls: number;
  /** Of those, calls with arbitrary arguments (REDUCE / OBJ / INST), not `cls.__new__` (NEWOBJ). */
  directCalls: number;
}

export interface PickleScan {
  /** module.name → import. */
  imports: Map<string, PickleImport>;
  /** Calls of a callable that is not a named import (computed at load time). */
  unnamedCalls: number;
  /** STACK_GLOBAL imports whose module or name is not a constant string. */
  dynamicImports: number;
  /** copyreg extension-registry imports (EXT1/2/4): the callable cannot be named from the file. */
  extensionImports: number;
  anomalies: string[];
  protocol?: number;
  opcodes: number;
  /** The pickle's first value, when it is a constant integer (torch's legacy magic number). */
  firstInt?: bigint;
  /** An opcode argument ran past the end of its FRAME: CPython's readers disagree on what follows. */
  frameOverrun: boolean;
  /** joblib NumpyArrayWrapper arrays whose raw bytes were skipped (or whose nested pickle was scanned). */
  joblibArrays: number;
}

/**
 * How the scan reads FRAMEs. `linear`: frames are transparent (pickle.loads on bytes, and the C
 * unpickler on a file while no argument crosses a frame's end). `file`: as CPython's C unpickler
 * reads a file: a frame is read into a buffer; an argument or line that runs past the end of
 * that buffer is read afresh from the bytes after the frame, and the rest of the frame is never
 * read.
 */
export type FrameReading = 'linear' | 'file';

export interface PickleLimits {
  maxOpcodes?: number;
  maxStack?: number;
  maxMemo?: number;
  frames?: FrameReading;
  /** Nested pickles (joblib object arrays) allowed below this one. */
  nesting?: number;
}

/** Abstract stack values: a short string, an imported callable, an integer, anything else. Marks live in `metastack`. */
type V =
  | { k: 's'; s: string }
  | { k: 'g'; name: string }
  | { k: 'i'; v: bigint }
  | { k: 'o' }
  | { k: 'n' }
  | { k: 't'; items: V[] }
  | { k: 'd'; map: Map<string, V> }
  | { k: 'inst'; cls: string }
  | { k: 'dtype'; descr: string; elsize?: number; fields?: 'objects' | 'plain' | 'unknown' };
const OTHER: V = { k: 'o' };
const NONE: V = { k: 'n' };
/** Tuples and dicts are tracked (for joblib's array headers and numpy dtypes) up to this size. */
const MAX_TRACKED_ITEMS = 64;
const JOBLIB_WRAPPERS = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);
/** Bytes of a joblib array probed as pickle opcodes (what a plain pickle.load would run). */
const ARRAY_PROBE_BYTES = 64 * 1024;
const MAX_LINE = 64 * 1024;
const MAX_KEPT_STRING = 1024;
const MAX_ANOMALIES = 20;
/** Memo indices beyond what was stored by more than this are not something a pickler writes. */
const MEMO_SLACK = 1_000_000;

export function emptyScan(): PickleScan {
  return { imports: new Map(), unnamedCalls: 0, dynamicImports: 0, extensionImports: 0, anomalies: [], opcodes: 0, frameOverrun: false, joblibArrays: 0 };
}

/**
 * Scan one pickle (up to and including its STOP) from `src` into `scan` (so that consecutive
 * pickles in one file accumulate). Throws FormatError when the pickle is malformed or a
 * bound is hit; what was recorded before that stays in `scan`.
 */
export async function scanPickle(src: ByteSource, scan: PickleScan, limits: PickleLimits = {}): Promise<void> {
  const maxOps = limits.maxOpcodes ?? 50_000_000;
  const maxStack = limits.maxStack ?? 1_000_000;
  const maxMemo = limits.maxMemo ?? 1_000_000;
  const fileFrames = limits.frames === 'file';
  const nesting = limits.nesting ?? 4;
  let stack: V[] = [];
  const metastack: V[][] = [];
  const memo = new Map<number, V>();
  let memoFull = false;
  let first = true;
  /** End of the current FRAME (absolute offset), while inside one. */
  let frameEnd: number | undefined;

  const anomaly = (msg: string) => {
    if (scan.anomalies.length < MAX_ANOMALIES && !scan.anomalies.includes(msg)) scan.anomalies.push(msg);
  };
  /**
   * Before reading an `n`-byte argument: in a frame, an argument that runs past the frame's end
   * is where CPython's readers part ways (see FrameReading).
   */
  const enter = async (n: number) => {
    if (frameEnd === undefined) return;
    if (src.pos >= frameEnd) {
      frameEnd = undefined;
      return;
    }
    if (src.pos + n <= frameEnd) return;
    if (!scan.frameOverrun) {
      anomaly(
        `an argument at offset ${src.pos} runs past the end of its FRAME (offset ${frameEnd}): Python's own unpickler refuses it, the C unpickler reading bytes reads on, and reading a file it skips the rest of the frame (both readings are scanned)`,
      );
    }
    scan.frameOverrun = true;
    if (fileFrames) await src.skip(frameEnd - src.pos);
    frameEnd = undefined;
  };
  const need = async (n: number) => {
    await enter(n);
    if (src.available < n) await src.need(n);
  };
  const skipArg = async (n: number) => {
    await enter(n);
    await src.skip(n);
  };
  const push = (v: V) => {
    if (stack.length >= maxStack) throw new FormatError(`stack deeper than ${maxStack} entries`);
    stack.push(v);
  };
  const pop = (): V => {
    const v = stack.pop();
    if (v === undefined) throw new FormatError(`stack underflow at offset ${src.pos}`);
    return v;
  };
  const popMark = (): V[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw new FormatError(`no mark to pop to at offset ${src.pos}`);
    stack = prev;
    return items;
  };
  const tuple = (items: V[]): V => (items.length <= MAX_TRACKED_ITEMS ? { k: 't', items } : OTHER);
  const setItem = (d: V | undefined, key: V, value: V) => {
    if (d?.k === 'd' && key.k === 's' && (d.map.size < MAX_TRACKED_ITEMS || d.map.has(key.s))) d.map.set(key.s, value);
  };
  /**
   * A newline-terminated argument (protocol 0/1). Returned when it is at most `keep` bytes;
   * a longer one (protocol 0 carries whole arrays as text lines) is skipped, chunk by chunk,
   * and `undefined` returned.
   */
  const line = async (keep: number): Promise<string | undefined> => {
    if (frameEnd !== undefined) {
      // Inside a frame: a line must end within it (else the readers diverge, as for arguments).
      const left = frameEnd - src.pos;
      if (left <= 0) frameEnd = undefined;
      else if (left <= MAX_LINE + 1) {
        const win = await src.peekUpTo(left);
        const i = win.indexOf(0x0a);
        if (i < 0) await enter(left + 1);
      }
    }
    for (;;) {
      const i = src.indexInWindow(0x0a, keep + 1);
      if (i >= 0) return src.take(i + 1).subarray(0, i).toString('latin1');
      if (src.available > keep) break;
      await src.need(src.available + 1);
    }
    for (;;) {
      const i = src.indexInWindow(0x0a, src.available);
      if (i >= 0) {
        await src.skip(i + 1);
        return undefined;
      }
      await src.skip(src.available);
      await src.need(1);
    }
  };
  /** A name or index line that must be short: longer is malformed. */
  const readLine = async (): Promise<string> => {
    const at = src.pos;
    const l = await line(MAX_LINE);
    if (l === undefined) throw new FormatError(`a name or index longer than ${MAX_LINE} bytes at offset ${at}`);
    return l;
  };
  const memoPut = (idx: number | bigint) => {
    const top = stack[stack.length - 1];
    if (top === undefined) throw new FormatError(`memo store with an empty stack at offset ${src.pos}`);
    if (typeof idx === 'bigint' || idx > memo.size + MEMO_SLACK) {
      anomaly(`memo index ${idx} far beyond the ${memo.size} entries stored (picklers number entries from 0; crafted?)`);
      if (typeof idx === 'bigint') return;
    }
    if (memo.size >= maxMemo && !memo.has(idx as number)) {
      if (!memoFull) anomaly(`more than ${maxMemo} memo entries; later ones not tracked`);
      memoFull = true;
      return;
    }
    memo.set(idx as number, top);
  };
  const memoGet = (idx: number | bigint) => {
    const v = typeof idx === 'number' ? memo.get(idx) : undefined;
    if (v === undefined) {
      if (!memoFull) anomaly(`reads memo entry ${idx} that was never stored (a real unpickler would fail here)`);
      push(OTHER);
    } else push(v);
  };
  const addImport = (rawModule: string, name: string): V => {
    const module = normalizeModule(rawModule);
    const key = `${module}.${name}`;
    if (!scan.imports.has(key)) scan.imports.set(key, { module, name, verdict: classifyImport(module, name), calls: 0, directCalls: 0 });
    return { k: 'g', name: key };
  };
  /** Call `callee`; returns what the call builds (tracked for numpy dtypes and joblib wrappers). */
  const call = (callee: V, direct: boolean, args?: V): V => {
    if (callee.k !== 'g') {
      scan.unnamedCalls++;
      return OTHER;
    }
    const imp = scan.imports.get(callee.name)!;
    imp.calls++;
    if (direct) imp.directCalls++;
    if (callee.name === 'numpy.dtype' && args?.k === 't' && args.items[0]?.k === 's') return { k: 'dtype', descr: args.items[0].s };
    // copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state) when state is given.
    if (callee.name === 'copyreg._reconstructor') {
      const base = args?.k === 't' ? args.items[1] : undefined;
      if (base?.k === 'g' && base.name !== 'builtins.object') {
        const b = scan.imports.get(base.name)!;
        b.calls++;
        b.directCalls++;
      } else if (base?.k !== 'g') scan.unnamedCalls++;
    }
    return { k: 'inst', cls: callee.name };
  };
  const lenBytes = async (width: 1 | 4 | 8): Promise<number> => {
    await need(width);
    let n: number;
    if (width === 1) n = src.u8();
    else if (width === 4) n = src.u32(true);
    else {
      const big = src.u64(true);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`a length of ${big} bytes at offset ${src.pos}`);
      n = Number(big);
    }
    if (n > src.remaining) throw new FormatError(`a length of ${n} bytes at offset ${src.pos} runs past the end of the data`);
    return n;
  };
  /** Push a string argument: kept when short (module and attribute names), else an opaque value. */
  const pushText = async (n: number, encoding: 'utf8' | 'latin1') => {
    if (n <= MAX_KEPT_STRING) {
      await need(n);
      push({ k: 's', s: src.take(n).toString(encoding) });
    } else {
      await skipArg(n);
      push(OTHER);
    }
  };
  const parseIntLine = (line: string): bigint | undefined => {
    const t = line.trim().replace(/L$/, '');
    if (t === '00') return 0n;
    if (t === '01') return 1n;
    return /^[-+]?\d{1,4300}$/.test(t) ? BigInt(t) : undefined;
  };
  /**
   * joblib writes each numpy array as a NumpyArrayWrapper object followed, right after its
   * BUILD, by the array itself: raw bytes (after an alignment padding) or, for object arrays,
   * a nested pickle. joblib's unpickler reads them there; so does this scan.
   */
  const joblibArray = async (state: V) => {
    const fail = (why: string): never => {
      throw new FormatError(`joblib array at offset ${src.pos}: ${why}; the rest cannot be located`);
    };
    if (state.k !== 'd') fail('its header is not a dict');
    const m = (state as { map: Map<string, V> }).map;
    const dtype = m.get('dtype');
    const shape = m.get('shape');
    if (dtype?.k !== 'dtype') fail('no numpy dtype in its header');
    const dt = dtype as { descr: string; elsize?: number; fields?: string };
    scan.joblibArrays++;
    if (/^[|<>=]?O/.test(dt.descr)) {
      if (nesting <= 0) fail('object arrays nested too deep');
      await scanPickle(src, scan, { ...limits, nesting: nesting - 1 });
      return;
    }
    if (dt.fields === 'objects' || dt.fields === 'unknown') fail('a structured dtype whose fields may hold objects');
    const itemsize = dt.elsize !== undefined && dt.elsize > 0 ? dt.elsize : dtypeItemSize(dt.descr);
    if (itemsize === undefined) fail(`unknown dtype ${JSON.stringify(dt.descr)}`);
    if (shape?.k !== 't' || !shape.items.every((x) => x.k === 'i' && x.v >= 0n)) fail('its shape is not a tuple of sizes');
    let count = 1n;
    for (const x of (shape as { items: V[] }).items) count *= (x as { v: bigint }).v;
    const align = m.get('numpy_array_alignment_bytes');
    if (align?.k === 'i') {
      await need(1);
      await skipArg(src.u8());
    }
    const bytes = count * BigInt(itemsize!);
    if (bytes > BigInt(Math.min(src.remaining, Number.MAX_SAFE_INTEGER))) fail(`${bytes} bytes of array data run past the end`);
    const n = Number(bytes);
    // A plain pickle.load (not joblib's) would run these bytes as opcodes: scan their start too.
    const probe = await src.peekUpTo(Math.min(n, ARRAY_PROBE_BYTES));
    if (probe.length > 0 && nesting > 0) {
      const sub = emptyScan();
      try {
        await scanPickle(bufferSource(probe), sub, { maxOpcodes: 10_000, nesting: 0 });
      } catch {
        // data, as expected
      }
      for (const [k, imp] of sub.imports) {
        if (!scan.imports.has(k)) scan.imports.set(k, imp);
        anomaly(`joblib array data at offset ${src.pos} reads as pickle opcodes importing ${k} (what a plain pickle.load would run)`);
      }
    }
    await skipArg(n);
  };

  for (;;) {
    if (++scan.opcodes > maxOps) throw new FormatError(`more than ${maxOps} opcodes; not scanned further`);
    await need(1);
    const at = src.pos;
    const op = src.u8();
    const wasFirst = first;
    first = false;
    switch (op) {
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        if (metastack.length > maxStack) throw new FormatError(`marks nested deeper than ${maxStack}`);
        break;
      case 0x2e: // STOP
        pop();
        return;
      case 0x30: // POP
        if (stack.length === 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: {
        // DUP
        const top = stack[stack.length - 1];
        if (top === undefined) throw new FormatError(`DUP on an empty stack at offset ${at}`);
        push(top);
        break;
      }
      case 0x46: // FLOAT
      case 0x4c: // LONG (text)
        await line(0);
        push(OTHER);
        break;
      case 0x49: {
        // INT
        const text = await line(64);
        const v = text === undefined ? undefined : parseIntLine(text);
        push(v === undefined ? OTHER : { k: 'i', v });
        if (wasFirst && v !== undefined) scan.firstInt = v;
        break;
      }
      case 0x4a: // BININT
        await need(4);
        push({ k: 'i', v: BigInt(src.i32le()) });
        break;
      case 0x4b: // BININT1
        await need(1);
        push({ k: 'i', v: BigInt(src.u8()) });
        break;
      case 0x4d: // BININT2
        await need(2);
        push({ k: 'i', v: BigInt(src.u16le()) });
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = await lenBytes(1);
        await need(n);
        const b = src.take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
        push({ k: 'i', v });
        if (wasFirst) scan.firstInt = v;
        break;
      }
      case 0x8b: {
        // LONG4
        await need(4);
        const n = src.i32le();
        if (n < 0) throw new FormatError(`negative LONG4 length at offset ${at}`);
        if (n > src.remaining) throw new FormatError(`a length of ${n} bytes at offset ${at} runs past the end of the data`);
        await skipArg(n);
        push(OTHER);
        break;
      }
      case 0x4e: // NONE
        push(NONE);
        break;
      case 0x7d: // EMPTY_DICT
        push({ k: 'd', map: new Map() });
        break;
      case 0x29: // EMPTY_TUPLE
        push({ k: 't', items: [] });
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
      case 0x5d: // EMPTY_LIST
      case 0x8f: // EMPTY_SET
      case 0x97: // NEXT_BUFFER
        push(OTHER);
        break;
      case 0x47: // BINFLOAT
        await skipArg(8);
        push(OTHER);
        break;
      case 0x50: // PERSID
        await line(0);
        push(OTHER);
        break;
      case 0x51: {
        // BINPERSID: the loader's persistent_load(pid). torch's legacy loader returns the class
        // inside a ('module', cls, file, source) id (how legacy torch.save pickles nn.Module classes).
        const pid = pop();
        push(pid.k === 't' && pid.items[0]?.k === 's' && pid.items[0].s === 'module' && pid.items[1]?.k === 'g' ? pid.items[1] : OTHER);
        break;
      }
      case 0x53: {
        // STRING: a quoted Python 2 str literal
        const text = await line(MAX_KEPT_STRING + 2);
        const m = text === undefined ? null : /^(['"])(.*)\1$/.exec(text.trim());
        push(m && !m[2]!.includes('\\') ? { k: 's', s: m[2]! } : OTHER);
        break;
      }
      case 0x56: {
        // UNICODE (raw-unicode-escape text)
        const text = await line(MAX_KEPT_STRING);
        push(text !== undefined && !text.includes('\\') ? { k: 's', s: text } : OTHER);
        break;
      }
      case 0x54: // BINSTRING
        await pushText(await lenBytes(4), 'latin1');
        break;
      case 0x55: // SHORT_BINSTRING
        await pushText(await lenBytes(1), 'latin1');
        break;
      case 0x58: // BINUNICODE
        await pushText(await lenBytes(4), 'utf8');
        break;
      case 0x8c: // SHORT_BINUNICODE
        await pushText(await lenBytes(1), 'utf8');
        break;
      case 0x8d: // BINUNICODE8
        await pushText(await lenBytes(8), 'utf8');
        break;
      // Bytes payloads: the C unpickler reads them with readinto, straight on past a frame's end (no divergence).
      case 0x42: // BINBYTES
        await src.skip(await lenBytes(4));
        push(OTHER);
        break;
      case 0x43: // SHORT_BINBYTES
        await src.skip(await lenBytes(1));
        push(OTHER);
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        await src.skip(await lenBytes(8));
        push(OTHER);
        break;
      case 0x61: // APPEND
        pop();
        break;
      case 0x65: // APPENDS
      case 0x90: // ADDITEMS
        popMark();
        break;
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = stack[stack.length - 1];
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i]!, items[i + 1]!);
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state) or obj.__dict__.update(state)
        const state = pop();
        const obj = stack[stack.length - 1];
        if (obj?.k === 'dtype' && state.k === 't') {
          // numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
          const elsize = state.items[5];
          if (elsize?.k === 'i') obj.elsize = Number(elsize.v);
          const fields = state.items[4];
          if (fields && fields.k !== 'n') obj.fields = fieldsHoldObjects(fields, state.items[7]);
          if (state.items[2] && state.items[2].k !== 'n') obj.fields = 'unknown';
        } else if (obj?.k === 'inst' && JOBLIB_WRAPPERS.has(obj.cls)) {
          await joblibArray(state);
          stack[stack.length - 1] = OTHER;
        }
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(stack[stack.length - 1], key, value);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d: V = { k: 'd', map: new Map() };
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i]!, items[i + 1]!);
        push(d);
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x6c: // LIST
      case 0x91: // FROZENSET
        popMark();
        push(OTHER);
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x63: {
        // GLOBAL module\nname\n
        const module = await readLine();
        const name = await readLine();
        push(addImport(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (module.k === 's' && name.k === 's') push(addImport(module.s, name.s));
        else {
          scan.dynamicImports++;
          push(OTHER);
        }
        break;
      }
      case 0x69: {
        // INST module\nname\n: import and call with the items above the mark
        const module = await readLine();
        const name = await readLine();
        popMark();
        const g = addImport(module, name);
        push(call(g, true));
        break;
      }
      case 0x6f: {
        // OBJ: the first item above the mark is the class, called with the rest
        const items = popMark();
        const cls = items[0];
        if (!cls) throw new FormatError(`OBJ without a class at offset ${at}`);
        push(call(cls, true));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = pop();
        push(call(pop(), true, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        push(call(pop(), false, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop();
        const args = pop();
        push(call(pop(), false, args));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        await skipArg(op === 0x82 ? 1 : op === 0x83 ? 2 : 4);
        scan.extensionImports++;
        push(OTHER);
        break;
      case 0x67: {
        // GET (text index)
        const idx = parseIntLine(await readLine());
        if (idx === undefined) throw new FormatError(`GET with an invalid index at offset ${at}`);
        memoGet(idx <= BigInt(Number.MAX_SAFE_INTEGER) && idx >= 0n ? Number(idx) : idx);
        break;
      }
      case 0x68: // BINGET
        await need(1);
        memoGet(src.u8());
        break;
      case 0x6a: // LONG_BINGET
        await need(4);
        memoGet(src.u32(true));
        break;
      case 0x70: {
        // PUT (text index)
        const idx = parseIntLine(await readLine());
        if (idx === undefined || idx < 0n) throw new FormatError(`PUT with an invalid index at offset ${at}`);
        memoPut(idx <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(idx) : idx);
        break;
      }
      case 0x71: // BINPUT
        await need(1);
        memoPut(src.u8());
        break;
      case 0x72: // LONG_BINPUT
        await need(4);
        memoPut(src.u32(true));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x80: {
        // PROTO
        await need(1);
        const v = src.u8();
        if (v > 5) throw new FormatError(`unsupported pickle protocol ${v}`);
        if (!wasFirst) anomaly(`PROTO opcode in the middle of the pickle (offset ${at})`);
        scan.protocol ??= v;
        first = true; // the first value after PROTO is still "first"
        break;
      }
      case 0x95: {
        // FRAME: an 8-byte length, then that many bytes of opcodes
        const n = await lenBytes(8);
        // A frame that starts inside another and runs past its end: the readers diverge too.
        await enter(n);
        frameEnd = src.pos + n;
        break;
      }
      case 0x98: // READONLY_BUFFER
        pop();
        push(OTHER);
        break;
      default:
        throw new FormatError(`invalid pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
    }
  }
}

/**
 * Whether a structured dtype's fields ({name: (dtype, offset[, title])}) hold Python objects:
 * `plain` only when every field is a tracked dtype without objects and the dtype's flags
 * (bit 0: holds references) agree; anything untracked or contradictory is `unknown`.
 */
function fieldsHoldObjects(fields: V, flags: V | undefined): 'objects' | 'plain' | 'unknown' {
  if (fields.k !== 'd' || flags?.k !== 'i') return 'unknown';
  let objects = false;
  for (const f of fields.map.values()) {
    const dt = f.k === 't' ? f.items[0] : undefined;
    if (dt?.k !== 'dtype') return 'unknown';
    if (dt.fields === 'unknown') return 'unknown';
    if (dt.fields === 'objects' || /^[|<>=]?O/.test(dt.descr)) objects = true;
  }
  const flagged = (flags.v & 1n) === 1n;
  if (flagged !== objects) return 'unknown';
  return objects ? 'objects' : 'plain';
}

/** Bytes per item of a numpy dtype string ('<f8', 'U10', 'b1', ...), or undefined. */
export function dtypeItemSize(descr: string): number | undefined {
  const m = /^[|<>=]?([?bhilqpBHILQPefdgFDGbiufcmMSaUV])(\d*)(?:\[[a-zA-Z0-9]+\])?$/.exec(descr);
  if (!m) return undefined;
  const [, t, digits] = m;
  const n = digits ? Number(digits) : undefined;
  if (t === 'U') return n === undefined ? undefined : n * 4;
  if ('SaV'.includes(t!)) return n;
  if (n !== undefined) return 'biufcmM'.includes(t!) ? n : undefined;
  const single: Record<string, number> = { '?': 1, b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, p: 8, P: 8, e: 2, f: 4, d: 8, g: 16, F: 8, D: 16, G: 32 };
  return single[t!];
}

/** Could these bytes start a pickle? (PROTO 2–5, or a protocol 0/1 opening opcode.) */
export function looksLikePickle(head: Buffer): boolean {
  if (head.length < 2) return false;
  if (head[0] === 0x80) return head[1]! >= 2 && head[1]! <= 5;
  // Protocol 0/1 pickles open with a mark, an empty container, a global or a constant.
  return [0x28, 0x7d, 0x5d, 0x29, 0x63, 0x4e].includes(head[0]!) && head.length > 2;
}
