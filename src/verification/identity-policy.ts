/**
 * Who may have signed: the identity policy a verification checks the signer against.
 *
 * - keyless: a certificate identity (exact, or a regular expression ANCHORED here as
 *   `^(?:RE)$`: sigstore-js and cosign match unanchored substrings, so `alice@example.com`
 *   would accept `mallory-alice@example.com.evil`), plus an OIDC issuer (exact or anchored RE);
 * - key: a PEM public key (`--key`);
 * - certificate chain: model_signing's certificate method (`--certificate-chain`): the
 *   signing certificate must chain to the given CA certificates.
 *
 * Identity checks are done here, not by @sigstore/verify's policy (which is unanchored).
 * A keyless policy also constrains the certificate's Fulcio claims (repository, ref, workflow,
 * runner, trigger: claim-policy.ts), with defaults when the options say nothing.
 */
import { looksLikePrivateKey } from '../util/key-fingerprint.js';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { AibomError } from '../errors.js';
import { readBytesBounded } from '../util/fs.js';
import type { FailureReason } from './result.js';
import { pemBlocks } from '../util/text.js';
import { buildClaimPolicy, type ClaimOptions, type ClaimPolicy, checkClaims, DEFAULT_CLAIM_POLICY, hasClaimOptions } from './claim-policy.js';
import type { CertificateClaims } from './claims.js';
import { anchoredRegExp, describeMatcher, type Matcher, matches } from './matcher.js';

export type IdentityPolicy =
  | { kind: 'keyless'; identity: Matcher; issuer: Matcher; /** Absent: DEFAULT_CLAIM_POLICY. */ claims?: ClaimPolicy }
  | { kind: 'key'; key: KeyObject; keyFile: string }
  | { kind: 'certificate-chain'; roots: X509Certificate[]; chainFile: string };

/** Who signs: a certificate identity and issuer (exact or regexp) with claim constraints, or a key file. The same names in flags, policy, runtime config and batch files. */
export interface SignerIdentityOptions extends ClaimOptions {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  key?: string;
}

/** The option names that say who signs (the claim options constrain them). */
export const SIGNER_IDENTITY_KEYS = ['certificateIdentity', 'certificateIdentityRegexp', 'certificateOidcIssuer', 'certificateOidcIssuerRegexp', 'key'] as const satisfies ReadonlyArray<
  keyof SignerIdentityOptions
>;

export interface PolicyOptions extends SignerIdentityOptions {
  certificateChain?: string;
}

const MAX_PEM_BYTES = 1024 * 1024;

function matcher(exact: string | undefined, regexp: string | undefined, flag: string): Matcher | undefined {
  if (exact !== undefined && regexp !== undefined) throw new AibomError('USAGE', `give --${flag} or --${flag}-regexp, not both`);
  if (exact !== undefined) {
    if (exact === '') throw new AibomError('USAGE', `--${flag} is empty`);
    return { exact };
  }
  if (regexp !== undefined) return { regexp, re: anchoredRegExp(regexp, `--${flag}-regexp`) };
  return undefined;
}

/** Check the combination of policy flags (usage errors, exit 2) and load keys/certificates. */
export async function buildPolicy(o: PolicyOptions, cache?: Map<string, IdentityPolicy>): Promise<IdentityPolicy> {
  const identity = matcher(o.certificateIdentity, o.certificateIdentityRegexp, 'certificate-identity');
  const issuer = matcher(o.certificateOidcIssuer, o.certificateOidcIssuerRegexp, 'certificate-oidc-issuer');
  const methods = [identity || issuer ? 'identity' : undefined, o.key ? 'key' : undefined, o.certificateChain ? 'chain' : undefined].filter(Boolean);
  if (methods.length === 0) {
    throw new AibomError(
      'USAGE',
      'say who must have signed: --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], or --key PEM, or --certificate-chain PEM',
    );
  }
  if (methods.length > 1) {
    throw new AibomError('USAGE', 'give one way to identify the signer: a certificate identity and issuer, --key, or --certificate-chain');
  }
  if (identity || issuer) {
    if (!identity) throw new AibomError('USAGE', '--certificate-oidc-issuer needs --certificate-identity or --certificate-identity-regexp');
    if (!issuer) throw new AibomError('USAGE', '--certificate-identity needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp');
    return { kind: 'keyless', identity, issuer, claims: buildClaimPolicy(o) };
  }
  if (hasClaimOptions(o)) {
    throw new AibomError('USAGE', 'certificate claim options (--source-repository, --signer-workflow, --runner-environment, …) need a keyless identity (--certificate-identity[-regexp])');
  }
  const cacheKey = o.key ? `key:${o.key}` : `chain:${o.certificateChain}`;
  const hit = cache?.get(cacheKey);
  if (hit) return hit;
  let policy: IdentityPolicy;
  if (o.key) {
    const pem = await readBytesBounded(o.key, MAX_PEM_BYTES, o.key);
    // createPublicKey would quietly derive the public half: a private key has no business here.
    if (looksLikePrivateKey(pem.toString('latin1'))) {
      throw new AibomError('USAGE', 'this is a private key: --key takes the public key (openssl pkey -in KEY -pubout -out KEY.pub)', { file: o.key });
    }
    let key: KeyObject;
    try {
      key = createPublicKey(pem.toString('utf8').includes('-----BEGIN') ? pem.toString('utf8') : { key: pem, format: 'der', type: 'spki' });
    } catch {
      throw new AibomError('INPUT', 'not a PEM (or DER) public key', { file: o.key });
    }
    policy = { kind: 'key', key, keyFile: o.key };
  } else {
    const file = o.certificateChain!;
    const pem = (await readBytesBounded(file, MAX_PEM_BYTES, file)).toString('utf8');
    const blocks = pemBlocks(pem, 'CERTIFICATE', 32);
    if (blocks.length === 0) throw new AibomError('INPUT', 'no PEM certificates found', { file });
    if (blocks.length > 32) throw new AibomError('TOO_LARGE', `${blocks.length} certificates (limit 32)`, { file });
    const roots = blocks.map((b, i) => {
      try {
        return X509Certificate.parse(b);
      } catch {
        throw new AibomError('INPUT', `certificate ${i + 1} does not parse`, { file });
      }
    });
    policy = { kind: 'certificate-chain', roots, chainFile: file };
  }
  cache?.set(cacheKey, policy);
  return policy;
}

/** Check a keyless signer against the policy; returns the failure, if any. */
export function checkKeylessIdentity(
  policy: Extract<IdentityPolicy, { kind: 'keyless' }>,
  identity: string | undefined,
  issuer: string | undefined,
  claims: CertificateClaims,
): { reason: FailureReason; message: string } | undefined {
  if (!matches(policy.identity, identity)) {
    return {
      reason: 'wrong-identity',
      message: `signed by ${identity === undefined ? 'a certificate with no identity' : JSON.stringify(identity)}, expected ${describeMatcher(policy.identity)}`,
    };
  }
  if (!matches(policy.issuer, issuer)) {
    return {
      reason: 'wrong-identity',
      message: `certificate issued for OIDC issuer ${issuer === undefined ? '(none)' : JSON.stringify(issuer)}, expected ${describeMatcher(policy.issuer)}`,
    };
  }
  const bad = checkClaims(policy.claims ?? DEFAULT_CLAIM_POLICY, claims);
  if (bad) return { reason: 'wrong-identity', message: bad };
  return undefined;
}
