import { FormatError } from './reader.js';

/**
 * LZMA decoders for the `.xz` container (LZMA2 filter only: what Python's lzma and joblib's
 * 'xz' write) and the legacy `.lzma` "alone" format (joblib's 'lzma'), written from the format
 * descriptions. Bounded: the dictionary is capped (MAX_DICT), and output is produced chunk by
 * chunk (a generator), so the caller's cap stops a bomb. Checks (CRC32/CRC64/SHA-256) are not
 * verified: corrupt data yields bytes the pickle scan rejects, or a FormatError here.
 */

const MAX_DICT = 128 * 1024 * 1024;
const OUT_CHUNK = 1024 * 1024;

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {
    if (this.byte() !== 0) throw new FormatError('LZMA range coder does not start with 0');
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0;
    if (this.code === this.range) throw new FormatError('LZMA data is corrupt');
  }
  private byte(): number {
    if (this.pos >= this.buf.length) throw new FormatError('LZMA data ends early (truncated?)');
    return this.buf[this.pos++]!;
  }
  private normalize() {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    this.normalize();
    return b;
  }
  direct(n: number): number {
    let r = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let t = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        t = 1;
      }
      r = ((r << 1) | t) >>> 0;
      this.normalize();
    }
    return r;
  }
  get finishedOk(): boolean {
    return this.code === 0;
  }
}

function bitTree(rc: RangeDecoder, probs: Uint16Array, base: number, bits: number): number {
  let m = 1;
  for (let i = 0; i < bits; i++) m = (m << 1) | rc.bit(probs, base + m);
  return m - (1 << bits);
}

function bitTreeReverse(rc: RangeDecoder, probs: Uint16Array, base: number, bits: number): number {
  let m = 1;
  let sym = 0;
  for (let i = 0; i < bits; i++) {
    const b = rc.bit(probs, base + m);
    m = (m << 1) | b;
    sym |= b << i;
  }
  return sym;
}

class LenDecoder {
  choice = new Uint16Array(2).fill(1024);
  low = new Uint16Array(16 << 3).fill(1024);
  mid = new Uint16Array(16 << 3).fill(1024);
  high = new Uint16Array(256).fill(1024);
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return bitTree(rc, this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + bitTree(rc, this.mid, posState << 3, 3);
    return 16 + bitTree(rc, this.high, 0, 8);
  }
}

/** The dictionary: a circular window, plus the bytes produced since the last flush. */
class Window {
  buf: Uint8Array;
  pos = 0;
  full = false;
  total = 0;
  private out = Buffer.allocUnsafe(OUT_CHUNK);
  private outLen = 0;
  constructor(size: number) {
    if (size > MAX_DICT) throw new FormatError(`LZMA dictionary of ${size} bytes, over the ${MAX_DICT}-byte limit`);
    this.buf = new Uint8Array(Math.max(size, 4096));
  }
  put(b: number) {
    this.buf[this.pos++] = b;
    if (this.pos === this.buf.length) {
      this.pos = 0;
      this.full = true;
    }
    this.total++;
    if (this.outLen === this.out.length) {
      const bigger = Buffer.allocUnsafe(this.out.length * 2);
      this.out.copy(bigger, 0, 0, this.outLen);
      this.out = bigger;
    }
    this.out[this.outLen++] = b;
  }
  /** Bytes produced since the last flush. */
  get pendingBytes(): number {
    return this.outLen;
  }
  get(dist: number): number {
    let i = this.pos - dist - 1;
    if (i < 0) i += this.buf.length;
    return this.buf[i]!;
  }
  has(dist: number): boolean {
    return this.full || dist < this.pos;
  }
  reset() {
    this.pos = 0;
    this.full = false;
  }
  flush(): Buffer {
    const b = Buffer.from(this.out.subarray(0, this.outLen));
    this.outLen = 0;
    return b;
  }
}

/** Probabilities and state of the LZMA decoder (kept across LZMA2 chunks unless reset). */
class LzmaState {
  lc = 3;
  lp = 0;
  pb = 2;
  literal = new Uint16Array(0x300 << 3);
  isMatch = new Uint16Array(192);
  isRep = new Uint16Array(12);
  isRepG0 = new Uint16Array(12);
  isRepG1 = new Uint16Array(12);
  isRepG2 = new Uint16Array(12);
  isRep0Long = new Uint16Array(192);
  posSlot = new Uint16Array(4 << 6);
  posDecoders = new Uint16Array(115);
  align = new Uint16Array(16);
  len = new LenDecoder();
  repLen = new LenDecoder();
  state = 0;
  reps = [0, 0, 0, 0];

  setProps(props: number) {
    if (props >= 225) throw new FormatError('LZMA properties byte is invalid');
    this.lc = props % 9;
    const rest = Math.floor(props / 9);
    this.lp = rest % 5;
    this.pb = Math.floor(rest / 5);
    if (this.lc + this.lp > 12) throw new FormatError('LZMA lc + lp too large');
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  reset() {
    for (const a of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posDecoders, this.align]) a.fill(1024);
    this.len = new LenDecoder();
    this.repLen = new LenDecoder();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  /**
   * Decode until `limit` bytes were produced (LZMA2 chunk, or an alone stream with a known
   * size) or the end marker; yields output every OUT_CHUNK bytes. Returns true at an end marker.
   */
  *decode(rc: RangeDecoder, win: Window, limit: number | undefined): Generator<Buffer, boolean> {
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    let produced = 0;
    while (limit === undefined || produced < limit) {
      if (win.pendingBytes >= OUT_CHUNK) yield win.flush();
      const posState = win.total & pbMask;
      const s = this.state;
      if (rc.bit(this.isMatch, (s << 4) + posState) === 0) {
        this.decodeLiteral(rc, win, lpMask);
        produced++;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, s) !== 0) {
        len = this.decodeRep(rc, win, posState);
        if (len < 0) {
          produced++; // a short rep: one byte, already written
          continue;
        }
      } else {
        len = this.decodeMatch(rc, posState);
        if (len < 0) return true; // end marker
      }
      produced = this.copyMatch(win, len + 2, produced, limit);
    }
    return false;
  }

  /** A literal byte (after a match: coded against the byte at the last distance). */
  private decodeLiteral(rc: RangeDecoder, win: Window, lpMask: number): void {
    const s = this.state;
    const prev = win.total > 0 && win.has(0) ? win.get(0) : 0;
    const litState = ((win.total & lpMask) << this.lc) + (prev >>> (8 - this.lc));
    const base = 0x300 * litState;
    let sym = 1;
    if (s >= 7) {
      let match = win.get(this.reps[0]!);
      do {
        const matchBit = (match >>> 7) & 1;
        match <<= 1;
        const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
        sym = (sym << 1) | b;
        if (matchBit !== b) break;
      } while (sym < 0x100);
    }
    while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
    win.put(sym & 0xff);
    this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
  }

  /** A match at one of the last four distances: its length minus 2, or -1 for a short rep (one byte, written here). */
  private decodeRep(rc: RangeDecoder, win: Window, posState: number): number {
    const s = this.state;
    if (win.total === 0) throw new FormatError('LZMA repeat match before any data');
    if (rc.bit(this.isRepG0, s) === 0) {
      if (rc.bit(this.isRep0Long, (s << 4) + posState) === 0) {
        this.state = s < 7 ? 9 : 11;
        win.put(win.get(this.reps[0]!));
        return -1;
      }
    } else {
      let dist: number;
      if (rc.bit(this.isRepG1, s) === 0) dist = this.reps[1]!;
      else {
        if (rc.bit(this.isRepG2, s) === 0) dist = this.reps[2]!;
        else {
          dist = this.reps[3]!;
          this.reps[3] = this.reps[2]!;
        }
        this.reps[2] = this.reps[1]!;
      }
      this.reps[1] = this.reps[0]!;
      this.reps[0] = dist;
    }
    const len = this.repLen.decode(rc, posState);
    this.state = s < 7 ? 8 : 11;
    return len;
  }

  /** A match at a new distance: its length minus 2, or -1 at the end marker. */
  private decodeMatch(rc: RangeDecoder, posState: number): number {
    const s = this.state;
    this.reps[3] = this.reps[2]!;
    this.reps[2] = this.reps[1]!;
    this.reps[1] = this.reps[0]!;
    const len = this.len.decode(rc, posState);
    this.state = s < 7 ? 7 : 10;
    const lenState = Math.min(len, 3);
    const slot = bitTree(rc, this.posSlot, lenState << 6, 6);
    let dist: number;
    if (slot < 4) dist = slot;
    else {
      const direct = (slot >>> 1) - 1;
      dist = ((2 | (slot & 1)) << direct) >>> 0;
      if (slot < 14) dist = (dist + bitTreeReverse(rc, this.posDecoders, dist - slot, direct)) >>> 0;
      else {
        dist = (dist + ((rc.direct(direct - 4) << 4) >>> 0)) >>> 0;
        dist = (dist + bitTreeReverse(rc, this.align, 0, 4)) >>> 0;
      }
      if (dist === 0xffffffff) return -1;
    }
    this.reps[0] = dist;
    return len;
  }

  /** Copy `len` bytes from the last distance; returns the bytes produced so far. */
  private copyMatch(win: Window, len: number, produced: number, limit: number | undefined): number {
    const d = this.reps[0]!;
    if (!win.has(d) || d >= win.buf.length) throw new FormatError('LZMA match distance beyond the data');
    for (let i = 0; i < len; i++) {
      if (limit !== undefined && produced >= limit) throw new FormatError('LZMA match runs past the chunk');
      win.put(win.get(d));
      produced++;
    }
    return produced;
  }
}

/** The `.lzma` "alone" format: properties, dictionary size, 64-bit size (all ones: unknown, end marker). */
export function* unlzmaAlone(input: Buffer): Generator<Buffer> {
  if (input.length < 13) throw new FormatError('LZMA header truncated');
  const st = new LzmaState();
  st.setProps(input[0]!);
  st.reset();
  const dict = input.readUInt32LE(1);
  const size = input.readBigUInt64LE(5);
  const win = new Window(dict);
  const rc = new RangeDecoder(input, 13);
  const known = size === 0xffffffffffffffffn ? undefined : size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
  yield* st.decode(rc, win, known);
  if (win.pendingBytes) yield win.flush();
}

function varint(buf: Buffer, at: { pos: number }): number {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at.pos >= buf.length) throw new FormatError('xz header truncated');
    const b = buf[at.pos++]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return v;
  }
  throw new FormatError('xz varint too long');
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The `.xz` container: blocks of LZMA2 (other filters are refused), streams one after another. */
export function* unxz(input: Buffer): Generator<Buffer> {
  let p = 0;
  let streams = 0;
  while (p + 12 <= input.length) {
    if (!input.subarray(p, p + 6).equals(XZ_MAGIC)) {
      if (streams > 0 && input.subarray(p).every((b) => b === 0)) return; // stream padding
      if (streams > 0) return;
      throw new FormatError('not an xz stream');
    }
    streams++;
    const check = input[p + 7]! & 0x0f;
    const checkSize = check === 0 ? 0 : check <= 3 ? 4 : check <= 6 ? 8 : check <= 9 ? 16 : check <= 12 ? 32 : 64;
    p += 12;
    for (;;) {
      if (p >= input.length) throw new FormatError('xz stream truncated');
      const hsize = input[p]!;
      if (hsize === 0) {
        // Index, then the 12-byte footer: skip by the footer's backward size.
        const at = { pos: p + 1 };
        const records = varint(input, at);
        for (let i = 0; i < records && i < 1_000_000; i++) {
          varint(input, at);
          varint(input, at);
        }
        p = at.pos;
        while (p % 4 !== 0) p++;
        p += 4 + 12; // index CRC32, stream footer
        break;
      }
      const headerEnd = p + (hsize + 1) * 4;
      if (headerEnd > input.length) throw new FormatError('xz block header truncated');
      const flags = input[p + 1]!;
      const at = { pos: p + 2 };
      if (flags & 0x40) varint(input, at);
      if (flags & 0x80) varint(input, at);
      const filters = (flags & 0x03) + 1;
      if (filters !== 1) throw new FormatError('xz block uses filters besides LZMA2 (not supported)');
      const id = varint(input, at);
      const propsSize = varint(input, at);
      if (id !== 0x21 || propsSize !== 1) throw new FormatError(`xz filter 0x${id.toString(16)} is not supported (LZMA2 only)`);
      const dictBits = input[at.pos]! & 0x3f;
      if (dictBits > 40) throw new FormatError('xz LZMA2 dictionary size invalid');
      const dict = dictBits === 40 ? 0xffffffff : (2 | (dictBits & 1)) * 2 ** ((dictBits >>> 1) + 11);
      p = headerEnd;
      const start = p;
      p = yield* lzma2(input, p, dict);
      while ((p - start) % 4 !== 0) p++;
      p += checkSize;
    }
    while (p < input.length && p % 4 === 0 && input.readUInt32LE(p) === 0 && p + 4 <= input.length) p += 4;
  }
}

/** LZMA2 chunks from `p` to the end marker; returns the offset after it. */
function* lzma2(input: Buffer, p: number, dict: number): Generator<Buffer, number> {
  const win = new Window(Math.min(dict, MAX_DICT + 1));
  const st = new LzmaState();
  let propsSet = false;
  for (;;) {
    if (p >= input.length) throw new FormatError('LZMA2 data truncated');
    const ctrl = input[p++]!;
    if (ctrl === 0x00) {
      if (win.pendingBytes) yield win.flush();
      return p;
    }
    if (ctrl === 0x01 || ctrl === 0x02) {
      if (p + 2 > input.length) throw new FormatError('LZMA2 data truncated');
      const size = input.readUInt16BE(p) + 1;
      p += 2;
      if (ctrl === 0x01) win.reset();
      if (p + size > input.length) throw new FormatError('LZMA2 data truncated');
      for (let i = 0; i < size; i++) win.put(input[p + i]!);
      p += size;
      if (win.pendingBytes >= OUT_CHUNK) yield win.flush();
      continue;
    }
    if (ctrl < 0x80) throw new FormatError(`LZMA2 control byte 0x${ctrl.toString(16)} is invalid`);
    if (p + 4 > input.length) throw new FormatError('LZMA2 data truncated');
    const usize = ((ctrl & 0x1f) << 16) + input.readUInt16BE(p) + 1;
    const csize = input.readUInt16BE(p + 2) + 1;
    p += 4;
    const reset = (ctrl >>> 5) & 3;
    if (reset === 3) win.reset();
    if (reset >= 2) {
      st.setProps(input[p++]!);
      propsSet = true;
    }
    if (!propsSet) throw new FormatError('LZMA2 chunk without properties');
    if (reset >= 1) st.reset();
    const end = p + csize;
    if (end > input.length) throw new FormatError('LZMA2 data truncated');
    const rc = new RangeDecoder(input.subarray(0, end), p);
    const marker = yield* st.decode(rc, win, usize);
    if (marker) throw new FormatError('LZMA2 chunk holds an end marker');
    p = end;
  }
}
