import { createReadStream } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type yauzl from 'yauzl';
import { lazy } from '../../util/lazy.js';
import { bunzip2 } from './bzip2.js';
import { unlzmaAlone, unxz } from './lzma.js';
import { emptyScan, type FrameReading, type NestedBytes, type PickleScan, scanPickle } from './pickle.js';
import { classifyTorchScriptImport } from './pickle-policy.js';
import { type ByteSource, bufferSource, FileSource, FormatError, LimitError, StreamSource } from './reader.js';
import { type ContentKind, isArchiveKind, PICKLE_NAME, SNIFF_BYTES, sniffContent, type UndecodedKind } from './sniff.js';

const require = createRequire(import.meta.url);

/** Loaded when a zip is read (see lazy). */
const yauzlLib = lazy(() => require('yauzl') as typeof import('yauzl'));

/**
 * Pickle-based model files, recognised by content, not by name: a raw pickle stream (pickle.dump,
 * dill, joblib with its arrays written mid-stream, PyTorch's legacy format: five pickles then raw
 * storage bytes, any number of pickles one after another), a zip archive (PyTorch ≥ 1.6,
 * TorchScript, numpy .npz, any zip of pickles), a tar archive (PyTorch's oldest format), a
 * numpy .npy holding an object array (a pickle after the header), and each of these inside
 * gzip, zlib, bz2, xz or lzma (joblib's compressors, .pkl.gz). 7z, rar, zstd, lz4, lzip, lzop,
 * snappy and Unix compress are recognised but not decoded: what they hold is reported unscanned. Nothing is unpickled or extracted to disk.
 *
 * Bounded: nesting depth, entries per archive, pickles per stream, bytes decompressed per
 * stream and per file (over the cap is a finding: a decompression bomb or a model too large to
 * check), bytes buffered for an archive inside an archive.
 */

/** A PyTorch checkpoint holds one entry per tensor storage; real ones stay far below this. */
export const MAX_ZIP_ENTRIES = 65_536;
const MAX_DEPTH = 4;
const MAX_BLOBS = 4096;
const MAX_PICKLES_PER_STREAM = 64;
/** Bytes one decompressed stream, or one pickle entry, may deliver. */
const MAX_STREAM_BYTES = 1024 * 1024 * 1024;
/** Bytes all decompression in one file may deliver. */
const MAX_FILE_DECOMPRESSED = 2 * 1024 * 1024 * 1024;
/** An archive inside an archive (or inside a compressed stream) is read into memory up to this. */
const MAX_BUFFERED_ARCHIVE = 64 * 1024 * 1024;
/** bz2 / xz / lzma input is decoded from memory: at most this many compressed bytes. */
const MAX_BUFFERED_COMPRESSED = 256 * 1024 * 1024;
/** Decompressed bytes per compressed byte beyond which a capped stream is called a bomb. */
const BOMB_RATIO = 100;
const PY_DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** torch.serialization's legacy magic number, the first pickle of a legacy torch.save file. */
const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export interface ContainerProblem {
  code: 'pickle-zip-too-many-entries' | 'pickle-zip-path-traversal' | 'pickle-zip-unreadable' | 'pickle-decompression-bomb';
  message: string;
}

export interface CheckpointScan {
  /** The outermost layer: zip, tar, gzip, ..., npy, or raw (a pickle stream). */
  container: string;
  /** Layers seen, outside in (gzip > tar > pickle), deduplicated. */
  layers: string[];
  /** Pickles scanned: `#1`, `#2`... in a stream, `entry#1` inside archives. */
  pickles: string[];
  scan: PickleScan;
  /** Why part of the file was not checked, when it was not. */
  incomplete: string[];
  problems: ContainerProblem[];
  torchLegacy: boolean;
  zipEntries?: number;
  /** TorchScript archive (`constants.pkl` and `code/`): loading it runs TorchScript. */
  torchScript: boolean;
  /** joblib arrays met (raw bytes skipped, object arrays scanned). */
  joblibArrays: number;
  /** Formats met that aibom cannot decode (bz2, xz, lzma, 7z): their content is unscanned. */
  undecoded: string[];
  /** When nothing in the file reads as a pickle: why (the first bytes, or where the pickle reading failed). */
  notPickle?: string;
}

interface Ctx {
  out: CheckpointScan;
  blobs: number;
  decompressed: number;
  maxStream: number;
}

export interface ScanLimits {
  /** Bytes one decompressed stream may deliver (default 1 GiB). */
  maxStreamBytes?: number;
}

/** Re-opens a blob from its start (scanning a pickle both ways when its FRAMEs are ambiguous). */
type Opener = () => Promise<ByteSource>;

/** Scan a file whatever it holds. `notPickle` is set when no part of it is a pickle. */
export async function scanModelFile(path: string, limits: ScanLimits = {}): Promise<CheckpointScan> {
  const out: CheckpointScan = {
    container: 'raw',
    layers: [],
    pickles: [],
    scan: emptyScan(),
    incomplete: [],
    problems: [],
    torchLegacy: false,
    torchScript: false,
    joblibArrays: 0,
    undecoded: [],
  };
  const ctx: Ctx = { out, blobs: 0, decompressed: 0, maxStream: limits.maxStreamBytes ?? MAX_STREAM_BYTES };
  const head = await withSource(() => FileSource.open(path), (s) => s.peekUpTo(SNIFF_BYTES));
  const kind = sniffContent(head);
  out.container = kind === undefined || kind === 'pickle' ? 'raw' : kind;
  let top: BlobResult;
  try {
    top = await scanBlob(ctx, () => FileSource.open(path), '', 0, path);
  } catch (e) {
    // Whatever part of the file could not be read is unscanned: fail closed.
    if (!(e instanceof FormatError)) throw e;
    out.incomplete.push(e.message);
    noteLimit(ctx, e);
    top = { found: true };
  }
  if (!top.found && out.pickles.length === 0 && out.undecoded.length === 0 && out.incomplete.length === 0 && out.problems.length === 0) {
    out.notPickle = knownFormat(head) ?? top.why ?? describeHead(head);
  }
  out.joblibArrays = out.scan.joblibArrays;
  return out;
}

/** Does the file hold anything aibom treats as a pickle model (a pickle, or a container it cannot open)? */
export function holdsPickle(s: CheckpointScan): boolean {
  return s.notPickle === undefined && (s.pickles.length > 0 || s.undecoded.length > 0 || s.incomplete.length > 0 || s.problems.length > 0);
}

/**
 * For a file found by content only (not named like a model): a pickle that is more than a
 * constant (it has a protocol header or imports), or a container holding pickles. A format
 * aibom cannot decode (zstd, lz4, ...) counts when the name says pickle or the file is in a model location (`.pkl.xz`,
 * `.joblib.bz2`, `.dat`...); a 7z archive always does (it is how pickles get passed around,
 * and its listing is itself compressed).
 */
export function pickleByContent(s: CheckpointScan, name: string, modelLocation = false): boolean {
  if (!holdsPickle(s)) return false;
  if (s.pickles.length === 0) {
    if (s.undecoded.length > 0 && s.incomplete.every((m) => / (compression|archive); aibom does not decode it/.test(m))) {
      // In a model location (under models/, a configured model path, a model folder) any
      // container aibom cannot open fails closed, whatever its name.
      return modelLocation || s.undecoded.includes('7z') || PICKLE_NAME.test(name) || PICKLE_INNER.test(name);
    }
    return s.incomplete.length > 0 || s.problems.length > 0;
  }
  const x = s.scan;
  return s.layers.some((l) => l !== 'pickle') || x.protocol !== undefined || x.imports.size > 0 || x.unnamedCalls > 0 || x.dynamicImports > 0 || x.extensionImports > 0;
}

/** `x.pkl.xz`, `model.joblib.bz2`, `w.pt.lzma`: a pickle extension before a compression one. */
const PICKLE_INNER = /\.(pkl|pickle|pt|pth|ckpt|joblib|dill|sav|bin|npy|npz|p|dat)(\.[a-z0-9]{1,5})+$/i;

async function withSource<T>(open: Opener, fn: (s: ByteSource) => Promise<T>): Promise<T> {
  const s = await open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function addLayer(out: CheckpointScan, layer: string) {
  if (!out.layers.includes(layer) && out.layers.length < 16) out.layers.push(layer);
}

function describeHead(head: Buffer): string {
  return knownFormat(head) ?? `its first bytes (${head.subarray(0, 8).toString('hex')}) open no pickle or archive`;
}

function knownFormat(head: Buffer): string | undefined {
  if (head.length === 0) return 'the file is empty';
  const sig: Array<[number[], string]> = [
    [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
    [[0xff, 0xd8, 0xff], 'a JPEG image'],
    [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
    [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
    [[0x7f, 0x45, 0x4c, 0x46], 'an ELF executable'],
  ];
  for (const [bytes, what] of sig) if (bytes.every((b, i) => head[i] === b)) return `its bytes are ${what}`;
  return undefined;
}

interface BlobResult {
  /** Something pickle-like was found (a pickle, possibly failing, with imports or a clean STOP). */
  found: boolean;
  why?: string;
}

/** Scan one blob (a file, an archive entry, a decompressed stream) by what its bytes are. */
async function scanBlob(ctx: Ctx, open: Opener, label: string, depth: number, path?: string): Promise<BlobResult> {
  const out = ctx.out;
  if (++ctx.blobs > MAX_BLOBS) {
    if (ctx.blobs === MAX_BLOBS + 1) out.incomplete.push(`more than ${MAX_BLOBS} archive entries and streams; the rest not scanned`);
    return { found: false };
  }
  if (depth > MAX_DEPTH) {
    out.incomplete.push(`${label || 'file'}: archives nested more than ${MAX_DEPTH} deep; not scanned`);
    return { found: true };
  }
  const where = label || 'file';
  let head: Buffer;
  try {
    head = await withSource(open, (s) => s.peekUpTo(SNIFF_BYTES));
  } catch (e) {
    // A compressed stream or archive entry that cannot even be started: fail closed.
    if (!(e instanceof FormatError)) throw e;
    out.incomplete.push(`${where}: ${e.message}`);
    noteLimit(ctx, e);
    return { found: true };
  }
  const kind: ContentKind | undefined = sniffContent(head);
  switch (kind) {
    case 'zip':
      addLayer(out, 'zip');
      if (path !== undefined) return scanZip(ctx, await openZipFile(path), label, depth, open);
      return scanZipBuffer(ctx, open, label, depth);
    case 'gzip':
    case 'zlib':
      addLayer(out, kind);
      return scanBlob(ctx, inflater(ctx, open, kind, where), `${label}${label ? '>' : ''}${kind}`, depth + 1);
    case 'bz2':
    case 'xz':
    case 'lzma':
      addLayer(out, kind);
      return scanBlob(ctx, decoder(ctx, open, kind, where), `${label}${label ? '>' : ''}${kind}`, depth + 1);
    case '7z':
    case 'zstd':
    case 'lz4':
    case 'lzip':
    case 'lzop':
    case 'snappy':
    case 'rar':
    case 'compress':
      return undecodable(out, kind, where);
    case 'tar':
      addLayer(out, 'tar');
      return scanTar(ctx, open, label, depth);
    case 'npy':
      return scanNpy(ctx, open, label, head);
    default:
      return scanPickles(ctx, open, label, 0, depth);
  }
}

/** A format aibom does not decode: what it holds is unscanned (fail closed), never "not a pickle". */
function undecodable(out: CheckpointScan, kind: UndecodedKind, where: string): BlobResult {
  addLayer(out, kind);
  if (!out.undecoded.includes(kind)) out.undecoded.push(kind);
  out.incomplete.push(`${where}: ${kind} ${isArchiveKind(kind) ? 'archive' : 'compression'}; aibom does not decode it, so what it holds was not scanned`);
  return { found: true };
}

/** A stream's bytes through gzip / zlib, capped; over the cap is a finding. */
function inflater(ctx: Ctx, open: Opener, kind: 'gzip' | 'zlib' | 'raw-deflate', where: string, skip = 0): Opener {
  return async () => {
    const inner = await open();
    if (skip) {
      try {
        await inner.skip(skip);
      } catch (e) {
        await inner.close();
        throw e;
      }
    }
    const z = kind === 'gzip' ? createGunzip() : kind === 'zlib' ? createInflate() : createInflateRaw();
    const input = Readable.from(inner.rest());
    input.on('error', (e) => z.destroy(e));
    input.pipe(z);
    const cap = Math.max(0, Math.min(ctx.maxStream, MAX_FILE_DECOMPRESSED - ctx.decompressed));
    const src: StreamSource = new StreamSource(
      z as AsyncIterable<Buffer>,
      cap,
      () => {
        ctx.decompressed += src.consumedBytes;
        input.destroy();
        z.destroy();
        void inner.close();
      },
      () => {
        const ratio = src.consumedBytes / Math.max(1, inner.pos);
        return `${where} decompresses to more than ${cap} bytes${ratio >= BOMB_RATIO ? ` (over ${Math.floor(ratio)} times its compressed size: a decompression bomb)` : ''}; not scanned past that`;
      },
    );
    return src;
  };
}

/**
 * bz2 / xz / lzma through aibom's own decoders (bzip2.ts, lzma.ts): the compressed bytes are
 * read into memory (up to MAX_BUFFERED_COMPRESSED), the output streams out under the same caps
 * as gzip's.
 */
function decoder(ctx: Ctx, open: Opener, kind: 'bz2' | 'xz' | 'lzma', where: string): Opener {
  return async () => {
    const input = await withSource(open, async (s) => {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of s.rest()) {
        n += c.length;
        if (n > MAX_BUFFERED_COMPRESSED) throw new LimitError(`${where}: over ${MAX_BUFFERED_COMPRESSED} bytes of ${kind} data; not decompressed`);
        parts.push(c);
      }
      return Buffer.concat(parts, n);
    });
    const gen = kind === 'bz2' ? bunzip2(input) : kind === 'xz' ? unxz(input) : unlzmaAlone(input);
    const cap = Math.max(0, Math.min(ctx.maxStream, MAX_FILE_DECOMPRESSED - ctx.decompressed));
    const src: StreamSource = new StreamSource(
      (async function* () {
        for (const chunk of gen) if (chunk.length) yield chunk;
      })(),
      cap,
      () => {
        ctx.decompressed += src.consumedBytes;
      },
      () => {
        const ratio = src.consumedBytes / Math.max(1, input.length);
        return `${where} decompresses to more than ${cap} bytes${ratio >= BOMB_RATIO ? ` (over ${Math.floor(ratio)} times its compressed size: a decompression bomb)` : ''}; not scanned past that`;
      },
    );
    return src;
  };
}

async function scanNpy(ctx: Ctx, open: Opener, label: string, head: Buffer): Promise<BlobResult> {
  const where = label || 'file';
  const major = head[6];
  const lenWidth = major === 1 ? 2 : major === 2 || major === 3 ? 4 : 0;
  if (!lenWidth || head.length < 8 + lenWidth) {
    ctx.out.incomplete.push(`${where}: numpy file with unknown format version ${major}`);
    return { found: true };
  }
  const hlen = lenWidth === 2 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  if (hlen > 1024 * 1024) {
    ctx.out.incomplete.push(`${where}: numpy header of ${hlen} bytes; not read`);
    return { found: true };
  }
  const start = 8 + lenWidth + hlen;
  const header = await withSource(open, async (s) => {
    await s.skip(8 + lenWidth);
    return (await s.readBytes(hlen)).toString('latin1');
  });
  addLayer(ctx.out, 'npy');
  // Object arrays (descr 'O', or a structured dtype with an 'O' field) are pickled after the header.
  const descr = /['"]descr['"]\s*:\s*(.*?)\s*,\s*['"](fortran_order|shape)['"]/s.exec(header)?.[1];
  if (descr === undefined) {
    ctx.out.incomplete.push(`${where}: numpy header without a readable dtype`);
    return { found: true };
  }
  if (!/['"][|<>=]?O\d*['"]/.test(descr)) return { found: false, why: 'a numpy array of plain data (no objects, so no pickle)' };
  return scanPickles(ctx, open, label, start);
}

/**
 * Every pickle in a stream, one after another: any loop over pickle.load runs them all, and
 * torch's legacy format is five of them. A pickle whose FRAMEs the readers disagree on is
 * scanned a second time as the C unpickler reads a file.
 */
async function scanPickles(ctx: Ctx, open: Opener, label: string, start: number, depth = 0): Promise<BlobResult> {
  const out = ctx.out;
  const src = await open();
  const name = (i: number) => `${label}#${i}`;
  let found = false;
  let why: string | undefined;
  try {
    if (start) await src.skip(start);
    for (let i = 1; i <= MAX_PICKLES_PER_STREAM; i++) {
      const at = src.pos;
      const one = emptyScan();
      let err: FormatError | undefined;
      try {
        await scanPickle(src, one);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        err = e;
      }
      if (one.frameOverrun) {
        // Read the other way too; what only that reading imports counts as much.
        const framed = await rescanFramed(ctx, open, at, name(i));
        mergeScan(one, framed);
      }
      // Only an import an unpickler could resolve counts ("cmodel line" text is no import).
      const resolvable = [...one.imports.values()].some((x) => PY_DOTTED.test(x.module) && PY_DOTTED.test(x.name));
      const imported = resolvable || one.unnamedCalls > 0 || one.dynamicImports > 0 || one.extensionImports > 0;
      // A pickle that opens with a protocol header and is then cut short is a damaged pickle
      // (fail closed), not "not a pickle".
      const truncated = err !== undefined && one.protocol !== undefined && /unexpected end of (file|data)|runs past the end/.test(err.message);
      if (err && !imported && !truncated && !(err instanceof LimitError)) {
        // Nothing importable ran before the point where every unpickler fails: not a pickle.
        if (i === 1) why = `not a pickle (${err.message})`;
        else mergeAnomaly(out, `${label ? `${label}: ` : ''}the bytes after pickle #${i - 1} are not a pickle (${err.message})`);
        break;
      }
      found = true;
      out.pickles.push(name(i));
      addLayer(out, 'pickle');
      mergeScan(out.scan, one);
      for (const n of one.nested) await scanNested(ctx, open, n, `${name(i)}@${n.at}`, depth + 1);
      if (err) {
        out.incomplete.push(`${label ? `${label} ` : ''}pickle #${i}: ${err.message}`);
        noteLimit(ctx, err);
        if (err instanceof LimitError) break;
      }
      if (err) break;
      if (i === 1 && one.firstInt === TORCH_LEGACY_MAGIC) out.torchLegacy = true;
      // Legacy torch.save: magic, protocol, sys_info, the object, the storage keys; then raw bytes.
      if (out.torchLegacy && i === 5 && !label) break;
      if (await src.atEnd()) break;
      if (i === MAX_PICKLES_PER_STREAM) out.incomplete.push(`${label || 'file'}: more than ${MAX_PICKLES_PER_STREAM} consecutive pickles; the rest not scanned`);
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    out.incomplete.push(`${label || 'file'}: ${e.message}`);
    noteLimit(ctx, e);
    found = true;
  } finally {
    await src.close();
  }
  return why !== undefined && !found ? { found, why } : { found };
}

/** Bytes a pickle hands to torch.load (torch.storage._load_from_bytes): a file of their own. */
async function scanNested(ctx: Ctx, open: Opener, n: NestedBytes, label: string, depth: number): Promise<void> {
  if (n.data) {
    const data = n.data;
    const r = await scanBlob(ctx, async () => bufferSource(data), label, depth);
    if (!r.found) mergeAnomaly(ctx.out, `${label}: bytes loaded with torch.load are not a pickle`);
    return;
  }
  if (n.len > MAX_BUFFERED_ARCHIVE) {
    ctx.out.incomplete.push(`${label}: ${n.len} bytes loaded with torch.load, over the ${MAX_BUFFERED_ARCHIVE}-byte limit; not scanned`);
    return;
  }
  let body: Buffer;
  try {
    body = await withSource(open, async (s) => {
      await s.skip(n.at);
      return s.readBytes(n.len);
    });
    if (n.utf8) body = Buffer.from(body.toString('utf8'), 'latin1');
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    ctx.out.incomplete.push(`${label}: ${e.message}`);
    return;
  }
  const r = await scanBlob(ctx, async () => bufferSource(body), label, depth);
  if (!r.found) mergeAnomaly(ctx.out, `${label}: bytes loaded with torch.load are not a pickle`);
}

/** Scan one pickle again, FRAMEs read as CPython's C unpickler reads a file; returns what that reading imports. */
async function rescanFramed(ctx: Ctx, open: Opener, at: number, name: string): Promise<PickleScan> {
  const again = emptyScan();
  const frames: FrameReading = 'file';
  const src = await open();
  try {
    await src.skip(at);
    await scanPickle(src, again, { frames });
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    mergeAnomaly(ctx.out, `${name} read as the C unpickler reads a file: ${e.message}`);
  } finally {
    await src.close();
  }
  for (const k of again.imports.keys()) {
    if (!ctx.out.scan.imports.has(k)) mergeAnomaly(ctx.out, `${name} imports ${k} when its FRAMEs are read as CPython's C unpickler reads a file`);
  }
  again.anomalies = [];
  return again;
}

/** A cap reached while decompressing is a finding of its own. */
function noteLimit(ctx: Ctx, e: FormatError) {
  if (!(e instanceof LimitError)) return;
  if (!ctx.out.problems.some((p) => p.message === e.message)) ctx.out.problems.push({ code: 'pickle-decompression-bomb', message: e.message });
}

function mergeAnomaly(out: CheckpointScan, msg: string) {
  if (out.scan.anomalies.length < 20 && !out.scan.anomalies.includes(msg)) out.scan.anomalies.push(msg);
}

export function mergeScan(into: PickleScan, from: PickleScan): void {
  for (const [k, imp] of from.imports) {
    const prev = into.imports.get(k);
    if (prev) {
      prev.calls += imp.calls;
      prev.directCalls += imp.directCalls;
    } else into.imports.set(k, { ...imp });
  }
  into.unnamedCalls += from.unnamedCalls;
  into.dynamicImports += from.dynamicImports;
  into.extensionImports += from.extensionImports;
  for (const a of from.anomalies) if (into.anomalies.length < 20 && !into.anomalies.includes(a)) into.anomalies.push(a);
  into.protocol ??= from.protocol;
  into.opcodes += from.opcodes;
  into.frameOverrun ||= from.frameOverrun;
  into.joblibArrays += from.joblibArrays;
}

// ---------------------------------------------------------------- tar

/** POSIX / GNU tar: 512-byte headers, entries padded to 512 bytes. Regular files are scanned by content. */
async function scanTar(ctx: Ctx, open: Opener, label: string, depth: number): Promise<BlobResult> {
  const src = await open();
  let found = false;
  try {
    let longName: string | undefined;
    for (let n = 0; ; n++) {
      if (n >= MAX_ZIP_ENTRIES) {
        ctx.out.incomplete.push(`${label || 'file'}: tar archive with more than ${MAX_ZIP_ENTRIES} entries; the rest not scanned`);
        return { found: true };
      }
      if (src.remaining < 512 || (await src.atEnd())) break;
      const h = await src.readBytes(512);
      if (h.every((b) => b === 0)) break;
      const size = tarSize(h.subarray(124, 136));
      if (size === undefined) throw new FormatError(`tar header ${n} has an invalid size`);
      const type = String.fromCharCode(h[156]!);
      const prefix = cstr(h.subarray(345, 500));
      let name = longName ?? (prefix ? `${prefix}/` : '') + cstr(h.subarray(0, 100));
      longName = undefined;
      const padded = Math.ceil(size / 512) * 512;
      if (type === 'L' && size <= 65536) {
        longName = cstr(await src.readBytes(size));
        await src.skip(padded - size);
        continue;
      }
      if ((type === '0' || type === '\0' || type === '7') && size > 0) {
        name = `${label}${label ? '/' : ''}${name}`;
        const body = size <= MAX_BUFFERED_ARCHIVE ? await src.readBytes(size) : undefined;
        if (body) {
          const r = await scanBlob(ctx, async () => bufferSource(body), name, depth + 1);
          found ||= r.found;
          await src.skip(padded - size);
        } else {
          ctx.out.incomplete.push(`${name}: a ${size}-byte tar entry, over the ${MAX_BUFFERED_ARCHIVE}-byte limit for entries; not scanned`);
          await src.skip(padded);
        }
      } else await src.skip(padded);
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    ctx.out.incomplete.push(`${label || 'file'}: tar archive: ${e.message}`);
    noteLimit(ctx, e);
    return { found: true };
  } finally {
    await src.close();
  }
  return { found };
}

function cstr(b: Buffer): string {
  const i = b.indexOf(0);
  return b.subarray(0, i < 0 ? b.length : i).toString('utf8');
}

function tarSize(f: Buffer): number | undefined {
  if (f[0]! & 0x80) {
    let v = 0;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    return Number.isSafeInteger(v) ? v : undefined;
  }
  const t = cstr(f).trim();
  if (!/^[0-7]*$/.test(t)) return undefined;
  return t === '' ? 0 : Number.parseInt(t, 8);
}

// ---------------------------------------------------------------- zip

interface OpenZip {
  zip: yauzl.ZipFile;
  next(): Promise<yauzl.Entry | undefined>;
  stream(e: yauzl.Entry): Promise<Readable>;
  close(): void;
}

type ZipOpen = { ok: OpenZip } | { error: Error };

function wrapZip(zip: yauzl.ZipFile): OpenZip {
  let pending: { resolve: (e: yauzl.Entry | undefined) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  zip.on('entry', (e: yauzl.Entry) => {
    const p = pending;
    pending = undefined;
    p?.resolve(e);
  });
  zip.on('end', () => {
    const p = pending;
    pending = undefined;
    p?.resolve(undefined);
  });
  zip.on('error', (e: Error) => {
    failure = e;
    const p = pending;
    pending = undefined;
    p?.reject(e);
  });
  return {
    zip,
    next: () =>
      new Promise((res, rej) => {
        if (failure) return rej(failure);
        pending = { resolve: res, reject: rej };
        zip.readEntry();
      }),
    stream: (e) =>
      new Promise((res, rej) => {
        zip.openReadStream(e, (err2, s) => (err2 || !s ? rej(err2 ?? new Error('cannot read entry')) : res(s)));
      }),
    close: () => zip.close(),
  };
}

const ZIP_OPTIONS = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true } as const;

async function openZipFile(path: string): Promise<ZipOpen> {
  const first = await new Promise<ZipOpen>((resolve) => {
    yauzlLib().open(path, ZIP_OPTIONS, (err, zip) => resolve(err || !zip ? { error: err ?? new Error('cannot open zip') } : { ok: wrapZip(zip) }));
  });
  if ('ok' in first) return first;
  // Bytes after the archive (torch.load accepts up to 64 KiB of them, as miniz does): read the
  // archive as ending where its end-of-central-directory record says.
  const end = await zipEndBeforeTrailingBytes(path).catch(() => undefined);
  if (end === undefined) return first;
  const lib = yauzlLib();
  class Reader extends lib.RandomAccessReader {
    override _readStreamForRange(start: number, stop: number) {
      return createReadStream(path, { start, end: Math.max(start, stop - 1) });
    }
  }
  const second = await new Promise<ZipOpen>((resolve) => {
    lib.fromRandomAccessReader(new Reader(), end, ZIP_OPTIONS, (err, zip) =>
      resolve(err || !zip ? { error: err ?? new Error('cannot open zip') } : { ok: wrapZip(zip) }),
    );
  });
  return 'ok' in second ? second : first;
}

/**
 * Where a zip followed by other bytes ends: the last end-of-central-directory record within
 * the final 64 KiB + 22 bytes whose comment fits and whose directory lies before it.
 */
async function zipEndBeforeTrailingBytes(path: string): Promise<number | undefined> {
  const fh = await openFile(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const span = Math.min(size, 65_535 + 22 + 1024);
    const buf = Buffer.alloc(span);
    await fh.read(buf, 0, span, size - span);
    for (let i = span - 22; i >= 0; i--) {
      if (buf.readUInt32LE(i) !== 0x06054b50) continue;
      const cdSize = buf.readUInt32LE(i + 12);
      const cdOffset = buf.readUInt32LE(i + 16);
      const comment = buf.readUInt16LE(i + 20);
      const at = size - span + i;
      const end = at + 22 + comment;
      if (end < size && (cdOffset === 0xffffffff || cdOffset + cdSize <= at)) return end;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

async function scanZipBuffer(ctx: Ctx, open: Opener, label: string, depth: number): Promise<BlobResult> {
  let buf: Buffer;
  try {
    buf = await withSource(open, async (s) => {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of s.rest()) {
        n += c.length;
        if (n > MAX_BUFFERED_ARCHIVE) throw new LimitError(`a zip archive inside another container, over ${MAX_BUFFERED_ARCHIVE} bytes; not scanned`);
        parts.push(c);
      }
      return Buffer.concat(parts, n);
    });
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    ctx.out.incomplete.push(`${label || 'file'}: ${e.message}`);
    return { found: true };
  }
  const z = await new Promise<ZipOpen>((resolve) => {
    yauzlLib().fromBuffer(buf, ZIP_OPTIONS, (err, zip) => resolve(err || !zip ? { error: err ?? new Error('cannot open zip') } : { ok: wrapZip(zip) }));
  });
  return scanZip(ctx, z, label, depth, async () => bufferSource(buf));
}

/** A zip entry name that would escape an extraction folder, or is otherwise not a plain relative path. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'climbs out of the archive with ".."';
  return undefined;
}

/**
 * Every entry of a zip: `*.pkl` entries as pickles, every other entry by content (an .npz's
 * arrays, a zip of pickles, archives in archives), except the raw tensor storages of a torch
 * checkpoint (`<archive>/data/<n>`), which torch never unpickles. When the central directory
 * cannot be read (bytes appended or prepended, a damaged directory), the local headers are
 * walked instead, as lenient readers do.
 */
async function scanZip(ctx: Ctx, z: ZipOpen, label: string, depth: number, open: Opener): Promise<BlobResult> {
  const out = ctx.out;
  const where = label || 'file';
  if ('error' in z) {
    const walked = await walkLocalHeaders(ctx, open, label, depth);
    if (walked) {
      mergeAnomaly(out, `${where}: zip central directory unreadable (${z.error.message}); entries read from their local headers`);
      return walked;
    }
    out.problems.push({ code: 'pickle-zip-unreadable', message: `${where}: not a readable zip archive: ${z.error.message}` });
    out.incomplete.push(`${where}: the zip archive could not be read`);
    return { found: true };
  }
  const zip = z.ok;
  try {
    if (depth === 0) out.zipEntries = zip.zip.entryCount;
    if (zip.zip.entryCount > MAX_ZIP_ENTRIES) {
      out.problems.push({
        code: 'pickle-zip-too-many-entries',
        message: `${where}: zip has ${zip.zip.entryCount} entries, over the ${MAX_ZIP_ENTRIES} limit (a PyTorch checkpoint has one per tensor storage); not scanned`,
      });
      out.incomplete.push(`${where}: ${zip.zip.entryCount} zip entries; not scanned`);
      return { found: true };
    }
    const listing = await listZipEntries(out, zip, where);
    let found = listing.corrupt;
    const names = listing.entries.map((x) => x.name);
    const torchRoots = new Set(names.filter((n) => /(^|\/)data\.pkl$/.test(n)).map((n) => n.slice(0, n.length - 'data.pkl'.length)));
    const torchScript = names.some((n) => /(^|\/)constants\.pkl$/.test(n)) && names.some((n) => /(^|\/)code\//.test(n));
    if (torchScript) {
      out.torchScript = true;
      addLayer(out, 'torchscript');
    }
    const importsBefore = new Set(out.scan.imports.keys());
    for (const entry of listing.entries) {
      if (await scanZipEntry(ctx, zip, entry, torchRoots, label, depth)) found = true;
    }
    if (torchScript) {
      // TorchScript resolves `__torch__.*` itself; Python never imports them.
      for (const [k, imp] of out.scan.imports) {
        if (!importsBefore.has(k)) imp.verdict = classifyTorchScriptImport(imp.module, imp.verdict);
      }
    }
    if (listing.badNames.length) {
      out.problems.push({ code: 'pickle-zip-path-traversal', message: `${where}: zip has entry names that escape the archive: ${listing.badNames.join('; ')}` });
    }
    return { found };
  } finally {
    zip.close();
  }
}

/** A zip's entries with their decoded names, names that escape the archive, and whether the listing broke off. */
interface ZipListing {
  entries: Array<{ e: yauzl.Entry; name: string }>;
  badNames: string[];
  corrupt: boolean;
}

async function listZipEntries(out: CheckpointScan, zip: OpenZip, where: string): Promise<ZipListing> {
  const listing: ZipListing = { entries: [], badNames: [], corrupt: false };
  for (;;) {
    let e: yauzl.Entry | undefined;
    try {
      e = await zip.next();
    } catch (err) {
      out.problems.push({ code: 'pickle-zip-unreadable', message: `${where}: corrupt zip archive: ${(err as Error).message}` });
      out.incomplete.push(`${where}: the zip archive is corrupt past this point`);
      listing.corrupt = true;
      return listing;
    }
    if (!e) return listing;
    const raw = e.fileName as unknown as Buffer;
    const name = raw.toString((e.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
    const bad = unsafeEntryName(name);
    if (bad && listing.badNames.length < 10) listing.badNames.push(`${JSON.stringify(name)} ${bad}`);
    listing.entries.push({ e, name });
  }
}

/**
 * Scan one zip entry (`*.pkl` as pickles, anything else by content), unless it is one of torch's
 * raw storages or metadata records. True when it holds (or may hold) a pickle.
 */
async function scanZipEntry(ctx: Ctx, zip: OpenZip, entry: { e: yauzl.Entry; name: string }, torchRoots: Set<string>, label: string, depth: number): Promise<boolean> {
  const out = ctx.out;
  const { e, name } = entry;
  if (name.endsWith('/')) return false;
  const root = [...torchRoots].find((r) => name.startsWith(r));
  // torch's raw storages and small metadata records are never unpickled.
  if (root !== undefined && /^(data\/[^/]+|\.data\/.*|byteorder|version|\.format_version|\.storage_alignment|code\/.*\.(py|debug_pkl)|extra\/.*)$/.test(name.slice(root.length))) {
    return false;
  }
  const entryLabel = `${label}${label ? '/' : ''}${name}`;
  if (e.uncompressedSize > MAX_STREAM_BYTES) {
    out.incomplete.push(`${entryLabel} is ${e.uncompressedSize} bytes, over the ${MAX_STREAM_BYTES}-byte limit; not scanned`);
    return true;
  }
  const opener: Opener = async () => {
    let s: Readable;
    try {
      s = await zip.stream(e);
    } catch (err) {
      throw new FormatError(`cannot read entry: ${(err as Error).message}`);
    }
    return new StreamSource(s as AsyncIterable<Buffer>, MAX_STREAM_BYTES, () => s.destroy());
  };
  try {
    const r = name.endsWith('.pkl') ? await scanPickles(ctx, opener, entryLabel, 0, depth + 1) : await scanBlob(ctx, opener, entryLabel, depth + 1);
    return name.endsWith('.pkl') || r.found;
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    out.incomplete.push(`${entryLabel}: ${err.message}`);
    return true;
  }
}

/** Walk a zip's local file headers from the start (stored and deflated entries with sizes up front). */
async function walkLocalHeaders(ctx: Ctx, open: Opener, label: string, depth: number): Promise<BlobResult | undefined> {
  const src = await open();
  const entries: Array<{ name: string; method: number; offset: number; size: number }> = [];
  try {
    for (let n = 0; n < MAX_ZIP_ENTRIES; n++) {
      const sig = await src.peekUpTo(30);
      if (sig.length < 30 || sig.readUInt32LE(0) !== 0x04034b50) break;
      await src.skip(30);
      const flags = sig.readUInt16LE(6);
      const method = sig.readUInt16LE(8);
      const size = sig.readUInt32LE(18);
      const nameLen = sig.readUInt16LE(26);
      const extraLen = sig.readUInt16LE(28);
      const name = (await src.readBytes(nameLen)).toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1');
      await src.skip(extraLen);
      if ((flags & 0x08) !== 0 && size === 0) return undefined; // sizes only after the data
      entries.push({ name, method, offset: src.pos, size });
      await src.skip(size);
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    if (entries.length === 0) return undefined;
  } finally {
    await src.close();
  }
  if (entries.length === 0) return undefined;
  let found = false;
  const names = entries.map((x) => x.name);
  const torchRoots = names.filter((n) => /(^|\/)data\.pkl$/.test(n)).map((n) => n.slice(0, n.length - 'data.pkl'.length));
  for (const x of entries) {
    const root = torchRoots.find((r) => x.name.startsWith(r));
    if (root !== undefined && /^(data\/[^/]+|\.data\/.*|byteorder|version)$/.test(x.name.slice(root.length))) continue;
    const entryLabel = `${label}${label ? '/' : ''}${x.name}`;
    if (x.method !== 0 && x.method !== 8) {
      ctx.out.incomplete.push(`${entryLabel}: zip compression method ${x.method}; not scanned`);
      found = true;
      continue;
    }
    const slice: Opener = async () =>
      bufferSource(
        await withSource(open, async (s) => {
          await s.skip(x.offset);
          return s.readBytes(Math.min(x.size, MAX_BUFFERED_ARCHIVE));
        }),
      );
    const opener = x.method === 8 ? inflater(ctx, slice, 'raw-deflate', entryLabel) : slice;
    const r = x.name.endsWith('.pkl') ? await scanPickles(ctx, opener, entryLabel, 0, depth + 1) : await scanBlob(ctx, opener, entryLabel, depth + 1);
    found ||= r.found || x.name.endsWith('.pkl');
  }
  return { found };
}
