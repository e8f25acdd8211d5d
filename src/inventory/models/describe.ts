import { open, realpath } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { errorMessage, isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { asString } from '../../util/json.js';
import { listManifestFiles } from '../../digest/digest.js';
import type { DiscoverContext } from '../discoverer.js';
import { findFolderSymlinks } from '../symlinks.js';
import { NS, prop } from '../types.js';
import { isInside, type WalkedFile } from '../walk.js';
import { type CheckpointScan, holdsPickle, pickleByContent, scanModelFile } from './checkpoint.js';
import {
  addAdapter,
  addCard,
  addCheckpoint,
  addNotAPickle,
  addGenerationConfig,
  addGguf,
  addModelConfig,
  addOnnx,
  addSafetensors,
  addTokenizer,
  finding,
  type ModelFacts,
  newFacts,
} from './facts.js';
import { type Candidate, extensionOf, mayHoldPickle, OTHER_WEIGHTS, PICKLE_EXTENSIONS, SELF_DESCRIBING } from './find.js';
import { readGguf } from './gguf.js';
import {
  adapterConfigFacts,
  chatTemplatesOf,
  generationConfigFacts,
  modelConfigFacts,
  readChatTemplateFile,
  readJsonFile,
  readTokenizerConfig,
} from './hf-config.js';
import { type DownloadMetadata, type HubOrigin, hubCacheOrigin, readDownloadMetadata } from './hf-origin.js';
import { parseModelCard } from './model-card.js';
import { readOnnx } from './onnx.js';
import { FormatError } from './reader.js';
import { readSafetensors, readShardIndex } from './safetensors.js';

/**
 * Inspect one model candidate: list its files (as model_signing would hash them), read every
 * weight file's header, the Hugging Face JSON files and the model card, and note signature
 * bundles, symlinks, custom code and where it came from. Nothing is hashed here (index.ts
 * hashes all models' files in one parallel pass); every problem becomes a finding on the model.
 */

export interface ModelFile {
  /** Path relative to the model folder ('.' for a single-file model), POSIX. */
  name: string;
  abs: string;
  size: number;
}

export interface ModelDraft {
  kind: 'folder' | 'file';
  /** Path relative to the scanned root ('' when the root itself is the model folder). */
  rel: string;
  facts: ModelFacts;
  files: ModelFile[];
  /** Can the folder digest be computed (the file list is model_signing's)? */
  digestable: boolean;
  hubOrigin?: HubOrigin;
  download?: DownloadMetadata;
  signatureBundles: string[];
}

const MAX_PARSED_WEIGHT_FILES = 4096;
const MAX_FOLDER_FILES = 200_000;
const MAX_README_BYTES = 4 * 1024 * 1024;

export function isSignatureFile(name: string): boolean {
  return name === 'model.sig' || name.endsWith('.sigstore.json');
}

function display(rel: string, name: string): string {
  if (name === '.') return rel;
  return rel ? `${rel}/${name}` : name;
}

function describeError(err: unknown): string {
  if (err instanceof FormatError) return err.message;
  if (isAibomError(err)) return err.message;
  return errorMessage(err);
}

/** The scanned files, and the same grouped by folder (POSIX, relative; '' is the root). */
export interface FileIndex {
  all: WalkedFile[];
  byDir: Map<string, WalkedFile[]>;
}

export function indexFiles(all: WalkedFile[]): FileIndex {
  const byDir = new Map<string, WalkedFile[]>();
  for (const f of all) {
    const i = f.rel.lastIndexOf('/');
    const d = i < 0 ? '' : f.rel.slice(0, i);
    const list = byDir.get(d);
    if (list) list.push(f);
    else byDir.set(d, [f]);
  }
  return { all, byDir };
}

export async function inspectCandidate(ctx: DiscoverContext, c: Candidate, files: FileIndex): Promise<ModelDraft | undefined> {
  if (c.kind === 'file') return inspectFile(c.rel, c.file, c.needsSniff, files, c.modelLocation === true);
  return inspectFolder(ctx, c.rel, files);
}

async function inspectFile(
  rel: string,
  file: WalkedFile,
  needsSniff: boolean,
  files: FileIndex,
  modelLocation: boolean,
): Promise<ModelDraft | undefined> {
  const ext = extensionOf(rel);
  let prescan: CheckpointScan | undefined;
  if (needsSniff) {
    // Only a model when its bytes hold a pickle (a `.bin`: anything a pickle reader accepts).
    try {
      prescan = await scanModelFile(file.abs);
    } catch {
      return undefined;
    }
    if (!(ext === 'bin' ? holdsPickle(prescan) : pickleByContent(prescan, rel, modelLocation))) {
      if (ext === 'bin' && (await isGgml(file.abs).catch(() => false))) prescan = undefined;
      else return undefined;
    }
  }
  const facts = newFacts(`model:${rel}`);
  const draft: ModelDraft = {
    kind: 'file',
    rel,
    facts,
    files: [{ name: '.', abs: file.abs, size: file.size }],
    digestable: true,
    signatureBundles: [],
  };
  const dir = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
  await readWeightFile(draft, { name: '.', abs: file.abs, size: file.size }, rel, dir, undefined, prescan);
  if (facts.serializations.size === 0) facts.serializations.add(OTHER_WEIGHTS.get(ext) ?? 'unknown');
  // A signature bundle beside the file: <file>.sig, <file>.sigstore.json, <stem>.sigstore.json.
  const stem = rel.slice(0, rel.length - ext.length - 1);
  const bundles = new Set([`${rel}.sig`, `${rel}.sigstore.json`, `${stem}.sigstore.json`]);
  for (const f of files.byDir.get(dir) ?? []) if (bundles.has(f.rel)) draft.signatureBundles.push(f.rel);
  return draft;
}

/** links → signature bundles → file list → weight files → shard indexes → configs and card → custom code → origin. */
async function inspectFolder(ctx: DiscoverContext, rel: string, files: FileIndex): Promise<ModelDraft> {
  const abs = rel ? join(ctx.root, ...rel.split('/')) : ctx.root;
  const facts = newFacts(`model:${rel || '.'}`);
  const draft: ModelDraft = { kind: 'folder', rel, facts, files: [], digestable: true, signatureBundles: [] };
  const links = await folderLinks(ctx, draft, abs);
  for (const f of files.byDir.get(rel) ?? []) {
    const name = posix.basename(f.rel);
    if (isSignatureFile(name)) {
      draft.signatureBundles.push(f.rel);
      links.ignore.push(name);
    }
  }
  if (draft.digestable) await listFolderFiles(ctx, draft, abs, links);
  if (!draft.digestable) {
    // Still describe (and hash) the regular files the walk saw.
    draft.files = files.all
      .filter((f) => (rel ? f.rel.startsWith(`${rel}/`) : true))
      .map((f) => ({ name: rel ? f.rel.slice(rel.length + 1) : f.rel, abs: f.abs, size: f.size }));
  }
  const names = new Set(draft.files.map((f) => f.name));
  await readFolderWeights(draft);
  await readShardIndexes(draft, names);
  await readFolderConfigs(draft, rel, names, draft.files);
  noteCustomCode(draft);
  const hub = hubCacheOrigin(rel);
  if (hub) draft.hubOrigin = hub;
  const meta = await readDownloadMetadata(
    draft.files.map((f) => ({ rel: f.name, file: { rel: display(rel, f.name), abs: f.abs, size: f.size } })),
  );
  if (meta) draft.download = meta;
  return draft;
}

/** A model folder's symbolic links: names left out of the digest, and how many are followed. */
interface FolderLinks {
  ignore: string[];
  followed: number;
}

/**
 * Links out of the scanned folder, or to nothing, are recorded and left out; links that stay
 * inside it are followed (a hub cache snapshot is made of links into ../../blobs).
 */
async function folderLinks(ctx: DiscoverContext, draft: ModelDraft, abs: string): Promise<FolderLinks> {
  const { facts, rel } = draft;
  const here = rel || '.';
  const out: FolderLinks = { ignore: [], followed: 0 };
  try {
    const { links } = await findFolderSymlinks(abs, ctx.root, MAX_FOLDER_FILES);
    for (const l of links) {
      if (l.resolves === 'inside-folder' || l.resolves === 'inside-root') {
        out.followed++;
        continue;
      }
      out.ignore.push(l.rel);
      facts.props.push(prop(`${NS}symlink`, `${l.rel} -> ${l.target}`));
      finding(
        facts,
        'model-symlink',
        l.resolves === 'outside-root' ? 'high' : 'medium',
        `symbolic link in model ${here}: ${l.rel} -> ${l.target} leads ${l.resolves === 'outside-root' ? 'outside the scanned folder' : 'nowhere (broken)'}; not followed and not in the folder digest`,
        display(rel, l.rel),
      );
    }
  } catch (err) {
    draft.digestable = false;
    finding(facts, 'model-digest-failed', 'high', `cannot list model folder ${here}: ${describeError(err)}`, here);
  }
  return out;
}

/** The folder's files as model_signing hashes them; a followed link that resolves outside the root voids the digest. */
async function listFolderFiles(ctx: DiscoverContext, draft: ModelDraft, abs: string, links: FolderLinks): Promise<void> {
  const { facts, rel } = draft;
  const here = rel || '.';
  try {
    draft.files = await listManifestFiles(abs, { ignorePaths: links.ignore, allowSymlinks: links.followed > 0, maxFiles: MAX_FOLDER_FILES });
    if (links.followed === 0) return;
    facts.props.push(prop(`${NS}folder-digest:symlinks`, 'followed'));
    // A followed link to a folder may hold links of its own: nothing may come from outside the root.
    const realRoot = await realpath(ctx.root);
    for (const f of draft.files) {
      const real = await realpath(f.abs).catch(() => undefined);
      if (!real || !isInside(realRoot, real)) {
        draft.digestable = false;
        draft.files = [];
        finding(facts, 'model-digest-failed', 'high', `model folder ${here}: ${f.name} resolves outside the scanned folder; no folder digest`, display(rel, f.name));
        break;
      }
    }
  } catch (err) {
    draft.digestable = false;
    finding(facts, 'model-digest-failed', 'high', `cannot compute the folder digest of ${here}: ${describeError(err)}`, here);
  }
}

/** Read every weight file's header (up to MAX_PARSED_WEIGHT_FILES), and any other file whose bytes hold a pickle. */
async function readFolderWeights(draft: ModelDraft): Promise<void> {
  const { facts, rel } = draft;
  const here = rel || '.';
  let parsed = 0;
  for (const f of draft.files) {
    const ext = extensionOf(f.name);
    let prescan: CheckpointScan | undefined;
    if (!['safetensors', 'gguf', 'onnx'].includes(ext) && !PICKLE_EXTENSIONS.has(ext) && !OTHER_WEIGHTS.has(ext) && !f.name.endsWith('saved_model.pb')) {
      // Any other file in a model folder is read when its bytes hold a pickle (a `.pkl.gz`, an `.npz`, a `.pth.tar`...).
      if (parsed >= MAX_PARSED_WEIGHT_FILES || !(await mayHoldPickle(f.abs))) continue;
      try {
        prescan = await scanModelFile(f.abs);
      } catch {
        continue;
      }
      if (!pickleByContent(prescan, f.name, true)) continue;
    }
    if (++parsed > MAX_PARSED_WEIGHT_FILES) {
      finding(facts, 'model-too-many-files', 'low', `model ${here} has more than ${MAX_PARSED_WEIGHT_FILES} weight files; the rest were hashed, not read`, here);
      break;
    }
    const dir = posix.dirname(display(rel, f.name)) === '.' ? '' : posix.dirname(display(rel, f.name));
    await readWeightFile(draft, f, display(rel, f.name), dir, rel, prescan);
  }
}

/** Sharded checkpoint indexes: how many shards, and which are missing from the folder. */
async function readShardIndexes(draft: ModelDraft, names: Set<string>): Promise<void> {
  const { facts, rel } = draft;
  for (const f of draft.files) {
    if (!(f.name.endsWith('.safetensors.index.json') || f.name.endsWith('pytorch_model.bin.index.json'))) continue;
    try {
      const idx = await readShardIndex(f.abs, display(rel, f.name));
      const base = posix.dirname(f.name) === '.' ? '' : `${posix.dirname(f.name)}/`;
      const missing = idx.shards.filter((s) => !names.has(`${base}${s}`));
      facts.props.push(prop(`${NS}model:shards`, `${f.name}: ${idx.shards.length}`));
      if (missing.length) {
        finding(
          facts,
          'model-shard-missing',
          'medium',
          `${display(rel, f.name)} names ${missing.length} shard(s) not in the folder: ${missing.slice(0, 5).join(', ')}`,
          display(rel, f.name),
        );
      }
    } catch (err) {
      finding(facts, 'model-config-invalid', 'low', `invalid shard index: ${describeError(err)}`, display(rel, f.name));
    }
  }
}

/** Python files and auto_map entries: code that loaders run with trust_remote_code. */
function noteCustomCode(draft: ModelDraft): void {
  const { facts } = draft;
  const here = draft.rel || '.';
  const code = draft.files.filter((f) => f.name.endsWith('.py')).map((f) => f.name);
  const autoMap = facts.props.filter((p) => p.name === `${NS}model:auto-map`).map((p) => p.value);
  if (!(code.length || autoMap.length)) return;
  facts.props.push(prop(`${NS}model:custom-code`, [...code.slice(0, 20), ...autoMap.slice(0, 20)].join(', ')));
  finding(
    facts,
    'model-custom-code',
    'medium',
    `model ${here} ships Python code (${[...code, ...autoMap].slice(0, 5).join(', ')}) that loaders run with trust_remote_code`,
    here,
  );
}

/**
 * A file named like a non-pickle format whose bytes are a pickle (or a container aibom cannot
 * open): its scan, else undefined. A self-describing format (safetensors, gguf, onnx) is a
 * pickle when its own parser rejects the file, or when the parser accepts it but a pickle in it
 * imports something; an `.h5`, `.keras`, `.pb`... (no reader) is
 * suspected when a pickle is found in it or it is a compression aibom cannot open (a real
 * `.keras` zip holds no pickle).
 */
async function disguisedPickle(abs: string, selfDescribing: boolean): Promise<CheckpointScan | undefined> {
  if (!(await mayHoldPickle(abs))) return undefined;
  const parses = selfDescribing && (await parsesAsClaimed(abs));
  let s: CheckpointScan;
  try {
    s = await scanModelFile(abs);
  } catch {
    return undefined;
  }
  if (!holdsPickle(s)) return undefined;
  // A polyglot the parser accepts (protobuf skips what it does not know) is still a pickle when
  // an unpickler reading it imports or calls something.
  if (parses) return s.pickles.length > 0 && importsSomething(s) ? s : undefined;
  if (selfDescribing) return s;
  return s.pickles.length > 0 || (s.undecoded.length > 0 && s.incomplete.every((m) => / (compression|archive); aibom does not decode it/.test(m))) ? s : undefined;
}

function importsSomething(s: CheckpointScan): boolean {
  const x = s.scan;
  return x.imports.size > 0 || x.unnamedCalls > 0 || x.dynamicImports > 0 || x.extensionImports > 0;
}

/** Does the file parse as the format its extension names? (Only a FormatError says no.) */
async function parsesAsClaimed(abs: string): Promise<boolean> {
  const ext = extensionOf(abs);
  try {
    if (ext === 'safetensors') await readSafetensors(abs);
    else if (ext === 'gguf') await readGguf(abs);
    else if (ext === 'onnx') await readOnnx(abs);
    return true;
  } catch (err) {
    return !(err instanceof FormatError);
  }
}

/** Read one weight file's header into the facts; failures become findings. */
async function readWeightFile(draft: ModelDraft, f: ModelFile, shown: string, dir: string, folderRel?: string, prescan?: CheckpointScan): Promise<void> {
  const facts = draft.facts;
  const ext = extensionOf(shown);
  // A name that claims another format does not stop torch.load or pickle.load: what the bytes are decides.
  const claimed = SELF_DESCRIBING.has(ext) || OTHER_WEIGHTS.has(ext) || shown.endsWith('saved_model.pb');
  const disguised = claimed ? (prescan ?? (await disguisedPickle(f.abs, SELF_DESCRIBING.has(ext)).catch(() => undefined))) : undefined;
  if (disguised) {
    addCheckpoint(facts, disguised, shown);
    finding(
      facts,
      'pickle-disguised',
      'high',
      `${shown} is named like ${ext === 'pb' ? 'a TensorFlow SavedModel' : `a .${ext} file`} but holds a pickle: torch.load and pickle.load run it whatever its name`,
      shown,
    );
    return;
  }
  try {
    if (ext === 'safetensors') addSafetensors(facts, await readSafetensors(f.abs));
    else if (ext === 'gguf') addGguf(facts, await readGguf(f.abs));
    else if (ext === 'onnx') {
      const info = await readOnnx(f.abs);
      // External data must stay inside the model's own folder (its file's folder for a single file).
      const boundary = folderRel ?? dir;
      addOnnx(facts, info, shown, (loc) => {
        if (loc.startsWith('/') || /^[a-zA-Z]:/.test(loc) || loc.includes('\\')) return true;
        const target = posix.normalize(posix.join(dir, loc));
        return target.startsWith('../') || target === '..' || (boundary !== '' && !target.startsWith(`${boundary}/`));
      });
    } else if (prescan || PICKLE_EXTENSIONS.has(ext)) {
      const s = prescan ?? (await scanModelFile(f.abs));
      if (holdsPickle(s)) addCheckpoint(facts, s, shown);
      else if (await isGgml(f.abs)) facts.serializations.add('ggml');
      // Named like a pickle, but no unpickler gets as far as importing anything from it.
      else if (ext !== 'bin') addNotAPickle(facts, s, shown);
    } else if (OTHER_WEIGHTS.has(ext)) facts.serializations.add(OTHER_WEIGHTS.get(ext)!);
    else if (shown.endsWith('saved_model.pb')) facts.serializations.add('tensorflow-savedmodel');
  } catch (err) {
    const code =
      err instanceof FormatError
        ? ext === 'safetensors'
          ? 'safetensors-invalid'
          : ext === 'gguf'
            ? 'gguf-invalid'
            : ext === 'onnx'
              ? 'onnx-invalid'
              : 'pickle-unscanned'
        : 'model-file-unreadable';
    if (ext === 'safetensors' || ext === 'gguf' || ext === 'onnx') facts.serializations.add(ext);
    if (code === 'pickle-unscanned') facts.serializations.add('pickle');
    const what: Record<string, string> = {
      'safetensors-invalid': 'invalid safetensors file',
      'gguf-invalid': 'invalid GGUF file',
      'onnx-invalid': 'invalid ONNX file',
      'pickle-unscanned': 'pickle could not be scanned (treat it as unsafe)',
      'model-file-unreadable': 'cannot read model file',
    };
    finding(facts, code, code === 'pickle-unscanned' ? 'high' : 'medium', `${what[code]}: ${describeError(err)}`, shown);
  }
}

/** Legacy GGML files (.bin from llama.cpp / whisper.cpp before GGUF): magic ggml / ggmf / ggjt / ggla. */
async function isGgml(abs: string): Promise<boolean> {
  const fh = await open(abs, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    if (bytesRead < 4) return false;
    return ['lmgg', 'fmgg', 'tjgg', 'algg'].includes(b.toString('latin1'));
  } finally {
    await fh.close();
  }
}

async function readFolderConfigs(draft: ModelDraft, rel: string, names: Set<string>, files: ModelFile[]): Promise<void> {
  const facts = draft.facts;
  const byName = new Map(files.map((f) => [f.name, f]));
  const json = async (name: string, fn: (doc: Record<string, unknown>) => void) => {
    const f = byName.get(name);
    if (!f) return;
    try {
      fn(await readJsonFile(f.abs, display(rel, name)));
    } catch (err) {
      finding(facts, 'model-config-invalid', 'low', `invalid ${name}: ${describeError(err)}`, display(rel, name));
    }
  };
  await json('config.json', (doc) => {
    const c = modelConfigFacts(doc);
    addModelConfig(facts, c);
    for (const a of c.autoMap) facts.props.push(prop(`${NS}model:auto-map`, a));
  });
  await json('model_index.json', (doc) => {
    const cls = asString(doc._class_name);
    if (cls && !facts.modelArchitecture) facts.modelArchitecture = cls.slice(0, 256);
    facts.architectureFamily ??= 'diffusion';
  });
  await json('generation_config.json', (doc) => addGenerationConfig(facts, generationConfigFacts(doc)));
  const tok = byName.get('tokenizer_config.json');
  if (tok) {
    try {
      addTokenizer(facts, await readTokenizerConfig(tok.abs, display(rel, tok.name)));
    } catch (err) {
      finding(facts, 'model-config-invalid', 'low', `invalid tokenizer_config.json: ${describeError(err)}`, display(rel, tok.name));
    }
  }
  // Newer transformers write the chat template to its own file; it takes precedence.
  const jinja = byName.get('chat_template.jinja');
  if (jinja) {
    try {
      const template = await readChatTemplateFile(jinja.abs, display(rel, jinja.name));
      facts.chatTemplates = [{ template }, ...facts.chatTemplates.filter((t) => t.name)];
    } catch (err) {
      finding(facts, 'model-config-invalid', 'low', `cannot read chat_template.jinja: ${describeError(err)}`, display(rel, jinja.name));
    }
  } else {
    await json('chat_template.json', (doc) => {
      const list = chatTemplatesOf(doc.chat_template);
      if (list.length) facts.chatTemplates = [...list, ...facts.chatTemplates.filter((t) => !list.some((l) => l.name === t.name))];
    });
  }
  await json('adapter_config.json', (doc) => addAdapter(facts, adapterConfigFacts(doc)));
  const readme = names.has('README.md') ? byName.get('README.md') : undefined;
  if (readme) {
    let text: string | undefined;
    try {
      text = await readTextBounded(readme.abs, MAX_README_BYTES, display(rel, 'README.md'));
    } catch (err) {
      finding(facts, 'model-card-invalid', 'low', `cannot read the model card: ${describeError(err)}`, display(rel, 'README.md'));
    }
    if (text !== undefined) {
      const res = parseModelCard(text);
      if ('card' in res) addCard(facts, res.card);
      else if ('error' in res) {
        finding(facts, 'model-card-invalid', 'low', `model card ${res.error}; card fields left out`, display(rel, 'README.md'));
      }
    }
  }
}
