/**
 * The start-up check: the signed AI-BOM is the lock.
 *   (1) the BOM's bundle verifies against the expected release identity (one Sigstore
 *       verification, offline trusted root); the BOM is parsed from the very bytes verified;
 *   (2) each installed plugin's folder digest equals the pinned digest, and the version in its
 *       manifest equals the pinned version;
 *   (3) where the BOM or the policy requires a publisher signature, the plugin's own bundle
 *       verifies over the folder and its signer is the pinned (and trusted) signer;
 *   (4) anything in a plugin folder (configured, recorded in the BOM, or holding a pinned plugin:
 *       the agent root too, when a plugin sits there) that the BOM does not pin is refused (deny by default);
 *   (5) a plugin in the BOM but missing on disk is reported (refused with failOnMissing).
 * Policy exceptions (with a reason and an expiry date) can cover a plugin's failures; an
 * expired one refuses. Nothing here imports the signing code, TUF or the BOM builder.
 */
import { createHash } from 'node:crypto';
import { type Dirent, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { AibomError } from '../errors.js';
import type { Policy, PolicyException, PublisherPolicy } from '../policy/types.js';
import { FINGERPRINT_ONLY_RELEASE, releaseSigner } from '../policy/signer-identity.js';
import { readBytesBounded } from '../util/fs.js';
import { parseJsonText } from '../util/json.js';
import { type LoadedBundle, loadBundle } from '../verification/bundle.js';
import { CLAIM_LIST_OPTIONS, CLAIM_STRING_OPTIONS } from '../verification/claim-policy.js';
import { assertKnownOptions } from '../util/options.js';
import { buildPolicy, type IdentityPolicy, type PolicyOptions, SIGNER_IDENTITY_KEYS } from '../verification/identity-policy.js';
import { describeMatcher } from '../verification/matcher.js';
import { type VerificationResult, VerifyFailure } from '../verification/result.js';
import { cacheDir, loadTrustedRoot } from '../verification/trusted-root.js';
import { bomSignatureRefusal, verifyBomPredicate } from '../verification/bom-predicate.js';
import { makeTrustContext, messageDigestAlgorithm, type TrustContext, verifyPrepared } from '../verification/verify.js';
import { DigestCache } from './cache.js';
import { attachLoadPins, type LoadPins } from './load-pins.js';
import { assertOwnedFile } from '../util/owner.js';
import { stateDir } from '../util/state-dir.js';
import { assertAcceptBom, belowMinimums, markOf, RollbackState } from './rollback.js';
import { pluginFolderDigest, readSmallFileSync } from './folder.js';
import { MAX_BOM_BYTES } from '../bom/read.js';
import { isResolutionEntry, type Lock, MAX_PLUGIN_PATH_FILE_BYTES, type PluginPin, readLock, safeRelative } from './lock.js';
import { readManifestVersion } from './manifest-version.js';
import { checkPublisherBundle, type ExpectedPublisher, expectedPublisher } from './publisher.js';
import type { BomCheck, PluginReason, PluginResult, ReasonCode, ReleaseIdentity, VerifyPluginsOptions, VerifyPluginsResult } from './types.js';

/** Policy rule ids exceptions name for start-up refusals (besides the gate's plugin-pinned and plugin-signed). */
export const STARTUP_RULES: Record<Exclude<ReasonCode, 'bom-untrusted' | 'bom-rollback' | 'exception-expired'>, string> = {
  'digest-mismatch': 'plugin-digest',
  unreadable: 'plugin-digest',
  'not-a-folder': 'plugin-digest',
  symlink: 'plugin-symlink',
  'version-mismatch': 'plugin-version',
  'signature-missing': 'plugin-signed',
  'signature-invalid': 'plugin-signed',
  unlisted: 'plugin-unlisted',
  missing: 'plugin-missing',
  'not-pinned': 'plugin-pinned',
};

interface RuntimePolicy {
  source: string;
  requirePublisherSignature: boolean;
  publishers: PublisherPolicy[];
  exceptions: PolicyException[];
  release?: Policy['release'];
  isMatch?: (glob: string, s: string) => boolean;
}

/** Every option verifyPlugins reads; anything else is a mistake that must not pass silently (a misspelt claim constraint would check nothing). */
const OPTION_KEYS = [
  'bom', 'bundle', 'root', 'policy', 'trustedRoot', 'cache', 'pluginPaths', 'failOnMissing', 'stateDir', 'acceptBom', 'now', 'env',
  ...SIGNER_IDENTITY_KEYS,
  ...CLAIM_STRING_OPTIONS, ...CLAIM_LIST_OPTIONS,
] as const satisfies ReadonlyArray<keyof VerifyPluginsOptions>;
// Compile-time: the list names every option of VerifyPluginsOptions.
const everyOption: Exclude<keyof VerifyPluginsOptions, (typeof OPTION_KEYS)[number]> extends never ? true : never = true;
void everyOption;

export async function verifyPlugins(options: VerifyPluginsOptions): Promise<VerifyPluginsResult> {
  assertKnownOptions('verifyPlugins', options, OPTION_KEYS);
  assertAcceptBom(options.acceptBom);
  const env = options.env ?? process.env;
  const root = resolve(options.root ?? '.');
  const realRoot = await realpath(root).catch(() => {
    throw new AibomError('INPUT', 'the agent root folder does not exist', { file: options.root ?? root });
  });
  // Trust material named on the way in: only from files nobody else can write.
  if (typeof options.policy === 'string') assertOwnedFile(options.policy, 'the policy');
  if (options.key !== undefined) assertOwnedFile(options.key, 'the release key');
  if (options.trustedRoot !== undefined) assertOwnedFile(options.trustedRoot, 'the trusted root');
  const policy = await runtimePolicy(options.policy);
  const releasePolicy = await buildPolicy(releaseOptions(options, policy));
  const bundleFile = options.bundle ?? `${options.bom}.sigstore.json`;
  const bomBytes = await readBytesBounded(options.bom, MAX_BOM_BYTES, options.bom);

  const bom: BomCheck = { file: options.bom, bundle: bundleFile, verified: false };
  const trust = await trustContext(options.trustedRoot, env, bom);
  if (trust) await verifyBom(trust, bomBytes, options.bom, bundleFile, releasePolicy, bom);
  if (!bom.verified) return untrusted(bom, bomBytes, root);

  const lock = readLock(bomBytes, options.bom);
  // Whole-release rollback (rollback.ts): policy minimums, then the high-water mark of this root and release identity.
  const mark = markOf(lock, bomBytes);
  const state = RollbackState.open(options.stateDir ?? stateDir(env), realRoot, identityKey(releasePolicy));
  const rollback = (await belowMinimums(mark, policy.release)) ?? (await state.refusal(mark, options.acceptBom));
  if (rollback) return rolledBack(bom, lock, root, rollback);
  const cacheRoot = options.cache ? (typeof options.cache === 'string' ? resolve(options.cache) : cacheDir(env)) : undefined;
  const caches: DigestCache[] = [];
  const stats = { hits: 0, misses: 0 };
  const results: PluginResult[] = [];
  const loads = new Map<string, string>();
  const folders: LoadPins['folders'] = [];
  for (const pin of lock.plugins) {
    results.push(await checkPlugin(pin, { root, realRoot, policy, trust: trust!, cacheRoot, caches, stats, folders, failOnMissing: !!options.failOnMissing }));
  }
  const own = new Set([options.bom, bundleFile].map((f) => relative(root, resolve(f)).split(sep).join('/')));
  results.push(...checkAroundPlugins(lock, root, realRoot, options.pluginPaths ?? [], own, (rel, hex) => loads.set(join(realRoot, ...rel.split('/')), hex)));
  const now = options.now ?? new Date();
  const nameCounts = new Map<string, number>();
  for (const p of lock.plugins) nameCounts.set(p.name, (nameCounts.get(p.name) ?? 0) + 1);
  const pinnedPaths = new Set(lock.plugins.map((p) => p.path));
  for (const r of results) applyExceptions(r, policy, now, nameCounts, pinnedPaths);
  await Promise.all(caches.map((c) => c.save()));
  results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: VerifyPluginsResult = { ok: results.every((r) => r.status !== 'refused'), bom, root, plugins: results };
  if (cacheRoot) out.cache = { ...stats, dir: cacheRoot };
  attachLoadPins(out, { files: loads, folders, root: realRoot, ...zones(lock, realRoot, options.pluginPaths ?? []) });
  if (out.ok) await state.advance(mark);
  return out;
}

async function runtimePolicy(p: VerifyPluginsOptions['policy']): Promise<RuntimePolicy> {
  let policy: Policy | undefined;
  if (typeof p === 'string') {
    const { loadPolicy } = await import('../policy/load.js');
    policy = await loadPolicy(p);
  } else policy = p;
  const rp: RuntimePolicy = {
    source: policy?.source ?? '(default policy)',
    requirePublisherSignature: policy?.requirePublisherSignature ?? true,
    publishers: policy?.publishers ?? [],
    exceptions: policy?.exceptions ?? [],
  };
  if (policy?.release) rp.release = policy.release;
  if (rp.publishers.length || rp.exceptions.length) {
    const { default: picomatch } = await import('picomatch');
    rp.isMatch = (glob, s) => picomatch(glob, { dot: true })(s);
  }
  return rp;
}

/** The release identity (policy/signer-identity.ts). Never none: the BOM is always verified. */
function releaseOptions(o: ReleaseIdentity, policy: RuntimePolicy): PolicyOptions {
  const signer = releaseSigner(o, policy.release);
  if (signer.kind === 'named') return signer.options;
  if (signer.kind === 'fingerprint-only') throw new AibomError('USAGE', FINGERPRINT_ONLY_RELEASE, { file: policy.source });
  throw new AibomError(
    'USAGE',
    'say who signs releases: a certificate identity and OIDC issuer (exact or regexp), a release public key, or `release` in the policy',
  );
}

async function trustContext(trustedRoot: string | undefined, env: NodeJS.ProcessEnv, bom: BomCheck): Promise<TrustContext | undefined> {
  try {
    return makeTrustContext(await loadTrustedRoot(trustedRoot, env));
  } catch (err) {
    if (err instanceof VerifyFailure) {
      bom.reason = `untrusted: ${err.describe()}`;
      return undefined;
    }
    throw err;
  }
}

/** Step (1): the BOM's own bundle, over the exact bytes that are then parsed. */
async function verifyBom(ctx: TrustContext, bytes: Buffer, bomFile: string, bundleFile: string, policy: IdentityPolicy, out: BomCheck): Promise<void> {
  let loaded: LoadedBundle;
  try {
    loaded = await loadBundle(bundleFile);
  } catch (err) {
    if (err instanceof VerifyFailure) {
      out.reason = `${err.reason}: ${err.message}`;
      return;
    }
    throw err;
  }
  const digests: Record<string, Buffer> = { sha256: createHash('sha256').update(bytes).digest() };
  const alg = messageDigestAlgorithm(loaded.bundle);
  if (alg && alg !== 'unsupported' && !digests[alg]) digests[alg] = createHash(alg).update(bytes).digest();
  let res: VerificationResult = verifyPrepared(ctx, loaded, { kind: 'file', name: bomFile, sha256: digests.sha256!.toString('hex'), digests, bytes }, policy);
  if (!res.verified && res.reason === 'digest-mismatch') {
    // An attestation whose predicate is this BOM (aibom attest): verify it over its subject, then compare the predicate.
    const alt = verifyBomAsPredicate(ctx, loaded, bytes, bomFile, policy);
    if (alt) res = alt;
  }
  const notTheBom = res.verified ? bomSignatureRefusal(res.statement?.predicateType) : undefined;
  if (notTheBom) res = { ...res, verified: false, reason: 'unsupported', error: notTheBom };
  out.verified = res.verified;
  if (res.verified) {
    const signer: NonNullable<BomCheck['signer']> = { method: res.signer?.method ?? 'unknown' };
    if (res.signer?.identity !== undefined) signer.identity = res.signer.identity;
    if (res.signer?.issuer !== undefined) signer.issuer = res.signer.issuer;
    out.signer = signer;
    if (res.signedAt) out.signedAt = res.signedAt;
  } else out.reason = `${res.reason ?? 'not verified'}: ${res.error ?? ''}`.trim();
}

function verifyBomAsPredicate(ctx: TrustContext, loaded: LoadedBundle, bytes: Buffer, bomFile: string, policy: IdentityPolicy): VerificationResult | undefined {
  let bom: unknown;
  try {
    bom = parseJsonText(bytes.toString('utf8'), bomFile, 128);
  } catch {
    return undefined;
  }
  return verifyBomPredicate(ctx, loaded, bom, bomFile, policy);
}

/** The BOM did not verify: nothing it says is trusted; every plugin it names is refused. */
function untrusted(bom: BomCheck, bytes: Buffer, root: string): VerifyPluginsResult {
  let lock: Lock | undefined;
  try {
    lock = readLock(bytes, bom.file);
  } catch {
    lock = undefined;
  }
  const reason: PluginReason = { code: 'bom-untrusted', message: `the BOM's signature does not verify (${bom.reason ?? 'not verified'}); nothing in it is trusted` };
  const plugins: PluginResult[] = (lock?.plugins ?? []).map((p) => {
    const r: PluginResult = { name: p.name, path: p.path, status: 'refused', reasons: [reason] };
    if (p.version !== undefined) r.version = p.version;
    return r;
  });
  return { ok: false, bom, root, plugins };
}

/** Which release identity a high-water mark belongs to: the key, or the identity and issuer as configured (patterns, not one release's SAN). */
function identityKey(p: IdentityPolicy): string {
  if (p.kind === 'key') return `key:${createHash('sha256').update(p.key.export({ format: 'der', type: 'spki' })).digest('hex')}`;
  if (p.kind === 'keyless') return `keyless:${describeMatcher(p.identity)}\0${describeMatcher(p.issuer)}`;
  return `chain:${p.chainFile}`;
}

/** An older release than policy or state allows: nothing in it is loaded. */
function rolledBack(bom: BomCheck, lock: Lock, root: string, why: string): VerifyPluginsResult {
  bom.rollback = why;
  const reason: PluginReason = { code: 'bom-rollback', message: `the BOM is refused: ${why}` };
  const plugins: PluginResult[] = lock.plugins.map((p) => {
    const r: PluginResult = { name: p.name, path: p.path, status: 'refused', reasons: [reason] };
    if (p.version !== undefined) r.version = p.version;
    return r;
  });
  return { ok: false, bom, root, plugins };
}

interface CheckContext {
  root: string;
  realRoot: string;
  policy: RuntimePolicy;
  trust: TrustContext;
  cacheRoot: string | undefined;
  caches: DigestCache[];
  stats: { hits: number; misses: number };
  /** Every checked plugin folder with its files' digests, for the load-time hook. */
  folders: LoadPins['folders'];
  failOnMissing: boolean;
}

/** Record a refusal on the plugin's result. */
type Refuse = (code: ReasonCode, message: string) => void;
type FolderDigest = Awaited<ReturnType<typeof pluginFolderDigest>>;

/** Steps (2), (3) and (5) for one pinned plugin. */
async function checkPlugin(pin: PluginPin, ctx: CheckContext): Promise<PluginResult> {
  const r: PluginResult = { name: pin.name, path: pin.path, status: 'verified', reasons: [] };
  if (pin.version !== undefined) r.version = pin.version;
  if (pin.digest !== undefined) r.pinnedDigest = `sha256:${pin.digest}`;
  if (pin.ref) r.ref = pin.ref;
  const refuse: Refuse = (code, message) => {
    r.reasons.push({ code, message });
    r.status = 'refused';
  };
  const abs = join(ctx.root, ...pin.path.split('/'));
  const real = locatePluginFolder(pin, abs, ctx, r, refuse);
  if (real === undefined) return r;
  // (2) digest and version.
  const manifestInFolder = pin.manifest !== undefined ? pin.manifest.slice(pin.path.length + 1) : undefined;
  const folder = await digestPluginFolder(pin, abs, real, manifestInFolder, ctx, refuse);
  if (!folder) return r;
  if (folder.digest !== undefined) r.digest = `sha256:${folder.digest}`;
  comparePinnedDigests(pin, folder, r, refuse);
  if (pin.version === undefined) refuse('not-pinned', 'the BOM records no version for this plugin');
  else if (pin.manifest !== undefined) {
    const kept = manifestInFolder !== undefined ? folder.kept.get(manifestInFolder) : undefined;
    const mv = await readManifestVersion(join(ctx.root, ...pin.manifest.split('/')), pin.manifest, pin.format, abs, pin.path, kept);
    if ('problem' in mv) refuse('version-mismatch', `cannot read the version: ${mv.problem}`);
    else if (mv.version !== pin.version) refuse('version-mismatch', `${pin.manifest} says version ${mv.version ?? '(none)'}, the BOM pins ${pin.version}`);
  }
  // (3) the publisher signature.
  await checkPublisher(pin, folder, abs, r, refuse, ctx);
  return r;
}

/**
 * The plugin folder as the BOM pins it: there (else `missing`, or refused with --fail-on-missing),
 * a real folder, not a link and not reached through one. Its real path, or undefined when refused.
 */
function locatePluginFolder(pin: PluginPin, abs: string, ctx: CheckContext, r: PluginResult, refuse: Refuse): string | undefined {
  // Synchronous file-system calls on the start-up path: one thread-pool hop per call costs more than the call.
  let st: ReturnType<typeof lstatSync> | NodeJS.ErrnoException;
  try {
    st = lstatSync(abs);
  } catch (err) {
    st = err as NodeJS.ErrnoException;
  }
  if (st instanceof Error) {
    if (st.code === 'ENOENT' || st.code === 'ENOTDIR') {
      r.status = ctx.failOnMissing ? 'refused' : 'missing';
      r.reasons.push({ code: 'missing', message: `the BOM lists ${pin.name}${pin.version ? `@${pin.version}` : ''} at ${pin.path}, and it is not there` });
    } else refuse('unreadable', `cannot read ${pin.path}: ${st.code ?? st.message}`);
    return undefined;
  }
  if (st.isSymbolicLink()) {
    refuse('symlink', `the plugin folder ${pin.path} is a symbolic link`);
    return undefined;
  }
  if (!st.isDirectory()) {
    refuse('not-a-folder', `${pin.path} is not a folder`);
    return undefined;
  }
  const real = realpathSync(abs);
  if (real !== join(ctx.realRoot, ...pin.path.split('/'))) {
    refuse('symlink', `${pin.path} is reached through a symbolic link (it resolves to ${real})`);
    return undefined;
  }
  return real;
}

/** The folder digest (through the digest cache when on), its listing refusals recorded; undefined when it cannot be checked. */
async function digestPluginFolder(
  pin: PluginPin,
  abs: string,
  real: string,
  manifestInFolder: string | undefined,
  ctx: CheckContext,
  refuse: Refuse,
): Promise<FolderDigest | undefined> {
  const cache = ctx.cacheRoot ? DigestCache.open(ctx.cacheRoot, real) : undefined;
  if (cache) ctx.caches.push(cache);
  let folder: FolderDigest;
  try {
    folder = await pluginFolderDigest(abs, {
      signatureFiles: pin.bundles,
      symlinks: pin.symlinks,
      ...(manifestInFolder !== undefined ? { keep: [manifestInFolder] } : {}),
      ...(cache ? { cache } : {}),
    });
  } catch (err) {
    // A folder too big or too deep to check (hostile), or one that vanished mid-way: refused, and the others still checked.
    if (!(err instanceof AibomError)) throw err;
    refuse('unreadable', `cannot check ${pin.path}: ${err.message}`);
    return undefined;
  }
  ctx.stats.hits += folder.cacheHits;
  ctx.stats.misses += folder.cacheMisses;
  for (const p of folder.problems) refuse(p.code, p.message);
  ctx.folders.push({ dir: real, resources: folder.resources });
  return folder;
}

/** The folder digest and the full-manifest digest (names too) against the pins; each absent pin is a refusal. */
function comparePinnedDigests(pin: PluginPin, folder: FolderDigest, r: PluginResult, refuse: Refuse): void {
  if (pin.digest === undefined) refuse('not-pinned', 'the BOM records no folder digest for this plugin (rebuild it with aibom build)');
  else if (folder.digest !== undefined && folder.digest !== pin.digest) {
    const now = folder.resources.length;
    const pinned = pin.fileCount;
    refuse(
      'digest-mismatch',
      `the folder's contents are not what the BOM pins: digest sha256:${folder.digest} (${now} file${now === 1 ? '' : 's'}), pinned sha256:${pin.digest}${pinned !== undefined ? ` (${pinned} file${pinned === 1 ? '' : 's'})` : ''}`,
    );
  }
  if (pin.filesDigest === undefined) refuse('not-pinned', 'the BOM records no full manifest (file names and digests) for this plugin (rebuild it with this aibom build)');
  else if (folder.filesDigest !== undefined && folder.filesDigest !== pin.filesDigest && folder.digest === pin.digest) {
    refuse('digest-mismatch', 'the file names are not what the BOM pins: the same file contents, renamed (sha256 of the full manifest differs)');
  } else if (folder.filesDigest !== undefined && folder.filesDigest !== pin.filesDigest && !r.reasons.some((x) => x.code === 'digest-mismatch')) {
    refuse('digest-mismatch', `the folder's full manifest (file names and digests) is not what the BOM pins`);
  }
}

/** The publisher the BOM or the policy names (fail-closed when one is required and none is named), and its signature. */
async function checkPublisher(pin: PluginPin, folder: FolderDigest, abs: string, r: PluginResult, refuse: Refuse, ctx: CheckContext): Promise<void> {
  const trusted = ctx.policy.isMatch && ctx.policy.publishers.length ? ctx.policy.publishers.find((p) => p.match === pin.ref || ctx.policy.isMatch!(p.match, pin.name)) : undefined;
  const expected = expectedPublisher(pin.publisher, trusted, ctx.policy.source);
  const required = pin.publisher !== undefined || trusted !== undefined || ctx.policy.requirePublisherSignature;
  if (expected && 'code' in expected) refuse(expected.code, expected.message);
  else if (!expected) {
    if (required) {
      refuse(
        'signature-missing',
        'a publisher signature is required (fail-closed), and neither the BOM nor the policy names a publisher for this plugin (have it signed and build with --publisher-key, or set requirePublisherSignature: false)',
      );
    }
  } else if (folder.problems.length === 0) {
    await checkSignature(pin, expected, folder.resources, abs, r, refuse, ctx);
  }
}

async function checkSignature(
  pin: PluginPin,
  expected: ExpectedPublisher,
  resources: Parameters<typeof checkPublisherBundle>[4],
  abs: string,
  r: PluginResult,
  refuse: (code: ReasonCode, message: string) => void,
  ctx: CheckContext,
): Promise<void> {
  const candidates = pin.publisher?.bundle !== undefined ? [pin.publisher.bundle] : pin.bundles;
  if (candidates.length === 0) {
    refuse('signature-missing', `the plugin must be signed by ${expected.describe}, and its folder has no signature bundle (model.sig)`);
    return;
  }
  let firstProblem: PluginReason | undefined;
  for (const b of candidates) {
    const bundleAbs = join(abs, ...b.split('/'));
    let exists = false;
    try {
      exists = lstatSync(bundleAbs).isFile();
    } catch {
      exists = false;
    }
    if (!exists) {
      firstProblem ??= { code: 'signature-missing', message: `${pin.path}/${b} (the publisher's signature) is missing` };
      continue;
    }
    const check = checkPublisherBundle(ctx.trust, bundleAbs, `${pin.path}/${b}`, pin.path.split('/').pop()!, resources, expected);
    if (!check.problem) {
      if (check.signer) r.signer = check.signer;
      return;
    }
    firstProblem ??= check.problem;
  }
  if (firstProblem) refuse(firstProblem.code, firstProblem.message);
}

/**
 * The plugin folders (and the folders between them and the root) as absolute real paths, for
 * the load-time hook. The agent root is one when a plugin package sits there (or the BOM says
 * so): then every module under it must be one the check verified.
 */
function zones(lock: Lock, realRoot: string, extra: string[]): { pluginDirs: string[]; betweenDirs: string[] } {
  const bases = pluginFolders(lock, extra);
  const between = new Set<string>();
  for (const b of bases) {
    const parts = b ? b.split('/') : [];
    for (let i = 1; i < parts.length; i++) between.add(parts.slice(0, i).join('/'));
  }
  for (const b of bases) between.delete(b);
  const abs = (rel: string) => (rel ? join(realRoot, ...rel.split('/')) : realRoot);
  return { pluginDirs: [...bases].map(abs), betweenDirs: [...between].map(abs) };
}

/**
 * Every plugin folder: those the BOM records (aibom:plugin-path), the folder holding each pinned
 * plugin ('' when it sits at the agent root), and those configured at start-up.
 */
function pluginFolders(lock: Lock, extra: string[]): Set<string> {
  const bases = new Set<string>(lock.pluginPaths);
  for (const p of lock.plugins) {
    const i = p.path.lastIndexOf('/');
    bases.add(i < 0 ? '' : p.path.slice(0, i));
  }
  if (lock.pluginPaths.length === 0) bases.add('plugins');
  for (const e of extra) {
    const n = safeRelative(e);
    if (n === undefined) throw new AibomError('USAGE', `plugin path ${JSON.stringify(e)} is not a relative path inside the agent root`);
    bases.add(n);
  }
  return bases;
}

/** What step (4) judges against, and where its refusals go (one per path). */
interface AroundCheck {
  lock: Lock;
  root: string;
  realRoot: string;
  /** Every plugin folder (POSIX, relative; '' is the agent root). */
  bases: Set<string>;
  /** Paths of the pinned plugins. */
  pinned: Set<string>;
  /** The BOM and its bundle, rewritten after the build: verified by signature. */
  own: Set<string>;
  refuse: (rel: string, code: ReasonCode, message: string) => void;
}

/**
 * Step (4): what Node could load around the plugins. In every plugin folder (configured,
 * recorded in the BOM, or holding a pinned plugin, the agent root included), each entry is a
 * pinned plugin, a file pinned with its digest, or
 * refused (deny by default; files too: `require('./plugins/x')` loads plugins/x.js before
 * plugins/x/). In each folder between a plugin folder and the agent root, the entries module
 * resolution consults (package.json, node_modules, index.*) are pinned or refused. A plugin
 * folder that is a link, or reached through one, is refused.
 */
function checkAroundPlugins(
  lock: Lock,
  root: string,
  realRoot: string,
  extra: string[],
  own: Set<string>,
  onFile: (rel: string, hex: string) => void,
): PluginResult[] {
  const out: PluginResult[] = [];
  const seen = new Set<string>();
  const c: AroundCheck = {
    lock,
    root,
    realRoot,
    bases: pluginFolders(lock, extra),
    pinned: new Set(lock.plugins.map((p) => p.path)),
    own,
    refuse: (rel, code, message) => {
      if (seen.has(rel)) return;
      seen.add(rel);
      out.push({ name: rel.slice(rel.lastIndexOf('/') + 1), path: rel, status: 'refused', reasons: [{ code, message }] });
    },
  };
  const between = new Set<string>();
  for (const base of [...c.bases].sort()) {
    // The agent root is a plugin folder when a plugin package sits there: deny by default applies to it as to any
    // other (the agent's own files must be pinned, other folders are refused); plugin packages belong in a dedicated folder.
    const parts = base ? base.split('/') : [];
    for (let i = 1; i < parts.length; i++) between.add(parts.slice(0, i).join('/'));
    const entries = listPluginFolder(c, base);
    if (entries) for (const e of entries) judgePluginFolderEntry(c, base, e);
  }
  for (const b of [...between].sort()) if (!c.bases.has(b)) checkBetweenFolder(c, b);
  checkPathFiles(c, onFile);
  return out;
}

/** A plugin folder's entries; undefined when there is none, or when it is refused (a link, reached through one, unreadable). */
function listPluginFolder(c: AroundCheck, base: string): Dirent[] | undefined {
  const parts = base ? base.split('/') : [];
  const abs = base ? join(c.root, ...parts) : c.root;
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(abs);
  } catch {
    return undefined; // no such plugin folder: nothing in it
  }
  if (st.isSymbolicLink()) {
    c.refuse(base, 'symlink', `the plugin folder ${base} is a symbolic link`);
    return undefined;
  }
  if (!st.isDirectory()) {
    c.refuse(base, 'not-a-folder', `the configured plugin folder ${base} is not a folder`);
    return undefined;
  }
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return undefined;
  }
  if (real !== (base ? join(c.realRoot, ...parts) : c.realRoot)) {
    c.refuse(base, 'symlink', `the plugin folder ${base} is reached through a symbolic link (it resolves to ${real})`);
    return undefined;
  }
  try {
    return readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    c.refuse(base || '.', 'unreadable', `cannot list the plugin folder ${base || '.'}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
}

/** One entry of a plugin folder: a pinned plugin, a pinned file, a plugin folder itself, or refused (deny by default). */
function judgePluginFolderEntry(c: AroundCheck, base: string, e: Dirent): void {
  const rel = base ? `${base}/${e.name}` : e.name;
  if (c.pinned.has(rel) || c.lock.pathFiles.has(rel) || c.bases.has(rel) || c.own.has(rel)) return;
  // A folder that holds plugin folders deeper down (nested plugin folders) is not itself a plugin.
  if (!e.isSymbolicLink() && e.isDirectory() && [...c.bases].some((p) => p.startsWith(`${rel}/`))) return;
  const atRoot = base === '' ? '; plugin packages sit at the agent root, which makes the root a plugin folder: put them in a dedicated folder such as plugins/' : '';
  c.refuse(
    rel,
    'unlisted',
    (e.isSymbolicLink()
      ? `${rel} is a symbolic link in a plugin folder, and the BOM lists no plugin there`
      : e.isDirectory()
        ? `${rel} is in a plugin folder, and the BOM lists no plugin there (deny by default)`
        : `${rel} is a file in a plugin folder and not pinned in the BOM (Node could load it beside the plugins: deny by default)`) + atRoot,
  );
}

/** A folder between a plugin folder and the root: the entries module resolution consults are pinned or refused. */
function checkBetweenFolder(c: AroundCheck, b: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(c.root, ...b.split('/')), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = `${b}/${e.name}`;
    if (!isResolutionEntry(e.name) || c.lock.pathFiles.has(rel) || c.bases.has(rel) || [...c.bases].some((x) => x.startsWith(`${rel}/`))) continue;
    c.refuse(rel, 'unlisted', `${rel} is between a plugin folder and the agent root, where Node's module resolution consults it, and the BOM does not pin it`);
  }
}

/** Files pinned beside the plugins: the same bytes, or refused. */
function checkPathFiles(c: AroundCheck, onFile: (rel: string, hex: string) => void): void {
  for (const [rel, hex] of c.lock.pathFiles) {
    if (c.own.has(rel)) continue; // the BOM and its bundle, rewritten after the build: verified by signature
    const display = rel;
    let actual: string | undefined;
    let why = '';
    try {
      actual = createHash('sha256').update(readSmallFileSync(join(c.root, ...rel.split('/')), MAX_PLUGIN_PATH_FILE_BYTES, display)).digest('hex');
    } catch (err) {
      why = err instanceof AibomError ? err.message : String(err);
    }
    if (actual === hex) onFile(rel, hex);
    else c.refuse(rel, 'digest-mismatch', `${rel} is not what the BOM pins (sha256:${hex}): ${actual !== undefined ? `it is sha256:${actual}` : why}`);
  }
}

/**
 * A live exception covering every failure makes a plugin `excepted`; an expired one adds a
 * refusal. Exceptions bind to what the signed release pinned: the plugin's bom-ref, its
 * install path (`plugin:PATH`, PATH, or a glob over paths), or its name as the signed BOM
 * gives it, only while exactly one pinned plugin has that name (a second plugin copying an
 * excepted plugin's name inherits nothing). Something the BOM does not list (`unlisted`) is
 * excepted only by an exception that names the rule `plugin-unlisted` itself, for its path.
 */
function applyExceptions(r: PluginResult, policy: RuntimePolicy, now: Date, nameCounts: Map<string, number>, pinnedPaths: Set<string>): void {
  if (r.reasons.length === 0 || !policy.exceptions.length || !policy.isMatch) return;
  if (r.reasons.some((x) => x.code === 'bom-untrusted' || x.code === 'bom-rollback')) return;
  const failing = r.status === 'refused' ? r.reasons : [];
  if (failing.length === 0) return;
  const rules = failing.map((x) => STARTUP_RULES[x.code as keyof typeof STARTUP_RULES] ?? x.code);
  // Not a plugin the signed BOM pins (an unlisted entry, a file beside the plugins): only explicit plugin-unlisted exceptions.
  const unlisted = !pinnedPaths.has(r.path);
  const byPath = (c: string) => c === `plugin:${r.path}` || c === r.path || policy.isMatch!(c, r.path);
  const ex = policy.exceptions.find((e) => {
    if (unlisted) return !!e.rules?.includes('plugin-unlisted') && rules.every((id) => e.rules!.includes(id)) && byPath(e.component);
    if (e.rules && !e.rules.includes('*') && !rules.every((id) => e.rules!.includes(id))) return false;
    if ((r.ref !== undefined && e.component === r.ref) || byPath(e.component)) return true;
    if (nameCounts.get(r.name) !== 1) return false;
    return e.component === r.name || (r.version !== undefined && e.component === `${r.name}@${r.version}`) || policy.isMatch!(e.component, r.name);
  });
  if (!ex) return;
  r.exception = { component: ex.component, reason: ex.reason, expires: ex.expires };
  const today = now.toISOString().slice(0, 10);
  if (ex.expires < today) {
    r.reasons.push({
      code: 'exception-expired',
      message: `the policy exception for "${ex.component}" expired on ${ex.expires} (reason was: ${ex.reason})${ex.line ? ` (${policy.source}:${ex.line})` : ''}`,
    });
    r.status = 'refused';
    return;
  }
  r.status = 'excepted';
}
