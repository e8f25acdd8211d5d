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
import { ASN1Obj, type X509Certificate } from '@sigstore/core';

const encode = ASN1Obj.prototype.toDER;
const MAX_NODES = 100_000;

export function memoizeDer(cert: X509Certificate): void {
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
