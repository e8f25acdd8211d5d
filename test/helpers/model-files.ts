/**
 * Generators of tiny model files for tests: safetensors, GGUF, ONNX (protobuf), pickles (opcode
 * by opcode, clean and malicious) and stored zip archives (PyTorch checkpoint layout, ZIP64 when
 * there are more than 65,535 entries). Written from the formats' specifications so the tests do
 * not depend on Python or on the readers they test.
 */
import { crc32 } from 'node:zlib';

// ---------------------------------------------------------------- safetensors

export interface TensorSpec {
  dtype: string;
  shape: number[];
}

const ST_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1, F64: 8 };

/** A valid safetensors file: header padded to 8 bytes, tensors tiled in order, bytes filled with a pattern. */
export function safetensorsBytes(tensors: Record<string, TensorSpec>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1) * (ST_BYTES[t.dtype] ?? 1);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const data = Buffer.alloc(offset);
  for (let i = 0; i < offset; i++) data[i] = (i * 31) & 0xff;
  return Buffer.concat([len, h, data]);
}

/** A safetensors file whose first 8 bytes claim a header of `length` bytes. */
export function safetensorsWithHeaderLength(length: bigint, rest: Buffer = Buffer.from('{}')): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(length);
  return Buffer.concat([len, rest]);
}

// ---------------------------------------------------------------- GGUF

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'u64'; value: bigint }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] };

export interface GgufSpec {
  version?: number;
  metadata: Array<[string, GgufValue]>;
  tensors: Array<{ name: string; shape: number[]; type: number }>;
  /** Write this tensor count in the header instead of the real one. */
  claimTensors?: bigint;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function ggufString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(b.length), b]);
}

export function ggufBytes(spec: GgufSpec): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF'), u32(spec.version ?? 3), u64(spec.claimTensors ?? BigInt(spec.tensors.length)), u64(spec.metadata.length)];
  for (const [key, v] of spec.metadata) {
    parts.push(ggufString(key));
    switch (v.type) {
      case 'u32':
        parts.push(u32(4), u32(v.value));
        break;
      case 'u64':
        parts.push(u32(10), u64(v.value));
        break;
      case 'f32': {
        const b = Buffer.alloc(4);
        b.writeFloatLE(v.value);
        parts.push(u32(6), b);
        break;
      }
      case 'bool':
        parts.push(u32(7), Buffer.from([v.value ? 1 : 0]));
        break;
      case 'string':
        parts.push(u32(8), ggufString(v.value));
        break;
      case 'string[]':
        parts.push(u32(9), u32(8), u64(v.value.length), ...v.value.map(ggufString));
        break;
    }
  }
  let dataOffset = 0;
  for (const t of spec.tensors) {
    parts.push(ggufString(t.name), u32(t.shape.length), ...t.shape.map((d) => u64(d)), u32(t.type), u64(dataOffset));
    dataOffset += t.shape.reduce((a, b) => a * b, 1) * 4;
  }
  let head = Buffer.concat(parts);
  const pad = (32 - (head.length % 32)) % 32;
  head = Buffer.concat([head, Buffer.alloc(pad)]);
  return Buffer.concat([head, Buffer.alloc(dataOffset, 7)]);
}

// ---------------------------------------------------------------- ONNX (protobuf)

function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}
function fieldVarint(num: number, v: number | bigint): Buffer {
  return Buffer.concat([varint((num << 3) | 0), varint(v)]);
}
function fieldBytes(num: number, b: Buffer | string): Buffer {
  const buf = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return Buffer.concat([varint((num << 3) | 2), varint(buf.length), buf]);
}

export interface OnnxSpec {
  irVersion: number;
  opsets: Array<{ domain?: string; version: number }>;
  producerName?: string;
  producerVersion?: string;
  metadata?: Record<string, string>;
  graphName?: string;
  inputs: Array<{ name: string; elemType: number; dims: Array<number | string> }>;
  outputs: Array<{ name: string; elemType: number; dims: Array<number | string> }>;
  nodes: Array<{ opType: string; domain?: string }>;
  initializers: Array<{ name: string; dims: number[]; raw?: Buffer; externalLocation?: string }>;
}

function valueInfo(v: { name: string; elemType: number; dims: Array<number | string> }): Buffer {
  const dims = v.dims.map((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldBytes(2, d)));
  const shape = fieldBytes(2, Buffer.concat(dims));
  const tensorType = fieldBytes(1, Buffer.concat([fieldVarint(1, v.elemType), shape]));
  return Buffer.concat([fieldBytes(1, v.name), fieldBytes(2, tensorType)]);
}

export function onnxBytes(spec: OnnxSpec): Buffer {
  const graph: Buffer[] = [];
  for (const n of spec.nodes) {
    graph.push(fieldBytes(1, Buffer.concat([fieldBytes(1, 'x'), fieldBytes(2, 'y'), fieldBytes(4, n.opType), ...(n.domain ? [fieldBytes(7, n.domain)] : [])])));
  }
  if (spec.graphName) graph.push(fieldBytes(2, spec.graphName));
  for (const t of spec.initializers) {
    const parts = [...t.dims.map((d) => fieldVarint(1, d)), fieldVarint(2, 1), fieldBytes(8, t.name)];
    if (t.externalLocation) {
      parts.push(fieldBytes(13, Buffer.concat([fieldBytes(1, 'location'), fieldBytes(2, t.externalLocation)])), fieldVarint(14, 1));
    } else {
      parts.push(fieldBytes(9, t.raw ?? Buffer.alloc(t.dims.reduce((a, b) => a * b, 1) * 4, 1)));
    }
    graph.push(fieldBytes(5, Buffer.concat(parts)));
  }
  for (const i of spec.inputs) graph.push(fieldBytes(11, valueInfo(i)));
  for (const o of spec.outputs) graph.push(fieldBytes(12, valueInfo(o)));
  const model: Buffer[] = [fieldVarint(1, spec.irVersion)];
  if (spec.producerName) model.push(fieldBytes(2, spec.producerName));
  if (spec.producerVersion) model.push(fieldBytes(3, spec.producerVersion));
  model.push(fieldBytes(7, Buffer.concat(graph)));
  for (const o of spec.opsets) model.push(fieldBytes(8, Buffer.concat([...(o.domain ? [fieldBytes(1, o.domain)] : []), fieldVarint(2, o.version)])));
  for (const [k, v] of Object.entries(spec.metadata ?? {})) model.push(fieldBytes(14, Buffer.concat([fieldBytes(1, k), fieldBytes(2, v)])));
  return Buffer.concat(model);
}

// ---------------------------------------------------------------- pickle

/** Writes pickle opcodes one by one. */
export class PickleWriter {
  private parts: Buffer[] = [];
  /** Raw opcode bytes. */
  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  raw(b: Buffer | string): this {
    this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
    return this;
  }
  proto(v: number): this {
    return this.op(0x80, v);
  }
  global(module: string, name: string): this {
    return this.raw(`c${module}\n${name}\n`);
  }
  unicode(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) return this.op(0x8c, b.length).raw(b);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.op(0x58).raw(len).raw(b);
  }
  stackGlobal(module: string, name: string): this {
    return this.unicode(module).unicode(name).op(0x93);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a).raw(b);
  }
  /** LONG1 of an unsigned value (little-endian, sign byte added when needed). */
  long1(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    while (x > 0n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes.length === 0 || bytes[bytes.length - 1]! >= 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tuple1(): this {
    return this.op(0x85);
  }
  tuple2(): this {
    return this.op(0x86);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  none(): this {
    return this.op(0x4e);
  }
  newFalse(): this {
    return this.op(0x89);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  setitems(): this {
    return this.op(0x75);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  binput(i: number): this {
    return this.op(0x71, i);
  }
  binget(i: number): this {
    return this.op(0x68, i);
  }
  longBinput(i: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(i);
    return this.op(0x72).raw(b);
  }
  longBinget(i: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(i);
    return this.op(0x6a).raw(b);
  }
  memoize(): this {
    return this.op(0x94);
  }
  stop(): this {
    return this.op(0x2e);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/**
 * A pickle shaped like torch.save's data.pkl for a state dict with one 2x2 float tensor:
 * OrderedDict + _rebuild_tensor_v2 + a persistent storage id + FloatStorage.
 */
export function stateDictPickle(): Buffer {
  return new PickleWriter()
    .proto(2)
    .global('collections', 'OrderedDict')
    .binput(0)
    .emptyTuple()
    .reduce()
    .binput(1)
    .mark()
    .unicode('linear.weight')
    .global('torch._utils', '_rebuild_tensor_v2')
    .binput(2)
    .mark()
    .mark()
    .unicode('storage')
    .global('torch', 'FloatStorage')
    .unicode('0')
    .unicode('cpu')
    .int(4)
    .tuple()
    .binpersid()
    .int(0)
    .int(2)
    .int(2)
    .tuple2()
    .int(2)
    .int(1)
    .tuple2()
    .newFalse()
    .global('collections', 'OrderedDict')
    .emptyTuple()
    .reduce()
    .tuple()
    .reduce()
    .binput(3)
    .setitems()
    .stop()
    .bytes();
}

/** A pickle that runs `os.system(cmd)` when loaded (GLOBAL posix system + REDUCE). */
export function osSystemPickle(cmd = 'echo pwned'): Buffer {
  return new PickleWriter().proto(2).global('posix', 'system').unicode(cmd).tuple1().reduce().stop().bytes();
}

/**
 * A pickle that calls builtins.eval through STACK_GLOBAL, with the module and name strings
 * stored in the memo first and fetched back: a scanner must follow the memo to name it.
 */
export function memoEvalPickle(): Buffer {
  return new PickleWriter()
    .proto(4)
    .unicode('builtins')
    .memoize()
    .unicode('eval')
    .memoize()
    .emptyDict()
    .binget(0)
    .binget(1)
    .op(0x93)
    .unicode('1+1')
    .tuple1()
    .reduce()
    .stop()
    .bytes();
}

// ---------------------------------------------------------------- zip (stored)

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** A stored (uncompressed) zip archive; ZIP64 end records when there are more than 65,535 entries. */
export function zipBytes(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x800, 6);
    lh.writeUInt16LE(0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(e.data.length, 18);
    lh.writeUInt32LE(e.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, e.data);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x800, 8);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(e.data.length, 20);
    ch.writeUInt32LE(e.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  const many = entries.length > 0xfffe;
  if (many) {
    const z64 = Buffer.alloc(56);
    z64.writeUInt32LE(0x06064b50, 0);
    z64.writeBigUInt64LE(44n, 4);
    z64.writeUInt16LE(45, 12);
    z64.writeUInt16LE(45, 14);
    z64.writeBigUInt64LE(BigInt(entries.length), 24);
    z64.writeBigUInt64LE(BigInt(entries.length), 32);
    z64.writeBigUInt64LE(BigInt(cd.length), 40);
    z64.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(z64, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(many ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(many ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(many ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(many ? 0xffffffff : offset, 16);
  return Buffer.concat([...locals, cd, ...tail, eocd]);
}

/** A PyTorch ≥1.6 checkpoint: `archive/data.pkl` + one storage + version/byteorder. */
export function torchZipCheckpoint(pickle: Buffer = stateDictPickle(), extra: ZipEntry[] = []): Buffer {
  const storage = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) storage.writeFloatLE(i + 0.5, i * 4);
  return zipBytes([
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    { name: 'archive/data/0', data: storage },
    { name: 'archive/version', data: Buffer.from('3\n') },
    ...extra,
  ]);
}
