/**
 * The full manifest of a folder, bound into one digest: every file's exact name bytes (UTF-8,
 * as listed, never normalized) with its SHA-256, in code-point order. The model_signing folder
 * digest hashes only the sorted file digests, so a rename that keeps the order (a shipped
 * script renamed to the entry point, an NFC name renamed to its NFD twin) keeps that digest;
 * this one changes with any name. aibom pins both (`aibom:files-digest` and
 * `aibom:folder-digest`); the start-up check compares both.
 */
import { createHash } from 'node:crypto';
import { compareCodePoints } from './digest.js';

const TAG = Buffer.from('aibom-files-v1\0');

/** `hex` of the full manifest (names + digests); `resources` in any order. */
export function filesDigest(resources: ReadonlyArray<{ name: string; digest: string }>): string {
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  const h = createHash('sha256').update(TAG);
  const len = Buffer.alloc(4);
  for (const r of sorted) {
    const name = Buffer.from(r.name, 'utf8');
    len.writeUInt32BE(name.length);
    h.update(len).update(name).update(Buffer.from(r.digest, 'hex'));
  }
  return h.digest('hex');
}

/** A name read from disk that is not valid UTF-8 decodes with U+FFFD: two names could then collide. */
export function nameIsExact(name: string): boolean {
  return !name.includes('\uFFFD');
}

/**
 * Both digests of resources already in code-point order (as the start-up check lists them),
 * in one pass over one buffer each: the model_signing folder digest (file digests only) and
 * the full-manifest digest. Same values as manifestDigest() and filesDigest().
 */
export function sortedDigests(resources: ReadonlyArray<{ name: string; digest: string }>): { folder: string; files: string } {
  const digests = Buffer.allocUnsafe(resources.length * 32);
  let nameBytes = 0;
  for (const r of resources) nameBytes += Buffer.byteLength(r.name, 'utf8');
  const manifest = Buffer.allocUnsafe(TAG.length + resources.length * 36 + nameBytes);
  TAG.copy(manifest, 0);
  let off = TAG.length;
  resources.forEach((r, i) => {
    const n = manifest.write(r.name, off + 4, 'utf8');
    manifest.writeUInt32BE(n, off);
    off += 4 + n;
    digests.write(r.digest, i * 32, 32, 'hex');
    digests.copy(manifest, off, i * 32, i * 32 + 32);
    off += 32;
  });
  return { folder: createHash('sha256').update(digests).digest('hex'), files: createHash('sha256').update(manifest.subarray(0, off)).digest('hex') };
}
