/**
 * A verified bundle whose statement is a SLSA Verification Summary Attestation gets the VSA's
 * verdict in its result (`aibom verify` shows it; a VSA that says FAILED exits 1). Only after
 * the signature and the subject verified: an unverified VSA says nothing.
 */
import { summarizeVsa, VSA_PREDICATE_TYPE } from '../attestation/vsa.js';
import type { LoadedBundle } from './bundle.js';
import type { VerificationResult } from './result.js';

export function withVsaSummary(result: VerificationResult, loaded: LoadedBundle): VerificationResult {
  if (result.verified && loaded.statement?.predicateType === VSA_PREDICATE_TYPE) result.vsa = summarizeVsa(loaded.statement.predicate);
  return result;
}

/** The line `aibom verify` prints under the verdict for a VSA. */
export function vsaLine(r: VerificationResult): string | undefined {
  if (!r.vsa) return undefined;
  const v = r.vsa;
  const levels = v.verifiedLevels.length ? ` (${v.verifiedLevels.join(', ')})` : '';
  return `SLSA VSA ${v.verificationResult}${levels} for ${v.resourceUri ?? '(no resource)'}: verifier ${v.verifier}, policy ${v.policy ?? '(none)'}${v.timeVerified ? `, verified ${v.timeVerified}` : ''}`;
}

/** A VSA whose verdict is not PASSED fails `aibom verify`. */
export function vsaPassed(r: VerificationResult): boolean {
  return !r.vsa || r.vsa.verificationResult === 'PASSED';
}
