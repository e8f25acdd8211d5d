import type { ClaimOptions } from '../verification/claim-policy.js';

/** The policy file (schemas/aibom-policy.schema.json), as loaded and checked. */
export interface SignerPolicy extends ClaimOptions {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
  /** PEM text of a public key (read from the path in the file). */
  keyPem?: string;
  keyPath?: string;
  keyFingerprint?: string;
}

export interface PackagesPolicy {
  provenance?: 'required' | 'preferred' | Array<{ match: string; level: 'required' | 'preferred' }>;
  /** Milliseconds. */
  minimumReleaseAgeMs?: number;
  minimumReleaseAge?: string;
  releaseAgeAllow?: string[];
}

export interface PublisherPolicy extends SignerPolicy {
  match: string;
}

export const RULE_IDS = [
  'model-hashed',
  'model-signed',
  'pickle-model',
  'pickle-risky-import',
  'plugin-pinned',
  'plugin-signed',
  'mcp-pinned',
  'package-hashed',
  'package-pinned',
  'bom-signed',
  'artifact-attested',
  'license-allowed',
  'skill-script-download-exec',
  'hook-download-exec',
  'invisible-unicode',
  'agent-part-risk',
] as const;
export type RuleId = (typeof RULE_IDS)[number] | 'exception-expired' | 'provenance-drift' | 'package-provenance' | 'package-release-age';

export interface PolicyException {
  component: string;
  rules?: string[];
  reason: string;
  /** YYYY-MM-DD, last day it holds (UTC). */
  expires: string;
  line?: number;
}

export interface Policy {
  /** Where it was read from (for messages), or '(default policy)'. */
  source: string;
  release?: SignerPolicy & {
    /** Start-up check: lowest release version (semver) accepted. */
    minVersion?: string;
    /** Start-up check: earliest BOM timestamp accepted (RFC 3339). */
    notBefore?: string;
  };
  publishers: PublisherPolicy[];
  requirePublisherSignature: boolean;
  rules: Record<(typeof RULE_IDS)[number], boolean>;
  includeDevPackages: boolean;
  licenses: { allow?: string[]; deny?: string[] };
  /** npm package provenance rules (package-rules.ts). */
  packages?: PackagesPolicy;
  exceptions: PolicyException[];
}

export function defaultPolicy(): Policy {
  return {
    source: '(default policy)',
    publishers: [],
    requirePublisherSignature: true,
    rules: Object.fromEntries(RULE_IDS.map((r) => [r, true])) as Policy['rules'],
    includeDevPackages: false,
    licenses: {},
    exceptions: [],
  };
}
