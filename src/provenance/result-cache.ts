/**
 * The on-disk cache of `aibom build --provenance`: one file per registry and trusted root,
 * entries keyed by a digest of package, version and integrity; read once, written atomically
 * once (a rerun of thousands of packages is one read). Only results that were verified (or
 * proved absent: `missing`) are stored, for both the SLSA provenance and the publish
 * attestation; an error or invalid result is asked again next time.
 *
 * The cache stands in for verification, so it is trusted only when nobody else can write it
 * (the file and its folder belong to the user or root and are not writable by others:
 * util/owner.ts), and only when it authenticates: the entries carry an HMAC under a key of
 * this user kept in aibom's state folder (util/local-key.ts), so a cache file that was edited
 * (a `missing` turned `verified`) or restored from elsewhere (a CI cache another job saved) is
 * not used. Otherwise it is not read, and `untrusted` says why. A file that does not parse or
 * has the wrong shape is ignored (everything is asked again).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { hmacHex, localKey } from '../util/local-key.js';
import { isObject } from '../util/json.js';
import { unsafeOwnership } from '../util/owner.js';
import type { PublishAttestation } from './publish-attestation.js';

const CACHE_VERSION = 3;
const MAX_CACHE_BYTES = 256 * 1024 * 1024;
const MAX_FIELD = 4096;

export type ProvenanceStatus = 'verified' | 'missing' | 'invalid' | 'error';

export interface PackageProvenance {
  status: ProvenanceStatus;
  /** Publish time of the version: the packument's `time`, or the provenance's signed time when that is later. */
  published?: string;
  /** When the verified SLSA provenance was signed (its log's or timestamp authority's time). */
  signedAt?: string;
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
  /** npm's publish attestation (the registry's own statement), checked beside the SLSA provenance. */
  publish?: PublishAttestation;
}

export interface CacheKeyParts {
  name: string;
  version: string;
  sha512: string;
}

const STRING_FIELDS = ['published', 'signedAt', 'repository', 'ref', 'workflow', 'trigger', 'runner', 'logIndex', 'signer', 'issuer'] as const;
const PUBLISH_FIELDS = ['signer', 'issuer', 'keyid', 'logIndex', 'signedAt'] as const;
const settled = (s: unknown): s is 'verified' | 'missing' => s === 'verified' || s === 'missing';

/** Why the path (a file or folder that exists) may not be trusted, or undefined. */
async function untrustedPath(path: string): Promise<string | undefined> {
  try {
    const bad = unsafeOwnership(await stat(path));
    return bad ? `${path}: ${bad}` : undefined;
  } catch {
    return undefined; // missing: nothing to distrust yet
  }
}

export class ResultCache {
  private entries = new Map<string, PackageProvenance>();
  private dirty = false;
  /** Set when the cache exists but someone else could have written it: then it is not used. */
  untrusted?: string;

  private constructor(
    private readonly file: string | undefined,
    private readonly key?: Buffer,
  ) {}

  static async open(cacheDir: string | undefined, registryUrl: string, trustKey: string, keyDir: string | undefined): Promise<ResultCache> {
    if (!cacheDir) return new ResultCache(undefined);
    const off = (why: string) => {
      const c = new ResultCache(undefined);
      c.untrusted = why;
      return c;
    };
    if (!keyDir) return off('no state folder for the key that authenticates it');
    const mac = await localKey(keyDir);
    if ('error' in mac) return off(`the key that authenticates it is unusable: ${mac.error}`);
    const id = createHash('sha256').update(JSON.stringify([CACHE_VERSION, registryUrl, trustKey])).digest('hex');
    const file = join(cacheDir, `${id}.json`);
    const bad = (await untrustedPath(cacheDir)) ?? (await untrustedPath(file));
    if (bad) return off(bad);
    const cache = new ResultCache(file, mac.key);
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > MAX_CACHE_BYTES) return cache;
      const data = JSON.parse(text) as unknown;
      if (isObject(data) && data.version === CACHE_VERSION && isObject(data.entries) && data.mac !== hmacHex(mac.key, JSON.stringify(data.entries))) {
        // Not written by this user here, or changed since: not one entry of it is believed (it is rewritten on save).
        cache.untrusted = `${file}: its authentication code does not match (edited, or written elsewhere): not used`;
        cache.dirty = true;
      } else if (isObject(data) && data.version === CACHE_VERSION && isObject(data.entries)) {
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

  static key(pkg: CacheKeyParts): string {
    return createHash('sha256').update(JSON.stringify([pkg.name, pkg.version, pkg.sha512])).digest('hex');
  }

  get(pkg: CacheKeyParts): PackageProvenance | undefined {
    const hit = this.entries.get(ResultCache.key(pkg));
    return hit ? structuredClone(hit) : undefined;
  }

  /** Store a result when everything in it was verified or proved absent. */
  set(pkg: CacheKeyParts, r: PackageProvenance): void {
    if (!this.file || !settled(r.status) || (r.publish && !settled(r.publish.status))) return;
    this.entries.set(ResultCache.key(pkg), structuredClone(r));
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const entries = JSON.stringify(Object.fromEntries(this.entries));
    await writeFileAtomic(this.file, `{"version":${CACHE_VERSION},"mac":"${hmacHex(this.key!, entries)}","entries":${entries}}`);
  }
}

function validPublish(p: unknown): PublishAttestation | undefined {
  if (!isObject(p) || !settled(p.status)) return undefined;
  const out: PublishAttestation = { status: p.status };
  for (const f of PUBLISH_FIELDS) {
    if (p[f] === undefined) continue;
    if (typeof p[f] !== 'string' || (p[f] as string).length > MAX_FIELD) return undefined;
    out[f] = p[f] as string;
  }
  return out;
}

function validEntry(r: unknown): PackageProvenance | undefined {
  if (!isObject(r) || !settled(r.status)) return undefined;
  const out: PackageProvenance = { status: r.status };
  for (const f of STRING_FIELDS) {
    if (r[f] === undefined) continue;
    if (typeof r[f] !== 'string' || (r[f] as string).length > MAX_FIELD) return undefined;
    out[f] = r[f] as string;
  }
  if (r.publish !== undefined) {
    const p = validPublish(r.publish);
    if (!p) return undefined;
    out.publish = p;
  }
  return out;
}
