import { createRequire } from 'node:module';
import { lazy } from '../../util/lazy.js';
import { type FileSource, FormatError, withFile } from './reader.js';

const require = createRequire(import.meta.url);

/** The quantization type names, loaded when a GGUF file is read (see lazy). */
const gguf = lazy(() => require('@huggingface/gguf') as typeof import('@huggingface/gguf'));

/**
 * GGUF (llama.cpp) header reader: magic, version, tensor count, metadata key/values, tensor
 * infos. Only the metadata aibom reports is kept; everything else (token lists, merges) is
 * skipped with seeks.
 *
 * Why not `gguf()` from @huggingface/gguf: on local files it pads reads past the end of the
 * file with zeros (a truncated file parses "successfully" into garbage), keeps every metadata
 * array and tensor info in memory, and a 24-byte file claiming 9 million tensors made it use
 * ~440 MB and 4 s before failing with an ArrayBuffer error (measured). This reader bounds every
 * count by the bytes left in the file, so no length field can make it allocate or loop beyond
 * what the file could hold. The quantization names still come from the package's enums.
 */

const MAX_TENSORS = 10_000_000;
const MAX_KEY_BYTES = 64 * 1024;
/** Strings we keep (names, licenses, templates) are decoded only up to this size. */
const MAX_KEPT_STRING = 1024 * 1024;
const MAX_ARRAY_DEPTH = 4;
const MAX_TENSOR_DIMS = 8;
/** Token lists of real models hold up to a few hundred thousand entries. */
const MAX_ARRAY = 16_000_000;

enum T {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}
const FIXED_WIDTH: Partial<Record<T, number>> = {
  [T.UINT8]: 1,
  [T.INT8]: 1,
  [T.BOOL]: 1,
  [T.UINT16]: 2,
  [T.INT16]: 2,
  [T.UINT32]: 4,
  [T.INT32]: 4,
  [T.FLOAT32]: 4,
  [T.UINT64]: 8,
  [T.INT64]: 8,
  [T.FLOAT64]: 8,
};

export interface GgufInfo {
  version: number;
  littleEndian: boolean;
  tensorCount: number;
  kvCount: number;
  /** Scalar metadata kept (strings truncated to 1 MiB; arrays are summarized by length). */
  metadata: Map<string, string | number | bigint | boolean>;
  /** Keys whose string value was too large to keep, with its length. */
  oversized: Map<string, number>;
  parameterCount: bigint;
  /** GGML tensor types → tensor count (e.g. Q4_K: 120). */
  tensorTypes: Map<string, number>;
  /** general.file_type as a name (MOSTLY_Q4_K_M → Q4_K_M), when present and known. */
  fileType?: string;
}

/** Metadata keys aibom keeps: everything under general.*, the architecture's own hyperparameters, the tokenizer's scalars. */
function wanted(key: string): boolean {
  return (
    key.startsWith('general.') ||
    key.startsWith('tokenizer.chat_template') ||
    key === 'tokenizer.ggml.model' ||
    key === 'tokenizer.ggml.tokens' ||
    key === 'tokenizer.ggml.pre' ||
    /^[\w.-]+\.(context_length|embedding_length|block_count|feed_forward_length|attention\.head_count|attention\.head_count_kv|vocab_size|expert_count|expert_used_count)$/.test(
      key,
    )
  );
}

export async function readGguf(path: string): Promise<GgufInfo> {
  return withFile(path, (src) => parse(src));
}

/** header → metadata → tensor infos → file type. */
async function parse(src: FileSource): Promise<GgufInfo> {
  const r = await GgufReader.open(src);
  const { version, littleEndian } = r;
  const tensorCount = await r.readSize('tensor count');
  const kvCount = await r.readSize('metadata count');
  // Each tensor info takes at least sizeWidth (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes,
  // each key/value at least sizeWidth + 4 + 1: a count the file cannot hold is a lie.
  const minTensor = r.sizeWidth + 16;
  const minKv = r.sizeWidth + 5;
  if (tensorCount > MAX_TENSORS || tensorCount * minTensor > src.remaining) {
    throw new FormatError(`claims ${tensorCount} tensors, more than a ${src.size}-byte file can describe`);
  }
  if (kvCount * minKv > src.remaining) {
    throw new FormatError(`claims ${kvCount} metadata entries, more than a ${src.size}-byte file can hold`);
  }
  const info: GgufInfo = {
    version,
    littleEndian,
    tensorCount,
    kvCount,
    metadata: new Map(),
    oversized: new Map(),
    parameterCount: 0n,
    tensorTypes: new Map(),
  };
  for (let i = 0; i < kvCount; i++) await r.readEntry(info, i);
  for (let i = 0; i < tensorCount; i++) await r.readTensorInfo(info, i);
  // Even at one bit per weight, the weights must fit in the file.
  if (src.size !== undefined && info.parameterCount > BigInt(src.size) * 8n) {
    throw new FormatError(`tensor shapes claim ${info.parameterCount} parameters, more than a ${src.size}-byte file can hold`);
  }
  const ft = info.metadata.get('general.file_type');
  if (typeof ft === 'number' || typeof ft === 'bigint') {
    const name = gguf().GGMLFileQuantizationType[Number(ft)];
    if (name) info.fileType = name.replace(/^MOSTLY_/, '');
  }
  return info;
}

/** The reader of one GGUF file once its byte order and size width are known: every count bounded by the bytes left. */
class GgufReader {
  /** Sizes and counts are 4 bytes wide in version 1, 8 after. */
  readonly sizeWidth: 4 | 8;

  private constructor(
    private readonly src: FileSource,
    readonly version: number,
    readonly littleEndian: boolean,
  ) {
    this.sizeWidth = version === 1 ? 4 : 8;
  }

  /** Magic and version; the version tells the byte order: a big-endian file's version reads as v << 24 in little-endian. */
  static async open(src: FileSource): Promise<GgufReader> {
    await src.need(8);
    const magic = src.take(4).toString('latin1');
    if (magic !== 'GGUF') throw new FormatError(`not a GGUF file (magic ${JSON.stringify(magic)})`);
    const raw = src.u32(true);
    const littleEndian = (raw & 0xffff) !== 0;
    const version = littleEndian ? raw : ((raw >>> 24) | ((raw >>> 8) & 0xff00)) >>> 0;
    if (version < 1 || version > 3) throw new FormatError(`unsupported GGUF version ${version}`);
    return new GgufReader(src, version, littleEndian);
  }

  async readSize(what: string): Promise<number> {
    const src = this.src;
    if (src.available < this.sizeWidth) await src.need(this.sizeWidth);
    const v = this.sizeWidth === 4 ? BigInt(src.u32(this.littleEndian)) : src.u64(this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} ${v} is larger than the whole file (${src.size} bytes)`);
    return Number(v);
  }

  private async u32(): Promise<number> {
    await this.src.need(4);
    return this.src.u32(this.littleEndian);
  }

  /** A string: its text when kept and small enough, else skipped and its length returned. */
  async readString(keep: boolean, what: string): Promise<string | number> {
    const src = this.src;
    const len = await this.readSize(`${what} length`);
    if (len > src.remaining) throw new FormatError(`${what} of ${len} bytes runs past the end of the file`);
    if (!keep || len > MAX_KEPT_STRING) {
      await src.skip(len);
      return len;
    }
    return (await src.readBytes(len)).toString('utf8');
  }

  async skipValue(type: number, depth: number): Promise<void> {
    const width = FIXED_WIDTH[type as T];
    if (width !== undefined) return this.src.skip(width);
    if (type === T.STRING) {
      await this.readString(false, 'string');
      return;
    }
    if (type === T.ARRAY) return this.skipArray(depth);
    throw new FormatError(`unknown metadata value type ${type}`);
  }

  private async skipArray(depth: number): Promise<void> {
    const src = this.src;
    if (depth >= MAX_ARRAY_DEPTH) throw new FormatError('arrays nested too deep');
    const elemType = await this.u32();
    const n = await this.readSize('array length');
    if (n > MAX_ARRAY) throw new FormatError(`array of ${n} elements is over the ${MAX_ARRAY}-element limit`);
    const ew = FIXED_WIDTH[elemType as T];
    if (ew !== undefined) {
      if (n * ew > src.remaining) throw new FormatError(`array of ${n} elements runs past the end of the file`);
      return src.skip(n * ew);
    }
    if (elemType !== T.STRING && elemType !== T.ARRAY) throw new FormatError(`unknown array element type ${elemType}`);
    if (n * this.sizeWidth > src.remaining) throw new FormatError(`array of ${n} elements runs past the end of the file`);
    for (let i = 0; i < n; i++) await this.skipValue(elemType, depth + 1);
  }

  /** Metadata key/value `i`: kept when aibom reports it (see wanted), else skipped. */
  async readEntry(info: GgufInfo, i: number): Promise<void> {
    const src = this.src;
    const keyLen = await this.readSize('key length');
    if (keyLen === 0 || keyLen > MAX_KEY_BYTES) throw new FormatError(`metadata key ${i} has an invalid length ${keyLen}`);
    const key = (await src.readBytes(keyLen)).toString('utf8');
    const type = await this.u32();
    if (!wanted(key)) await this.skipValue(type, 0);
    else await this.keepValue(info, key, type);
  }

  private async keepValue(info: GgufInfo, key: string, type: number): Promise<void> {
    const src = this.src;
    switch (type) {
      case T.STRING: {
        const v = await this.readString(true, `value of ${key}`);
        if (typeof v === 'string') info.metadata.set(key, v);
        else info.oversized.set(key, v);
        return;
      }
      case T.ARRAY: {
        await src.need(4 + this.sizeWidth);
        const start = src.pos;
        // Peek the length for the summary, then skip the whole array.
        src.u32(this.littleEndian);
        const n = this.sizeWidth === 4 ? src.u32(this.littleEndian) : Number(src.u64(this.littleEndian));
        info.metadata.set(`${key}#length`, n);
        await src.seek(start);
        await this.skipValue(T.ARRAY, 0);
        return;
      }
      case T.BOOL:
        await src.need(1);
        info.metadata.set(key, src.u8() !== 0);
        return;
      default:
        if (FIXED_WIDTH[type as T] === undefined) throw new FormatError(`unknown metadata value type ${type} for ${key}`);
        info.metadata.set(key, await readNumber(src, type as T, this.littleEndian));
    }
  }

  /** Tensor info `i`: name (skipped), dimensions (→ parameter count), type (→ tensor types), data offset. */
  async readTensorInfo(info: GgufInfo, i: number): Promise<void> {
    const src = this.src;
    const le = this.littleEndian;
    const nameLen = await this.readSize('tensor name length');
    if (nameLen > MAX_KEY_BYTES) throw new FormatError(`tensor ${i} has a name of ${nameLen} bytes`);
    await src.skip(nameLen);
    const dims = await this.u32();
    if (dims > MAX_TENSOR_DIMS) throw new FormatError(`tensor ${i} has ${dims} dimensions`);
    let numel = 1n;
    for (let d = 0; d < dims; d++) {
      await src.need(this.sizeWidth);
      numel *= this.sizeWidth === 4 ? BigInt(src.u32(le)) : src.u64(le);
    }
    await src.need(12);
    const type = src.u32(le);
    src.u64(le); // data offset
    info.parameterCount += numel;
    const typeName = gguf().GGMLQuantizationType[type] ?? `type-${type}`;
    info.tensorTypes.set(typeName, (info.tensorTypes.get(typeName) ?? 0) + 1);
  }
}

async function readNumber(src: FileSource, type: T, le: boolean): Promise<number | bigint> {
  const width = FIXED_WIDTH[type]!;
  const b = await src.readBytes(width);
  switch (type) {
    case T.UINT8:
      return b.readUInt8(0);
    case T.INT8:
      return b.readInt8(0);
    case T.UINT16:
      return le ? b.readUInt16LE(0) : b.readUInt16BE(0);
    case T.INT16:
      return le ? b.readInt16LE(0) : b.readInt16BE(0);
    case T.UINT32:
      return le ? b.readUInt32LE(0) : b.readUInt32BE(0);
    case T.INT32:
      return le ? b.readInt32LE(0) : b.readInt32BE(0);
    case T.FLOAT32:
      return le ? b.readFloatLE(0) : b.readFloatBE(0);
    case T.UINT64: {
      const v = le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case T.INT64: {
      const v = le ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    default:
      return le ? b.readDoubleLE(0) : b.readDoubleBE(0);
  }
}
