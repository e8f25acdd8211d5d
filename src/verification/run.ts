/**
 * One verification from what a user typed: find out what the target is (file, folder or
 * digest), read the bundle, hash what must be hashed, and hand it to verify.ts. A
 * VerifySession keeps the trust material, keys and certificates loaded once, so a batch
 * of many verifications pays for them once.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { subjectAlgorithms } from '../attestation/digests.js';
import { isModelSigningStatement, parseModelSigningPredicate } from '../attestation/model-signing.js';
import { defaultFolderBundle } from '../inventory/agent-plugins/signature.js';
import { AibomError } from '../errors.js';
import { folderManifest } from '../digest/digest.js';
import { eachFileChunk, readBytesBounded } from '../util/fs.js';
import { type BundleLine, type LoadedBundle, loadBundleFile } from './bundle.js';
import { buildPolicy, type IdentityPolicy, type PolicyOptions } from './identity-policy.js';
import { asVerifyFailure, type FailureReason, type VerificationResult, VerifyFailure } from './result.js';
import { loadTrustedRoot } from './trusted-root.js';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { IN_TOTO_TO_NODE_HASH, makeTrustContext, messageDigestAlgorithm, type PreparedTarget, type TrustContext, verifyPrepared } from './verify.js';

/** Files up to this size are read whole and verified by @sigstore/verify over their bytes; bigger ones over their digest. */
export const IN_MEMORY_ARTIFACT_BYTES = 64 * 1024 * 1024;

export interface VerifyRequest extends PolicyOptions {
  /** A file, a folder, or `sha256:<64 hex>` (also sha384/sha512) that is not an existing path. */
  target: string;
  /** Bundle path; defaults to FILE.sigstore.json for a file and DIR/model.sig for a folder. */
  bundle?: string;
  trustedRoot?: string;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
}

const DIGEST_RE = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export type TargetKind = { kind: 'digest'; algorithm: string; digest: Buffer } | { kind: 'file' } | { kind: 'folder' };

/** What a target argument names. A `sha256:` string that is an existing path is that path. */
export async function classifyTarget(target: string): Promise<TargetKind> {
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory()) return { kind: 'folder' };
  if (st?.isFile()) return { kind: 'file' };
  const m = DIGEST_RE.exec(target);
  if (m) {
    const algorithm = m[1]!;
    if (m[2]!.length !== DIGEST_HEX_LENGTH[algorithm]) {
      throw new AibomError('USAGE', `${target.slice(0, 140)}: a ${algorithm} digest has ${DIGEST_HEX_LENGTH[algorithm]} hex digits`);
    }
    return { kind: 'digest', algorithm, digest: Buffer.from(m[2]!, 'hex') };
  }
  if (st) throw new AibomError('INPUT', 'not a regular file or folder', { file: target });
  throw new AibomError('INPUT', 'no such file or folder (and not a sha256:<64 hex> digest)', { file: target });
}

export function defaultBundlePath(target: string, kind: TargetKind['kind']): string | undefined {
  if (kind === 'file') return `${target}.sigstore.json`;
  if (kind === 'folder') return defaultFolderBundle(target);
  return undefined;
}

export class VerifySession {
  private readonly trust = new Map<string, Promise<TrustContext>>();
  private readonly policies = new Map<string, IdentityPolicy>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Trust material for a trusted-root file (or the default), loaded and validated once. */
  trustContext(trustedRoot?: string): Promise<TrustContext> {
    const key = trustedRoot ? resolve(trustedRoot) : '';
    let hit = this.trust.get(key);
    if (!hit) {
      hit = loadTrustedRoot(trustedRoot, this.env).then(makeTrustContext);
      // A failed load is not cached as a success, but is remembered so a batch reports it per entry cheaply.
      this.trust.set(key, hit);
    }
    return hit;
  }

  /**
   * Verify one request. Usage and input errors (bad flags, a missing file) throw AibomError;
   * every verification failure is returned in the result.
   */
  async verify(req: VerifyRequest): Promise<VerificationResult> {
    const policy = await buildPolicy(req, this.policies);
    const kind = await classifyTarget(req.target);
    const bundlePath = req.bundle ?? defaultBundlePath(req.target, kind.kind);
    if (!bundlePath) throw new AibomError('USAGE', 'verifying a digest needs --bundle FILE');
    let lines: BundleLine[];
    try {
      lines = await loadBundleFile(bundlePath);
    } catch (err) {
      if (err instanceof VerifyFailure) return failed(req.target, kind.kind, bundlePath, err);
      throw err;
    }
    if (lines.length === 1 && 'loaded' in lines[0]!) return this.verifyLoaded(req, kind, policy, lines[0].loaded, bundlePath);
    // JSON Lines: the target verifies when one of the bundles does; otherwise say what each line found.
    const misses: Array<{ display: string; reason: FailureReason; error: string }> = [];
    let last: VerificationResult | undefined;
    const cache: TargetCache = { digests: {} };
    for (const line of lines) {
      if ('failure' in line) {
        misses.push({ display: line.display, reason: line.failure.reason, error: line.failure.message });
        continue;
      }
      const r = await this.verifyLoaded(req, kind, policy, line.loaded, line.display, cache);
      if (r.verified) return r;
      last = r;
      misses.push({ display: line.display, reason: r.reason ?? 'malformed', error: r.error ?? 'not verified' });
    }
    // The reason that matters: a bundle about this artifact that failed, before bundles about other artifacts.
    const main = misses.find((m) => m.reason !== 'digest-mismatch') ?? misses[0]!;
    const shown = misses.slice(0, 10).map((m) => `line ${m.display.slice(bundlePath.length + 1)}: ${m.reason}: ${m.error}`);
    const more = misses.length > 10 ? `; … (${misses.length - 10} more)` : '';
    const result: VerificationResult = {
      verified: false,
      target: last?.target ?? { kind: kind.kind, name: req.target },
      bundle: bundlePath,
      reason: main.reason,
      error: `none of the ${lines.length} bundles in ${bundlePath} verifies: ${shown.join('; ')}${more}`,
    };
    return result;
  }

  private async verifyLoaded(
    req: VerifyRequest,
    kind: TargetKind,
    policy: IdentityPolicy,
    loaded: LoadedBundle,
    bundlePath: string,
    cache?: TargetCache,
  ): Promise<VerificationResult> {
    let ctx: TrustContext;
    try {
      ctx = await this.trustContext(req.trustedRoot);
    } catch (err) {
      if (err instanceof VerifyFailure) return failed(req.target, kind.kind, bundlePath, err);
      // With a key (or a certificate chain) the user names the trust anchor; Sigstore's root
      // is needed only to check log entries or timestamps the bundle carries. Where no root is
      // installed at all (the GitHub Action's bundle ships none), verify against an empty one:
      // a bundle that relies on a log or TSA then fails as untrusted, never passes unchecked.
      if (!req.trustedRoot && policy.kind !== 'keyless' && err instanceof AibomError && /no trusted root/.test(err.message)) {
        ctx = emptyTrustContext();
      } else throw err;
    }
    let target: PreparedTarget;
    try {
      target = await prepareTarget(req, kind, loaded, bundlePath, cache);
    } catch (err) {
      if (err instanceof VerifyFailure) return failed(req.target, kind.kind, bundlePath, err);
      throw err;
    }
    return verifyPrepared(ctx, loaded, target, policy);
  }
}

let empty: TrustContext | undefined;

/** A trust context that trusts no log, CA or timestamp authority. */
function emptyTrustContext(): TrustContext {
  empty ??= makeTrustContext({
    root: TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }),
    source: 'none',
    location: '(none: no trusted root installed)',
  });
  return empty;
}

function failed(name: string, kind: TargetKind['kind'], bundle: string, err: VerifyFailure): VerificationResult {
  const r: VerificationResult = { verified: false, target: { kind, name }, bundle, reason: err.reason, error: err.message };
  if (err.details) r.differences = err.details;
  return r;
}

/** Read or hash the target as the bundle needs it. */
async function prepareTarget(req: VerifyRequest, kind: TargetKind, loaded: LoadedBundle, bundlePath: string, cache?: TargetCache): Promise<PreparedTarget> {
  const name = req.target;
  if (kind.kind === 'digest') return { kind: 'digest', name, algorithm: kind.algorithm, digest: kind.digest };
  const modelSignature = loaded.statement !== undefined && isModelSigningStatement(loaded.statement);
  if (kind.kind === 'folder' || modelSignature) {
    if (!modelSignature) {
      // Nothing to hash: the shape check refuses a folder against this bundle.
      return { kind: 'folder', name, isFile: false, manifest: { name: basename(resolve(name)), resources: [], digest: '', totalBytes: 0 } };
    }
    let predicate: ReturnType<typeof parseModelSigningPredicate>['predicate'];
    try {
      predicate = parseModelSigningPredicate(loaded.statement!, loaded.file).predicate;
    } catch (err) {
      throw err instanceof AibomError ? asVerifyFailure(err, loaded.file) : err;
    }
    const ignorePaths = [...(req.ignorePaths ?? [])];
    // Paths the signer left out (model_signing ≥ 1.1 records them) are left out again, relative to the model.
    for (const p of predicate.serialization.ignore_paths ?? []) ignorePaths.push(join(resolve(name), ...p.split('/')));
    // The signature file itself is never part of the model.
    const relBundle = relative(resolve(name), resolve(bundlePath));
    if (kind.kind === 'folder' && relBundle && !relBundle.startsWith('..') && !relBundle.startsWith(sep)) ignorePaths.push(resolve(bundlePath));
    let manifest: Awaited<ReturnType<typeof folderManifest>>;
    try {
      manifest = await folderManifest(name, {
        ignorePaths,
        ignoreGitPaths: req.ignoreGitPaths ?? true,
        allowSymlinks: req.allowSymlinks ?? false,
      });
    } catch (err) {
      if (err instanceof AibomError && /symbolic link/.test(err.message)) {
        throw new VerifyFailure('digest-mismatch', `${err.message}; pass --allow-symlinks to hash link targets`, name);
      }
      throw err;
    }
    return { kind: 'folder', name, manifest, isFile: kind.kind === 'file' };
  }
  // A file against a message signature or a DSSE statement.
  const alg = messageDigestAlgorithm(loaded.bundle);
  const algs = new Set(['sha256']);
  if (alg && alg !== 'unsupported') algs.add(alg);
  // A statement's subjects may name their digests in other algorithms (sha512, sha3_256 ...):
  // compute those too, so any of them can match.
  for (const a of subjectAlgorithms(loaded.statement?.subject ?? [])) algs.add(IN_TOTO_TO_NODE_HASH[a]!);
  // Digests already computed for this target (the bundles of a JSON Lines file share them).
  const known = cache ?? { digests: {} };
  const st = await stat(name);
  if (st.size <= IN_MEMORY_ARTIFACT_BYTES) {
    known.bytes ??= await readBytesBounded(name, IN_MEMORY_ARTIFACT_BYTES, name);
    const bytes = known.bytes;
    for (const a of algs) known.digests[a] ??= createHash(a).update(bytes).digest();
    const digests = { ...known.digests };
    const t: PreparedTarget = { kind: 'file', name, sha256: digests.sha256!.toString('hex'), digests };
    if (loaded.content === 'message-signature') t.bytes = bytes;
    return t;
  }
  const missing = [...algs].filter((a) => !known.digests[a]);
  if (missing.length) Object.assign(known.digests, await hashFile(name, missing));
  const digests = { ...known.digests };
  return { kind: 'file', name, sha256: digests.sha256!.toString('hex'), digests };
}

/** What prepareTarget learnt about a file target, reused across the bundles of one request. */
interface TargetCache {
  bytes?: Buffer;
  digests: Record<string, Buffer>;
}

async function hashFile(path: string, algorithms: string[]): Promise<Record<string, Buffer>> {
  const hashes = algorithms.map((a) => createHash(a));
  await eachFileChunk(path, (chunk) => {
    for (const h of hashes) h.update(chunk);
  }).catch((err: Error) => {
    throw new AibomError('INPUT', `cannot read: ${err.message}`, { file: path });
  });
  return Object.fromEntries(algorithms.map((a, i) => [a, hashes[i]!.digest()]));
}
