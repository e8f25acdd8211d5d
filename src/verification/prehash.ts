/**
 * Verify a message signature when all we have is the artifact's digest (`sha256:<hex>`), not
 * its bytes. The signature was made over the artifact, i.e. over hash(artifact); checking it
 * needs the signature primitive applied to a hash we already hold, which node:crypto does
 * not offer (crypto.verify always hashes its input). So:
 * - ECDSA (P-256, P-384, P-521): @noble/curves with `prehash: false` (audited library);
 * - RSA PKCS#1 v1.5: node:crypto's RSA public operation recovers the DigestInfo, which is
 *   compared with the expected DigestInfo for the digest;
 * - anything else (Ed25519 signs the message itself, RSA-PSS): refused, clearly.
 */
import { constants, type KeyObject, publicDecrypt, timingSafeEqual } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';

/** DER prefixes of DigestInfo (RFC 8017, section 9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

export class PrehashUnsupported extends Error {}

/**
 * Whether `signature` is a valid signature by `key` over a message whose `hashAlgorithm`
 * digest is `digest`. Throws PrehashUnsupported for key types this cannot check.
 */
export function verifyPrehashed(key: KeyObject, hashAlgorithm: string, digest: Buffer, signature: Buffer): boolean {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const impl = curve === 'prime256v1' ? p256 : curve === 'secp384r1' ? p384 : curve === 'secp521r1' ? p521 : undefined;
    if (!impl) throw new PrehashUnsupported(`ECDSA curve ${curve ?? 'unknown'} is not supported for digest-only verification`);
    // The public point, uncompressed (0x04 || X || Y), from the key's JWK form.
    const jwk = key.export({ format: 'jwk' });
    if (!jwk.x || !jwk.y) return false;
    const pub = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    try {
      // lowS: false: OpenSSL-made signatures may have a high S and are valid ECDSA.
      return impl.verify(signature, digest, pub, { prehash: false, format: 'der', lowS: false });
    } catch {
      return false;
    }
  }
  if (type === 'rsa') {
    const prefix = DIGEST_INFO_PREFIX[hashAlgorithm];
    if (!prefix) throw new PrehashUnsupported(`RSA with ${hashAlgorithm} is not supported for digest-only verification`);
    let recovered: Buffer;
    try {
      recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    } catch {
      return false;
    }
    const expected = Buffer.concat([Buffer.from(prefix, 'hex'), digest]);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  }
  throw new PrehashUnsupported(`${type ?? 'this'} keys sign the message itself; verify with the artifact's path instead of its digest`);
}
