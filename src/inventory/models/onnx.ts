import { type FileSource, FormatError, withFile } from './reader.js';

/**
 * ONNX header reader: the ModelProto fields that describe a model (ir_version, opset_import,
 * producer, domain, model_version, metadata_props) and, inside the graph, its name, input and
 * output names and types, node count and operator domains, and the initializers' shapes (for a
 * parameter count) and external data files.
 *
 * Hand-written on purpose: protobuf libraries (protobufjs, google-protobuf, onnx-proto) decode
 * a whole message into memory, initializer bytes included — gigabytes for a large model — and
 * have no way to skip a length-delimited field without materializing it. This reader walks
 * the wire format forward and seeks past every field it does not need, so memory stays at
 * one 1 MiB window whatever the file size. Every length is checked against its enclosing
 * message and the file; nesting is fixed by the schema walked here, except subgraphs (If / Loop /
 * Scan bodies in node attributes), read to a bounded depth.
 *
 * The parameter count covers every stored weight: initializers, sparse initializers, tensors
 * held in node attributes (Constant nodes) and everything in subgraphs.
 */

const MAX_LIST = 10_000;
const MAX_STRING = 64 * 1024;
const MAX_NODES = 50_000_000;

export interface OnnxValueInfo {
  name: string;
  /** e.g. `float32[batch,3,224,224]` when the type is a tensor. */
  type?: string;
}

export interface OnnxInfo {
  irVersion?: number;
  opsets: Array<{ domain: string; version: number }>;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadata: Record<string, string>;
  graphName?: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodeCount: number;
  /** Operator domains other than the default one (custom operators need native code). */
  customDomains: string[];
  initializerCount: number;
  parameterCount: bigint;
  /** `location` of initializers stored outside the file (external data), unique. */
  externalData: string[];
}

const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

interface Field {
  num: number;
  wire: number;
}

/** Protobuf wire-format cursor bounded by the end of the enclosing message. */
class Wire {
  constructor(readonly src: FileSource) {}

  async varint(): Promise<bigint> {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.src.available < 1) await this.src.need(1);
      const b = this.src.u8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new FormatError(`malformed varint at offset ${this.src.pos}`);
  }

  async num(): Promise<number> {
    const v = await this.varint();
    // int64 fields arrive as 64-bit two's complement.
    const signed = v >= 1n << 63n ? v - (1n << 64n) : v;
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FormatError(`integer ${signed} out of range at offset ${this.src.pos}`);
    }
    return Number(signed);
  }

  async tag(end: number): Promise<Field | undefined> {
    if (this.src.pos >= end) return undefined;
    const t = await this.varint();
    const num = Number(t >> 3n);
    const wire = Number(t & 7n);
    if (num === 0) throw new FormatError(`invalid field number 0 at offset ${this.src.pos}`);
    return { num, wire };
  }

  /** Length of a length-delimited field, checked against the enclosing message's end. */
  async len(end: number): Promise<number> {
    const n = await this.varint();
    if (n > BigInt(end - this.src.pos)) {
      throw new FormatError(`a field of ${n} bytes at offset ${this.src.pos} runs past its message (truncated or corrupt)`);
    }
    return Number(n);
  }

  async string(end: number): Promise<string> {
    const n = await this.len(end);
    if (n > MAX_STRING) {
      await this.src.skip(n);
      return '';
    }
    return (await this.src.readBytes(n)).toString('utf8');
  }

  async skip(f: Field, end: number): Promise<void> {
    switch (f.wire) {
      case 0:
        await this.varint();
        return;
      case 1:
        return this.src.skip(8);
      case 2:
        return this.src.skip(await this.len(end));
      case 5:
        return this.src.skip(4);
      default:
        throw new FormatError(`unsupported protobuf wire type ${f.wire} at offset ${this.src.pos}`);
    }
  }

  /** Position after a length-delimited sub-message starting here. */
  async sub(f: Field, end: number): Promise<number> {
    if (f.wire !== 2) throw new FormatError(`field ${f.num} should be a message at offset ${this.src.pos}`);
    const n = await this.len(end);
    return this.src.pos + n;
  }

  /** Make sure a sub-message ended exactly where its length said. */
  done(end: number): void {
    if (this.src.pos !== end) throw new FormatError(`message fields overrun their length at offset ${this.src.pos}`);
  }
}

export async function readOnnx(path: string): Promise<OnnxInfo> {
  return withFile(path, async (src) => {
    const w = new Wire(src);
    const info: OnnxInfo = {
      opsets: [],
      metadata: {},
      inputs: [],
      outputs: [],
      nodeCount: 0,
      customDomains: [],
      initializerCount: 0,
      parameterCount: 0n,
      externalData: [],
    };
    const end = src.size;
    let sawGraph = false;
    const domains = new Set<string>();
    const external = new Set<string>();
    for (let f = await w.tag(end); f; f = await w.tag(end)) {
      switch (f.num) {
        case 1:
          if (f.wire !== 0) throw new FormatError('not an ONNX model (ir_version is not an integer)');
          info.irVersion = await w.num();
          break;
        case 2:
          info.producerName = await w.string(end);
          break;
        case 3:
          info.producerVersion = await w.string(end);
          break;
        case 4:
          info.domain = await w.string(end);
          break;
        case 5:
          info.modelVersion = await w.num();
          break;
        case 6:
          info.docString = (await w.string(end)).slice(0, 4096);
          break;
        case 7: {
          const gEnd = await w.sub(f, end);
          await readGraph(w, gEnd, info, domains, external);
          w.done(gEnd);
          sawGraph = true;
          break;
        }
        case 8: {
          const op = await readOpset(w, await w.sub(f, end));
          if (info.opsets.length < MAX_LIST) info.opsets.push(op);
          break;
        }
        case 14: {
          const [key, value] = await readMetadataEntry(w, await w.sub(f, end));
          if (key && Object.keys(info.metadata).length < MAX_LIST) info.metadata[key] = value;
          break;
        }
        default:
          if (f.num > 100) throw new FormatError(`not an ONNX model (unexpected field ${f.num} at the top level)`);
          await w.skip(f, end);
      }
    }
    if (info.irVersion === undefined && !sawGraph) throw new FormatError('not an ONNX model (no ir_version and no graph)');
    info.customDomains = [...domains].filter((d) => d !== '' && d !== 'ai.onnx' && d !== 'ai.onnx.ml').sort();
    info.externalData = [...external].sort();
    return info;
  });
}

/** OperatorSetIdProto: domain (1), version (2). */
async function readOpset(w: Wire, oEnd: number): Promise<{ domain: string; version: number }> {
  const op = { domain: '', version: 0 };
  for (let g = await w.tag(oEnd); g; g = await w.tag(oEnd)) {
    if (g.num === 1 && g.wire === 2) op.domain = await w.string(oEnd);
    else if (g.num === 2 && g.wire === 0) op.version = await w.num();
    else await w.skip(g, oEnd);
  }
  w.done(oEnd);
  return op;
}

/** StringStringEntryProto: key (1), value (2). */
async function readMetadataEntry(w: Wire, mEnd: number): Promise<[string, string]> {
  let key = '';
  let value = '';
  for (let g = await w.tag(mEnd); g; g = await w.tag(mEnd)) {
    if (g.num === 1 && g.wire === 2) key = await w.string(mEnd);
    else if (g.num === 2 && g.wire === 2) value = await w.string(mEnd);
    else await w.skip(g, mEnd);
  }
  w.done(mEnd);
  return [key, value];
}

/** Subgraphs (If branches, Loop and Scan bodies) nest at most this deep; deeper is hostile. */
const MAX_GRAPH_DEPTH = 16;

async function readGraph(w: Wire, end: number, info: OnnxInfo, domains: Set<string>, external: Set<string>, depth = 0): Promise<void> {
  for (let f = await w.tag(end); f; f = await w.tag(end)) {
    switch (f.num) {
      case 1: {
        // NodeProto: domain (7), and attributes (5) for the weights they hold: a tensor (Constant
        // nodes: Paddle2ONNX exports keep every weight there), tensors, sparse tensors, and the
        // subgraphs of If / Loop / Scan, whose initializers and nodes count like the main graph's.
        const nEnd = await w.sub(f, end);
        let domain = '';
        for (let g = await w.tag(nEnd); g; g = await w.tag(nEnd)) {
          if (g.num === 7 && g.wire === 2) domain = await w.string(nEnd);
          else if (g.num === 5 && g.wire === 2) {
            const aEnd = await w.sub(g, nEnd);
            await readAttribute(w, aEnd, info, domains, external, depth);
            w.done(aEnd);
          } else await w.skip(g, nEnd);
        }
        w.done(nEnd);
        if (++info.nodeCount > MAX_NODES) throw new FormatError(`more than ${MAX_NODES} nodes`);
        if (domains.size < MAX_LIST) domains.add(domain);
        break;
      }
      case 2:
        info.graphName = await w.string(end);
        break;
      case 5: {
        const tEnd = await w.sub(f, end);
        await readInitializer(w, tEnd, info, external);
        w.done(tEnd);
        break;
      }
      case 15: {
        // sparse_initializer: SparseTensorProto, whose values (1) are the stored weights.
        const sEnd = await w.sub(f, end);
        await readSparseTensor(w, sEnd, info, external);
        w.done(sEnd);
        break;
      }
      case 11:
      case 12: {
        const vEnd = await w.sub(f, end);
        const v = await readValueInfo(w, vEnd);
        w.done(vEnd);
        const list = f.num === 11 ? info.inputs : info.outputs;
        if (list.length < MAX_LIST) list.push(v);
        break;
      }
      default:
        await w.skip(f, end);
    }
  }
}

/**
 * AttributeProto: t (5) and tensors (10) are weights, sparse_tensor (22) and sparse_tensors (23)
 * too; g (6) and graphs (11) are subgraphs, read like the main graph. Scalars and lists of
 * numbers (value_float(s) / value_int(s) of Constant) are a handful of values and not counted.
 */
async function readAttribute(w: Wire, end: number, info: OnnxInfo, domains: Set<string>, external: Set<string>, depth: number): Promise<void> {
  for (let f = await w.tag(end); f; f = await w.tag(end)) {
    if ((f.num === 5 || f.num === 10) && f.wire === 2) {
      const tEnd = await w.sub(f, end);
      await readInitializer(w, tEnd, info, external);
      w.done(tEnd);
    } else if ((f.num === 22 || f.num === 23) && f.wire === 2) {
      const sEnd = await w.sub(f, end);
      await readSparseTensor(w, sEnd, info, external);
      w.done(sEnd);
    } else if ((f.num === 6 || f.num === 11) && f.wire === 2) {
      if (depth + 1 > MAX_GRAPH_DEPTH) throw new FormatError(`subgraphs nest deeper than ${MAX_GRAPH_DEPTH} levels`);
      const gEnd = await w.sub(f, end);
      await readGraph(w, gEnd, info, domains, external, depth + 1);
      w.done(gEnd);
    } else await w.skip(f, end);
  }
}

/** SparseTensorProto: its values (1, a TensorProto) are what is stored; indices (2) are not weights. */
async function readSparseTensor(w: Wire, end: number, info: OnnxInfo, external: Set<string>): Promise<void> {
  for (let f = await w.tag(end); f; f = await w.tag(end)) {
    if (f.num === 1 && f.wire === 2) {
      const tEnd = await w.sub(f, end);
      await readInitializer(w, tEnd, info, external);
      w.done(tEnd);
    } else await w.skip(f, end);
  }
}

/** TensorProto: dims (1, packed or not) for the parameter count; raw_data (9) is skipped unread. */
async function readInitializer(w: Wire, end: number, info: OnnxInfo, external: Set<string>): Promise<void> {
  let numel = 1n;
  let dims = 0;
  let isExternal = false;
  let location: string | undefined;
  for (let f = await w.tag(end); f; f = await w.tag(end)) {
    if (f.num === 1 && f.wire === 0) {
      numel *= BigInt(Math.max(0, await w.num()));
      dims++;
    } else if (f.num === 1 && f.wire === 2) {
      const pEnd = await w.sub(f, end);
      while (w.src.pos < pEnd) {
        numel *= BigInt(Math.max(0, await w.num()));
        dims++;
      }
      w.done(pEnd);
    } else if (f.num === 14 && f.wire === 0) {
      isExternal = (await w.num()) === 1;
    } else if (f.num === 13 && f.wire === 2) {
      const eEnd = await w.sub(f, end);
      let key = '';
      let value = '';
      for (let g = await w.tag(eEnd); g; g = await w.tag(eEnd)) {
        if (g.num === 1 && g.wire === 2) key = await w.string(eEnd);
        else if (g.num === 2 && g.wire === 2) value = await w.string(eEnd);
        else await w.skip(g, eEnd);
      }
      w.done(eEnd);
      if (key === 'location') location = value;
    } else {
      await w.skip(f, end);
    }
    if (dims > 64) throw new FormatError('an initializer has more than 64 dimensions');
  }
  info.initializerCount++;
  info.parameterCount += numel;
  if (isExternal && location !== undefined && external.size < MAX_LIST) external.add(location);
}

/** ValueInfoProto: name (1) and a tensor type (2 → TypeProto.tensor_type 1 → elem_type 1, shape 2). */
async function readValueInfo(w: Wire, end: number): Promise<OnnxValueInfo> {
  const v: OnnxValueInfo = { name: '' };
  for (let f = await w.tag(end); f; f = await w.tag(end)) {
    if (f.num === 1 && f.wire === 2) v.name = await w.string(end);
    else if (f.num === 2 && f.wire === 2) {
      const tEnd = await w.sub(f, end);
      for (let g = await w.tag(tEnd); g; g = await w.tag(tEnd)) {
        if (g.num === 1 && g.wire === 2) {
          const ttEnd = await w.sub(g, tEnd);
          let elem = 0;
          const dims: string[] = [];
          let shaped = false;
          for (let h = await w.tag(ttEnd); h; h = await w.tag(ttEnd)) {
            if (h.num === 1 && h.wire === 0) elem = await w.num();
            else if (h.num === 2 && h.wire === 2) {
              shaped = true;
              const sEnd = await w.sub(h, ttEnd);
              for (let d = await w.tag(sEnd); d; d = await w.tag(sEnd)) {
                if (d.num === 1 && d.wire === 2) {
                  const dEnd = await w.sub(d, sEnd);
                  let dim = '?';
                  for (let x = await w.tag(dEnd); x; x = await w.tag(dEnd)) {
                    if (x.num === 1 && x.wire === 0) dim = String(await w.num());
                    else if (x.num === 2 && x.wire === 2) dim = (await w.string(dEnd)) || '?';
                    else await w.skip(x, dEnd);
                  }
                  w.done(dEnd);
                  if (dims.length < 64) dims.push(dim);
                } else await w.skip(d, sEnd);
              }
              w.done(sEnd);
            } else await w.skip(h, ttEnd);
          }
          w.done(ttEnd);
          const t = ELEM_TYPES[elem] ?? `type${elem}`;
          v.type = shaped ? `${t}[${dims.join(',')}]` : t;
        } else await w.skip(g, tEnd);
      }
      w.done(tEnd);
    } else await w.skip(f, end);
  }
  return v;
}
