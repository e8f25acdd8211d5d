/**
 * ONNX parameter counts include every stored weight: tensors held by Constant nodes (Paddle2ONNX
 * exports keep all weights there), sparse initializers, and the initializers and Constant nodes
 * inside If / Loop subgraphs (silero VAD keeps its weights in If branches). Models built here
 * byte by byte with a protobuf encoder of the test's own, independent of the reader.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '../src/inventory/models/onnx.js';
import { tempDir } from './helpers/cli.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('aibom-onnx-weights-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

const varint = (n: number): Buffer => {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Buffer.from(out);
};
const vField = (num: number, v: number) => Buffer.concat([varint(num << 3), varint(v)]);
const bField = (num: number, b: Buffer | string) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint((num << 3) | 2), varint(buf.length), buf]);
};

/** TensorProto with dims, float32, raw_data of the right size. */
const tensor = (name: string, dims: number[]) =>
  Buffer.concat([...dims.map((d) => vField(1, d)), vField(2, 1), bField(8, name), bField(9, Buffer.alloc(dims.reduce((a, b) => a * b, 1) * 4))]);
/** AttributeProto. */
const attrTensor = (name: string, t: Buffer) => Buffer.concat([bField(1, name), bField(5, t), vField(20, 4)]);
const attrGraph = (name: string, g: Buffer) => Buffer.concat([bField(1, name), bField(6, g), vField(20, 5)]);
const attrFloat = (name: string) => Buffer.concat([bField(1, name), Buffer.from([0x15, 0, 0, 0x80, 0x3f]), vField(20, 1)]);
/** NodeProto: op_type after the attributes, as some exporters order it. */
const node = (opType: string, attrs: Buffer[]) => Buffer.concat([bField(2, `${opType}_out`), ...attrs.map((a) => bField(5, a)), bField(4, opType)]);
const constant = (dims: number[]) => node('Constant', [attrTensor('value', tensor('c', dims))]);
/** GraphProto. */
const graph = (parts: { nodes?: Buffer[]; initializers?: Buffer[]; sparse?: Buffer[] }) =>
  Buffer.concat([
    ...(parts.nodes ?? []).map((n) => bField(1, n)),
    bField(2, 'g'),
    ...(parts.initializers ?? []).map((t) => bField(5, t)),
    ...(parts.sparse ?? []).map((s) => bField(15, s)),
  ]);
const model = (g: Buffer) => Buffer.concat([vField(1, 8), bField(7, g), bField(8, vField(2, 17))]);

async function count(bytes: Buffer): Promise<Awaited<ReturnType<typeof readOnnx>>> {
  const f = join(tmp.dir, `m${Math.random().toString(36).slice(2)}.onnx`);
  await writeFile(f, bytes);
  return readOnnx(f);
}

describe('ONNX parameter counts', () => {
  it('weights held by Constant nodes count (Paddle2ONNX shape): never 0 when weights exist', async () => {
    const info = await count(model(graph({ nodes: [constant([64, 32]), constant([32]), node('Relu', []), node('Constant', [attrFloat('value_float')])] })));
    expect(info.parameterCount).toBe(64n * 32n + 32n);
    expect(info.nodeCount).toBe(4);
  });

  it('initializers and Constant nodes inside If branches and Loop bodies count (silero VAD shape), nested too', async () => {
    const thenBranch = graph({ initializers: [tensor('w1', [128, 64])], nodes: [constant([64])] });
    const elseBranch = graph({ initializers: [tensor('w2', [16, 8])] });
    const inner = graph({ nodes: [constant([3, 3])] });
    const loopBody = graph({ initializers: [tensor('w3', [10])], nodes: [node('If', [attrGraph('then_branch', inner), attrGraph('else_branch', graph({}))])] });
    const main = graph({
      initializers: [tensor('top', [5])],
      nodes: [node('If', [attrGraph('then_branch', thenBranch), attrGraph('else_branch', elseBranch)]), node('Loop', [attrGraph('body', loopBody)])],
    });
    const info = await count(model(main));
    expect(info.parameterCount).toBe(5n + 128n * 64n + 64n + 16n * 8n + 10n + 9n);
  });

  it('sparse initializers count their stored values', async () => {
    const sparse = Buffer.concat([bField(1, tensor('values', [7])), bField(2, Buffer.concat([vField(1, 7), vField(2, 7)])), vField(3, 100)]);
    expect((await count(model(graph({ sparse: [sparse] })))).parameterCount).toBe(7n);
  });

  it('subgraphs nested beyond the bound are refused as malformed, not followed', async () => {
    let g = graph({ nodes: [constant([2])] });
    for (let i = 0; i < 40; i++) g = graph({ nodes: [node('If', [attrGraph('then_branch', g)])] });
    await expect(count(model(g))).rejects.toThrow(/subgraphs nest deeper than 16 levels/);
  });
});
