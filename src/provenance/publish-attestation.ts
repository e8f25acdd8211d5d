/**
 * npm's publish attestation (predicateType PUBLISH_PREDICATE_TYPE): the registry's statement
 * that it accepted `pkg:npm/{name}@{version}` with that sha512 (in-toto Statement v0.1 or v1,
 * predicate `{ name, version, registry }`). Two kinds, both verified offline against the
 * trusted root, their log entries included (SET or checkpoint, as every aibom verification):
 * - keyless (older ones): a Fulcio certificate; the signer (SAN) and issuer are recorded;
 * - key-signed (today's registry): `verificationMaterial.publicKey.hint` names a key the
 *   registry publishes at `-/npm/v1/keys`; it must be listed, the entry must be in a trusted
 *   log, and a key with an expiry must have expired after the log's signed integration time.
 * Subject digest = the lockfile's sha512, predicate name/version = the package: anything else
 * is `invalid`, with what was wrong.
 */
import { isObject } from '../util/json.js';
import { type LoadedBundle, parseBundle } from '../verification/bundle.js';
import type { IdentityPolicy } from '../verification/identity-policy.js';
import { anchoredRegExp } from '../verification/matcher.js';
import type { VerificationResult } from '../verification/result.js';
import { type TrustContext, verifyPrepared } from '../verification/verify.js';
import type { RegistryKeys } from './npm-keys.js';

export const PUBLISH_PREDICATE_TYPE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
const MAX_TRIED = 8;

export interface PublishAttestation {
  status: 'verified' | 'missing' | 'invalid' | 'error';
  /** Keyless: the certificate identity; key-signed: absent. */
  signer?: string;
  issuer?: string;
  /** Key-signed: the registry key id. */
  keyid?: string;
  logIndex?: string;
  /** When it was signed (its log's or timestamp authority's time). */
  signedAt?: string;
  error?: string;
}

export interface NpmPackageRef {
  name: string;
  version: string;
  /** sha512 hex */
  sha512: string;
}

const ANY = anchoredRegExp('.*', 'any');
const ANY_KEYLESS: IdentityPolicy = { kind: 'keyless', identity: { regexp: '.*', re: ANY }, issuer: { regexp: '.*', re: ANY } };

/** The publish attestation entries of an attestations list. */
export function publishEntries(list: unknown[]): Record<string, unknown>[] {
  return list.filter((a): a is Record<string, unknown> => isObject(a) && a.predicateType === PUBLISH_PREDICATE_TYPE);
}

/** The key id a key-signed bundle names, or undefined for a certificate-signed one. */
export function keyHint(bundle: unknown): string | undefined {
  const vm = isObject(bundle) && isObject(bundle.verificationMaterial) ? bundle.verificationMaterial : undefined;
  const pk = vm && isObject(vm.publicKey) ? vm.publicKey : undefined;
  return pk ? (typeof pk.hint === 'string' ? pk.hint : '') : undefined;
}

function checkStatement(loaded: LoadedBundle, pkg: NpmPackageRef): string | undefined {
  const st = loaded.statement;
  if (!st) return 'the bundle holds no in-toto statement';
  if (st.predicateType !== PUBLISH_PREDICATE_TYPE) return `the signed statement's predicateType is ${JSON.stringify(st.predicateType.slice(0, 200))}, not npm's publish attestation`;
  const purls = new Set([`pkg:npm/${pkg.name}@${pkg.version}`, `pkg:npm/${pkg.name.replace(/^@/, '%40')}@${pkg.version}`]);
  if (!st.subject.some((s) => s.name !== undefined && purls.has(s.name) && s.digest?.sha512?.toLowerCase() === pkg.sha512)) {
    return `no subject names pkg:npm/${pkg.name}@${pkg.version} with the lockfile's sha512`;
  }
  const p = st.predicate;
  if (!isObject(p) || p.name !== pkg.name || p.version !== pkg.version) {
    const said = isObject(p) ? `${String(p.name).slice(0, 200)}@${String(p.version).slice(0, 100)}` : 'nothing';
    return `the predicate names ${said}, not ${pkg.name}@${pkg.version}`;
  }
  return undefined;
}

/** The earliest log integration time a verified SET vouches for (seconds), if any. */
function signedLogTime(loaded: LoadedBundle): number | undefined {
  const times = loaded.bundle.verificationMaterial.tlogEntries
    .filter((e) => e.inclusionPromise && e.integratedTime && e.integratedTime !== '0')
    .map((e) => Number(e.integratedTime));
  return times.length ? Math.min(...times) : undefined;
}

function verifyKeySigned(loaded: LoadedBundle, hint: string, pkg: NpmPackageRef, trust: TrustContext, keys: RegistryKeys): PublishAttestation | string {
  if ('error' in keys) return { status: 'error', keyid: hint, error: keys.error };
  const key = keys.keys.get(hint);
  if (!key) return `signed with key ${JSON.stringify(hint.slice(0, 200))}, which the registry does not publish`;
  const r = verifyPrepared(trust, loaded, digestTarget(pkg), { kind: 'key', key: key.key, keyFile: `registry key ${hint}` });
  if (!r.verified) return `${r.reason}: ${r.error ?? ''}`.trim();
  if (!r.witnesses?.some((w) => w.kind === 'tlog')) return 'the bundle has no transparency log entry: a key-signed publish attestation must be logged';
  if (key.expires) {
    const t = signedLogTime(loaded);
    if (t === undefined) return `key ${hint} expires (${key.expires.toISOString()}) and no signed log time shows the attestation was made before that`;
    if (t * 1000 > key.expires.getTime()) return `key ${hint} expired at ${key.expires.toISOString()}, before the log entry's time ${new Date(t * 1000).toISOString()}`;
  }
  return withLogIndex({ status: 'verified', keyid: hint }, r);
}

function withLogIndex(out: PublishAttestation, r: VerificationResult): PublishAttestation {
  const tlog = r.witnesses?.find((w) => w.kind === 'tlog');
  if (tlog?.kind === 'tlog') out.logIndex = tlog.logIndex;
  if (r.signedAt) out.signedAt = r.signedAt;
  return out;
}

const digestTarget = (pkg: NpmPackageRef) => ({ kind: 'digest' as const, name: `${pkg.name}@${pkg.version}`, algorithm: 'sha512', digest: Buffer.from(pkg.sha512, 'hex') });

function verifyOne(entry: Record<string, unknown>, pkg: NpmPackageRef, trust: TrustContext, keys: RegistryKeys | undefined): PublishAttestation | string {
  let loaded: LoadedBundle;
  try {
    loaded = parseBundle(Buffer.from(JSON.stringify(entry.bundle ?? null)), `${pkg.name}@${pkg.version} publish attestation`);
  } catch (err) {
    return err instanceof Error ? err.message.slice(0, 300) : String(err);
  }
  const bad = checkStatement(loaded, pkg);
  if (bad) return bad;
  const hint = keyHint(entry.bundle);
  if (hint !== undefined) {
    if (!keys) return { status: 'error', error: 'internal: the registry keys were not fetched' };
    return verifyKeySigned(loaded, hint, pkg, trust, keys);
  }
  const r = verifyPrepared(trust, loaded, digestTarget(pkg), ANY_KEYLESS);
  if (!r.verified) return `${r.reason}: ${r.error ?? ''}`.trim();
  const out: PublishAttestation = { status: 'verified' };
  if (r.signer?.identity) out.signer = r.signer.identity;
  if (r.signer?.issuer) out.issuer = r.signer.issuer;
  return withLogIndex(out, r);
}

/**
 * Verify the publish attestations of one package's attestations list: the first that verifies
 * wins; none: `missing`; only failures: `invalid` with every reason (or `error` when the
 * registry's keys could not be had). `keys` is needed when an entry is key-signed.
 */
export function verifyPublishAttestation(list: unknown[], pkg: NpmPackageRef, trust: TrustContext, keys?: RegistryKeys): PublishAttestation {
  const entries = publishEntries(list);
  if (entries.length === 0) return { status: 'missing' };
  const errors: string[] = [];
  let keyError: PublishAttestation | undefined;
  for (const entry of entries.slice(0, MAX_TRIED)) {
    const r = verifyOne(entry, pkg, trust, keys);
    if (typeof r === 'string') errors.push(r);
    else if (r.status === 'verified') return r;
    else keyError ??= r;
  }
  if (errors.length === 0 && keyError) return keyError;
  return { status: 'invalid', error: errors.join('; ').slice(0, 1000) };
}
