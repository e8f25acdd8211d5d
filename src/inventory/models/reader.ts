import { type FileHandle, open } from 'node:fs/promises';

/**
 * Bounded, sequential byte readers for the model format readers (GGUF, ONNX, pickle).
 * Model files are hostile input measured in gigabytes: a reader keeps one window of the file
 * in memory, reads forward, and skips (seeks past) the bulk of the bytes it does not need.
 * Reading past the end of the input is an error, never zero padding.
 */

/** A model file is not what it claims to be. The message names the problem, not the file. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** A size cap was reached (a decompression bomb, or more data than a reader may take). */
export class LimitError extends FormatError {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

/** The input ended before the bytes a reader needed. */
export class EndOfDataError extends FormatError {
  constructor(message: string) {
    super(message);
    this.name = 'EndOfDataError';
  }
}

const WINDOW = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export abstract class ByteSource {
  /** Absolute offset of the next byte. */
  pos = 0;
  protected buf: Buffer = EMPTY;
  protected off = 0;

  /** Bytes in the window after the current position. */
  get available(): number {
    return this.buf.length - this.off;
  }

  /** Total size when known (files), else undefined (streams). */
  abstract readonly size: number | undefined;

  /** Bytes left to read when the size is known. */
  get remaining(): number {
    return this.size === undefined ? Number.POSITIVE_INFINITY : this.size - this.pos;
  }

  /** Refill the window so at least `n` bytes follow the current position, or throw at end of input. */
  protected abstract refill(n: number): Promise<void>;

  /** Skip `n` bytes the caller has checked are there (or lets the source check). */
  protected abstract skipBeyond(n: number): Promise<void>;

  async need(n: number): Promise<void> {
    if (this.available < n) await this.refill(n);
  }

  /** Is there at least one more byte? */
  async atEnd(): Promise<boolean> {
    if (this.available > 0) return false;
    try {
      await this.refill(1);
      return false;
    } catch (err) {
      if (err instanceof FormatError) return true;
      throw err;
    }
  }

  // Reads below assume `need()` was awaited for their width.
  u8(): number {
    const v = this.buf[this.off]!;
    this.off += 1;
    this.pos += 1;
    return v;
  }

  u16le(): number {
    const v = this.buf.readUInt16LE(this.off);
    this.off += 2;
    this.pos += 2;
    return v;
  }

  u32(le: boolean): number {
    const v = le ? this.buf.readUInt32LE(this.off) : this.buf.readUInt32BE(this.off);
    this.off += 4;
    this.pos += 4;
    return v;
  }

  i32le(): number {
    const v = this.buf.readInt32LE(this.off);
    this.off += 4;
    this.pos += 4;
    return v;
  }

  u64(le: boolean): bigint {
    const v = le ? this.buf.readBigUInt64LE(this.off) : this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    this.pos += 8;
    return v;
  }

  /** A copy of the next `n` bytes (the caller bounds n). */
  take(n: number): Buffer {
    const v = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    this.pos += n;
    return v;
  }

  /** Index of `byte` in the window from the current position, or -1. */
  indexInWindow(byte: number, limit: number): number {
    const end = Math.min(this.buf.length, this.off + limit);
    const i = this.buf.indexOf(byte, this.off);
    return i < 0 || i >= end ? -1 : i - this.off;
  }

  /** Up to `n` bytes from the current position without consuming them (fewer at the end of the input). */
  async peekUpTo(n: number): Promise<Buffer> {
    const want = Math.min(n, this.remaining);
    try {
      await this.need(want);
    } catch (err) {
      // Short input is fine here; corrupt input (a decompressor failing) is not.
      if (!(err instanceof EndOfDataError)) throw err;
    }
    return this.buf.subarray(this.off, this.off + Math.min(want, this.available));
  }

  /** The rest of the input, chunk by chunk (consumes it). */
  async *rest(): AsyncGenerator<Buffer> {
    while (!(await this.atEnd())) {
      const b = Buffer.from(this.buf.subarray(this.off));
      this.pos += b.length;
      this.off = this.buf.length;
      yield b;
    }
  }

  async readBytes(n: number): Promise<Buffer> {
    await this.need(n);
    return this.take(n);
  }

  async skip(n: number): Promise<void> {
    if (n < 0 || !Number.isFinite(n)) throw new FormatError(`invalid length ${n}`);
    if (n <= this.available) {
      this.off += n;
      this.pos += n;
      return;
    }
    await this.skipBeyond(n);
  }

  abstract close(): Promise<void>;
}

/** A file read through a 1 MiB window with positional reads; skipping seeks. */
export class FileSource extends ByteSource {
  readonly size: number;
  private constructor(
    private readonly fh: FileHandle,
    size: number,
  ) {
    super();
    this.size = size;
  }

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileSource(fh, st.size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  protected async refill(n: number): Promise<void> {
    if (this.pos + n > this.size) {
      throw new FormatError(`unexpected end of file at offset ${this.pos} (needed ${n} more bytes; truncated?)`);
    }
    const want = Math.min(Math.max(n, WINDOW), this.size - this.pos);
    const next = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(next, got, want - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < n) throw new FormatError(`unexpected end of file at offset ${this.pos + got} (file shrank while read?)`);
    this.buf = next.subarray(0, got);
    this.off = 0;
  }

  protected async skipBeyond(n: number): Promise<void> {
    if (this.pos + n > this.size) {
      throw new FormatError(`a length of ${n} bytes at offset ${this.pos} runs past the end of the file (${this.size} bytes)`);
    }
    this.pos += n;
    this.buf = EMPTY;
    this.off = 0;
  }

  /** Jump to an absolute offset. */
  async seek(offset: number): Promise<void> {
    if (offset < 0 || offset > this.size) throw new FormatError(`offset ${offset} is outside the file`);
    this.pos = offset;
    this.buf = EMPTY;
    this.off = 0;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}

/**
 * A stream (a zip entry, decompressed as it is read). Skipping reads and discards; the caller
 * bounds the total bytes a stream may deliver with `maxBytes`.
 */
export class StreamSource extends ByteSource {
  readonly size = undefined;
  private readonly it: AsyncIterator<Buffer>;
  private consumed = 0;

  /** Bytes delivered by the stream so far. */
  get consumedBytes(): number {
    return this.consumed;
  }

  constructor(
    stream: AsyncIterable<Buffer>,
    private readonly maxBytes: number,
    private readonly onClose?: () => void,
    private readonly describeLimit?: () => string,
  ) {
    super();
    this.it = stream[Symbol.asyncIterator]();
  }

  private async pull(): Promise<Buffer | undefined> {
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      // A decompressor or archive reader failing on corrupt data: the data is malformed.
      if (err instanceof FormatError) throw err;
      throw new FormatError(`corrupt data: ${(err as Error).message}`);
    }
    if (r.done) return undefined;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    this.consumed += chunk.length;
    if (this.consumed > this.maxBytes) throw new LimitError(this.describeLimit?.() ?? `more than ${this.maxBytes} bytes; not read further`);
    return chunk;
  }

  protected async refill(n: number): Promise<void> {
    const parts: Buffer[] = [this.buf.subarray(this.off)];
    let have = parts[0]!.length;
    let ended = false;
    while (have < n) {
      const chunk = await this.pull();
      if (!chunk) {
        ended = true;
        break;
      }
      parts.push(chunk);
      have += chunk.length;
    }
    // Keep what arrived even when it falls short (peekUpTo reads what there is).
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    this.off = 0;
    if (ended) throw new EndOfDataError(`unexpected end of data at offset ${this.pos + have} (needed ${n - have} more bytes; truncated?)`);
  }

  protected async skipBeyond(n: number): Promise<void> {
    let left = n - this.available;
    this.pos += this.available;
    this.buf = EMPTY;
    this.off = 0;
    while (left > 0) {
      const chunk = await this.pull();
      if (!chunk) throw new FormatError(`a length of ${n} bytes runs past the end of the data`);
      if (chunk.length > left) {
        this.buf = chunk;
        this.off = left;
        this.pos += left;
        return;
      }
      left -= chunk.length;
      this.pos += chunk.length;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
    this.onClose?.();
  }
}

/** An in-memory buffer as a source. */
export function bufferSource(b: Buffer): StreamSource {
  return new StreamSource(
    (async function* () {
      if (b.length) yield b;
    })(),
    b.length,
  );
}

/** Run `fn` over a file source and always close it. */
export async function withFile<T>(path: string, fn: (src: FileSource) => Promise<T>): Promise<T> {
  const src = await FileSource.open(path);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

/** A number of parameters the way model cards write it: 1.7M, 8B, 1.2T (CycloneDX ai-ml taxonomy). */
export function formatParameterCount(n: bigint): string {
  const units: Array<[bigint, string]> = [
    [1_000_000_000_000n, 'T'],
    [1_000_000_000n, 'B'],
    [1_000_000n, 'M'],
    [1_000n, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (n >= size) {
      // One decimal, trailing .0 dropped: 7241732096 → 7.2B.
      const tenths = (n * 10n + size / 2n) / size;
      const whole = tenths / 10n;
      const frac = tenths % 10n;
      return frac === 0n ? `${whole}${suffix}` : `${whole}.${frac}${suffix}`;
    }
  }
  return String(n);
}
