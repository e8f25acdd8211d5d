/**
 * Speed: @sigstore/core re-encodes a certificate's whole ASN.1 tree to DER every time it
 * compares two certificates or checks a signature over a TBS certificate, and chain building
 * does that many times per verification, for the same trusted CA certificates on every
 * bundle. Profiling a batch of 200 keyless bundles put ~70% of verification time in that
 * re-encoding. A parsed certificate we hold is never modified (@sigstore/verify clones a
 * certificate before editing it, for SCT checks, and a clone is a fresh parse), so its DER
 * is fixed: remember it per ASN.1 node, on the certificates aibom created (the trusted
 * root's, loaded once, and each bundle's signing certificate). The bytes are identical; only
 * the work is not repeated. Iterative walk: no recursion on the tree.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ASN1Obj, crypto, X509Certificate } from '@sigstore/core';

const encode = ASN1Obj.prototype.toDER;
const MAX_NODES = 100_000;

export function memoizeDer(cert: X509Certificate): void {
  useTrustedIssuerKeys(cert);
  const stack: ASN1Obj[] = [cert.root];
  let seen = 0;
  while (stack.length) {
    const node = stack.pop()!;
    if (++seen > MAX_NODES) return; // a hostile certificate: leave the rest unmemoized
    if (Object.hasOwn(node, 'toDER')) continue;
    let der: Buffer | undefined;
    Object.defineProperty(node, 'toDER', {
      value(this: ASN1Obj): Buffer {
        der ??= encode.call(this);
        return der;
      },
    });
    for (const sub of node.subs) stack.push(sub);
  }
}

/**
 * Speed, for the trusted root's CA certificates (and TSA chains): every keyless verification
 * checks the signing certificate against the same intermediate, the intermediate against the
 * same root and the root against itself, and @sigstore/core parses the issuer's public key
 * from DER for every check. For a certificate marked trusted here, its public key is parsed
 * once, and the outcome of a check between two trusted certificates (both immutable, both
 * loaded once) is remembered. The check itself is the one @sigstore/core makes: the issuer's
 * key over the TBS certificate's DER, with the certificate's signature algorithm.
 */
const trustedKeys = new WeakMap<X509Certificate, KeyObject>();
const trustedResults = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();
const originalVerify = X509Certificate.prototype.verify;

function fastVerify(this: X509Certificate, issuer?: X509Certificate): boolean {
  const signer = issuer ?? this;
  const key = trustedKeys.get(signer);
  if (!key) return originalVerify.call(this, issuer);
  const memo = trustedKeys.has(this) ? trustedResults.get(this) : undefined;
  const known = memo?.get(signer);
  if (known !== undefined) return known;
  const ok = crypto.verify(this.tbsCertificate.toDER(), key, this.signatureValue, this.signatureAlgorithm);
  memo?.set(signer, ok);
  return ok;
}

export function memoizeTrustedCertificate(cert: X509Certificate): void {
  memoizeDer(cert);
  if (trustedKeys.has(cert)) return;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
  } catch {
    return; // left to @sigstore/core, which reports it
  }
  trustedKeys.set(cert, key);
  trustedResults.set(cert, new WeakMap());
  if (!Object.hasOwn(cert, 'verify')) Object.defineProperty(cert, 'verify', { value: fastVerify });
}

/** A signing certificate checked against trusted issuers: their keys parsed once (memoizeTrustedCertificate). */
export function useTrustedIssuerKeys(cert: X509Certificate): void {
  if (!Object.hasOwn(cert, 'verify')) Object.defineProperty(cert, 'verify', { value: fastVerify });
}
