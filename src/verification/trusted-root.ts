/**
 * The trusted root: which Fulcio CAs, Rekor logs, CT logs and timestamp authorities aibom
 * trusts. Offline by default, from (in order):
 *   1. `--trusted-root FILE`;
 *   2. the cache written by `aibom trust update`, verified at every load through the TUF chain
 *      anchored in the seed root (or AIBOM_TUF_ROOT for a private instance; tuf-chain.ts):
 *      the trusted_root.json target's bytes, never a file merely found in the cache;
 *   3. the Sigstore public-good trusted root carried in @sigstore/tuf's `seeds.json` (read
 *      from the installed package at run time; never copied into this repository).
 * Every trusted root is validated before it is trusted; a root that fails is refused whole
 * (a log key without `validFor.start` could otherwise vouch for any time).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { AibomError } from '../errors.js';
import { readBytesBounded, writeFileAtomic } from '../util/fs.js';
import { assertOwnedFile } from '../util/owner.js';
import { isObject, parseJsonText } from '../util/json.js';
import { VerifyFailure } from './result.js';

export const TRUSTED_ROOT_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.1+json',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];
/** A trusted root is a few KiB (public good: ~7 KiB); 4 MiB leaves room for private instances with many keys. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES = 1000;
const PKCS1_KEY_DETAILS = new Set<PublicKeyDetails>([
  PublicKeyDetails.PKCS1_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_3072_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_4096_SHA256,
]);
const PUBLIC_GOOD_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

export type TrustedRootSource = 'file' | 'cache' | 'public-good seed' | 'none';

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  source: TrustedRootSource;
  /** File the root came from (the seeds.json file for the seed). */
  location: string;
}

/** Where aibom caches things: $AIBOM_CACHE_DIR, else $XDG_CACHE_HOME/aibom, else ~/.cache/aibom. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIBOM_CACHE_DIR) return env.AIBOM_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'aibom');
  return join(homedir(), '.cache', 'aibom');
}

export function cachedTrustedRootPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'trust', 'trusted_root.json');
}

/** Load the trusted root to verify with (see the order above). */
export async function loadTrustedRoot(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedTrustedRoot> {
  if (file) {
    assertOwnedFile(file, 'the trusted root');
    const json = await readTrustedRootJson(file, file);
    return { root: validateTrustedRoot(json, file), source: 'file', location: file };
  }
  const cached = cachedTrustedRootPath(env);
  assertOwnedFile(cached, 'the cached trusted root');
  if (existsSync(cached)) {
    // Never the cached file as it is: the trusted_root.json target, through the TUF chain from the built-in root (tuf-chain.ts).
    const { verifyCachedTrustedRoot } = await import('./tuf-chain.js');
    const json = verifyCachedTrustedRoot(dirname(cached), env, cached);
    return { root: validateTrustedRoot(json, cached), source: 'cache', location: cached };
  }
  const seed = seedTrustedRoot();
  return { root: validateTrustedRoot(seed.json, seed.location), source: 'public-good seed', location: seed.location };
}

async function readTrustedRootJson(file: string, display: string): Promise<unknown> {
  const bytes = await readBytesBounded(file, MAX_TRUSTED_ROOT_BYTES, display);
  try {
    return parseJsonText(bytes.toString('utf8'), display, 64);
  } catch (err) {
    throw new VerifyFailure('untrusted', `trusted root is not valid JSON: ${err instanceof AibomError ? err.message : String(err)}`, display);
  }
}

/** The public-good trusted root inside the installed @sigstore/tuf package's seeds.json. */
export function seedTrustedRoot(): { json: unknown; location: string } {
  const require = createRequire(import.meta.url);
  let seedsPath: string;
  try {
    seedsPath = join(dirname(require.resolve('@sigstore/tuf/package.json')), 'seeds.json');
  } catch {
    throw new AibomError('INPUT', 'no trusted root: @sigstore/tuf is not installed; pass --trusted-root FILE');
  }
  let seeds: unknown;
  try {
    seeds = JSON.parse(readFileSync(seedsPath, 'utf8'));
  } catch (err) {
    throw new AibomError('INPUT', `cannot read the public-good seeds: ${err instanceof Error ? err.message : String(err)}; pass --trusted-root FILE`, {
      file: seedsPath,
    });
  }
  const repo = isObject(seeds) ? seeds[PUBLIC_GOOD_MIRROR] : undefined;
  const target = isObject(repo) && isObject(repo.targets) ? repo.targets['trusted_root.json'] : undefined;
  if (typeof target !== 'string') {
    throw new AibomError('INPUT', 'the installed @sigstore/tuf seeds carry no trusted_root.json target; pass --trusted-root FILE', { file: seedsPath });
  }
  const text = Buffer.from(target, 'base64').toString('utf8');
  return { json: parseJsonText(text, `${seedsPath} (trusted_root.json)`, 64), location: seedsPath };
}

/**
 * Validate a trusted root before trusting it. Beyond parsing, every transparency log and CT
 * log key must parse and have a validity window with a start (a TimeRange's start is
 * REQUIRED in the Sigstore protobuf specs; without it a key would vouch for all time), and
 * every CA and TSA must carry a certificate chain that parses and a validity start.
 */
export function validateTrustedRoot(json: unknown, display: string): TrustedRoot {
  const fail = (msg: string): never => {
    throw new VerifyFailure('untrusted', `trusted root rejected: ${msg}`, display);
  };
  if (!isObject(json)) fail('not a JSON object');
  const obj = json as Record<string, unknown>;
  if (typeof obj.mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.includes(obj.mediaType)) {
    fail(`unsupported mediaType ${JSON.stringify(obj.mediaType ?? null).slice(0, 120)}`);
  }
  for (const k of ['tlogs', 'ctlogs', 'certificateAuthorities', 'timestampAuthorities']) {
    const v = obj[k];
    if (v !== undefined && !Array.isArray(v)) fail(`${k} is not a list`);
    if (Array.isArray(v) && v.length > MAX_ENTRIES) fail(`${k} has ${v.length} entries (limit ${MAX_ENTRIES})`);
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (err) {
    return fail(`cannot be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (root.tlogs.length === 0 && root.timestampAuthorities.length === 0 && root.certificateAuthorities.length === 0) {
    fail('it trusts nothing (no logs, CAs or timestamp authorities)');
  }
  const logs = [
    ...root.tlogs.map((l, i) => ({ l, name: `tlogs[${i}]`, raw: (obj.tlogs as unknown[])[i] })),
    ...root.ctlogs.map((l, i) => ({ l, name: `ctlogs[${i}]`, raw: (obj.ctlogs as unknown[])[i] })),
  ];
  for (const { l, name, raw } of logs) {
    const label = `${name} (${l.baseUrl || 'no baseUrl'})`;
    if (!l.publicKey?.rawBytes?.length) fail(`${label} has no public key`);
    if (!l.logId?.keyId?.length) fail(`${label} has no logId`);
    const rawVf = isObject(raw) && isObject(raw.publicKey) ? raw.publicKey.validFor : undefined;
    if (!isObject(rawVf) || typeof rawVf.start !== 'string') fail(`${label} key has no validFor.start`);
    checkRange(l.publicKey!.validFor, label, fail);
    try {
      // RSA log keys may be bare PKCS#1 (as @sigstore/verify reads them); everything else is SPKI.
      const pkcs1 = PKCS1_KEY_DETAILS.has(l.publicKey!.keyDetails);
      createPublicKey({ key: Buffer.from(l.publicKey!.rawBytes!), format: 'der', type: pkcs1 ? 'pkcs1' : 'spki' });
    } catch {
      fail(`${label} public key does not parse`);
    }
  }
  const cas = [
    ...root.certificateAuthorities.map((c, i) => ({ c, name: `certificateAuthorities[${i}]`, raw: (obj.certificateAuthorities as unknown[])[i] })),
    ...root.timestampAuthorities.map((c, i) => ({ c, name: `timestampAuthorities[${i}]`, raw: (obj.timestampAuthorities as unknown[])[i] })),
  ];
  for (const { c, name, raw } of cas) {
    const label = `${name} (${c.uri || 'no uri'})`;
    if (!c.certChain?.certificates.length) fail(`${label} has no certificates`);
    if (!isObject(raw) || !isObject(raw.validFor) || typeof raw.validFor.start !== 'string') fail(`${label} has no validFor.start`);
    checkRange(c.validFor, label, fail);
    for (const cert of c.certChain!.certificates) {
      try {
        X509Certificate.parse(Buffer.from(cert.rawBytes));
      } catch {
        fail(`${label} has a certificate that does not parse`);
      }
    }
  }
  return root;
}

function checkRange(r: { start?: Date; end?: Date } | undefined, label: string, fail: (m: string) => never): void {
  if (!r?.start || Number.isNaN(r.start.getTime())) fail(`${label} has an invalid validFor.start`);
  if (r!.end && (Number.isNaN(r!.end.getTime()) || r!.end < r!.start!)) fail(`${label} has a validFor.end before its start`);
}

export interface TrustSummaryEntry {
  kind: 'tlog' | 'ctlog' | 'ca' | 'tsa';
  name: string;
  validFrom?: string;
  validUntil?: string;
  /** Whether the entry is valid now. */
  current: boolean;
}

/** What a trusted root trusts, for `aibom trust show`. */
export function summarizeTrustedRoot(root: TrustedRoot, now = new Date()): TrustSummaryEntry[] {
  const out: TrustSummaryEntry[] = [];
  const entry = (kind: TrustSummaryEntry['kind'], name: string, vf: { start?: Date; end?: Date } | undefined) => {
    const e: TrustSummaryEntry = { kind, name, current: (!vf?.start || vf.start <= now) && (!vf?.end || vf.end >= now) };
    if (vf?.start) e.validFrom = vf.start.toISOString();
    if (vf?.end) e.validUntil = vf.end.toISOString();
    out.push(e);
  };
  for (const l of root.tlogs) entry('tlog', l.baseUrl, l.publicKey?.validFor);
  for (const l of root.ctlogs) entry('ctlog', l.baseUrl, l.publicKey?.validFor);
  for (const c of root.certificateAuthorities) entry('ca', c.uri || c.subject?.commonName || 'certificate authority', c.validFor);
  for (const c of root.timestampAuthorities) entry('tsa', c.uri || c.subject?.commonName || 'timestamp authority', c.validFor);
  return out;
}

/**
 * Refresh the cached trusted root through TUF (network). The TUF metadata lives beside it;
 * the new root is validated before it replaces the cache (atomically).
 */
export async function updateTrustedRoot(
  options: {
    mirrorUrl?: string;
    /** The TUF root.json to start from, for a repository other than the public-good one (whose root is in the seeds). */
    tufRoot?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
  } = {},
): Promise<{
  root: TrustedRoot;
  location: string;
}> {
  const env = options.env ?? process.env;
  const dir = join(cacheDir(env), 'trust');
  await mkdir(dir, { recursive: true });
  const mirrorURL = options.mirrorUrl ?? PUBLIC_GOOD_MIRROR;
  if (mirrorURL !== PUBLIC_GOOD_MIRROR && !options.tufRoot) {
    throw new AibomError('USAGE', `--mirror-url ${mirrorURL} needs --tuf-root FILE (the initial root.json of that TUF repository)`);
  }
  // TUF persists metadata and targets as it goes: update a copy, and keep it only when the new trusted root is valid.
  const live = join(dir, 'tuf');
  const stage = join(dir, `tuf.${process.pid}.update`);
  await rm(stage, { recursive: true, force: true });
  if (existsSync(live)) await cp(live, stage, { recursive: true });
  try {
    const result = await updateInto(stage, dir, mirrorURL, options, env);
    await rm(live, { recursive: true, force: true });
    await rename(stage, live);
    await writeFileAtomic(join(dir, 'source.json'), `${JSON.stringify({ mirrorURL })}\n`);
    const location = cachedTrustedRootPath(env);
    await writeFileAtomic(location, `${JSON.stringify(TrustedRoot.toJSON(result), null, 2)}\n`);
    return { root: result, location };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function updateInto(
  tufDir: string,
  dir: string,
  mirrorURL: string,
  options: { tufRoot?: string; timeoutMs?: number },
  env: NodeJS.ProcessEnv,
): Promise<TrustedRoot> {
  const { default: tuf } = await import('@sigstore/tuf');
  const { getTrustedRoot } = tuf;
  let root: TrustedRoot;
  try {
    root = await getTrustedRoot({
      cachePath: tufDir,
      mirrorURL,
      ...(options.tufRoot ? { rootPath: options.tufRoot } : {}),
      retry: false,
      timeout: options.timeoutMs ?? 15_000,
      forceCache: false,
    });
  } catch (err) {
    throw new AibomError('INPUT', `cannot update the trusted root through TUF: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const location = cachedTrustedRootPath(env);
  validateTrustedRoot(TrustedRoot.toJSON(root), location);
  // What loads verify at every use: where the metadata came from, and the root versions between the anchor and the newest one.
  const { anchorRoot, tufRepoDir, verifyCachedTrustedRoot } = await import('./tuf-chain.js');
  const loadEnv = options.tufRoot ? { ...env, AIBOM_TUF_ROOT: options.tufRoot } : env;
  const anchorVersion = (JSON.parse(anchorRoot(mirrorURL, loadEnv, location).toString('utf8')) as { signed: { version: number } }).signed.version;
  const latestVersion = (JSON.parse(readFileSync(join(tufRepoDir(dir, mirrorURL).replace(join(dir, 'tuf'), tufDir), 'root.json'), 'utf8')) as { signed: { version: number } }).signed.version;
  await mkdir(join(dir, 'chain'), { recursive: true });
  for (let v = anchorVersion + 1; v < latestVersion && v - anchorVersion <= 1000; v++) {
    const res = await fetch(`${mirrorURL.replace(/\/$/, '')}/${v}.root.json`, { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    if (!res.ok) throw new AibomError('INPUT', `cannot fetch root version ${v} from ${mirrorURL}: HTTP ${res.status}`);
    await writeFileAtomic(join(dir, 'chain', `${v}.root.json`), Buffer.from(await res.arrayBuffer()));
  }
  try {
    verifyCachedTrustedRoot(dir, loadEnv, location, tufDir, mirrorURL);
  } catch (err) {
    throw new AibomError('INPUT', `the updated TUF metadata does not verify: ${err instanceof Error ? err.message : String(err)}`);
  }
  return root;
}
