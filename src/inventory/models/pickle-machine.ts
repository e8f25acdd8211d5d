import { classifyImport, normalizeModule } from './pickle-policy.js';
import type { NestedBytes, PickleLimits, PickleScan } from './pickle-scan.js';
import { type ByteSource, FormatError } from './reader.js';

/**
 * The pickle opcode machine's state and primitives: an abstract stack (strings, imported
 * callables, integers, "something else"; marks in `metastack`), a bounded memo, the FRAME the
 * reader is in, and the bounded argument readers every opcode uses. What each opcode does is
 * the opcode table's (pickle-opcodes.ts); this file only keeps the machine honest: every bound
 * (stack depth, memo entries, line and string lengths) and every anomaly lives here.
 */

/** Abstract stack values: a short string, an imported callable, an integer, anything else. Marks live in `metastack`. */
export type V =
  | { k: 's'; s: string }
  | { k: 'g'; name: string }
  | { k: 'i'; v: bigint }
  | { k: 'o' }
  | { k: 'n' }
  | { k: 't'; items: V[] }
  | { k: 'd'; map: Map<string, V> }
  | { k: 'inst'; cls: string }
  | ({ k: 'bytes' } & NestedBytes)
  | { k: 'text'; at: number; len: number }
  | { k: 'dtype'; descr: string; elsize?: number; fields?: 'objects' | 'plain' | 'unknown' };
export const OTHER: V = { k: 'o' };
export const NONE: V = { k: 'n' };
/** Tuples and dicts are tracked (for joblib's array headers and numpy dtypes) up to this size. */
const MAX_TRACKED_ITEMS = 64;
const MAX_LINE = 64 * 1024;
export const MAX_KEPT_STRING = 1024;
const MAX_ANOMALIES = 20;
/** Memo indices beyond what was stored by more than this are not something a pickler writes. */
const MEMO_SLACK = 1_000_000;

/** Scan one more pickle into the same scan (a joblib object array's nested pickle, a probe of array bytes). */
export type ScanFn = (src: ByteSource, scan: PickleScan, limits: PickleLimits) => Promise<void>;

export class PickleMachine {
  readonly maxOps: number;
  readonly maxStack: number;
  readonly maxMemo: number;
  readonly fileFrames: boolean;
  readonly nesting: number;
  stack: V[] = [];
  private readonly metastack: V[][] = [];
  private readonly memo = new Map<number, V>();
  private memoFull = false;
  /** The next value pushed is the pickle's first (torch's legacy magic number). */
  first = true;
  /** The opcode being run is the pickle's first value. */
  wasFirst = false;
  stopped = false;
  /** End of the current FRAME (absolute offset), while inside one. */
  frameEnd: number | undefined;

  constructor(
    readonly src: ByteSource,
    readonly scan: PickleScan,
    readonly limits: PickleLimits,
    /** scanPickle itself, for the pickles nested in this one. */
    readonly scanMore: ScanFn,
  ) {
    this.maxOps = limits.maxOpcodes ?? 50_000_000;
    this.maxStack = limits.maxStack ?? 1_000_000;
    this.maxMemo = limits.maxMemo ?? 1_000_000;
    this.fileFrames = limits.frames === 'file';
    this.nesting = limits.nesting ?? 4;
  }

  anomaly(msg: string): void {
    const list = this.scan.anomalies;
    if (list.length < MAX_ANOMALIES && !list.includes(msg)) list.push(msg);
  }

  // ---- Frames and argument bytes ----

  /**
   * Before reading an `n`-byte argument: in a frame, an argument that runs past the frame's end
   * is where CPython's readers part ways (see FrameReading). Undefined when nothing is to wait for.
   */
  enter(n: number): Promise<void> | undefined {
    const end = this.frameEnd;
    if (end === undefined) return undefined;
    if (this.src.pos >= end) {
      this.frameEnd = undefined;
      return undefined;
    }
    if (this.src.pos + n <= end) return undefined;
    return this.overrun(end);
  }

  private async overrun(end: number): Promise<void> {
    if (!this.scan.frameOverrun) {
      this.anomaly(
        `an argument at offset ${this.src.pos} runs past the end of its FRAME (offset ${end}): Python's own unpickler refuses it, the C unpickler reading bytes reads on, and reading a file it skips the rest of the frame (both readings are scanned)`,
      );
    }
    this.scan.frameOverrun = true;
    if (this.fileFrames) await this.src.skip(end - this.src.pos);
    this.frameEnd = undefined;
  }

  /** Make `n` argument bytes available (undefined when they already are: the common, synchronous case). */
  need(n: number): Promise<void> | undefined {
    const entered = this.enter(n);
    if (entered) return entered.then(() => this.fill(n));
    return this.fill(n);
  }

  private fill(n: number): Promise<void> | undefined {
    return this.src.available < n ? this.src.need(n) : undefined;
  }

  async skipArg(n: number): Promise<void> {
    await this.enter(n);
    await this.src.skip(n);
  }

  /** A length argument of `width` bytes, checked against the input before anything is read or skipped. */
  async lenBytes(width: 1 | 4 | 8): Promise<number> {
    const src = this.src;
    await this.need(width);
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
  }

  /**
   * A newline-terminated argument (protocol 0/1). Returned when it is at most `keep` bytes;
   * a longer one (protocol 0 carries whole arrays as text lines) is skipped, chunk by chunk,
   * and `undefined` returned.
   */
  async line(keep: number): Promise<string | undefined> {
    await this.lineInFrame();
    const src = this.src;
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
  }

  /** Inside a frame, a line must end within it (else the readers diverge, as for arguments). */
  private async lineInFrame(): Promise<void> {
    if (this.frameEnd === undefined) return;
    const left = this.frameEnd - this.src.pos;
    if (left <= 0) this.frameEnd = undefined;
    else if (left <= MAX_LINE + 1) {
      const win = await this.src.peekUpTo(left);
      if (win.indexOf(0x0a) < 0) await this.enter(left + 1);
    }
  }

  /** A name or index line that must be short: longer is malformed. */
  async readLine(): Promise<string> {
    const at = this.src.pos;
    const l = await this.line(MAX_LINE);
    if (l === undefined) throw new FormatError(`a name or index longer than ${MAX_LINE} bytes at offset ${at}`);
    return l;
  }

  /** Push a string argument: kept when short (module and attribute names), else an opaque value. */
  async pushText(n: number, encoding: 'utf8' | 'latin1'): Promise<void> {
    if (n <= MAX_KEPT_STRING) {
      await this.need(n);
      this.push({ k: 's', s: this.src.take(n).toString(encoding) });
    } else {
      await this.enter(n);
      const at = this.src.pos;
      await this.src.skip(n);
      this.push(encoding === 'utf8' ? { k: 'text', at, len: n } : OTHER);
    }
  }

  // ---- Stack and marks ----

  push(v: V): void {
    if (this.stack.length >= this.maxStack) throw new FormatError(`stack deeper than ${this.maxStack} entries`);
    this.stack.push(v);
  }

  pop(): V {
    const v = this.stack.pop();
    if (v === undefined) throw new FormatError(`stack underflow at offset ${this.src.pos}`);
    return v;
  }

  /** The top of the stack, if any (not popped). */
  top(): V | undefined {
    return this.stack[this.stack.length - 1];
  }

  mark(): void {
    this.metastack.push(this.stack);
    this.stack = [];
    if (this.metastack.length > this.maxStack) throw new FormatError(`marks nested deeper than ${this.maxStack}`);
  }

  /** The items above the topmost mark (the mark is gone afterwards). */
  popMark(): V[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (!prev) throw new FormatError(`no mark to pop to at offset ${this.src.pos}`);
    this.stack = prev;
    return items;
  }

  // ---- Tracked containers ----

  tuple(items: V[]): V {
    return items.length <= MAX_TRACKED_ITEMS ? { k: 't', items } : OTHER;
  }

  setItem(d: V | undefined, key: V, value: V): void {
    if (d?.k === 'd' && key.k === 's' && (d.map.size < MAX_TRACKED_ITEMS || d.map.has(key.s))) d.map.set(key.s, value);
  }

  /** SETITEMS / DICT: key, value pairs from a mark's items into `d`. */
  setItems(d: V | undefined, items: V[]): void {
    for (let i = 0; i + 1 < items.length; i += 2) this.setItem(d, items[i]!, items[i + 1]!);
  }

  // ---- Memo ----

  memoPut(idx: number | bigint): void {
    const top = this.top();
    const memo = this.memo;
    if (top === undefined) throw new FormatError(`memo store with an empty stack at offset ${this.src.pos}`);
    if (typeof idx === 'bigint' || idx > memo.size + MEMO_SLACK) {
      this.anomaly(`memo index ${idx} far beyond the ${memo.size} entries stored (picklers number entries from 0; crafted?)`);
      if (typeof idx === 'bigint') return;
    }
    if (memo.size >= this.maxMemo && !memo.has(idx as number)) {
      if (!this.memoFull) this.anomaly(`more than ${this.maxMemo} memo entries; later ones not tracked`);
      this.memoFull = true;
      return;
    }
    memo.set(idx as number, top);
  }

  /** MEMOIZE: store under the next index. */
  memoize(): void {
    this.memoPut(this.memo.size);
  }

  memoGet(idx: number | bigint): void {
    const v = typeof idx === 'number' ? this.memo.get(idx) : undefined;
    if (v === undefined) {
      if (!this.memoFull) this.anomaly(`reads memo entry ${idx} that was never stored (a real unpickler would fail here)`);
      this.push(OTHER);
    } else this.push(v);
  }

  // ---- Imports ----

  /** Record an import (GLOBAL, STACK_GLOBAL, INST) and return the callable it names. */
  addImport(rawModule: string, name: string): V {
    const module = normalizeModule(rawModule);
    const key = `${module}.${name}`;
    const imports = this.scan.imports;
    if (!imports.has(key)) imports.set(key, { module, name, verdict: classifyImport(module, name), calls: 0, directCalls: 0 });
    return { k: 'g', name: key };
  }
}
