/** verification/: offline Sigstore verification with anchored identities (the public face; see ARCHITECTURE.md). */
export { type VerifyRequest, VerifySession } from './run.js';
export type { VerificationResult } from './result.js';
export { type CertificateClaims, certificateClaims } from './claims.js';
export type { ClaimOptions } from './claim-policy.js';
