import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { isObject, parseJsonText } from '../../util/json.js';
import { FormatError, withFile } from './reader.js';
import { trimTrailing } from '../../util/text.js';

/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON describing each tensor
 * (dtype, shape, data_offsets into the byte buffer that follows) plus an optional
 * `__metadata__` string map, then the raw tensor bytes. Only the header is read.
 */

/** The header may not be larger than this (the reference implementation's own limit). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const MAX_METADATA_ENTRIES = 1024;

/** Bits per element of each dtype the format defines. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

export interface SafetensorsInfo {
  headerBytes: number;
  tensorCount: number;
  parameterCount: bigint;
  /** dtype → number of tensors. */
  dtypes: Map<string, number>;
  /** `__metadata__` (string values only, as the format requires). */
  metadata: Record<string, string>;
  /** Size of the tensor byte buffer. */
  dataBytes: number;
}

export async function readSafetensors(path: string): Promise<SafetensorsInfo> {
  return withFile(path, async (src) => {
    if (src.size < 8) throw new FormatError(`file is ${src.size} bytes, too short for a safetensors header`);
    await src.need(8);
    const n = src.u64(true);
    if (n > BigInt(MAX_HEADER_BYTES)) {
      throw new FormatError(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt or hostile file)`);
    }
    const len = Number(n);
    if (len > src.size - 8) {
      throw new FormatError(`header length ${len} runs past the end of the file (${src.size} bytes; truncated?)`);
    }
    if (len < 2) throw new FormatError(`header length ${len} is too small for a JSON header`);
    const text = (await src.readBytes(len)).toString('utf8');
    return parseHeader(text, len, src.size - 8 - len);
  });
}

function parseHeader(text: string, headerBytes: number, dataBytes: number): SafetensorsInfo {
  let header: unknown;
  try {
    header = parseJsonText(trimTrailing(text, ' '), 'header', 64);
  } catch (err) {
    throw new FormatError(isAibomError(err) ? `header ${err.message}` : 'header is not valid JSON');
  }
  if (!isObject(header)) throw new FormatError('header is not a JSON object');
  const info: SafetensorsInfo = {
    headerBytes,
    tensorCount: 0,
    parameterCount: 0n,
    dtypes: new Map(),
    metadata: {},
    dataBytes,
  };
  const spans: Array<[number, number, string]> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isObject(value)) throw new FormatError('__metadata__ is not an object of strings');
      let count = 0;
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new FormatError(`__metadata__.${k} is not a string`);
        if (++count > MAX_METADATA_ENTRIES) break;
        info.metadata[k] = v;
      }
      continue;
    }
    if (!isObject(value)) throw new FormatError(`tensor ${JSON.stringify(name)} is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string' || !/^[A-Z0-9_]{1,32}$/.test(dtype)) {
      throw new FormatError(`tensor ${JSON.stringify(name)} has no valid dtype`);
    }
    if (!Array.isArray(shape) || shape.length > 64 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(`tensor ${JSON.stringify(name)} has an invalid shape`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new FormatError(`tensor ${JSON.stringify(name)} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataBytes) {
      throw new FormatError(`tensor ${JSON.stringify(name)} ends at byte ${end} of a ${dataBytes}-byte data section (truncated?)`);
    }
    let numel = 1n;
    for (const d of shape as number[]) numel *= BigInt(d);
    const bits = DTYPE_BITS[dtype];
    if (bits !== undefined) {
      const bytes = (numel * BigInt(bits) + 7n) / 8n;
      if (bytes !== BigInt(end - begin)) {
        throw new FormatError(
          `tensor ${JSON.stringify(name)}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets give ${end - begin}`,
        );
      }
    }
    spans.push([begin, end, name]);
    info.tensorCount++;
    info.parameterCount += numel;
    info.dtypes.set(dtype, (info.dtypes.get(dtype) ?? 0) + 1);
  }
  // Tensors must tile the data section: no overlap (one byte read as two tensors), no holes.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin < at) throw new FormatError(`tensor ${JSON.stringify(name)} overlaps another tensor's bytes`);
    if (begin > at) throw new FormatError(`${begin - at} bytes before tensor ${JSON.stringify(name)} belong to no tensor`);
    at = end;
  }
  if (at !== dataBytes) throw new FormatError(`${dataBytes - at} bytes after the last tensor belong to no tensor`);
  return info;
}

export interface ShardIndex {
  /** Shard file names (relative to the index file's folder), sorted, unique. */
  shards: string[];
  /** Tensor names in the weight map. */
  tensorCount: number;
  /** metadata.total_size when given. */
  totalSize?: number;
}

/**
 * A sharded checkpoint's index (`model.safetensors.index.json`, also
 * `pytorch_model.bin.index.json`): `weight_map` maps each tensor to its shard file.
 */
export async function readShardIndex(path: string, display: string): Promise<ShardIndex> {
  const text = await readTextBounded(path, 64 * 1024 * 1024, display);
  let doc: unknown;
  try {
    doc = parseJsonText(text, display, 32);
  } catch (err) {
    throw new FormatError(isAibomError(err) ? err.message : String(err));
  }
  if (!isObject(doc) || !isObject(doc.weight_map)) throw new FormatError('no weight_map object');
  const shards = new Set<string>();
  let tensorCount = 0;
  for (const [, file] of Object.entries(doc.weight_map)) {
    if (typeof file !== 'string' || file === '') throw new FormatError('weight_map values must be file names');
    if (file.startsWith('/') || file.split(/[\\/]/).includes('..') || /^[a-zA-Z]:/.test(file)) {
      throw new FormatError(`weight_map names a shard outside the folder: ${JSON.stringify(file)}`);
    }
    shards.add(file);
    tensorCount++;
  }
  const out: ShardIndex = { shards: [...shards].sort(), tensorCount };
  const total = isObject(doc.metadata) ? doc.metadata.total_size : undefined;
  if (typeof total === 'number' && Number.isSafeInteger(total) && total >= 0) out.totalSize = total;
  return out;
}
