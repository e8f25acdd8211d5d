import { FormatError } from './reader.js';

/**
 * A bzip2 decoder (joblib's 'bz2' compressor, `.pkl.bz2`), written from the format: stream
 * header `BZh1`–`BZh9`, blocks of Huffman-coded MTF/RLE2 symbols over a Burrows–Wheeler
 * transform, RLE1 on output, concatenated streams. Bounded: a block holds at most the
 * 900 kB its header allows; output is produced block by block (a generator), so the caller's
 * cap stops a bomb after one block. CRCs are not checked (a corrupt stream yields bytes the
 * pickle scan rejects, or a FormatError here).
 */

class Bits {
  private next = 0;
  private acc = 0;
  private accBits = 0;
  constructor(private readonly buf: Buffer) {}
  get exhausted(): boolean {
    return this.next >= this.buf.length && this.accBits === 0;
  }
  private fill(n: number) {
    while (this.accBits < n) {
      if (this.next >= this.buf.length) throw new FormatError('bzip2 data ends early (truncated?)');
      this.acc = ((this.acc << 8) | this.buf[this.next++]!) >>> 0;
      this.accBits += 8;
    }
  }
  bit(): number {
    if (this.accBits === 0) this.fill(1);
    this.accBits--;
    return (this.acc >>> this.accBits) & 1;
  }
  /** Up to 32 bits, most significant first. */
  bits(n: number): number {
    if (n > 24) return ((this.bits(n - 16) * 65536) + this.bits(16)) >>> 0;
    this.fill(n);
    this.accBits -= n;
    const v = (this.acc >>> this.accBits) & ((1 << n) - 1);
    this.acc &= (1 << this.accBits) - 1;
    return v;
  }
  alignToByte(): void {
    this.accBits -= this.accBits % 8;
    this.acc &= (1 << this.accBits) - 1;
  }
}

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;

export function* bunzip2(input: Buffer): Generator<Buffer> {
  const br = new Bits(input);
  let streams = 0;
  for (;;) {
    if (br.exhausted) return;
    if (br.bits(8) !== 0x42 || br.bits(8) !== 0x5a || br.bits(8) !== 0x68) {
      if (streams > 0) return; // trailing bytes after the last stream
      throw new FormatError('not a bzip2 stream');
    }
    const level = br.bits(8) - 0x30;
    if (level < 1 || level > 9) throw new FormatError(`bzip2 block size ${level} is invalid`);
    streams++;
    const maxBlock = level * 100_000;
    const tt = new Uint32Array(maxBlock);
    for (;;) {
      const hi = br.bits(24);
      const lo = br.bits(24);
      if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
        br.bits(32); // combined CRC
        br.alignToByte();
        break;
      }
      if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw new FormatError('bzip2 block magic missing (corrupt data)');
      yield decodeBlock(br, tt, maxBlock);
    }
  }
}

/** One canonical Huffman table (by code length), as bzip2 stores it. */
interface HuffmanTable {
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
  minLen: number;
  maxLen: number;
}

/** A block's coding: which byte values occur, its Huffman tables, and which table codes each group of 50 symbols. */
interface BlockCoding {
  seqToUnseq: number[];
  tables: HuffmanTable[];
  selectors: Uint8Array;
}

/** One block: header → symbol map → Huffman tables → MTF/RLE2 symbols → inverse BWT → RLE1. */
function decodeBlock(br: Bits, tt: Uint32Array, maxBlock: number): Buffer {
  br.bits(32); // block CRC
  if (br.bit()) throw new FormatError('randomised bzip2 blocks are not supported');
  const origPtr = br.bits(24);
  const coding = readCoding(br);
  const { n, counts } = decodeSymbols(br, coding, tt, maxBlock);
  if (origPtr >= n) throw new FormatError('bzip2 block origin pointer out of range');
  inverseBwt(tt, n, counts);
  const out = undoRle1(tt, n, origPtr);
  // Clear the upper bits for the next block.
  tt.fill(0, 0, n);
  return out;
}

function readCoding(br: Bits): BlockCoding {
  const seqToUnseq = readSymbolMap(br);
  const alphaSize = seqToUnseq.length + 2;
  const nGroups = br.bits(3);
  if (nGroups < 2 || nGroups > 6) throw new FormatError('bzip2 block has an invalid number of Huffman tables');
  const nSelectors = br.bits(15);
  if (nSelectors < 1) throw new FormatError('bzip2 block has no selectors');
  const selectors = readSelectors(br, nGroups, nSelectors);
  const tables: HuffmanTable[] = [];
  for (let t = 0; t < nGroups; t++) tables.push(readHuffmanTable(br, alphaSize));
  return { seqToUnseq, tables, selectors };
}

/** Symbol map: which byte values occur (16 ranges of 16). */
function readSymbolMap(br: Bits): number[] {
  const used = br.bits(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (used & (0x8000 >>> i)) {
      const bits = br.bits(16);
      for (let j = 0; j < 16; j++) if (bits & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
    }
  }
  if (seqToUnseq.length === 0) throw new FormatError('bzip2 block uses no symbols');
  return seqToUnseq;
}

/** Selectors, MTF-coded in unary. */
function readSelectors(br: Bits, nGroups: number, nSelectors: number): Uint8Array {
  const mtfGroups = Uint8Array.from({ length: nGroups }, (_, i) => i);
  const selectors = new Uint8Array(nSelectors);
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (br.bit()) {
      j++;
      if (j >= nGroups) throw new FormatError('bzip2 selector out of range');
    }
    const v = mtfGroups[j]!;
    mtfGroups.copyWithin(1, 0, j);
    mtfGroups[0] = v;
    selectors[i] = v;
  }
  return selectors;
}

/** A Huffman table: delta-coded code lengths, then the canonical decoding tables. */
function readHuffmanTable(br: Bits, alphaSize: number): HuffmanTable {
  const lens = new Uint8Array(alphaSize);
  let len = br.bits(5);
  for (let s = 0; s < alphaSize; s++) {
    for (;;) {
      if (len < 1 || len > 20) throw new FormatError('bzip2 Huffman code length out of range');
      if (!br.bit()) break;
      len += br.bit() ? -1 : 1;
    }
    lens[s] = len;
  }
  let minLen = 32;
  let maxLen = 0;
  for (const l of lens) {
    if (l < minLen) minLen = l;
    if (l > maxLen) maxLen = l;
  }
  const perm = new Int32Array(alphaSize);
  let pp = 0;
  for (let l = minLen; l <= maxLen; l++) for (let s = 0; s < alphaSize; s++) if (lens[s] === l) perm[pp++] = s;
  const count = new Int32Array(22);
  for (const l of lens) count[l]!++;
  const limit = new Int32Array(22).fill(-1);
  const base = new Int32Array(22);
  let code = 0;
  let index = 0;
  for (let l = minLen; l <= maxLen; l++) {
    base[l] = index - code;
    code += count[l]!;
    index += count[l]!;
    limit[l] = code - 1;
    code <<= 1;
  }
  return { limit, base, perm, minLen, maxLen };
}

/** The next Huffman-coded symbol. */
function readSymbol(br: Bits, tab: HuffmanTable): number {
  let len = tab.minLen;
  let code = br.bits(len);
  while (len <= tab.maxLen && code > tab.limit[len]!) {
    len++;
    code = (code << 1) | br.bit();
  }
  if (len > tab.maxLen) throw new FormatError('bzip2 Huffman code invalid');
  const sym = tab.perm[tab.base[len]! + code]!;
  if (sym === undefined) throw new FormatError('bzip2 Huffman code invalid');
  return sym;
}

/** Symbols → MTF/RLE2 decode into `tt` (the block's bytes) and each byte value's count. */
function decodeSymbols(br: Bits, coding: BlockCoding, tt: Uint32Array, maxBlock: number): { n: number; counts: Int32Array } {
  const { seqToUnseq, tables, selectors } = coding;
  const mtf = Uint8Array.from({ length: 256 }, (_, i) => i);
  const counts = new Int32Array(256);
  const eob = seqToUnseq.length + 1;
  let n = 0;
  let group = -1;
  let groupLeft = 0;
  let runLength = 0;
  let runBit = 1;
  const flushRun = () => {
    if (runLength === 0) return;
    const b = seqToUnseq[mtf[0]!]!;
    if (n + runLength > maxBlock) throw new FormatError('bzip2 block larger than its header allows');
    counts[b]! += runLength;
    for (let k = 0; k < runLength; k++) tt[n++] = b;
    runLength = 0;
    runBit = 1;
  };
  for (;;) {
    if (groupLeft === 0) {
      group++;
      if (group >= selectors.length) throw new FormatError('bzip2 block runs out of selectors');
      groupLeft = 50;
    }
    groupLeft--;
    const sym = readSymbol(br, tables[selectors[group]!]!);
    if (sym <= 1) {
      runLength += (sym + 1) * runBit;
      runBit <<= 1;
      if (runLength > maxBlock) throw new FormatError('bzip2 run longer than the block');
      continue;
    }
    flushRun();
    if (sym === eob) break;
    const idx = sym - 1;
    if (idx >= seqToUnseq.length) throw new FormatError('bzip2 symbol out of range');
    const v = mtf[idx]!;
    mtf.copyWithin(1, 0, idx);
    mtf[0] = v;
    const b = seqToUnseq[v]!;
    if (n >= maxBlock) throw new FormatError('bzip2 block larger than its header allows');
    counts[b]!++;
    tt[n++] = b;
  }
  return { n, counts };
}

/** Inverse BWT: each entry of `tt` gets the index of its successor in its upper 24 bits. */
function inverseBwt(tt: Uint32Array, n: number, counts: Int32Array): void {
  const cftab = new Int32Array(257);
  for (let i = 0; i < 256; i++) cftab[i + 1] = cftab[i]! + counts[i]!;
  for (let i = 0; i < n; i++) {
    const b = tt[i]! & 0xff;
    tt[cftab[b]!]! |= i << 8;
    cftab[b]!++;
  }
}

/** Walk the transform from `origPtr`, undoing RLE1 (4 equal bytes then a repeat count). */
function undoRle1(tt: Uint32Array, n: number, origPtr: number): Buffer {
  let out = Buffer.allocUnsafe(n + 1024);
  let len = 0;
  const emit = (b: number) => {
    if (len === out.length) {
      const bigger = Buffer.allocUnsafe(out.length * 2);
      out.copy(bigger, 0, 0, len);
      out = bigger;
    }
    out[len++] = b;
  };
  let pos = tt[origPtr]! >>> 8;
  let last = -1;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const entry = tt[pos]!;
    const b = entry & 0xff;
    pos = entry >>> 8;
    if (same === 4) {
      for (let k = 0; k < b; k++) emit(last);
      same = 0;
      last = -1;
      continue;
    }
    if (b === last) same++;
    else {
      last = b;
      same = 1;
    }
    emit(b);
  }
  return out.subarray(0, len);
}
