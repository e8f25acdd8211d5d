/**
 * in-toto DigestSet algorithms (attestation spec v1, digest_set.md) and matching an artifact
 * against statement subjects by them.
 *
 * A subject matches an artifact by the strongest algorithm both sides have a digest in; every
 * other algorithm both sides have must agree too (a subject whose sha256 matches but whose
 * sha512 does not describes something else). Algorithms aibom cannot compute are ignored for
 * matching; a subject named only by broken ones (md5, sha1) never matches: those digests do
 * not bind an artifact.
 */
import { createHash } from 'node:crypto';
import { AibomError } from '../errors.js';
import { eachFileChunk } from '../util/fs.js';

export interface DigestAlgorithm {
  /** node:crypto hash name. */
  node: string;
  /** Hex digits of a digest. */
  hexLength: number;
  /** Higher is stronger (collision resistance in bits, then family). */
  strength: number;
}

/** The in-toto DigestSet algorithms aibom computes, by their in-toto names. */
export const IN_TOTO_DIGESTS: Readonly<Record<string, DigestAlgorithm>> = Object.freeze({
  sha3_512: { node: 'sha3-512', hexLength: 128, strength: 257 },
  sha512: { node: 'sha512', hexLength: 128, strength: 256 },
  blake2b: { node: 'blake2b512', hexLength: 128, strength: 255 },
  sha3_384: { node: 'sha3-384', hexLength: 96, strength: 193 },
  sha384: { node: 'sha384', hexLength: 96, strength: 192 },
  sha3_256: { node: 'sha3-256', hexLength: 64, strength: 129 },
  sha512_256: { node: 'sha512-256', hexLength: 64, strength: 128.5 },
  sha256: { node: 'sha256', hexLength: 64, strength: 128 },
  blake2s: { node: 'blake2s256', hexLength: 64, strength: 127 },
  sha3_224: { node: 'sha3-224', hexLength: 56, strength: 113 },
  sha512_224: { node: 'sha512-224', hexLength: 56, strength: 112.5 },
  sha224: { node: 'sha224', hexLength: 56, strength: 112 },
});

/** Named by the in-toto spec but broken for binding an artifact: never matched on their own. */
export const WEAK_DIGESTS: ReadonlySet<string> = new Set(['md5', 'sha1']);

/** in-toto name → node:crypto name, for the algorithms aibom computes. */
export const IN_TOTO_TO_NODE_HASH: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(IN_TOTO_DIGESTS).map(([k, v]) => [k, v.node])),
);

/** node:crypto name → in-toto name. */
export const NODE_TO_IN_TOTO_HASH: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(IN_TOTO_DIGESTS).map(([k, v]) => [v.node, k])),
);

type DigestSetLike = Readonly<Record<string, unknown>>;
interface SubjectLike {
  digest?: DigestSetLike;
}

/** The in-toto algorithms (aibom computes) that any of the first `limit` subjects names. */
export function subjectAlgorithms(subjects: readonly SubjectLike[], limit = 1000): string[] {
  const out = new Set<string>();
  for (const s of subjects.slice(0, limit)) {
    for (const a of Object.keys(s.digest ?? {})) if (Object.hasOwn(IN_TOTO_DIGESTS, a)) out.add(a);
  }
  return [...out];
}

export type SubjectMatch = { match: true; algorithm: string } | { match: false; algorithm?: string };

/**
 * Whether one subject's digest set describes the artifact whose digests are `have` (in-toto
 * name → lowercase hex). `algorithm` is the strongest common one (the one that decided).
 */
export function matchSubject(subject: SubjectLike, have: Readonly<Record<string, string>>): SubjectMatch {
  const common = Object.keys(subject.digest ?? {})
    .filter((a) => Object.hasOwn(IN_TOTO_DIGESTS, a) && typeof have[a] === 'string')
    .sort((a, b) => IN_TOTO_DIGESTS[b]!.strength - IN_TOTO_DIGESTS[a]!.strength);
  const strongest = common[0];
  if (strongest === undefined) return { match: false };
  for (const a of common) {
    const v = subject.digest![a];
    if (typeof v !== 'string' || v.toLowerCase() !== have[a]!.toLowerCase()) return { match: false, algorithm: strongest };
  }
  return { match: true, algorithm: strongest };
}

/** Subjects matching the artifact, and the strongest algorithm that matched any. */
export function matchingSubjects<S extends SubjectLike>(subjects: readonly S[], have: Readonly<Record<string, string>>): { subjects: S[]; algorithm?: string } {
  const hits: S[] = [];
  let best: string | undefined;
  for (const s of subjects) {
    const m = matchSubject(s, have);
    if (!m.match) continue;
    hits.push(s);
    if (best === undefined || IN_TOTO_DIGESTS[m.algorithm]!.strength > IN_TOTO_DIGESTS[best]!.strength) best = m.algorithm;
  }
  return best === undefined ? { subjects: hits } : { subjects: hits, algorithm: best };
}

/** Digests of bytes in the given in-toto algorithms (unknown names ignored), as in-toto name → hex. */
export function digestBytes(bytes: Uint8Array, algorithms: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of algorithms) {
    const alg = IN_TOTO_DIGESTS[a];
    if (alg && Object.hasOwn(IN_TOTO_DIGESTS, a) && out[a] === undefined) out[a] = createHash(alg.node).update(bytes).digest('hex');
  }
  return out;
}

/** Whether a subject names the artifact only by digests that cannot bind it (md5/sha1), for messages. */
export function onlyWeakDigests(subject: SubjectLike): boolean {
  const algs = Object.keys(subject.digest ?? {});
  return algs.length > 0 && algs.every((a) => WEAK_DIGESTS.has(a));
}

/** The same digests keyed by node:crypto name, as bytes (what verification's file targets carry). */
export function toNodeDigests(have: Readonly<Record<string, string>>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [a, hex] of Object.entries(have)) if (Object.hasOwn(IN_TOTO_DIGESTS, a)) out[IN_TOTO_DIGESTS[a]!.node] = Buffer.from(hex, 'hex');
  return out;
}

/** Digests of a file in the given in-toto algorithms, read once as a stream. */
export async function digestFile(path: string, algorithms: Iterable<string>): Promise<Record<string, string>> {
  const names = [...new Set(algorithms)].filter((a) => Object.hasOwn(IN_TOTO_DIGESTS, a));
  const hashes = names.map((a) => createHash(IN_TOTO_DIGESTS[a]!.node));
  await eachFileChunk(path, (chunk) => {
    for (const h of hashes) h.update(chunk);
  }).catch((err: Error) => {
    throw new AibomError('INPUT', `cannot read: ${err.message}`, { file: path });
  });
  return Object.fromEntries(names.map((a, i) => [a, hashes[i]!.digest('hex')]));
}
