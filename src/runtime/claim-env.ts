/**
 * The release identity's certificate-claim constraints from the environment, for the hook:
 * AIBOM_SOURCE_REPOSITORY(_REGEXP), AIBOM_SOURCE_REF(_REGEXP), AIBOM_SOURCE_DIGEST,
 * AIBOM_SIGNER_WORKFLOW(_REGEXP), AIBOM_RUNNER_ENVIRONMENT, and comma-separated
 * AIBOM_DENY_TRIGGER / AIBOM_ALLOW_TRIGGER. They override the config file's, as the other
 * AIBOM_* variables do.
 */
import { CLAIM_LIST_OPTIONS, CLAIM_STRING_OPTIONS, type ClaimOptions } from '../verification/claim-policy.js';

export const claimEnvName = (k: string): string => `AIBOM_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export function claimOptionsFromEnv(env: NodeJS.ProcessEnv): ClaimOptions {
  const out: ClaimOptions = {};
  for (const k of CLAIM_STRING_OPTIONS) {
    const v = env[claimEnvName(k)];
    if (v !== undefined && v !== '') out[k] = v;
  }
  for (const k of CLAIM_LIST_OPTIONS) {
    const v = env[claimEnvName(k)];
    if (v !== undefined && v !== '') out[k] = v.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return out;
}
