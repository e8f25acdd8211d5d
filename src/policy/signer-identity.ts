/**
 * The one place a release or publisher signer becomes an identity policy's options
 * (verification/identity-policy.ts `buildPolicy` then checks and loads them). `aibom gate`,
 * `aibom verify-plugins`, the start-up check (`aibom/runtime`, the hook) and `aibom verify`
 * (flags straight to buildPolicy) all read a signer the same way:
 *
 * - identity options given (flags, hook options or AIBOM_* variables): they name the signer,
 *   with the certificate-claim options given beside them AND the policy's `release` claims
 *   (claims add up across places: naming the signer never drops a constraint; one key with two
 *   values is a usage error);
 * - otherwise the policy's `release`: its identity (exact or regexp) and issuer, or its key file,
 *   with its claim constraints; claim options given without an identity constrain that
 *   release further (the same key with another value is a usage error);
 * - a release named by key fingerprint only cannot verify anything (no key to check with);
 * - neither: no release signer.
 */
import { type PolicyOptions, SIGNER_IDENTITY_KEYS, type SignerIdentityOptions } from '../verification/identity-policy.js';
import { copyClaimOptions, hasClaimOptions, layerClaims } from '../verification/claim-policy.js';
import type { SignerPolicy } from './types.js';

/** Options that name a release signer (CLI flags, the hook's options). */
export type SignerFlags = SignerIdentityOptions;


export type ReleaseSigner =
  /** Who signs releases, as identity-policy options. */
  | { kind: 'named'; options: PolicyOptions }
  /** The policy's release is a key fingerprint only: nothing to verify a signature with. */
  | { kind: 'fingerprint-only' }
  /** Nobody named; `claimsGiven` when claim options came without an identity to constrain. */
  | { kind: 'none'; claimsGiven: boolean };

/** A policy signer (release or publisher) as identity-policy options; undefined for a key fingerprint only. */
export function signerOptions(s: SignerPolicy): PolicyOptions | undefined {
  const o: PolicyOptions = {};
  if (s.identity) o.certificateIdentity = s.identity;
  if (s.identityRegexp) o.certificateIdentityRegexp = s.identityRegexp;
  if (s.issuer) o.certificateOidcIssuer = s.issuer;
  if (s.issuerRegexp) o.certificateOidcIssuerRegexp = s.issuerRegexp;
  if (s.keyPath) o.key = s.keyPath;
  if (!Object.keys(o).length) return undefined;
  return copyClaimOptions(s, o);
}

/** The release signer: from the options given, else the policy's `release` (see the file's comment). */
export function releaseSigner(given: SignerFlags, release: SignerPolicy | undefined): ReleaseSigner {
  const fromFlags: PolicyOptions = {};
  for (const k of SIGNER_IDENTITY_KEYS) if (given[k] !== undefined) fromFlags[k] = given[k];
  const givenClaims = copyClaimOptions(given, {});
  // The policy's release claims hold whoever names the signer: flags that name it add their claims, never drop the policy's.
  const policyClaims = release ? copyClaimOptions(release, {}) : {};
  const claims = () => layerClaims(policyClaims, givenClaims, "the policy's release", 'the options given');
  if (Object.keys(fromFlags).length) return { kind: 'named', options: Object.assign(fromFlags, claims()) };
  const claimsGiven = hasClaimOptions(givenClaims);
  if (!release) return { kind: 'none', claimsGiven };
  const fromPolicy = signerOptions(release);
  if (!fromPolicy) return { kind: 'fingerprint-only' };
  // Claim options given with the hook's options (or the gate's flags) apply on top of the policy's release.
  return { kind: 'named', options: Object.assign(fromPolicy, claims()) };
}

/** The refusal for a fingerprint-only release, where the release signature must be verified. */
export const FINGERPRINT_ONLY_RELEASE = `the policy's release signer is a key fingerprint only; give the release public key (release.key) to verify the BOM`;
