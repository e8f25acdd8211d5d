/**
 * Shared by the verify-* tests: where the conformance data is, and a CLI environment whose
 * trust cache is empty (a root cached on the host by `aibom trust update` must not change results).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO } from './cli.js';

export const CONFORMANCE_DIR = process.env.AIBOM_CONFORMANCE_DIR
  ? resolve(process.env.AIBOM_CONFORMANCE_DIR)
  : resolve(REPO, '..', 'shared', 'conformance');
export const BUNDLE_CASES = join(CONFORMANCE_DIR, 'sigstore-bundle-verify');
export const MODEL_SIGNING = join(CONFORMANCE_DIR, 'model-signing');

/** Fail loudly (not skip) when the shared conformance data is missing. */
export function requireConformanceData(): void {
  if (!existsSync(BUNDLE_CASES) || !existsSync(MODEL_SIGNING)) {
    throw new Error(`conformance data missing: expected ${CONFORMANCE_DIR} (set AIBOM_CONFORMANCE_DIR)`);
  }
}

export const BEACON_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export function verifyEnv(cacheDir: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { AIBOM_CACHE_DIR: cacheDir, XDG_CACHE_HOME: undefined, ...extra };
}

export function caseDir(name: string): string {
  return join(BUNDLE_CASES, name);
}
