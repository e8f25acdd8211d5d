/**
 * Signing with a private key from a PEM file (`--key`): ECDSA P-256 or P-384, and Ed25519 for
 * DSSE. Implements @sigstore/sign's `Signer` with node:crypto, so the same bundle builders make
 * key-signed and keyless bundles.
 *
 * Hashes (what verifiers expect):
 *  - DSSE: the curve's own hash, as the Sigstore key details name them (P-256 → SHA-256,
 *    P-384 → SHA-384) and as OpenSSF model_signing signs and verifies; Ed25519 signs the PAE
 *    bytes directly.
 *  - Message signatures: SHA-256 on any curve, because the bundle's messageDigest is SHA-256
 *    and verifiers check the signature with the messageDigest's algorithm (that is also what
 *    lets a verifier holding only the artifact's sha256 check it). Ed25519 cannot sign a
 *    prehashed digest in a way Sigstore verifiers accept, so it is refused for message
 *    signatures.
 *
 * The bundle names the key by a hint: the hex SHA-256 of the public key's SPKI PEM, as
 * model_signing writes it (its verifier compares the hint with the key it is given).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign as cryptoSign } from 'node:crypto';
import type { Signature, Signer } from '@sigstore/sign';
import { AibomError } from '../errors.js';
import { readBytesBounded } from '../util/fs.js';

export type KeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';
export type SignatureKind = 'message' | 'dsse';

/** Sigstore PublicKeyDetails names of the key kinds. */
export const KEY_DETAILS: Record<KeyKind, string> = {
  'ecdsa-p256': 'PKIX_ECDSA_P256_SHA_256',
  'ecdsa-p384': 'PKIX_ECDSA_P384_SHA_384',
  ed25519: 'PKIX_ED25519',
};

const MAX_KEY_BYTES = 64 * 1024;

export interface LoadedKey {
  kind: KeyKind;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  /** Hex SHA-256 of publicKeyPem: the bundle's public-key hint. */
  hint: string;
}

/**
 * Read a private key (PKCS#8, SEC1 "EC PRIVATE KEY", or OpenSSH-free PEM). An encrypted key is
 * opened with `password` (from AIBOM_KEY_PASSWORD); the password is never echoed.
 */
export async function loadPrivateKey(file: string, password?: string): Promise<LoadedKey> {
  const pem = await readBytesBounded(file, MAX_KEY_BYTES, file);
  const text = pem.toString('utf8');
  if (/-----BEGIN (?:PUBLIC KEY|CERTIFICATE)-----/.test(text) && !/PRIVATE KEY-----/.test(text)) {
    throw new AibomError('INPUT', 'this is a public key or certificate; --key needs the private key (PEM)', { file });
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new AibomError('INPUT', 'not a PEM private key (expected -----BEGIN PRIVATE KEY----- or EC PRIVATE KEY)', { file });
  }
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,\s*ENCRYPTED/.test(text);
  if (encrypted && password === undefined) {
    throw new AibomError('INPUT', 'the private key is encrypted; set AIBOM_KEY_PASSWORD', { file });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(password === undefined ? { key: text, format: 'pem' } : { key: text, format: 'pem', passphrase: password });
  } catch {
    if (encrypted) throw new AibomError('INPUT', 'cannot decrypt the private key with AIBOM_KEY_PASSWORD', { file });
    throw new AibomError('INPUT', 'cannot read the private key (malformed PEM or an unsupported key format)', { file });
  }
  const kind = keyKind(privateKey, file);
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { kind, privateKey, publicKey, publicKeyPem, hint: keyHint(publicKeyPem) };
}

export function keyHint(publicKeyPem: string): string {
  return createHash('sha256').update(publicKeyPem, 'utf8').digest('hex');
}

function keyKind(key: KeyObject, file: string): KeyKind {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ecdsa-p256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ecdsa-p384';
    throw new AibomError('INPUT', `unsupported elliptic curve ${curve ?? '(unknown)'}: use P-256 or P-384`, { file });
  }
  throw new AibomError(
    'INPUT',
    `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}: use ECDSA P-256 or P-384, or Ed25519 for DSSE (in-toto) signatures`,
    { file },
  );
}

/** The hash a key signs with for a kind of signature (undefined: Ed25519 signs the bytes). */
export function signingHash(kind: KeyKind, _sig: SignatureKind): 'sha256' | 'sha384' | undefined {
  // Sigstore's algorithm registry pairs each key with one hash, for every kind of signature:
  // PKIX_ECDSA_P256_SHA_256, PKIX_ECDSA_P384_SHA_384.
  if (kind === 'ed25519') return undefined;
  return kind === 'ecdsa-p384' ? 'sha384' : 'sha256';
}

/** A @sigstore/sign Signer over a loaded key, for one kind of signature. */
export class KeySigner implements Signer {
  constructor(
    private readonly key: LoadedKey,
    private readonly kind: SignatureKind,
    file = 'the key',
  ) {
    if (key.kind === 'ed25519' && kind === 'message') {
      throw new AibomError(
        'USAGE',
        'an Ed25519 key can only sign DSSE (in-toto) bundles: sign a folder, use --in-toto or `aibom attest`, or use an ECDSA key',
        { file },
      );
    }
  }

  async sign(data: Buffer): Promise<Signature> {
    const signature = cryptoSign(signingHash(this.key.kind, this.kind) ?? null, data, this.key.privateKey);
    return { signature, key: { $case: 'publicKey', publicKey: this.key.publicKeyPem, hint: this.key.hint } };
  }
}
