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
 * Results (verified or missing) are cached on disk, keyed by registry, package, version,
 * integrity and the trusted root (one file per registry and root), so a rerun is offline.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PackageURL } from 'packageurl-js';
import type { Component, Inventory } from '../inventory/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { isObject } from '../util/json.js';
import { parseBundle } from '../verification/bundle.js';
import type { IdentityPolicy } from '../verification/identity-policy.js';
import { anchoredRegExp } from '../verification/matcher.js';
import type { TrustContext } from '../verification/verify.js';
import { verifyPrepared } from '../verification/verify.js';
import type { NpmRegistry } from './npm-config.js';

export const SLSA_PROVENANCE_TYPES = ['https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2'];
const MAX_ATTESTATIONS_BYTES = 16 * 1024 * 1024;
const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
const RETRIES = 3;
const CACHE_VERSION = 1;

export type ProvenanceStatus = 'verified' | 'missing' | 'invalid' | 'error';

export interface PackageProvenance {
  status: ProvenanceStatus;
  /** Publish time of the version (packument `time`). */
  published?: string;
  repository?: string;
  ref?: string;
  workflow?: string;
  trigger?: string;
  runner?: string;
  logIndex?: string;
  signer?: string;
  issuer?: string;
  /** For invalid and error. */
  error?: string;
}

export interface NpmPackage {
  ref: string;
  name: string;
  version: string;
  /** sha512 hex from the lockfile's integrity. */
  sha512: string;
}

export interface ProvenanceOptions {
  registry: NpmRegistry;
  trust: TrustContext;
  /** Digest of the trusted root (part of the cache key). */
  trustKey: string;
  /** Cache folder; none: no cache. */
  cacheDir?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** For tests: the retry delay base (ms). */
  retryDelayMs?: number;
}

export interface ProvenanceRun {
  results: Map<string, PackageProvenance>;
  cached: number;
  fetched: number;
}

/** The npm packages of an inventory that provenance can be checked for. */
export function npmPackages(components: Component[]): NpmPackage[] {
  const out: NpmPackage[] = [];
  const seen = new Set<string>();
  for (const c of components) {
    if (!c.purl?.startsWith('pkg:npm/') || !c.version) continue;
    const sha512 = c.hashes.find((h) => h.alg === 'SHA-512')?.content;
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
    out.push({ ref: c.ref, name, version: c.version, sha512 });
  }
  return out;
}

const ANY = anchoredRegExp('.*', 'any');
/** Any keyless signer (recorded, not trusted by name), with the default claim policy. */
const ANY_KEYLESS: IdentityPolicy = { kind: 'keyless', identity: { regexp: '.*', re: ANY }, issuer: { regexp: '.*', re: ANY } };

class HttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getBounded(url: string, reg: NpmRegistry, max: number, retryDelayMs: number): Promise<Buffer | undefined> {
  let lastErr: unknown;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt) await sleep(retryDelayMs * 4 ** (attempt - 1));
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (reg.token) headers.authorization = `Bearer ${reg.token}`;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new HttpStatus(res.status);
      }
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > max) {
        await res.body?.cancel();
        throw new Error(`response over ${max} bytes`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).length;
        if (size > max) throw new Error(`response over ${max} bytes`);
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      return Buffer.concat(chunks);
    } catch (err) {
      lastErr = err;
      const retry = !(err instanceof HttpStatus) || err.status === 429 || err.status >= 500;
      if (!retry || (err instanceof Error && err.message.startsWith('response over'))) break;
    }
  }
  throw lastErr;
}

/** A URL path for a package name: `@scope/name` → `@scope%2fname` (as npm requests it). */
function encodeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

function describeError(err: unknown): string {
  if (err instanceof HttpStatus) return `the registry answered ${err.status}`;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.slice(0, 300);
}

/** Verify the registry's attestations response for one package. */
export function verifyAttestations(body: Buffer, pkg: NpmPackage, trust: TrustContext): PackageProvenance {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 'invalid', error: 'the attestations response is not JSON' };
  }
  const list = isObject(json) && Array.isArray(json.attestations) ? json.attestations : undefined;
  if (!list) return { status: 'invalid', error: 'the attestations response has no "attestations" list' };
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
    const p = JSON.parse(body.toString('utf8')) as unknown;
    const t = isObject(p) && isObject(p.time) ? p.time[version] : undefined;
    return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

const STRING_FIELDS = ['published', 'repository', 'ref', 'workflow', 'trigger', 'runner', 'logIndex', 'signer', 'issuer'] as const;
const MAX_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * The cache: one file per registry and trusted root, entries keyed by a digest of package,
 * version and integrity; read once, written atomically once (a rerun of thousands of packages
 * is one read). A file that does not parse or has the wrong shape is ignored (refetched).
 */
class ResultCache {
  private entries = new Map<string, PackageProvenance>();
  private dirty = false;

  private constructor(private readonly file: string | undefined) {}

  static async open(o: ProvenanceOptions): Promise<ResultCache> {
    if (!o.cacheDir) return new ResultCache(undefined);
    const id = createHash('sha256').update(JSON.stringify([CACHE_VERSION, o.registry.url, o.trustKey])).digest('hex');
    const cache = new ResultCache(join(o.cacheDir, `${id}.json`));
    try {
      const text = await readFile(cache.file!, 'utf8');
      if (text.length > MAX_CACHE_BYTES) return cache;
      const data = JSON.parse(text) as unknown;
      if (isObject(data) && data.version === CACHE_VERSION && isObject(data.entries)) {
        for (const [k, v] of Object.entries(data.entries)) {
          const r = validEntry(v);
          if (r && /^[0-9a-f]{64}$/.test(k)) cache.entries.set(k, r);
        }
      }
    } catch {
      // no cache yet, or unreadable: start empty
    }
    return cache;
  }

  static key(pkg: NpmPackage): string {
    return createHash('sha256').update(JSON.stringify([pkg.name, pkg.version, pkg.sha512])).digest('hex');
  }

  get(pkg: NpmPackage): PackageProvenance | undefined {
    const hit = this.entries.get(ResultCache.key(pkg));
    return hit ? { ...hit } : undefined;
  }

  set(pkg: NpmPackage, r: PackageProvenance): void {
    if (!this.file || (r.status !== 'verified' && r.status !== 'missing')) return;
    this.entries.set(ResultCache.key(pkg), { ...r });
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.entries) }));
  }
}

function validEntry(r: unknown): PackageProvenance | undefined {
  if (!isObject(r) || (r.status !== 'verified' && r.status !== 'missing')) return undefined;
  const out: PackageProvenance = { status: r.status };
  for (const f of STRING_FIELDS) {
    if (r[f] === undefined) continue;
    if (typeof r[f] !== 'string' || (r[f] as string).length > 4096) return undefined;
    out[f] = r[f] as string;
  }
  return out;
}

async function checkOne(pkg: NpmPackage, o: ProvenanceOptions, cache: ResultCache): Promise<{ result: PackageProvenance; cached: boolean }> {
  const hit = cache.get(pkg);
  if (hit) return { result: hit, cached: true };
  const delay = o.retryDelayMs ?? 100;
  let result: PackageProvenance;
  try {
    const [att, packument] = await Promise.all([
      getBounded(`${o.registry.url}-/npm/v1/attestations/${encodeName(pkg.name)}@${encodeURIComponent(pkg.version)}`, o.registry, MAX_ATTESTATIONS_BYTES, delay),
      getBounded(`${o.registry.url}${encodeName(pkg.name)}`, o.registry, MAX_PACKUMENT_BYTES, delay),
    ]);
    result = att ? verifyAttestations(att, pkg, o.trust) : { status: 'missing' };
    const published = publishTime(packument, pkg.version);
    if (published) result.published = published;
  } catch (err) {
    result = { status: 'error', error: describeError(err) };
  }
  cache.set(pkg, result);
  return { result, cached: false };
}

/** Check every package, a few at a time. Never throws for a package: failures are results. */
export async function checkNpmProvenance(pkgs: NpmPackage[], o: ProvenanceOptions): Promise<ProvenanceRun> {
  const results = new Map<string, PackageProvenance>();
  const cache = await ResultCache.open(o);
  let next = 0;
  let done = 0;
  let cached = 0;
  const worker = async () => {
    while (next < pkgs.length) {
      const pkg = pkgs[next++]!;
      const r = await checkOne(pkg, o, cache);
      if (r.cached) cached++;
      results.set(pkg.ref, r.result);
      o.onProgress?.(++done, pkgs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 16, Math.max(1, pkgs.length)) }, worker));
  await cache.save();
  return { results, cached, fetched: pkgs.length - cached };
}

export const NPM_PROVENANCE_PREFIX = 'aibom:npm:provenance';

/** Record the results on the inventory's components (properties, a vcs reference) and findings. */
export function annotateInventory(inv: Inventory, results: Map<string, PackageProvenance>): void {
  for (const c of inv.components) {
    const r = results.get(c.ref);
    if (!r) continue;
    c.properties.push({ name: NPM_PROVENANCE_PREFIX, value: r.status });
    const add = (k: string, v: string | undefined) => {
      if (v !== undefined) c.properties.push({ name: `${NPM_PROVENANCE_PREFIX}:${k}`, value: v });
    };
    add('repository', r.repository);
    add('ref', r.ref);
    add('workflow', r.workflow);
    add('trigger', r.trigger);
    add('runner', r.runner);
    add('log-index', r.logIndex);
    add('signer', r.signer);
    add('issuer', r.issuer);
    add('error', r.error);
    if (r.published) c.properties.push({ name: 'aibom:npm:published', value: r.published });
    if (r.repository && /^https:\/\//.test(r.repository)) {
      c.externalReferences = [...(c.externalReferences ?? []), { type: 'vcs', url: r.repository, comment: 'source repository proved by the npm provenance attestation' }];
    }
    if (r.status === 'invalid' || r.status === 'error') {
      inv.findings.push({
        code: r.status === 'invalid' ? 'npm-provenance-invalid' : 'npm-provenance-error',
        severity: r.status === 'invalid' ? 'high' : 'medium',
        message: `${c.name}@${c.version ?? ''}: ${r.status === 'invalid' ? 'provenance does not verify' : 'provenance could not be fetched'}: ${r.error ?? ''}`,
        component: c.ref,
      });
    }
  }
}
