import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import { configLocation, normalizeConfigPath } from '../config.js';
import type { DiscoverContext } from '../discoverer.js';
import type { Finding } from '../types.js';
import type { WalkedFile } from '../walk.js';
import type { Serialization } from './facts.js';
import { hubCacheOrigin, hubCacheRepo } from './hf-origin.js';
import { looksLikeModelConfig, readJsonFile } from './hf-config.js';
import { PICKLE_NAME, readHead, sniffContent } from './sniff.js';

/**
 * Where the models are. Defaults:
 * - any folder that is a Hugging Face style model folder: a `config.json` next to weight files
 *   (for pickle-era weights the config must look like a model config), a sharded checkpoint
 *   index (`*.safetensors.index.json`, `pytorch_model.bin.index.json`), a diffusers
 *   `model_index.json`, a PEFT `adapter_config.json` with adapter weights, or a hub cache
 *   snapshot (`models--ns--name/snapshots/<commit>`);
 * - under every folder named `models/` (or the `models.paths` of aibom.config): each
 *   subfolder holding weights is a model folder, each weight file directly in it a model; a
 *   configured folder with no recognizable weights in or below it is one model itself, and a
 *   configured file is a model whatever its format;
 * - anywhere else, standalone weight files: `*.safetensors`, `*.gguf`, `*.onnx`, `*.pt`,
 *   `*.pth`, `*.ckpt`, `*.pkl`, `*.pickle`, `*.joblib`, `*.dill`, `*.sav`, `*.bin` when a pickle
 *   reader would accept it, and any other file whose bytes are a pickle or a container one can
 *   hide in (zip, tar, 7z, gzip, zlib, bz2, xz, lzma, numpy .npy) and that turns out to hold a
 *   pickle (checked later, by content: `.pkl.gz`, `.pth.tar`, `.npz`, `.dat`, `.p`, any name).
 * Every candidate weight file is also read by content (describe.ts): a pickle named `.safetensors`,
 * `.gguf`, `.onnx`, `.h5` or `.keras` is a pickle model. A symbolic link in a model location
 * (or named like weights) that leaves the scanned folder is a `model-symlink` finding.
 * The outermost model folder wins: files below it belong to it. `models.exclude` globs leave
 * paths out.
 */

/** Without `models.paths`, every folder with this name is a model root (and nothing below it is skipped). */
export const DEFAULT_MODELS_FOLDER = 'models';

export const SELF_DESCRIBING = new Set(['safetensors', 'gguf', 'onnx']);
export const PICKLE_EXTENSIONS = new Set(['bin', 'pt', 'pth', 'ckpt', 'pkl', 'pickle', 'joblib', 'dill', 'sav']);
/** Weight formats recognized inside model folders but not read (no reader for them). */
export const OTHER_WEIGHTS = new Map<string, Serialization>([
  ['h5', 'hdf5'],
  ['keras', 'keras'],
  ['msgpack', 'flax-msgpack'],
  ['tflite', 'tflite'],
  ['mlmodel', 'coreml'],
]);

export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const i = base.lastIndexOf('.');
  return i <= 0 ? '' : base.slice(i + 1).toLowerCase();
}

export function isWeightFile(name: string): boolean {
  const ext = extensionOf(name);
  return SELF_DESCRIBING.has(ext) || PICKLE_EXTENSIONS.has(ext) || OTHER_WEIGHTS.has(ext) || name.endsWith('saved_model.pb');
}

export type Candidate =
  | { kind: 'folder'; rel: string; reason: string }
  | {
      kind: 'file';
      rel: string;
      file: WalkedFile;
      /** only a model if its bytes are a pickle */
      needsSniff: boolean;
      /** Below a model root (models/, a configured model path): a container aibom cannot open fails closed. */
      modelLocation?: boolean;
    };

export interface ModelsConfig {
  paths?: string[];
  exclude?: string[];
}

/** `ctx.options.config.models`, read defensively (the config loader validates, but library callers may not). */
export function modelsConfig(ctx: DiscoverContext): ModelsConfig {
  const raw = (ctx.options.config as { models?: unknown } | undefined)?.models;
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : undefined);
  const out: ModelsConfig = {};
  const paths = list(r.paths);
  if (paths) out.paths = paths;
  const exclude = list(r.exclude);
  if (exclude) out.exclude = exclude;
  return out;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function isBelow(rel: string, dir: string): boolean {
  return dir === '' || rel.startsWith(`${dir}/`);
}

/** Walked files plus symlinked files that stay inside the root (a hub cache snapshot is all links). */
export async function effectiveFiles(ctx: DiscoverContext): Promise<WalkedFile[]> {
  const files = [...ctx.walked.files];
  if (ctx.options.followSymlinks) return files;
  for (const s of ctx.walked.symlinks) {
    if (s.outside || s.broken) continue;
    const abs = join(ctx.root, ...s.rel.split('/'));
    try {
      const st = await stat(abs);
      if (st.isFile()) files.push({ rel: s.rel, abs, size: st.size });
    } catch {
      // raced away
    }
  }
  return files;
}

/** The scanned tree as the model finder sees it. */
interface Tree {
  dirs: Set<string>;
  /** Folder → the files directly in it. */
  byDir: Map<string, WalkedFile[]>;
  /** Folders with a weight file in or below them. */
  weightsBelow: Set<string>;
}

/** Where a path stands: left out by `models.exclude`, inside a model folder, below a model root. */
interface Placement {
  isExcluded: (rel: string, dir: boolean) => boolean;
  inFolder: (rel: string) => boolean;
  inModelRoot: (rel: string) => boolean;
}

/** tree → model folders → model roots → the outermost folders → loose model files → links that leave. */
export async function findModels(ctx: DiscoverContext, files: WalkedFile[]): Promise<{ candidates: Candidate[]; findings: Finding[] }> {
  const findings: Finding[] = [];
  const cfg = modelsConfig(ctx);
  const isExcluded = exclusions(cfg);
  const tree = indexTree(ctx, files);
  const folders = await recognizeFolders(ctx, tree);
  const fileCandidates = new Map<string, Candidate>();
  const roots = modelRoots(ctx, cfg, tree, files, fileCandidates, findings);
  claimRoots(roots, cfg, tree, folders, fileCandidates);
  const kept = outermostFolders(folders, isExcluded);
  const candidates: Candidate[] = kept.map((rel) => ({ kind: 'folder', rel, reason: folders.get(rel)! }));
  const at: Placement = { isExcluded, inFolder: (rel) => kept.some((k) => isBelow(rel, k)), inModelRoot: (rel) => roots.some((r) => isBelow(rel, r)) };
  await addLooseFiles(files, fileCandidates, at);
  for (const c of fileCandidates.values()) {
    if (at.inFolder(c.rel) || isExcluded(c.rel, false)) continue;
    candidates.push(c);
  }
  findings.push(...linksLeaving(ctx, cfg, at));
  candidates.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { candidates, findings };
}

/** `models.exclude`: a path is left out when it, or a folder above it, matches. */
function exclusions(cfg: ModelsConfig): (rel: string, dir: boolean) => boolean {
  const excluded = cfg.exclude?.length ? picomatch(cfg.exclude, { dot: true }) : () => false;
  return (rel, dir) => {
    if (excluded(rel) || (dir && excluded(`${rel}/`))) return true;
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) if (excluded(p) || excluded(`${p}/`)) return true;
    return false;
  };
}

function indexTree(ctx: DiscoverContext, files: WalkedFile[]): Tree {
  const byDir = new Map<string, WalkedFile[]>();
  const weightsBelow = new Set<string>();
  for (const f of files) {
    const d = parentOf(f.rel);
    const list = byDir.get(d);
    if (list) list.push(f);
    else byDir.set(d, [f]);
    if (isWeightFile(f.rel)) {
      for (let a = d; ; a = parentOf(a)) {
        if (weightsBelow.has(a)) break;
        weightsBelow.add(a);
        if (a === '') break;
      }
    }
  }
  return { dirs: new Set(ctx.walked.dirs), byDir, weightsBelow };
}

/** Folders that say they are models (hub snapshots, shard indexes, diffusers, adapters, config.json with weights) → why. */
async function recognizeFolders(ctx: DiscoverContext, tree: Tree): Promise<Map<string, string>> {
  const folders = new Map<string, string>();
  for (const d of [...tree.dirs].sort()) {
    if (hubCacheOrigin(d)) {
      folders.set(d, 'hub cache snapshot');
      continue;
    }
    if (hubCacheRepo(d)) continue;
    const here = (tree.byDir.get(d) ?? []).map((f) => posix.basename(f.rel));
    const weightsHere = here.filter(isWeightFile);
    if (here.some((n) => n.endsWith('.safetensors.index.json') || n === 'pytorch_model.bin.index.json')) {
      folders.set(d, 'sharded checkpoint index');
    } else if (here.includes('model_index.json') && tree.weightsBelow.has(d)) {
      folders.set(d, 'diffusers pipeline');
    } else if (here.includes('adapter_config.json') && weightsHere.length) {
      folders.set(d, 'adapter');
    } else if (here.includes('config.json') && tree.weightsBelow.has(d)) {
      // The scanned folder itself is a model folder only when its config.json is a model's.
      const strong = d !== '' && weightsHere.some((n) => SELF_DESCRIBING.has(extensionOf(n)));
      if (strong || (await configLooksLikeModel(join(ctx.root, ...d.split('/')), d ? `${d}/config.json` : 'config.json'))) {
        folders.set(d, 'config.json with weights');
      }
    }
  }
  return folders;
}

/** Model roots: the configured paths (a configured file is a model itself; a missing one a finding), or every folder named `models`. */
function modelRoots(ctx: DiscoverContext, cfg: ModelsConfig, tree: Tree, files: WalkedFile[], fileCandidates: Map<string, Candidate>, findings: Finding[]): string[] {
  const roots: string[] = [];
  if (!cfg.paths) {
    for (const d of tree.dirs) if (posix.basename(d) === DEFAULT_MODELS_FOLDER) roots.push(d);
    return roots;
  }
  const fileByRel = new Map(files.map((f) => [f.rel, f]));
  cfg.paths.forEach((p, i) => {
    const rel = normalizeConfigPath(p);
    if (tree.dirs.has(rel)) roots.push(rel);
    else if (fileByRel.has(rel)) fileCandidates.set(rel, { kind: 'file', rel, file: fileByRel.get(rel)!, needsSniff: false });
    else {
      const f: Finding = { code: 'model-path-missing', severity: 'low', message: `model path ${rel || '.'} not found` };
      const loc = configLocation(ctx.options.config, `/models/paths/${i}`);
      if (loc) f.location = loc;
      findings.push(f);
    }
  });
  return roots;
}

/** Under a model root, each subfolder holding weights is a model folder and each weight file in it a model. */
function claimRoots(roots: string[], cfg: ModelsConfig, tree: Tree, folders: Map<string, string>, fileCandidates: Map<string, Candidate>): void {
  const { dirs, byDir, weightsBelow } = tree;
  for (const r of roots) {
    if (folders.has(r)) continue;
    const holdsModels =
      (byDir.get(r) ?? []).some((f) => isWeightFile(f.rel)) || [...dirs].some((d) => d !== r && parentOf(d) === r && weightsBelow.has(d));
    if (cfg.paths && !holdsModels && r !== '') {
      // A configured folder with no recognizable weights in or below it is itself a model
      // (a format aibom does not read): describe and hash it as one.
      folders.set(r, 'model path');
      continue;
    }
    for (const d of dirs) {
      if (d === '' || parentOf(d) !== r || folders.has(d) || hubCacheRepo(d) || !weightsBelow.has(d)) continue;
      folders.set(d, r ? `under ${r}/` : 'model path');
    }
    for (const f of byDir.get(r) ?? []) {
      if (isWeightFile(f.rel)) fileCandidates.set(f.rel, { kind: 'file', rel: f.rel, file: f, needsSniff: false });
    }
  }
}

/** The outermost folder wins: folders below a kept one (or excluded) are not models of their own. */
function outermostFolders(folders: Map<string, string>, isExcluded: Placement['isExcluded']): string[] {
  const kept: string[] = [];
  for (const d of [...folders.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))) {
    if (isExcluded(d, true) || kept.some((k) => isBelow(d, k))) continue;
    kept.push(d);
  }
  return kept;
}

/** Weight files outside model folders, and any other file whose bytes hold a pickle, whatever its name. */
async function addLooseFiles(files: WalkedFile[], fileCandidates: Map<string, Candidate>, at: Placement): Promise<void> {
  // Read the first bytes of each other file (a few files at a time) and keep those that open a pickle or a container.
  const toSniff = files.filter((f) => {
    const ext = extensionOf(f.rel);
    return !fileCandidates.has(f.rel) && !hubCacheRepo(f.rel) && !SELF_DESCRIBING.has(ext) && !PICKLE_EXTENSIONS.has(ext) && !at.inFolder(f.rel) && !at.isExcluded(f.rel, false);
  });
  const sniffed = new Set<string>();
  for (let i = 0; i < toSniff.length; i += 16) {
    const batch = toSniff.slice(i, i + 16);
    const hits = await Promise.all(batch.map((f) => mayHoldPickle(f.abs)));
    for (const [j, f] of batch.entries()) if (hits[j]) sniffed.add(f.rel);
  }
  for (const f of files) {
    if (fileCandidates.has(f.rel)) continue;
    const ext = extensionOf(f.rel);
    if (hubCacheRepo(f.rel)) continue;
    if (!SELF_DESCRIBING.has(ext) && !PICKLE_EXTENSIONS.has(ext)) {
      // Any other file is a model when its bytes hold a pickle, whatever its name (an `.h5`
      // or `.keras` too: torch.load and pickle.load read the bytes, not the name).
      if (sniffed.has(f.rel)) fileCandidates.set(f.rel, { kind: 'file', rel: f.rel, file: f, needsSniff: true, modelLocation: at.inModelRoot(f.rel) });
      continue;
    }
    // `.bin` is any binary: a model only when its bytes are a pickle (or a zip of pickles).
    fileCandidates.set(f.rel, { kind: 'file', rel: f.rel, file: f, needsSniff: ext === 'bin' });
  }
}

/**
 * A model reached through a symbolic link that leaves the scanned folder (or leads nowhere):
 * its bytes are not in the BOM and can change after the check. Model folders report their
 * own links (describe.ts); here the links in model locations and links named like weights.
 */
function linksLeaving(ctx: DiscoverContext, cfg: ModelsConfig, at: Placement): Finding[] {
  const findings: Finding[] = [];
  for (const l of ctx.walked.symlinks) {
    if (!(l.outside || l.broken) || at.inFolder(l.rel) || at.isExcluded(l.rel, false)) continue;
    // The model folder itself a link (`models -> /elsewhere`, a configured path that is a link) counts too.
    const isRoot = cfg.paths ? cfg.paths.some((p) => isBelow(normalizeConfigPath(p), l.rel)) : posix.basename(l.rel) === DEFAULT_MODELS_FOLDER;
    if (!(isRoot || at.inModelRoot(l.rel) || isWeightFile(l.rel) || PICKLE_NAME.test(l.rel))) continue;
    findings.push({
      code: 'model-symlink',
      severity: l.outside ? 'high' : 'medium',
      message: `model ${l.rel} is a symbolic link to ${l.target}, which ${l.outside ? 'leaves the scanned folder' : 'leads nowhere (broken)'}: not scanned and not hashed, and what it loads can change after the check`,
      location: { file: l.rel },
    });
  }
  return findings;
}

/** Do a file's first bytes open a pickle or a container a pickle can be in? */
export async function mayHoldPickle(abs: string): Promise<boolean> {
  try {
    return sniffContent(await readHead(abs)) !== undefined;
  } catch {
    return false;
  }
}

async function configLooksLikeModel(absDir: string, display: string): Promise<boolean> {
  try {
    return looksLikeModelConfig(await readJsonFile(join(absDir, 'config.json'), display, 4 * 1024 * 1024));
  } catch {
    return false;
  }
}
