/**
 * npm package provenance (`aibom build --provenance`): for every npm package of the lockfiles
 * (a `pkg:npm` component with a version and a SHA-512 integrity), the registry's attestations
 * (`GET {registry}-/npm/v1/attestations/{name}@{version}`) and the packument's publish time of
 * that version. The SLSA provenance bundle is verified offline against the trusted root, with
 * the default claim policy (no pull_request_target build, no self-hosted runner), and its
 * statement must name `pkg:npm/{name}@{version}` with the lockfile's sha512. What was proved is
 * recorded on the component (aibom:npm:provenance:* properties, a `vcs` external reference).
 *
 * A registry that fails is a finding for that package, never a crash. Requests: bounded
 * concurrency, retries with backoff on network errors, 429 and 5xx, bounded response sizes.
 * npm's publish attestation in the same response is verified too (publish-attestation.ts; the
 * registry's keys from npm-keys.ts, fetched once per run). Results (verified or missing) are
 * cached on disk (result-cache.ts), so a rerun is offline.
 */
import { PackageURL } from 'packageurl-js';
import { SLSA_PROVENANCE_TYPES } from '../attestation/statement.js';
import type { Component } from '../inventory/types.js';
import { isObject, parseJsonText } from '../util/json.js';
import { MAX_BUNDLE_JSON_DEPTH, parseBundle } from '../verification/bundle.js';
import type { IdentityPolicy } from '../verification/identity-policy.js';
import { anchoredRegExp } from '../verification/matcher.js';
import type { TrustContext } from '../verification/verify.js';
import { verifyPrepared } from '../verification/verify.js';
import type { NpmRegistry } from './npm-config.js';
import { type PackageProvenance, ResultCache } from './result-cache.js';
import { fetchRegistryKeys, type RegistryKeys } from './npm-keys.js';
import { keyHint, publishEntries, verifyPublishAttestation } from './publish-attestation.js';
import { type Breaker, describeError, encodeName, getBounded, newBreaker } from './registry-http.js';

const MAX_ATTESTATIONS_BYTES = 16 * 1024 * 1024;
const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;
const MAX_ATTESTATIONS = 64;

export type { PackageProvenance, ProvenanceStatus } from './result-cache.js';

export interface NpmPackage {
  ref: string;
  name: string;
  version: string;
  /** sha512 hex from the lockfile's integrity. */
  sha512: string;
  /** Why the lockfile's integrity cannot be covered by any attestation (several sha512 digests). */
  ambiguous?: string;
}

export interface ProvenanceOptions {
  registry: NpmRegistry;
  /** The trust material, or a function making it when first needed (a run served from the cache needs none). */
  trust: TrustContext | (() => TrustContext);
  /** Digest of the trusted root (part of the cache key). */
  trustKey: string;
  /** Cache folder; none: no cache. */
  cacheDir?: string;
  /** Where the key that authenticates the cache lives (aibom's state folder, never the cache folder); the cache is used only with it. */
  keyDir?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** For tests: the retry delay base (ms). */
  retryDelayMs?: number;
  /** For tests: the time limit of one request (ms). */
  timeoutMs?: number;
}

export interface ProvenanceRun {
  results: Map<string, PackageProvenance>;
  cached: number;
  fetched: number;
  /** The cache exists but someone else could write it: it was not used (why). */
  cacheUntrusted?: string;
}

/** The npm packages of an inventory that provenance can be checked for. */
export function npmPackages(components: Component[]): NpmPackage[] {
  const out: NpmPackage[] = [];
  const seen = new Set<string>();
  for (const c of components) {
    if (!c.purl?.startsWith('pkg:npm/') || !c.version) continue;
    const sha512s = [...new Set(c.hashes.filter((h) => h.alg === 'SHA-512').map((h) => h.content.toLowerCase()))];
    const sha512 = sha512s[0];
    if (!sha512) continue;
    let name: string;
    try {
      const p = PackageURL.fromString(c.purl);
      name = p.namespace ? `${p.namespace}/${p.name}` : p.name;
    } catch {
      continue;
    }
    if (seen.has(c.ref)) continue;
    seen.add(c.ref);
    const pkg: NpmPackage = { ref: c.ref, name, version: c.version, sha512 };
    if (sha512s.length > 1) {
      // npm installs a tarball that matches any one of them: one provenance cannot vouch for the others.
      pkg.ambiguous = `the lockfile's integrity lists ${sha512s.length} sha512 digests; npm accepts a tarball that matches any one of them, so no single attestation can cover what is installed`;
    }
    out.push(pkg);
  }
  return out;
}

const ANY = anchoredRegExp('.*', 'any');
/** Any keyless signer (recorded, not trusted by name), with the default claim policy. */
const ANY_KEYLESS: IdentityPolicy = { kind: 'keyless', identity: { regexp: '.*', re: ANY }, issuer: { regexp: '.*', re: ANY } };

/** The attestations list of a registry response, or what is wrong with the response. */
export function attestationList(body: Buffer): unknown[] | string {
  let json: unknown;
  try {
    json = parseJsonText(body.toString('utf8'), 'the attestations response', MAX_BUNDLE_JSON_DEPTH + 8);
  } catch (err) {
    return `the attestations response is not JSON: ${err instanceof Error ? err.message.slice(0, 200) : ''}`.trim();
  }
  const list = isObject(json) && Array.isArray(json.attestations) ? json.attestations : undefined;
  if (!list) return 'the attestations response has no "attestations" list';
  if (list.length > MAX_ATTESTATIONS) return `the attestations response lists over ${MAX_ATTESTATIONS} attestations`;
  return list;
}

/** Whether verifying the list needs the registry's signing keys (a key-signed publish attestation). */
export function needsRegistryKeys(list: unknown[]): boolean {
  return publishEntries(list).some((e) => keyHint(e.bundle) !== undefined);
}

/**
 * Verify the registry's attestations response for one package: the SLSA provenance (the
 * status) and npm's publish attestation (`publish`). `keys`: the registry's signing keys, needed
 * when the publish attestation is key-signed (needsRegistryKeys).
 */
export function verifyAttestations(body: Buffer, pkg: NpmPackage, trust: TrustContext, keys?: RegistryKeys): PackageProvenance {
  const list = attestationList(body);
  if (typeof list === 'string') return { status: 'invalid', error: list, publish: { status: 'invalid', error: list } };
  return verifyAttestationList(list, pkg, trust, keys);
}

export function verifyAttestationList(list: unknown[], pkg: NpmPackage, trust: TrustContext, keys?: RegistryKeys): PackageProvenance {
  const out = verifySlsa(list, pkg, trust);
  out.publish = verifyPublishAttestation(list, pkg, trust, keys);
  return out;
}

function verifySlsa(list: unknown[], pkg: NpmPackage, trust: TrustContext): PackageProvenance {
  const slsa = list.filter((a) => isObject(a) && typeof a.predicateType === 'string' && SLSA_PROVENANCE_TYPES.includes(a.predicateType));
  if (slsa.length === 0) return { status: 'missing' };
  const errors: string[] = [];
  for (const a of slsa.slice(0, 8)) {
    const entry = a as Record<string, unknown>;
    let loaded: ReturnType<typeof parseBundle>;
    try {
      loaded = parseBundle(Buffer.from(JSON.stringify(entry.bundle)), `${pkg.name}@${pkg.version} provenance`);
    } catch (err) {
      errors.push(describeError(err));
      continue;
    }
    const st = loaded.statement;
    const purls = new Set([`pkg:npm/${pkg.name}@${pkg.version}`, `pkg:npm/${pkg.name.replace(/^@/, '%40')}@${pkg.version}`]);
    if (!st?.subject.some((s) => s.name !== undefined && purls.has(s.name) && s.digest?.sha512?.toLowerCase() === pkg.sha512)) {
      errors.push(`no subject names pkg:npm/${pkg.name}@${pkg.version} with the lockfile's sha512`);
      continue;
    }
    const r = verifyPrepared(trust, loaded, { kind: 'digest', name: `${pkg.name}@${pkg.version}`, algorithm: 'sha512', digest: Buffer.from(pkg.sha512, 'hex') }, ANY_KEYLESS);
    if (!r.verified) {
      errors.push(`${r.reason}: ${r.error ?? ''}`.trim());
      continue;
    }
    const c = r.signer?.claims ?? {};
    const out: PackageProvenance = { status: 'verified' };
    if (c.sourceRepositoryURI) out.repository = c.sourceRepositoryURI;
    if (c.sourceRepositoryRef) out.ref = c.sourceRepositoryRef;
    if (c.buildSignerURI) out.workflow = c.buildSignerURI;
    if (c.buildTrigger) out.trigger = c.buildTrigger;
    if (c.runnerEnvironment) out.runner = c.runnerEnvironment;
    if (r.signedAt) out.signedAt = r.signedAt;
    if (r.signer?.identity) out.signer = r.signer.identity;
    if (r.signer?.issuer) out.issuer = r.signer.issuer;
    const tlog = r.witnesses?.find((w) => w.kind === 'tlog');
    if (tlog?.kind === 'tlog') out.logIndex = tlog.logIndex;
    return out;
  }
  return { status: 'invalid', error: errors.join('; ').slice(0, 1000) };
}

function publishTime(body: Buffer | undefined, version: string): string | undefined {
  if (!body) return undefined;
  try {
    // Strict: a packument with a key twice (two `time` entries for one version) says nothing.
    const p = parseJsonText(body.toString('utf8'), 'the packument', 64);
    const t = isObject(p) && isObject(p.time) ? p.time[version] : undefined;
    return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

async function fetchAndVerify(pkg: NpmPackage, o: ProvenanceOptions, keysFor: () => Promise<RegistryKeys>, breaker: Breaker): Promise<PackageProvenance> {
  const http = { retryDelayMs: o.retryDelayMs ?? 100, breaker, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) };
  let att: Buffer | undefined;
  let packument: Buffer | undefined;
  try {
    [att, packument] = await Promise.all([
      getBounded(`${o.registry.url}-/npm/v1/attestations/${encodeName(pkg.name)}@${encodeURIComponent(pkg.version)}`, o.registry, { max: MAX_ATTESTATIONS_BYTES, ...http }),
      getBounded(`${o.registry.url}${encodeName(pkg.name)}`, o.registry, { max: MAX_PACKUMENT_BYTES, ...http }),
    ]);
  } catch (err) {
    const error = describeError(err);
    return { status: 'error', error, publish: { status: 'error', error } };
  }
  let result: PackageProvenance;
  if (!att) result = { status: 'missing', publish: { status: 'missing' } };
  else {
    const list = attestationList(att);
    if (typeof list === 'string') result = { status: 'invalid', error: list, publish: { status: 'invalid', error: list } };
    else {
      const keys = needsRegistryKeys(list) ? await keysFor() : undefined;
      result = verifyAttestationList(list, pkg, typeof o.trust === 'function' ? o.trust() : o.trust, keys);
    }
  }
  // The registry's word for the publish time, but never earlier than the provenance's signed
  // time (the log's): a registry or mirror cannot date a version it just published back past a cooldown.
  // Every verified signed time counts: the SLSA provenance's and npm's publish attestation's (a
  // package without provenance usually still has the registry's own signed, logged statement).
  const said = publishTime(packument, pkg.version);
  const signed = [result.signedAt, result.publish?.status === 'verified' ? result.publish.signedAt : undefined].filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t)));
  const latest = signed.sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  const published = said && latest && Date.parse(latest) > Date.parse(said) ? new Date(latest).toISOString() : said;
  if (published) result.published = published;
  return result;
}

/**
 * Check every package, a few at a time. Never throws for a package: failures are results. The
 * registry's signing keys are fetched at most once, when a key-signed publish attestation needs them.
 */
export async function checkNpmProvenance(pkgs: NpmPackage[], o: ProvenanceOptions): Promise<ProvenanceRun> {
  const results = new Map<string, PackageProvenance>();
  const cache = await ResultCache.open(o.cacheDir, o.registry.url, o.trustKey, o.keyDir);
  const breaker: Breaker = newBreaker(o.timeoutMs);
  let keys: Promise<RegistryKeys> | undefined;
  const keysFor = () => {
    keys ??= fetchRegistryKeys(o.registry, { retryDelayMs: o.retryDelayMs ?? 100, breaker, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
    return keys;
  };
  let next = 0;
  let done = 0;
  let cached = 0;
  const worker = async () => {
    while (next < pkgs.length) {
      const pkg = pkgs[next++]!;
      let r: PackageProvenance | undefined;
      if (pkg.ambiguous) r = { status: 'invalid', error: pkg.ambiguous }; // no answer could make it verified: nothing asked
      else if ((r = cache.get(pkg))) cached++;
      else {
        r = await fetchAndVerify(pkg, o, keysFor, breaker);
        cache.set(pkg, r);
      }
      results.set(pkg.ref, r);
      o.onProgress?.(++done, pkgs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 16, Math.max(1, pkgs.length)) }, worker));
  // The cache only saves work: a cache that cannot be written costs the next run time, not this one its result.
  await cache.save().catch(() => {});
  return { results, cached, fetched: pkgs.length - cached, ...(cache.untrusted ? { cacheUntrusted: cache.untrusted } : {}) };
}
