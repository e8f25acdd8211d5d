/**
 * The one BOM reader: a CycloneDX JSON BOM from a file or from bytes already read (and, for
 * the start-up check, already verified), bounded in size and nesting, refused unless it says
 * `"bomFormat": "CycloneDX"`. No CycloneDX library: the start-up path (runtime/lock.ts) reads
 * BOMs through this too and must stay light. What a BOM means is read by its consumers: the
 * reviewer's rows (rows.ts) and the start-up lock (runtime/lock.ts).
 */
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';

/** Largest BOM file read. */
export const MAX_BOM_BYTES = 256 * 1024 * 1024;

/** A parsed CycloneDX JSON BOM (its shape beyond `bomFormat` is for the consumer to check). */
export type BomDocument = Record<string, unknown>;

/** Parse BOM text or bytes; `maxDepth` bounds the nesting (default: parseJsonText's). */
export function parseBom(data: string | Uint8Array, file: string, maxDepth?: number): BomDocument {
  const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const json = maxDepth === undefined ? parseJsonText(text, file) : parseJsonText(text, file, maxDepth);
  if (!isObject(json) || json.bomFormat !== 'CycloneDX') {
    throw new AibomError('INPUT', 'not a CycloneDX JSON BOM (no "bomFormat": "CycloneDX")', { file });
  }
  return json;
}

/** Read a BOM file (bounded) and parse it. */
export async function readBomFile(file: string): Promise<BomDocument> {
  return parseBom(await readTextBounded(file, MAX_BOM_BYTES, file), file);
}
