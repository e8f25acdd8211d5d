/**
 * SLSA Verification Summary Attestation v1 (`https://slsa.dev/verification_summary/v1`): the
 * predicate `aibom gate --vsa` signs, and the summary `aibom verify` shows of one. Schema:
 * schemas/aibom-vsa.schema.json (the in-toto statement with this predicate, as aibom writes it).
 */
import { isObject } from '../util/json.js';

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
/** Our verifier id when none is given: the package, as a purl. */
export const DEFAULT_VERIFIER_ID = 'pkg:npm/aibom';

export interface VsaResourceDescriptor {
  uri: string;
  digest: Record<string, string>;
}

export interface VsaPredicate {
  verifier: { id: string; version?: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: VsaResourceDescriptor;
  inputAttestations: VsaResourceDescriptor[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: '1.0';
}

/** What `aibom verify` prints of a verified VSA. */
export interface VsaSummary {
  verificationResult: string;
  verifiedLevels: string[];
  verifier: string;
  resourceUri?: string;
  policy?: string;
  timeVerified?: string;
}

const str = (v: unknown, max = 2048): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** The summary of a VSA predicate (untrusted JSON: only strings, bounded, are taken). */
export function summarizeVsa(predicate: unknown): VsaSummary {
  const p = isObject(predicate) ? predicate : {};
  const levels = Array.isArray(p.verifiedLevels) ? p.verifiedLevels.slice(0, 16).filter((x): x is string => typeof x === 'string').map((x) => x.slice(0, 64)) : [];
  const out: VsaSummary = {
    verificationResult: str(p.verificationResult, 16) ?? '(missing)',
    verifiedLevels: levels,
    verifier: str(isObject(p.verifier) ? p.verifier.id : undefined) ?? '(missing)',
  };
  const resourceUri = str(p.resourceUri);
  if (resourceUri !== undefined) out.resourceUri = resourceUri;
  const policy = str(isObject(p.policy) ? p.policy.uri : undefined);
  if (policy !== undefined) out.policy = policy;
  const time = str(p.timeVerified, 64);
  if (time !== undefined) out.timeVerified = time;
  return out;
}
