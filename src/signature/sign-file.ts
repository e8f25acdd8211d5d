/**
 * `aibom sign FILE`: a message signature over the file's bytes; with `--in-toto`, the file is
 * already an in-toto Statement v1 and is signed unchanged in a DSSE envelope (payloadType
 * application/vnd.in-toto+json). The statement is validated first: signing something a
 * verifier will refuse helps nobody.
 */
import { keyFingerprint } from '../util/key-fingerprint.js';
import { createHash } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import { IN_TOTO_PAYLOAD_TYPE } from '../attestation/dsse.js';
import { parseStatementBytes } from '../attestation/statement.js';
import { readBytesBounded } from '../util/fs.js';
import { createBundle, type SigningIdentity } from './bundle-builder.js';
import type { KeyKind } from './key-signer.js';
import { type SignOutcome, summarizeBundle } from './summary.js';

/**
 * A message signature needs the whole artifact in memory (the signature is computed over its
 * bytes, not a digest of them). 1 GiB is far above a release artifact or a BOM; a model bigger
 * than that is signed as a folder, which streams.
 */
export const MAX_MESSAGE_ARTIFACT_BYTES = 1024 * 1024 * 1024;
/** A statement is JSON read whole; 256 MiB bounds even a BOM with every file of a monorepo. */
export const MAX_STATEMENT_BYTES = 256 * 1024 * 1024;

export interface FileSignOptions {
  inToto?: boolean;
  /** Called with the new bundle (and, for a message signature, the signed bytes) before it is returned: a last check. */
  check?: (bundle: SerializedBundle, artifact?: Buffer) => void;
}

export async function signFile(path: string, identity: SigningIdentity, options: FileSignOptions = {}): Promise<SignOutcome> {
  if (options.inToto) {
    const bytes = await readBytesBounded(path, MAX_STATEMENT_BYTES, path);
    const statement = parseStatementBytes(bytes, path);
    const bundle = await createBundle({ kind: 'dsse', payload: bytes, payloadType: IN_TOTO_PAYLOAD_TYPE }, identity);
    options.check?.(bundle);
    return {
      kind: 'in-toto',
      target: path,
      sha256: sha256(bytes),
      subjects: statement.subject.map((s) => (s.name === undefined ? { digest: s.digest } : { name: s.name, digest: s.digest })),
      predicateType: statement.predicateType,
      bundle,
      summary: summarizeBundle(bundle, keyOf(identity)),
    };
  }
  const data = await readBytesBounded(path, MAX_MESSAGE_ARTIFACT_BYTES, path);
  const bundle = await createBundle({ kind: 'message', data }, identity);
  options.check?.(bundle, data);
  return { kind: 'file', target: path, sha256: sha256(data), bundle, summary: summarizeBundle(bundle, keyOf(identity)) };
}

/** The key a bundle was signed with, for its summary (undefined for keyless). */
export function keyOf(identity: SigningIdentity): { kind: KeyKind; hint: string; fingerprint: string } | undefined {
  return identity.mode === 'key' ? { kind: identity.key.kind, hint: identity.key.hint, fingerprint: keyFingerprint(identity.key.publicKey) } : undefined;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
