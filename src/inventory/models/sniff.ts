import { open } from 'node:fs/promises';

/**
 * What a file's first bytes say it is, for the formats a pickle can hide in: a pickle itself,
 * zip (torch ≥ 1.6, TorchScript, numpy .npz), tar, 7z, the compression wrappers joblib and
 * users put around pickles (gzip, zlib, bz2, xz, lzma), and numpy's .npy. Magic numbers only:
 * whether bytes really are a pickle is decided by scanning them (checkpoint.ts).
 */

export type ContentKind = 'zip' | 'tar' | 'gzip' | 'zlib' | 'bz2' | 'xz' | 'lzma' | 'npy' | 'pickle' | UndecodedKind;

/**
 * Archives and compressions aibom recognises but does not decode (7z, zstd as pandas and
 * joblib write it, lz4 frames as joblib writes them, ...): what they hold is unscanned, so a
 * model file in one fails closed.
 */
export type UndecodedKind = '7z' | 'zstd' | 'lz4' | 'lzip' | 'lzop' | 'snappy' | 'rar' | 'compress';

export const UNDECODED_KINDS: ReadonlySet<string> = new Set<UndecodedKind>(['7z', 'zstd', 'lz4', 'lzip', 'lzop', 'snappy', 'rar', 'compress']);

/** Is this undecoded kind an archive (several files) rather than a compressed stream? */
export function isArchiveKind(kind: UndecodedKind): boolean {
  return kind === '7z' || kind === 'rar';
}

/** Bytes to read for `sniffContent` (tar's magic sits at offset 257). */
export const SNIFF_BYTES = 512;

/** Opcodes a pickle can open with: PROTO, or one that pushes a value, a mark or an import. */
const OPENING_OPCODES = new Set(
  [0x80, 0x95, 0x28, 0x29, 0x5d, 0x7d, 0x8f, 0x4e, 0x88, 0x89, 0x49, 0x4a, 0x4b, 0x4d, 0x4c, 0x8a, 0x8b, 0x46, 0x47]
    .concat([0x53, 0x54, 0x55, 0x56, 0x58, 0x8c, 0x8d, 0x42, 0x43, 0x8e, 0x96, 0x63, 0x50, 0x82, 0x83, 0x84]),
);

export function sniffContent(head: Buffer): ContentKind | undefined {
  const at = (i: number) => head[i];
  const starts = (...bytes: number[]) => bytes.every((b, i) => at(i) === b);
  if (starts(0x50, 0x4b) && ((at(2) === 3 && at(3) === 4) || (at(2) === 5 && at(3) === 6) || (at(2) === 7 && at(3) === 8))) return 'zip';
  if (starts(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return 'npy';
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68) && at(3) !== undefined && at(3)! >= 0x31 && at(3)! <= 0x39) return 'bz2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)) return '7z';
  // Checked before the pickle opcodes: zstd opens with '(' (MARK), lzip with 'L' (LONG), but
  // no pickle goes on with the bytes that follow.
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  // zstd skippable frame (magic 0x184D2A50..5F): a zstd stream may open with one.
  if (head.length >= 4 && (at(0)! & 0xf0) === 0x50 && starts(at(0)!, 0x2a, 0x4d, 0x18)) return 'zstd';
  // lz4 frame format, and the legacy lz4 format.
  if (starts(0x04, 0x22, 0x4d, 0x18) || starts(0x02, 0x21, 0x4c, 0x18)) return 'lz4';
  if (starts(0x4c, 0x5a, 0x49, 0x50)) return 'lzip';
  if (starts(0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a)) return 'lzop';
  if (starts(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59)) return 'snappy';
  if (starts(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07)) return 'rar';
  if (starts(0x1f, 0x9d)) return 'compress';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  // zlib: deflate with a window of at most 32 KiB and a valid header checksum ('x' is no pickle opcode).
  if (head.length >= 2 && (at(0)! & 0x0f) === 8 && at(0)! >> 4 <= 7 && ((at(0)! << 8) | at(1)!) % 31 === 0 && !OPENING_OPCODES.has(at(0)!)) return 'zlib';
  // LZMA "alone" (.lzma, joblib's 'lzma'): properties byte (lc+lp*9+pb*45 < 225), then a
  // dictionary size; Python's lzma module writes 0x5d with a power-of-two dictionary.
  if (head.length >= 13 && at(0)! < 225 && lzmaAloneHeader(head)) return 'lzma';
  if (head.length >= 1 && OPENING_OPCODES.has(at(0)!)) {
    if (at(0) === 0x80) return head.length >= 2 && at(1)! <= 5 ? 'pickle' : undefined;
    return 'pickle';
  }
  return undefined;
}

function lzmaAloneHeader(head: Buffer): boolean {
  if (head[0] !== 0x5d) return false;
  const dict = head.readUInt32LE(1);
  // ']' (EMPTY_LIST) followed by 0x00 is never a pickle: 0x00 is no opcode.
  if (head[1] !== 0x00 && dict !== 0) return (dict & (dict - 1)) === 0 && dict >= 4096;
  return head[1] === 0x00 || (dict & (dict - 1)) === 0;
}

/** Extensions that mean "a model or a pickle" by themselves, whatever the bytes. */
export const PICKLE_NAME = /\.(pkl|pickle|pt|pth|ckpt|joblib|dill|sav|p|dat|npy|npz|mar|pth\.tar|pkl\.(gz|bz2|xz|lzma|z|zip|zst|zstd|lz4|lz|br|sz|rar|7z))$/i;

/** The first `SNIFF_BYTES` of a file (fewer when it is shorter). */
export async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(b, 0, SNIFF_BYTES, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
