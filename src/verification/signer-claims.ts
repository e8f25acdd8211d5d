/**
 * The Fulcio claims of a bundle's signing certificate (the first certificate of its
 * verification material), read from the bundle's DER bytes, not from a library's parsed view.
 * A certificate whose claims cannot be read fails the verification as malformed.
 */
import { AibomError } from '../errors.js';
import type { LoadedBundle } from './bundle.js';
import { type CertificateClaims, certificateClaims } from './claims.js';
import { VerifyFailure } from './result.js';

export function signingCertificateClaims(loaded: LoadedBundle): CertificateClaims {
  const vm = loaded.bundle.verificationMaterial.content;
  const raw = vm.$case === 'certificate' ? vm.certificate.rawBytes : vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates[0]?.rawBytes : undefined;
  if (!raw) return {};
  try {
    return certificateClaims(raw);
  } catch (err) {
    if (err instanceof AibomError) throw new VerifyFailure('malformed', err.message);
    throw err;
  }
}
