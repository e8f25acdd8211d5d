/**
 * `--trusted-root FILE` when signing: before the bundle is written, check what Fulcio, Rekor and
 * the TSA returned against that trusted root (the certificate chains to a trusted CA and has an
 * SCT from a trusted CT log, each log entry's inclusion is signed by a trusted log, each
 * timestamp by a trusted TSA, the signature verifies). A service that answered with material
 * the signer does not trust fails the signing run (exit 1) instead of producing a bundle no
 * verifier will accept. Identity is not checked here: the signer knows whom it signed as.
 *
 * For a key-signed bundle the key is the signer's own: the check covers its log entries and
 * timestamps. @sigstore/verify 4 refuses repeated log entries and timestamps here too.
 */
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import type { KeyObject } from 'node:crypto';
import { type TrustMaterial, toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';

const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

export async function readTrustedRoot(file: string): Promise<TrustedRoot> {
  const data = parseJsonText(await readTextBounded(file, MAX_TRUSTED_ROOT_BYTES, file), file, 64);
  if (!isObject(data) || typeof data.mediaType !== 'string' || !/trustedroot/.test(data.mediaType)) {
    throw new AibomError('INPUT', 'not a Sigstore trusted root (no trustedroot mediaType)', { file });
  }
  try {
    return TrustedRoot.fromJSON(data);
  } catch (err) {
    throw new AibomError('INPUT', `not a valid Sigstore trusted root: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
}

/**
 * Verify a freshly made bundle against a trusted root. `artifact` is the signed bytes for a
 * message signature (undefined for DSSE). For a key-signed bundle (`publicKey`), the key is the
 * signer's own: its log entries and timestamps are what the trusted root must vouch for.
 */
export function checkAgainstTrustedRoot(bundle: SerializedBundle, root: TrustedRoot, file: string, artifact?: Buffer, publicKey?: KeyObject): void {
  const tlogs = bundle.verificationMaterial.tlogEntries?.length ?? 0;
  const timestamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.length ?? 0;
  let trust: TrustMaterial;
  try {
    trust = toTrustMaterial(root);
  } catch (err) {
    throw new AibomError('INPUT', `cannot use the trusted root: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  if (publicKey) trust = { ...trust, publicKey: () => ({ publicKey, validFor: () => true }) };
  const verifier = new Verifier(
    trust,
    publicKey
      ? { tlogThreshold: tlogs, ctlogThreshold: 0, timestampThreshold: Math.min(1, tlogs + timestamps) }
      : { tlogThreshold: tlogs, ctlogThreshold: 1, timestampThreshold: 1 },
  );
  try {
    const entity = toSignedEntity(bundleFromJSON(bundle), artifact);
    verifier.verify(publicKey ? { ...entity, key: { $case: 'public-key', hint: '' } } : entity);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new AibomError(
      'VERIFY_FAILED',
      `the signing services returned material this trusted root does not vouch for (${msg}); no bundle written`,
      { file },
    );
  }
}
