/**
 * The seeds the robustness tests mutate (test/robustness-lockfiles.test.ts, test/robustness-agent.test.ts): every fixture folder under
 * test/fixtures/ and the example agent (each file of each folder, the rest left intact so a
 * parser gets past its first checks), and generated model files of every format aibom reads.
 * Mutants are laid out in batch folders so one `aibom build` reads many of them.
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { REPO } from './cli.js';
import {
  ggufBytes,
  onnxBytes,
  osSystemPickle,
  PickleWriter,
  safetensorsBytes,
  stateDictPickle,
  torchZipCheckpoint,
  zipBytes,
} from './model-files.js';
import { kindOf, type MutateOptions, type Mutant, mutate } from './mutate.js';

export const FIXTURES = join(REPO, 'test', 'fixtures');
export const EXAMPLE_AGENT = join(REPO, 'examples', 'agent');

/** A project folder to copy, with the files in it to mutate one at a time. */
export interface SeedFolder {
  /** Short name (`npm/v3-features`). */
  name: string;
  abs: string;
  /** POSIX paths relative to the folder. */
  files: string[];
}

/** Every file below a folder, POSIX relative paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
  }
  return out.sort();
}

/** Fixture project folders: each folder under test/fixtures/lockfiles/<manager>/. */
export async function fixtureFolders(): Promise<SeedFolder[]> {
  const base = join(FIXTURES, 'lockfiles');
  const out: SeedFolder[] = [];
  for (const manager of (await readdir(base, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    for (const e of (await readdir(join(base, manager), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory()) continue;
      const abs = join(base, manager, e.name);
      out.push({ name: `${manager}/${e.name}`, abs, files: await listFiles(abs) });
    }
  }
  return out;
}

/** Files whose mutants say nothing new (binary archives aibom only hashes). */
export function isHashedOnly(rel: string): boolean {
  return /\.(tgz|patch)$/.test(rel);
}

export interface SeedFile {
  name: string;
  data: Buffer;
  options: MutateOptions;
}

/** Generated model files of every format, with the offsets of their length and count fields. */
export function modelSeeds(): SeedFile[] {
  const st = safetensorsBytes({ 'w.weight': { dtype: 'F32', shape: [2, 3] }, 'b.bias': { dtype: 'F16', shape: [3] } }, { format: 'pt' });
  const gguf = ggufBytes({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'Fuzz Llama' }],
      ['llama.context_length', { type: 'u32', value: 4096 }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: ['<s>', '</s>', 'a'] }],
      ['tokenizer.chat_template', { type: 'string', value: '{% for m in messages %}{{ m.content }}{% endfor %}' }],
    ],
    tensors: [{ name: 'token_embd.weight', shape: [4, 2], type: 0 }],
  });
  const onnx = onnxBytes({
    irVersion: 9,
    opsets: [{ version: 17 }],
    producerName: 'pytorch',
    producerVersion: '2.3.0',
    graphName: 'main_graph',
    metadata: { author: 'fuzz' },
    inputs: [{ name: 'input_ids', elemType: 7, dims: ['batch', 8] }],
    outputs: [{ name: 'logits', elemType: 1, dims: ['batch', 4] }],
    nodes: [{ opType: 'Gather' }, { opType: 'MatMul' }],
    initializers: [{ name: 'emb', dims: [4, 4] }],
  });
  const zip = torchZipCheckpoint();
  const legacy = new PickleWriter().proto(2).long1(0x1950a86a20f9469cfc6cn).stop().bytes();
  const evilZip = zipBytes([
    { name: 'archive/data.pkl', data: osSystemPickle() },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
  return [
    { name: 'model.safetensors', data: st, options: { kind: 'binary', lengthFields: [{ offset: 0, bytes: 8 }] } },
    {
      name: 'model.gguf',
      data: gguf,
      options: {
        kind: 'binary',
        lengthFields: [
          { offset: 8, bytes: 8 }, // tensor count
          { offset: 16, bytes: 8 }, // metadata count
          { offset: 24, bytes: 8 }, // first key's length
        ],
      },
    },
    { name: 'model.onnx', data: onnx, options: { kind: 'binary' } },
    { name: 'state.pkl', data: stateDictPickle(), options: { kind: 'binary' } },
    { name: 'legacy.bin', data: Buffer.concat([legacy, stateDictPickle()]), options: { kind: 'binary' } },
    { name: 'checkpoint.pt', data: zip, options: { kind: 'binary', lengthFields: zipLengthFields(zip) } },
    { name: 'evil.ckpt', data: evilZip, options: { kind: 'binary', lengthFields: zipLengthFields(evilZip) } },
  ];
}

/** Size and offset fields of a zip's first local header, central directory and end record. */
function zipLengthFields(zip: Buffer): Array<{ offset: number; bytes: 4 }> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  return [
    { offset: 18, bytes: 4 }, // local header: compressed size
    { offset: 22, bytes: 4 }, // local header: uncompressed size
    { offset: cd + 20, bytes: 4 }, // central directory: compressed size
    { offset: cd + 42, bytes: 4 }, // central directory: local header offset
    { offset: eocd + 12, bytes: 4 }, // end record: central directory size
    { offset: eocd + 16, bytes: 4 }, // end record: central directory offset
  ];
}

/** Mutants of one file of a seed folder (nothing for files aibom only hashes). */
export async function folderFileMutants(folder: SeedFolder, rel: string, structural?: number): Promise<Mutant[]> {
  if (isHashedOnly(rel)) return [];
  const data = await readFile(join(folder.abs, ...rel.split('/')));
  const options: MutateOptions = { kind: kindOf(rel) };
  if (structural !== undefined) options.structural = structural;
  return mutate(`${folder.name}/${rel}`, data, options);
}

/**
 * Copy a seed folder to `dest` (or only the paths in `only`, relative to it) and replace one
 * file with a mutant.
 */
export async function writeMutantCopy(folder: SeedFolder, rel: string, mutant: Mutant, dest: string, only?: string[]): Promise<void> {
  if (only) {
    for (const p of only) await cp(join(folder.abs, ...p.split('/')), join(dest, ...p.split('/')), { recursive: true });
  } else await cp(folder.abs, dest, { recursive: true });
  const target = join(dest, ...rel.split('/'));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, mutant.data);
}
