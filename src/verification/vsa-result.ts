/**
 * A verified bundle whose statement is a SLSA Verification Summary Attestation carries the
 * VSA's verdict in its result, in the verifier core, so every caller (`aibom verify`, batch
 * files, the gate's BOM signature, the start-up check) sees it: a VSA whose verdict is not
 * PASSED is a signed record of a refusal and never verifies (reason `vsa-failed`), even though
 * its signature and subject are good. Only after the signature and the subject verified: an
 * unverified VSA says nothing.
 */
import { summarizeVsa } from '../attestation/vsa.js';
import type { LoadedBundle } from './bundle.js';
import type { VerificationResult } from './result.js';

/**
 * Any version or spelling of the SLSA VSA type (v0.2, v1, a trailing slash, another case): a
 * signed verdict is judged by its verdict whatever version it claims to be.
 */
export function isVsaType(predicateType: string): boolean {
  return /^https?:\/\/slsa\.dev\/verification_summary(\/|$)/i.test(predicateType.trim());
}

export function applyVsaVerdict(result: VerificationResult, loaded: LoadedBundle): void {
  if (!result.verified || !loaded.statement || !isVsaType(loaded.statement.predicateType)) return;
  result.vsa = summarizeVsa(loaded.statement.predicate);
  if (result.vsa.verificationResult === 'PASSED') return;
  result.verified = false;
  result.reason = 'vsa-failed';
  result.error = `the signature verifies, but it is a SLSA verification summary whose verdict is ${result.vsa.verificationResult}: a signed record that the verifier refused ${result.vsa.resourceUri ?? 'this artifact'}, not a signature that vouches for it`;
}

/** The line `aibom verify` prints under the verdict for a VSA. */
export function vsaLine(r: VerificationResult): string | undefined {
  if (!r.vsa) return undefined;
  const v = r.vsa;
  const levels = v.verifiedLevels.length ? ` (${v.verifiedLevels.join(', ')})` : '';
  return `SLSA VSA ${v.verificationResult}${levels} for ${v.resourceUri ?? '(no resource)'}: verifier ${v.verifier}, policy ${v.policy ?? '(none)'}${v.timeVerified ? `, verified ${v.timeVerified}` : ''}`;
}
