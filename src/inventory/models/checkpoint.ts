import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';
import { lazyRequire } from '../../util/lazy.js';
import { emptyScan, looksLikePickle, type PickleScan, scanPickle } from './pickle.js';
import { FileSource, FormatError, StreamSource } from './reader.js';

/** Loaded when a zip checkpoint is read (see lazyRequire). */
const yauzlLib = lazyRequire<typeof import('yauzl')>('yauzl');

/**
 * Pickle-based checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`): either a raw pickle stream
 * (Python's pickle.dump, or PyTorch's legacy format: five pickles then raw storage bytes) or a
 * zip archive (PyTorch ≥ 1.6, TorchScript) whose `*.pkl` entries are pickles. Every pickle is
 * opcode-scanned; nothing is unpickled or extracted. The zip is read with yauzl, entry by
 * entry, bounded in entries, pickles and bytes; names are checked here (not by yauzl, which
 * would abort the whole archive) so a path-traversal name is reported and the rest scanned.
 */

/** A PyTorch checkpoint holds one entry per tensor storage; real ones stay far below this. */
export const MAX_ZIP_ENTRIES = 65_536;
const MAX_PICKLE_ENTRIES = 64;
const MAX_PICKLE_BYTES = 1024 * 1024 * 1024;
const MAX_RAW_PICKLES = 16;
/** torch.serialization's legacy magic number, the first pickle of a legacy torch.save file. */
const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export interface ContainerProblem {
  code: 'pickle-zip-too-many-entries' | 'pickle-zip-path-traversal' | 'pickle-zip-unreadable';
  message: string;
}

export interface CheckpointScan {
  container: 'zip' | 'raw';
  /** Pickles scanned: zip entry names, or `#1`, `#2`... for consecutive raw pickles. */
  pickles: string[];
  scan: PickleScan;
  /** Why part of the file was not checked, when it was not. */
  incomplete: string[];
  problems: ContainerProblem[];
  torchLegacy: boolean;
  zipEntries?: number;
  /** TorchScript archive (has `code/`): loading it runs TorchScript. */
  torchScript: boolean;
}

/** Is this file a pickle checkpoint at all? Reads 8 bytes. */
export async function sniffCheckpoint(path: string): Promise<'zip' | 'raw' | undefined> {
  const src = await FileSource.open(path);
  try {
    const n = Math.min(8, src.size);
    if (n < 2) return undefined;
    const head = await src.readBytes(n);
    if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) return 'zip';
    return looksLikePickle(head) ? 'raw' : undefined;
  } finally {
    await src.close();
  }
}

export async function scanCheckpoint(path: string, kind: 'zip' | 'raw'): Promise<CheckpointScan> {
  const out: CheckpointScan = {
    container: kind,
    pickles: [],
    scan: emptyScan(),
    incomplete: [],
    problems: [],
    torchLegacy: false,
    torchScript: false,
  };
  if (kind === 'raw') await scanRaw(path, out);
  else await scanZip(path, out);
  return out;
}

async function scanRaw(path: string, out: CheckpointScan): Promise<void> {
  const src = await FileSource.open(path);
  try {
    for (let i = 1; i <= MAX_RAW_PICKLES; i++) {
      out.pickles.push(`#${i}`);
      try {
        await scanPickle(src, out.scan);
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        out.incomplete.push(i === 1 ? err.message : `pickle #${i}: ${err.message}`);
        return;
      }
      if (i === 1 && out.scan.firstInt === TORCH_LEGACY_MAGIC) out.torchLegacy = true;
      if (await src.atEnd()) return;
      // Legacy torch.save: magic, protocol, sys_info, the object, the storage keys; then raw bytes.
      if (out.torchLegacy && i === 5) return;
      const head = await peek(src, 2);
      if (!looksLikePickle(head)) {
        out.scan.anomalies.push(`${src.remaining} bytes after pickle #${i} are not a pickle; not scanned`);
        return;
      }
    }
    if (!(await src.atEnd())) out.incomplete.push(`more than ${MAX_RAW_PICKLES} consecutive pickles; the rest not scanned`);
  } finally {
    await src.close();
  }
}

async function peek(src: FileSource, n: number): Promise<Buffer> {
  const at = src.pos;
  const b = await src.readBytes(Math.min(n, src.remaining));
  await src.seek(at);
  return b;
}

interface OpenZip {
  zip: yauzl.ZipFile;
  next(): Promise<yauzl.Entry | undefined>;
  stream(e: yauzl.Entry): Promise<Readable>;
  close(): void;
}

function openZip(path: string): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    yauzlLib().open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open zip'));
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
      resolve({
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
      });
    });
  });
}

/** A zip entry name that would escape an extraction folder, or is otherwise not a plain relative path. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'climbs out of the archive with ".."';
  return undefined;
}

async function scanZip(path: string, out: CheckpointScan): Promise<void> {
  let z: OpenZip;
  try {
    z = await openZip(path);
  } catch (err) {
    out.problems.push({ code: 'pickle-zip-unreadable', message: `not a readable zip archive: ${(err as Error).message}` });
    out.incomplete.push('the zip archive could not be read');
    return;
  }
  try {
    out.zipEntries = z.zip.entryCount;
    if (z.zip.entryCount > MAX_ZIP_ENTRIES) {
      out.problems.push({
        code: 'pickle-zip-too-many-entries',
        message: `zip checkpoint has ${z.zip.entryCount} entries, over the ${MAX_ZIP_ENTRIES} limit (a PyTorch checkpoint has one per tensor storage); not scanned`,
      });
      out.incomplete.push(`${z.zip.entryCount} zip entries; not scanned`);
      return;
    }
    const badNames: string[] = [];
    for (;;) {
      let e: yauzl.Entry | undefined;
      try {
        e = await z.next();
      } catch (err) {
        out.problems.push({ code: 'pickle-zip-unreadable', message: `corrupt zip archive: ${(err as Error).message}` });
        out.incomplete.push('the zip archive is corrupt past this point');
        return;
      }
      if (!e) break;
      const raw = e.fileName as unknown as Buffer;
      const name = raw.toString((e.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
      const bad = unsafeEntryName(name);
      if (bad && badNames.length < 10) badNames.push(`${JSON.stringify(name)} ${bad}`);
      if (/(^|\/)code\//.test(name)) out.torchScript = true;
      if (!name.endsWith('.pkl')) continue;
      if (out.pickles.length >= MAX_PICKLE_ENTRIES) {
        out.incomplete.push(`more than ${MAX_PICKLE_ENTRIES} pickle entries; the rest not scanned`);
        break;
      }
      out.pickles.push(name);
      if (e.uncompressedSize > MAX_PICKLE_BYTES) {
        out.incomplete.push(`${name} is ${e.uncompressedSize} bytes, over the ${MAX_PICKLE_BYTES}-byte limit; not scanned`);
        continue;
      }
      let stream: Readable;
      try {
        stream = await z.stream(e);
      } catch (err) {
        out.incomplete.push(`${name}: ${(err as Error).message}`);
        continue;
      }
      const src = new StreamSource(stream as AsyncIterable<Buffer>, MAX_PICKLE_BYTES, () => stream.destroy());
      try {
        await scanPickle(src, out.scan);
      } catch (err) {
        out.incomplete.push(`${name}: ${err instanceof FormatError ? err.message : (err as Error).message}`);
      } finally {
        await src.close();
      }
    }
    if (badNames.length) {
      out.problems.push({
        code: 'pickle-zip-path-traversal',
        message: `zip checkpoint has entry names that escape the archive: ${badNames.join('; ')}`,
      });
    }
  } finally {
    z.close();
  }
}
