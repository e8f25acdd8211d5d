import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { constants } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AibomError, describeErrno } from '../errors.js';

/** Default bound for any single text input we parse (lockfiles, configs, BOMs). */
export const DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024;

/**
 * Write a file atomically: write a temp file beside it, then rename over the target.
 * A failure never leaves a partial output file behind.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new AibomError('INPUT', `cannot write output: ${code ? describeErrno(code) : String(err)}`, {
      file: path,
      cause: err,
    });
  }
}

/**
 * Read a whole file as text, refusing files over `maxBytes` before reading them.
 * `display` is the name used in error messages. See decodeText for the encodings.
 */
export async function readTextBounded(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
  display: string = path,
): Promise<string> {
  const buf = await readBytesBounded(path, maxBytes, display);
  return decodeText(buf, display);
}

/**
 * UTF-8, or UTF-16 when the text starts with a UTF-16 byte-order mark: Windows PowerShell 5
 * writes `pip freeze > requirements.txt` (and any `>` redirection) as UTF-16LE, and pip reads
 * such files. A UTF-8 byte-order mark is kept (parsers strip it, see stripBom). Bytes that are
 * not text in that encoding are refused, not read as U+FFFD: every format aibom reads is
 * Unicode, and the tools that write them never write such bytes.
 */
export function decodeText(buf: Uint8Array, display: string): string {
  for (const [bom, encoding] of [[[0xff, 0xfe], 'utf-16le'], [[0xfe, 0xff], 'utf-16be']] as const) {
    if (buf.length >= 2 && buf[0] === bom[0] && buf[1] === bom[1]) {
      try {
        return new TextDecoder(encoding, { fatal: true }).decode(buf.subarray(2));
      } catch {
        const at = 2 + firstInvalidUtf16(buf.subarray(2), encoding === 'utf-16le');
        throw new AibomError('INPUT', `not ${encoding.toUpperCase()} text, as its byte-order mark says: an invalid sequence at byte ${at}`, { file: display });
      }
    }
  }
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!isUtf8(bytes)) {
    throw new AibomError('INPUT', `not UTF-8 text: an invalid byte sequence at byte ${firstInvalidUtf8(bytes)}`, { file: display });
  }
  return bytes.toString('utf8');
}

/** Offset of the first UTF-16 code unit that is a lone surrogate, or of an odd last byte. */
function firstInvalidUtf16(b: Uint8Array, le: boolean): number {
  const unit = (i: number) => (le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!);
  let i = 0;
  for (; i + 1 < b.length; i += 2) {
    const u = unit(i);
    if (u >= 0xdc00 && u <= 0xdfff) return i; // a low surrogate with no high one before it
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 3 >= b.length) return i;
      const next = unit(i + 2);
      if (next < 0xdc00 || next > 0xdfff) return i;
      i += 2;
    }
  }
  return i;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  const text = b.toString('utf8'); // invalid sequences become U+FFFD
  let at = 0; // byte offset of text[from]: everything before the first invalid sequence re-encodes to the same bytes
  let from = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    at += Buffer.byteLength(text.slice(from, i), 'utf8');
    if (!(b[at] === 0xef && b[at + 1] === 0xbf && b[at + 2] === 0xbd)) return at; // not a real U+FFFD
    at += 3;
    from = i + 1;
  }
  return b.length;
}

/**
 * Feed a file's bytes to `update` in chunks of at most 1 MiB, read into one buffer sized to the
 * file: hashing a thousand small files costs their sizes, not 1 MiB each (what a read stream's
 * default buffer costs, and garbage collection with it). `update` must not keep the chunk.
 */
export async function eachFileChunk(path: string, update: (chunk: Buffer) => void): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    // The size plus one byte (the read that sees the end); 64 KiB when the size says nothing.
    const buf = Buffer.allocUnsafe(size === 0 ? 64 * 1024 : Math.min(size + 1, 1024 * 1024));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

export async function readBytesBounded(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
  display: string = path,
): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // O_NONBLOCK: opening a FIFO (a named pipe called package-lock.json, say) must not wait
    // forever for a writer; what is not a regular file is then refused below, unread.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (st.isDirectory()) throw new AibomError('INPUT', 'is a directory, expected a file', { file: display });
    if (!st.isFile()) {
      throw new AibomError('INPUT', 'not a regular file (a named pipe, socket or device); not read', { file: display });
    }
    if (st.size > maxBytes) {
      throw new AibomError(
        'TOO_LARGE',
        `file is ${formatBytes(st.size)}, over the ${formatBytes(maxBytes)} limit for this kind of input`,
        { file: display },
      );
    }
    // Read at most maxBytes + 1 so a file that grows while we read is still caught.
    const chunks: Buffer[] = [];
    let total = 0;
    // The file's size plus one byte (the read that sees the end), so 50,000 tiny files do not
    // cost 64 KiB each; 64 KiB when the size says nothing (0, as /proc files report).
    const chunk = Buffer.allocUnsafe(st.size === 0 ? 64 * 1024 : Math.min(st.size + 1, 16 * 1024 * 1024));
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        throw new AibomError('TOO_LARGE', `file is over the ${formatBytes(maxBytes)} limit`, { file: display });
      }
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof AibomError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new AibomError('INPUT', code ? describeErrno(code) : String(err), { file: display, cause: err });
  } finally {
    await fh?.close().catch(() => {});
  }
}

export async function pathKind(path: string): Promise<'file' | 'dir' | 'other' | 'missing'> {
  try {
    const st = await stat(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

/** POSIX-style relative path for display and for BOM locations. */
export function toPosix(p: string): string {
  return p.split('\\').join('/');
}
