/**
 * `aibom gate`: the I/O around evaluatePolicy. Loads the policy and the BOM (or builds one),
 * re-verifies the signature bundles of models and plugins on disk against the policy's
 * publishers, verifies the BOM's own bundles and the release artifacts' attestations against
 * the release identity, then evaluates every rule.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { digestFile, matchingSubjects, subjectAlgorithms, toNodeDigests } from '../attestation/digests.js';
import { CYCLONEDX_PREDICATE_TYPE } from '../attestation/statement.js';
import { AibomError } from '../errors.js';
import { inventoryFromBom, type InventoryReport, type InventoryRow } from '../bom/rows.js';
import { loadOrBuildBom } from '../build/load.js';
import { readBytesBounded, readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import { parseBundle } from '../verification/bundle.js';
import { buildPolicy, type PolicyOptions, SIGNER_IDENTITY_KEYS, type SignerIdentityOptions } from '../verification/identity-policy.js';
import { VerifyFailure } from '../verification/result.js';
import { VerifySession } from '../verification/run.js';
import { verifyPrepared } from '../verification/verify.js';
import { bomSignatureRefusal, verifyBomPredicate } from '../verification/bom-predicate.js';
import { CLAIM_LIST_OPTIONS, CLAIM_STRING_OPTIONS } from '../verification/claim-policy.js';
import { assertKnownOptions } from '../util/options.js';
import { assertValidBom } from '../policy/bom-input.js';
import { type ArtifactCheck, evaluatePolicy, type GateResult, type SignatureCheck } from '../policy/evaluate.js';
import { loadPolicy } from '../policy/load.js';
import { FINGERPRINT_ONLY_RELEASE, type ReleaseSigner, releaseSigner, signerOptions } from '../policy/signer-identity.js';
import { evaluatePackageRules } from '../policy/package-rules.js';
import { provenanceOf } from '../policy/provenance.js';
import { applyLock, type LockOptions, type LockOutcome } from '../policy/provenance-lock.js';
import { type VsaInputs, type VsaOptions, writeVsa } from '../policy/vsa.js';
import { defaultPolicy, type Policy } from '../policy/types.js';

export interface GateOptions extends SignerIdentityOptions {
  bom?: string;
  bundle?: string[];
  policy?: string;
  root?: string;
  artifacts?: string[];
  attestations?: string;
  trustedRoot?: string;
  now?: Date;
  /** Write the verdict as a signed SLSA VSA (vsa.ts). */
  vsa?: VsaOptions;
  /** The provenance lock (provenance-lock.ts). */
  lock?: LockOptions;
}

/** Predicate types that count as provenance for a release artifact: SLSA v1, v0.2 (npm provenance), aibom's BOM attestations. */
export const PROVENANCE_PREDICATE_TYPES = ['https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2', CYCLONEDX_PREDICATE_TYPE];

const MAX_ATTESTATION_FILE_BYTES = 256 * 1024 * 1024;

export type GateRun = GateResult & { bom: string; vsa?: Awaited<ReturnType<typeof writeVsa>>; lock?: LockOutcome };

export const GATE_OPTION_KEYS = [
  'bom', 'bundle', 'policy', 'root', 'artifacts', 'attestations', 'trustedRoot', 'now', 'vsa', 'lock',
  ...SIGNER_IDENTITY_KEYS,
  ...CLAIM_STRING_OPTIONS, ...CLAIM_LIST_OPTIONS,
] as const satisfies ReadonlyArray<keyof GateOptions>;
// Compile-time: the list names every option of GateOptions.
const everyGateOption: Exclude<keyof GateOptions, (typeof GATE_OPTION_KEYS)[number]> extends never ? true : never = true;
void everyGateOption;
const NESTED_GATE_OPTIONS = {
  lock: ['file', 'acceptDrift', 'frozen'] satisfies ReadonlyArray<keyof LockOptions>,
  vsa: ['file', 'identity', 'verifierId', 'policyUri', 'resourceUri', 'check'] satisfies ReadonlyArray<keyof VsaOptions>,
};

export async function runGate(opts: GateOptions): Promise<GateRun> {
  assertKnownOptions('runGate', opts, GATE_OPTION_KEYS, NESTED_GATE_OPTIONS);
  const policy = opts.policy ? await loadPolicy(opts.policy) : defaultPolicy();
  const root = resolve(opts.root ?? '.');
  const loaded = await loadOrBuildBom(opts.bom ?? root);
  if (opts.vsa && loaded.builtFromDir) throw new AibomError('USAGE', '--vsa names the BOM as a subject: give the BOM file with --bom');
  const inputs = [opts.bom, opts.policy, opts.lock?.file, opts.attestations, ...(opts.bundle ?? [])].filter((f): f is string => !!f).map((f) => resolve(f));
  if (opts.vsa && inputs.includes(resolve(opts.vsa.file))) throw new AibomError('USAGE', `--vsa ${opts.vsa.file} would overwrite an input of the gate`);
  if (opts.lock && inputs.filter((f) => f === resolve(opts.lock!.file)).length > 1) throw new AibomError('USAGE', `--lock ${opts.lock.file} is also an input of the gate`);
  if (!loaded.builtFromDir) await assertValidBom(loaded.bom, loaded.source);
  const inv = inventoryFromBom(loaded.bom, { nestedFiles: true });
  const session = new VerifySession();
  const signer = releaseOptions(opts, policy);
  const releaseIdentity = signer.kind === 'named' ? signer.options : undefined;
  if ((opts.bundle?.length || opts.artifacts?.length) && signer.kind === 'fingerprint-only') {
    throw new AibomError('USAGE', FINGERPRINT_ONLY_RELEASE, opts.policy ? { file: opts.policy } : {});
  }
  if ((opts.bundle?.length || opts.artifacts?.length) && !releaseIdentity) {
    throw new AibomError(
      'USAGE',
      'say who signs releases: --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp], --key, or `release` in the policy',
    );
  }
  // A release identity is checked as given (a bad regexp, a private key, a half identity are
  // usage errors), whether or not this run has a signature to hold it against.
  if (releaseIdentity) await buildPolicy(releaseIdentity);
  if (opts.bundle?.length && loaded.builtFromDir) {
    throw new AibomError('USAGE', '--bundle checks the signature of a BOM file: give it with --bom');
  }
  const signatures = await checkComponentSignatures(inv, policy, root, session, opts.trustedRoot);
  const ctx: Parameters<typeof evaluatePolicy>[2] = { now: opts.now ?? new Date(), signatures };
  if (opts.bundle?.length && releaseIdentity) {
    ctx.bomSignature = await checkBomBundles(loaded.source, loaded.bom, opts.bundle, releaseIdentity, session, opts.trustedRoot);
  }
  if (opts.artifacts?.length && releaseIdentity) {
    ctx.artifacts = await checkArtifacts(opts.artifacts, opts.attestations!, releaseIdentity, session, opts.trustedRoot);
  }
  const result: GateRun = {
    ...evaluatePolicy(inv, policy, ctx),
    bom: loaded.builtFromDir ? `(built from ${opts.root ?? '.'})` : loaded.source,
  };
  const packageFailures = evaluatePackageRules(inv, policy, bomTime(loaded.bom, ctx.now));
  if (packageFailures.length) {
    result.failures.push(...packageFailures);
    result.passed = false;
  }
  if (opts.lock) result.lock = await applyLock(result, inv, ctx, opts.lock);
  if (opts.vsa) {
    const inputs: VsaInputs = { result, bomFile: loaded.source, bomJson: loaded.bom, policy, bundles: opts.bundle ?? [], now: ctx.now };
    if (opts.policy) inputs.policyFile = opts.policy;
    if (opts.attestations && ctx.artifacts) inputs.attestations = opts.attestations;
    if (ctx.artifacts) inputs.artifacts = ctx.artifacts;
    result.vsa = await writeVsa(inputs, opts.vsa);
  }
  return result;
}

/** The release signer (policy/signer-identity.ts); claim flags with nothing to constrain are a usage error. */
function releaseOptions(opts: GateOptions, policy: Policy): ReleaseSigner {
  const signer = releaseSigner(opts, policy.release);
  if (signer.kind === 'none' && signer.claimsGiven) {
    throw new AibomError('USAGE', 'certificate claim flags (--source-repository, …) go with --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]; put them in the policy `release` otherwise');
  }
  return signer;
}

function first(row: InventoryRow, name: string): string | undefined {
  return row.properties.get(name)?.[0];
}

/** Where a model or plugin lives on disk, relative to the root, as the BOM recorded it. */
function diskPath(row: InventoryRow): string | undefined {
  return first(row, 'aibom:install-path') ?? first(row, 'aibom:model:path') ?? first(row, 'aibom:path') ?? row.locations[0]?.file;
}

function inside(root: string, p: string): string | undefined {
  const abs = resolve(root, p);
  const rel = relative(root, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : abs;
}

async function checkComponentSignatures(
  inv: InventoryReport,
  policy: Policy,
  root: string,
  session: VerifySession,
  trustedRoot: string | undefined,
): Promise<Map<string, SignatureCheck>> {
  const out = new Map<string, SignatureCheck>();
  for (const row of inv.rows) {
    if (row.kind !== 'model' && row.kind !== 'plugin') continue;
    const bundleRel = row.signature?.bundle;
    if (!bundleRel) continue;
    const target = diskPath(row);
    const targetAbs = target ? inside(root, target) : undefined;
    const bundleAbs = inside(root, bundleRel);
    if (!targetAbs || !bundleAbs || !(await exists(targetAbs)) || !(await exists(bundleAbs))) continue;
    const publisher = policy.publishers.find((p) => picomatch(p.match, { dot: true })(row.name) || p.match === row.ref);
    if (!publisher) {
      out.set(row.ref, { verified: false, reason: `no publisher in the policy matches "${row.name}"` });
      continue;
    }
    const signer = signerOptions(publisher);
    if (!signer) {
      out.set(row.ref, { verified: false, reason: 'the policy pins only a key fingerprint; give the publisher key file to verify it' });
      continue;
    }
    const req: Parameters<VerifySession['verify']>[0] = { target: targetAbs, bundle: bundleAbs, ...signer };
    if (trustedRoot) req.trustedRoot = trustedRoot;
    const res = await session.verify(req);
    const check: SignatureCheck = { verified: res.verified };
    if (res.signer?.identity) check.signer = res.signer.identity;
    else if (res.signer?.subject) check.signer = res.signer.subject;
    else if (res.signer?.method === 'public-key') check.signer = `key ${publisher.keyPath ?? ''}`.trim();
    if (res.signer?.issuer) check.issuer = res.signer.issuer;
    if (!res.verified) check.reason = `${res.reason ?? 'not verified'}: ${res.error ?? ''}`.trim();
    const provenance = res.verified ? provenanceOf(res.signer, publisher.keyPem) : undefined;
    if (provenance) check.provenance = provenance;
    out.set(row.ref, check);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Every given bundle must verify for the BOM: a signature over the BOM file (message
 * signature or a statement whose subject is the BOM), or an attestation whose predicate is
 * this very BOM (aibom attest / the Action).
 */
async function checkBomBundles(
  bomFile: string,
  bom: Record<string, unknown>,
  bundles: string[],
  identity: PolicyOptions,
  session: VerifySession,
  trustedRoot: string | undefined,
): Promise<SignatureCheck> {
  let last: SignatureCheck = { verified: false, reason: 'no bundle' };
  for (const b of bundles) {
    const req: Parameters<VerifySession['verify']>[0] = { target: bomFile, bundle: b, ...identity };
    if (trustedRoot) req.trustedRoot = trustedRoot;
    let res = await session.verify(req);
    if (!res.verified && res.reason === 'digest-mismatch') {
      // Perhaps an attestation with the BOM as predicate: verify it over a subject, then compare.
      const alt = await verifyBomAsPredicate(b, bom, identity, session, trustedRoot);
      if (alt) res = alt;
    }
    const notTheBom = res.verified ? bomSignatureRefusal(res.statement?.predicateType) : undefined;
    if (notTheBom) return { verified: false, reason: `${b}: unsupported: ${notTheBom}` };
    if (!res.verified) return { verified: false, reason: `${b}: ${res.reason ?? 'not verified'}: ${res.error ?? ''}`.trim() };
    last = { verified: true };
    if (res.signer?.identity) last.signer = res.signer.identity;
    if (res.signer?.issuer) last.issuer = res.signer.issuer;
    const provenance = provenanceOf(res.signer, identity.key ? await readTextBounded(identity.key, 64 * 1024, identity.key) : undefined);
    if (provenance) last.provenance = provenance;
  }
  return last;
}

async function verifyBomAsPredicate(
  bundleFile: string,
  bom: Record<string, unknown>,
  identity: PolicyOptions,
  session: VerifySession,
  trustedRoot: string | undefined,
): Promise<Awaited<ReturnType<VerifySession['verify']>> | undefined> {
  let loaded: ReturnType<typeof parseBundle>;
  try {
    loaded = parseBundle(await readBytesBounded(bundleFile, 64 * 1024 * 1024, bundleFile), bundleFile);
  } catch {
    return undefined;
  }
  const ctx = await session.trustContext(trustedRoot);
  return verifyBomPredicate(ctx, loaded, bom, bundleFile, await buildPolicy(identity));
}

/** Bundles from a file (one bundle, or JSON Lines as `gh attestation download` writes) or a folder of them. */
async function readAttestationBundles(path: string): Promise<Array<{ name: string; bytes: Buffer }>> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new AibomError('INPUT', 'no such file or folder', { file: path });
  const files = st.isDirectory()
    ? (await readdir(path)).filter((f) => /\.(json|jsonl)$/i.test(f)).sort().map((f) => join(path, f))
    : [path];
  const out: Array<{ name: string; bytes: Buffer }> = [];
  for (const f of files) {
    const text = await readTextBounded(f, MAX_ATTESTATION_FILE_BYTES, f);
    const trimmed = text.trim();
    if (!trimmed) continue;
    const lines = f.endsWith('.jsonl') || (!trimmed.startsWith('{') || trimmed.includes('}\n{')) ? trimmed.split(/\r?\n/) : [trimmed];
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      const name = lines.length > 1 ? `${f}:${i + 1}` : f;
      const json = parseJsonText(line, name, 128);
      // gh writes {"bundle": {...}, "repository_id": ...}; a bare bundle has a mediaType.
      const bundle = isObject(json) && isObject(json.bundle) ? json.bundle : json;
      out.push({ name, bytes: Buffer.from(JSON.stringify(bundle)) });
    }
  }
  return out;
}

async function checkArtifacts(
  patterns: string[],
  attestations: string,
  identity: PolicyOptions,
  session: VerifySession,
  trustedRoot: string | undefined,
): Promise<ArtifactCheck[]> {
  // Absolute patterns give absolute paths; relative ones stay relative to the working directory.
  const files = (await glob(patterns, { onlyFiles: true, dot: true, expandDirectories: false, absolute: patterns.every((p) => isAbsolute(p)) })).sort();
  if (files.length === 0) throw new AibomError('INPUT', `--artifacts ${patterns.join(' ')} matched no files`);
  const bundles = [];
  for (const b of await readAttestationBundles(attestations)) {
    try {
      bundles.push({ name: b.name, loaded: parseBundle(b.bytes, b.name) });
    } catch (err) {
      if (!(err instanceof VerifyFailure)) throw err;
      bundles.push({ name: b.name, error: err.message });
    }
  }
  const ctx = await session.trustContext(trustedRoot);
  const policy = await buildPolicy(identity);
  const out: ArtifactCheck[] = [];
  for (const f of files) {
    // Every digest algorithm a subject names (npm provenance: sha512), matched by the strongest.
    const have = await digestFile(f, ['sha256', ...subjectAlgorithms(bundles.flatMap((b) => ('loaded' in b && b.loaded?.statement?.subject.slice(0, 1000)) || []))]);
    const digest = have.sha256!;
    const check: ArtifactCheck = { artifact: f, digest, attestations: [] };
    const reasons: string[] = [];
    for (const b of bundles) {
      if (!('loaded' in b) || !b.loaded) continue;
      const st = b.loaded.statement;
      if (!st || matchingSubjects(st.subject, have).subjects.length === 0) continue;
      if (!PROVENANCE_PREDICATE_TYPES.includes(st.predicateType)) {
        reasons.push(`${b.name}: predicate ${st.predicateType} is not provenance`);
        continue;
      }
      const res = verifyPrepared(ctx, b.loaded, { kind: 'file', name: f, sha256: digest, digests: toNodeDigests(have) }, policy);
      if (res.verified) {
        const a: ArtifactCheck['attestations'][number] = { predicateType: st.predicateType };
        if (res.signer?.identity) a.signer = res.signer.identity;
        check.attestations.push(a);
      } else reasons.push(`${b.name}: ${res.reason ?? 'not verified'}: ${res.error ?? ''}`.trim());
    }
    if (!check.attestations.length) check.reason = reasons.length ? reasons.join('; ') : 'no attestation names this file as a subject';
    out.push(check);
  }
  return out;
}

/** When the BOM was made (metadata.timestamp), else now: the release-age cooldown counts to it. */
function bomTime(bom: Record<string, unknown>, now: Date): Date {
  const ts = isObject(bom.metadata) ? bom.metadata.timestamp : undefined;
  const t = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(t) ? now : new Date(t);
}
