/**
 * The provenance of a verified signature as the provenance lock records it: who signed
 * (certificate identity without the per-release `@ref` suffix, or a key fingerprint), the
 * issuer, and the certificate claims that should not change between releases: source
 * repository, signer workflow (without its ref), ref pattern (refs/tags/* for any tag),
 * build trigger, runner environment.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { CertificateClaims } from '../verification/claims.js';
import type { VerifiedSigner } from '../verification/result.js';

export interface Provenance {
  signer: string;
  issuer?: string;
  repository?: string;
  workflow?: string;
  refPattern?: string;
  trigger?: string;
  runner?: string;
}

export const PROVENANCE_FIELDS = ['signer', 'issuer', 'repository', 'workflow', 'refPattern', 'trigger', 'runner'] as const satisfies ReadonlyArray<keyof Provenance>;

/** A ref as a pattern stable across releases: any tag, any pull request; a branch stays itself. */
export function refPattern(ref: string): string {
  if (ref.startsWith('refs/tags/')) return 'refs/tags/*';
  if (/^refs\/pull\/[^/]+\/(merge|head)$/.test(ref)) return 'refs/pull/*';
  return ref;
}

/** `https://github.com/o/r/.github/workflows/x.yml@refs/tags/v1` → without `@refs/…`. */
export function withoutRef(uri: string): string {
  const at = uri.lastIndexOf('@refs/');
  return at > 0 ? uri.slice(0, at) : uri;
}

export function keyFingerprintOf(pem: string): string | undefined {
  try {
    return `sha256:${createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex')}`;
  } catch {
    return undefined;
  }
}

/** The provenance of a verified signer (keyPem: the public key it verified with, for key signers). */
export function provenanceOf(signer: VerifiedSigner | undefined, keyPem?: string): Provenance | undefined {
  if (!signer) return undefined;
  if (signer.method === 'public-key') {
    const fp = keyPem ? keyFingerprintOf(keyPem) : undefined;
    return fp ? { signer: `key ${fp}` } : undefined;
  }
  const who = signer.identity ?? signer.subject;
  if (!who) return undefined;
  const c: CertificateClaims = signer.claims ?? {};
  const p: Provenance = { signer: withoutRef(who) };
  if (signer.issuer) p.issuer = signer.issuer;
  if (c.sourceRepositoryURI) p.repository = c.sourceRepositoryURI;
  if (c.buildSignerURI) p.workflow = withoutRef(c.buildSignerURI);
  if (c.sourceRepositoryRef) p.refPattern = refPattern(c.sourceRepositoryRef);
  if (c.buildTrigger) p.trigger = c.buildTrigger;
  if (c.runnerEnvironment) p.runner = c.runnerEnvironment;
  return p;
}

/** Field-by-field differences, `field: "old" → "new"`. */
export function provenanceChanges(old: Provenance, now: Provenance): string[] {
  const out: string[] = [];
  for (const f of PROVENANCE_FIELDS) {
    if (old[f] !== now[f]) out.push(`${f} ${old[f] === undefined ? '(none)' : JSON.stringify(old[f])} → ${now[f] === undefined ? '(none)' : JSON.stringify(now[f])}`);
  }
  return out;
}
