/**
 * The one key fingerprint aibom shows everywhere (sign, the BOM, verify, verify-plugins, gate):
 * `sha256:<hex>` of the public key's DER SubjectPublicKeyInfo, as `openssl pkey -pubin -outform
 * DER | sha256sum` gives. (model_signing's bundle hint, the SHA-256 of the PEM text, is kept in
 * bundles for model_signing's sake, never shown as the key's name.)
 */
import { createHash, type KeyObject } from 'node:crypto';

const fingerprints = new WeakMap<KeyObject, string>();

export function keyFingerprint(key: KeyObject): string {
  let fp = fingerprints.get(key);
  if (fp === undefined) {
    fp = `sha256:${createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex')}`;
    fingerprints.set(key, fp);
  }
  return fp;
}

/** A private key given where a public key belongs (PEM text or PKCS#8/SEC1 markers). */
export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}
