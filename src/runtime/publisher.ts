/**
 * Publisher signatures of plugins: who must have signed a plugin (the publisher the BOM pins,
 * and the one the policy trusts for it), and checking the plugin's own model_signing bundle
 * against that signer over the folder manifest the start-up check already computed (the
 * folder is hashed once, for the pin and the signature).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isModelSigningStatement, parseModelSigningPredicate } from '../attestation/model-signing.js';
import { AibomError } from '../errors.js';
import { manifestDigest, type ResourceDigest } from '../digest/digest.js';
import type { PublisherPolicy } from '../policy/types.js';
import { type LoadedBundle, MAX_BUNDLE_BYTES, parseBundle } from '../verification/bundle.js';
import { readSmallFileSync } from './folder.js';
import { buildClaimPolicy } from '../verification/claim-policy.js';
import type { IdentityPolicy } from '../verification/identity-policy.js';
import { anchoredRegExp, describeMatcher, type Matcher } from '../verification/matcher.js';
import { formatDifferences, type VerificationResult, VerifyFailure } from '../verification/result.js';
import { type TrustContext, verifyPrepared } from '../verification/verify.js';
import type { PublisherPin } from './lock.js';
import type { PluginReason, PluginSigner } from './types.js';
import { keyFingerprint } from '../util/key-fingerprint.js';
import { trimTrailing } from '../util/text.js';

/** `sha256:<hex>` of a public key's DER SubjectPublicKeyInfo (the policy's keyFingerprint). */
export { keyFingerprint };

/** Pinned keys by their base64 DER: a BOM pins the same publisher key for many plugins. */
const pinnedKeys = new Map<string, KeyObject | null>();

function pinnedKey(b64: string): KeyObject | undefined {
  let key = pinnedKeys.get(b64);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    if (pinnedKeys.size < 10_000) pinnedKeys.set(b64, key);
  }
  return key ?? undefined;
}

/** Base64 DER SubjectPublicKeyInfo: the `aibom:publisher:key` pin (the PEM body on one line). */
export function keyPin(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** Who must have signed a plugin, from the BOM's pin and the policy's publishers. */
export interface ExpectedPublisher {
  /** The identity policy the bundle is verified with. */
  policy: IdentityPolicy;
  /** What the signer is checked against after verification (all must hold). */
  constraints: Array<{ source: string; check: (s: PluginSigner) => string | undefined }>;
  describe: string;
}

/** The first policy publisher whose `match` fits the plugin's name (or bom-ref). */
export function matchPublisher(publishers: PublisherPolicy[], name: string, ref: string, isMatch: (glob: string, s: string) => boolean): PublisherPolicy | undefined {
  return publishers.find((p) => p.match === ref || isMatch(p.match, name));
}

/**
 * Combine the pin and the policy publisher. Throws a refusal (PluginReason) when they cannot
 * both hold (a pinned key the policy does not trust, a pin that is not self-consistent).
 */
export function expectedPublisher(pin: PublisherPin | undefined, trusted: PublisherPolicy | undefined, policySource: string): ExpectedPublisher | PluginReason | undefined {
  if (!pin && !trusted) return undefined;
  const constraints: ExpectedPublisher['constraints'] = [];
  let policy: IdentityPolicy | undefined;
  let describe = '';
  if (pin) {
    if (pin.key !== undefined) {
      const key = pinnedKey(pin.key);
      if (!key) return { code: 'signature-invalid', message: 'the BOM pins a publisher key that does not parse' };
      const fp = keyFingerprint(key);
      if (fp !== pin.keyFingerprint) return { code: 'signature-invalid', message: `the BOM pins a publisher key whose fingerprint is ${fp}, not the pinned ${pin.keyFingerprint}` };
      policy = { kind: 'key', key, keyFile: 'the key pinned in the BOM' };
      describe = `key ${fp}`;
      constraints.push({ source: 'the BOM', check: (s) => (s.keyFingerprint === fp ? undefined : `signed by ${describeSigner(s)}, the BOM pins key ${fp}`) });
    } else {
      const identity: Matcher = { exact: pin.identity! };
      const issuer: Matcher = { exact: pin.issuer! };
      policy = { kind: 'keyless', identity, issuer };
      describe = `${pin.identity} (issuer ${pin.issuer})`;
      constraints.push({
        source: 'the BOM',
        check: (s) => (s.identity === pin.identity && s.issuer === pin.issuer ? undefined : `signed by ${describeSigner(s)}, the BOM pins ${describe}`),
      });
    }
  }
  if (trusted) {
    const where = `the policy (${policySource}, publisher "${trusted.match}")`;
    if (trusted.keyPem !== undefined || trusted.keyFingerprint !== undefined) {
      let fp: string;
      let key: KeyObject | undefined;
      if (trusted.keyPem !== undefined) {
        try {
          key = createPublicKey(trusted.keyPem);
        } catch {
          throw new AibomError('INPUT', `publisher "${trusted.match}": ${trusted.keyPath ?? 'key'} is not a public key`, { file: policySource });
        }
        fp = keyFingerprint(key);
      } else fp = `sha256:${trusted.keyFingerprint!.toLowerCase()}`;
      if (!policy) {
        if (!key) return { code: 'signature-missing', message: `${where} trusts key ${fp} by fingerprint only, and the BOM pins no publisher key for this plugin` };
        policy = { kind: 'key', key, keyFile: trusted.keyPath ?? 'the policy' };
        describe = `key ${fp}`;
      }
      constraints.push({ source: where, check: (s) => (s.keyFingerprint === fp ? undefined : `signed by ${describeSigner(s)}, ${where} trusts key ${fp}`) });
    } else {
      const identity: Matcher = trusted.identity !== undefined ? { exact: trusted.identity } : { regexp: trusted.identityRegexp!, re: anchoredRegExp(trusted.identityRegexp!, 'identityRegexp') };
      const issuer: Matcher = trusted.issuer !== undefined ? { exact: trusted.issuer } : { regexp: trusted.issuerRegexp!, re: anchoredRegExp(trusted.issuerRegexp!, 'issuerRegexp') };
      if (!policy) {
        policy = { kind: 'keyless', identity, issuer };
        describe = `${describeMatcher(identity)} (issuer ${describeMatcher(issuer)})`;
      }
      constraints.push({
        source: where,
        check: (s) =>
          s.identity !== undefined && s.issuer !== undefined && matches(identity, s.identity) && matches(issuer, s.issuer)
            ? undefined
            : `signed by ${describeSigner(s)}, ${where} trusts ${describeMatcher(identity)} (issuer ${describeMatcher(issuer)})`,
      });
    }
  }
  // The policy publisher's certificate-claim constraints (repository, ref, workflow, runner,
  // trigger) bind the keyless verification, whichever side named the identity.
  if (trusted && policy?.kind === 'keyless' && trusted.keyPem === undefined && trusted.keyFingerprint === undefined) {
    policy = { ...policy, claims: buildClaimPolicy(trusted) };
  }
  return { policy: policy!, constraints, describe };
}

function matches(m: Matcher, v: string): boolean {
  return 'exact' in m ? m.exact === v : m.re.test(v);
}

export function describeSigner(s: PluginSigner): string {
  return s.method === 'key' ? `key ${s.keyFingerprint}` : `${s.identity ?? '(no identity)'} (issuer ${s.issuer ?? 'none'})`;
}

export interface BundleCheck {
  signer?: PluginSigner;
  /** Refusal, when the bundle does not verify or the signer is not the expected one. */
  problem?: PluginReason;
  result?: VerificationResult;
}

/**
 * Verify one plugin bundle (absolute path, display name) over the plugin's resources (the
 * manifest without the signature files) against the expected publisher.
 */
export function checkPublisherBundle(
  ctx: TrustContext,
  bundleAbs: string,
  display: string,
  folderName: string,
  resources: ResourceDigest[],
  expected: ExpectedPublisher,
): BundleCheck {
  let loaded: LoadedBundle;
  try {
    loaded = parseBundle(readSmallFileSync(bundleAbs, MAX_BUNDLE_BYTES, display), display);
  } catch (err) {
    if (err instanceof VerifyFailure || err instanceof AibomError) return { problem: { code: 'signature-invalid', message: `${display}: ${err.message}` } };
    throw err;
  }
  let used = resources;
  const ser = loaded.statement?.predicate?.serialization;
  if (loaded.statement && isModelSigningStatement(loaded.statement) && ser !== null && typeof ser === 'object' && 'ignore_paths' in ser) {
    try {
      // Paths the publisher left out of the signature (model_signing ≥ 1.1 records them) are left out here too; the BOM's digest still covers them.
      const ignore = parseModelSigningPredicate(loaded.statement, display).predicate.serialization.ignore_paths ?? [];
      if (ignore.length) used = resources.filter((r) => !ignore.some((p) => r.name === p || r.name.startsWith(`${trimTrailing(p, '/')}/`)));
    } catch (err) {
      if (err instanceof AibomError) return { problem: { code: 'signature-invalid', message: `${display}: ${err.message}` } };
      throw err;
    }
  }
  const manifest = { name: folderName, resources: used, digest: manifestDigest(used), totalBytes: used.reduce((n, r) => n + r.size, 0) };
  const result = verifyPrepared(ctx, loaded, { kind: 'folder', name: display, manifest, isFile: false }, expected.policy);
  if (!result.verified) {
    const diff = result.differences ? formatDifferences(result.differences) : '';
    return { result, problem: { code: 'signature-invalid', message: `${display} does not verify against ${expected.describe}: ${result.reason ?? 'not verified'}: ${result.error ?? ''}${diff}`.trim() } };
  }
  const signer: PluginSigner =
    expected.policy.kind === 'key'
      ? { method: 'key', keyFingerprint: keyFingerprint(expected.policy.key) }
      : { method: 'keyless', ...(result.signer?.identity !== undefined ? { identity: result.signer.identity } : {}), ...(result.signer?.issuer !== undefined ? { issuer: result.signer.issuer } : {}) };
  for (const c of expected.constraints) {
    const bad = c.check(signer);
    if (bad) return { result, signer, problem: { code: 'signature-invalid', message: `${display}: ${bad}` } };
  }
  return { result, signer };
}
