/**
 * The verification decision, without I/O: a loaded bundle, a prepared target (file bytes or
 * digests, a digest, or a folder manifest), an identity policy and the trust material in,
 * a VerificationResult out. The cryptography is @sigstore/verify's (certificate chains,
 * SCTs, transparency log inclusion and bodies, RFC 3161 timestamps, the signature); aibom
 * adds what it does not do:
 * - anchored identity and issuer matching (policy.ts);
 * - validating the trusted root first (trusted-root.ts);
 * - tying a DSSE statement to the artifact (a subject's digest), and a model_signing
 *   statement to a folder (every file's digest);
 * - comparing a message signature's messageDigest with the artifact, and checking the
 *   signature over a digest when only the digest is known (prehash.ts);
 * - model_signing's certificate method (the signing certificate chains to given CAs).
 */
import { keyFingerprint } from '../util/key-fingerprint.js';
import { type KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { crypto as sigCrypto, X509Certificate } from '@sigstore/core';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { type SignedEntity, type TrustMaterial, toSignedEntity, toTrustMaterial, Verifier, type VerifierOptions } from '@sigstore/verify';
import { pae } from '../attestation/dsse.js';
import { compareManifests, isModelSigningStatement, manifestsEqual, parseModelSigningPredicate } from '../attestation/model-signing.js';
import { digestBytes, IN_TOTO_DIGESTS, matchingSubjects, onlyWeakDigests, subjectAlgorithms } from '../attestation/digests.js';
import { AibomError } from '../errors.js';
import type { FolderManifest } from '../digest/digest.js';
import type { LoadedBundle } from './bundle.js';
import { checkpointSigners, withCheckpointNames } from './checkpoint.js';
import { memoizeDer, memoizeTrustedCertificate } from './der-cache.js';
import { checkKeylessIdentity, type IdentityPolicy } from './identity-policy.js';
import { signingCertificateClaims } from './signer-claims.js';
import { PrehashUnsupported, verifyPrehashed } from './prehash.js';
import { applyVsaVerdict } from './vsa-result.js';
import { asVerifyFailure, type FailureReason, type VerificationResult, VerifyFailure, type VerifiedSigner, type Witness } from './result.js';
import type { LoadedTrustedRoot } from './trusted-root.js';

/** Trust material built once per trusted root and reused for every verification. */
export interface TrustContext {
  trusted: LoadedTrustedRoot;
  material: TrustMaterial;
  keyless: Verifier;
  /** Trusted logs by hex logId, for reporting which log vouched. */
  logNames: Map<string, string>;
  /** Each trusted log's checkpoint key ID, when the trusted root gives one. */
  checkpointKeyIds: Map<TrustMaterial['tlogs'][number], Buffer>;
}

export function makeTrustContext(trusted: LoadedTrustedRoot): TrustContext {
  // Keys named by hint are never trusted implicitly: --key supplies the key explicitly.
  const material = toTrustMaterial(trusted.root, {});
  for (const ca of [...material.certificateAuthorities, ...material.timestampAuthorities]) for (const c of ca.certChain) memoizeTrustedCertificate(c);
  const logNames = new Map<string, string>();
  for (const l of trusted.root.tlogs) {
    if (l.logId?.keyId) logNames.set(Buffer.from(l.logId.keyId).toString('hex'), l.baseUrl);
    if (l.checkpointKeyId?.keyId) logNames.set(Buffer.from(l.checkpointKeyId.keyId).toString('hex'), l.baseUrl);
  }
  const checkpointKeyIds = new Map<TrustMaterial['tlogs'][number], Buffer>();
  for (const t of material.tlogs) {
    const inst = trusted.root.tlogs.find((l) => l.logId?.keyId && t.logID.equals(Buffer.from(l.logId.keyId)) && l.baseUrl === t.baseURL);
    if (inst?.checkpointKeyId?.keyId?.length) checkpointKeyIds.set(t, Buffer.from(inst.checkpointKeyId.keyId));
  }
  return { trusted, material, keyless: new Verifier(material), logNames, checkpointKeyIds };
}

/** The artifact side, already read or hashed by the caller. */
export type PreparedTarget =
  | {
      kind: 'file';
      name: string;
      sha256: string;
      /** Digests of the file by Node hash name (sha256 and the bundle's message digest algorithm). */
      digests: Record<string, Buffer>;
      /** The file's bytes when small enough to hold; otherwise the signature is checked over its digest. */
      bytes?: Buffer;
    }
  | { kind: 'digest'; name: string; algorithm: string; digest: Buffer }
  | { kind: 'folder'; name: string; manifest: FolderManifest; isFile: boolean };

const HASH_NAMES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: 'sha256',
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
  [HashAlgorithm.SHA3_256]: 'sha3-256',
  [HashAlgorithm.SHA3_384]: 'sha3-384',
};

export { IN_TOTO_TO_NODE_HASH } from '../attestation/digests.js';

/** Node hash name of a message-signature bundle's digest, or undefined for DSSE bundles. */
export function messageDigestAlgorithm(bundle: Bundle): string | undefined {
  if (bundle.content.$case !== 'messageSignature') return undefined;
  const alg = bundle.content.messageSignature.messageDigest?.algorithm ?? HashAlgorithm.SHA2_256;
  return HASH_NAMES[alg] ?? 'unsupported';
}

/** Verify; never throws for a verification failure (it is in the result), only for bugs. */
export function verifyPrepared(ctx: TrustContext, loaded: LoadedBundle, target: PreparedTarget, policy: IdentityPolicy): VerificationResult {
  const result: VerificationResult = {
    verified: false,
    target: { kind: target.kind === 'folder' && target.isFile ? 'file' : target.kind, name: target.name },
    bundle: loaded.file,
    bundleVersion: loaded.version,
    content: loaded.content,
  };
  if (target.kind === 'file') result.target.sha256 = target.sha256;
  if (target.kind === 'digest' && target.algorithm === 'sha256') result.target.sha256 = target.digest.toString('hex');
  if (target.kind === 'folder') {
    result.target.sha256 = target.manifest.digest;
    result.target.files = target.manifest.resources.length;
  }
  if (loaded.statement) {
    result.statement = {
      predicateType: loaded.statement.predicateType,
      subjects: loaded.statement.subject.slice(0, 100).map((s) => (s.name === undefined ? { digest: s.digest } : { name: s.name, digest: s.digest })),
    };
  }
  try {
    checkShape(loaded, target, policy, ctx);
    const entity = signedEntity(loaded, target);
    const { signer, witnesses, signedAt } = verifyCrypto(ctx, loaded, entity, policy);
    result.signer = signer;
    result.witnesses = witnesses;
    if (signedAt) result.signedAt = signedAt;
    checkBinding(loaded, target);
    result.verified = true;
    applyVsaVerdict(result, loaded);
  } catch (err) {
    const f = toFailure(err);
    result.reason = f.reason;
    result.error = f.message;
    if (f.details) result.differences = f.details;
  }
  return result;
}

function fail(reason: FailureReason, message: string): never {
  throw new VerifyFailure(reason, message);
}

/** Combinations that cannot verify, refused before any cryptography. */
function checkShape(loaded: LoadedBundle, target: PreparedTarget, policy: IdentityPolicy, ctx: TrustContext): void {
  const vm = loaded.bundle.verificationMaterial.content;
  if (policy.kind === 'keyless') {
    if (vm.$case === 'publicKey') fail('wrong-identity', 'the bundle is signed with a key, not a certificate: verify it with --key');
    if (loaded.version === '0.3' && vm.$case === 'x509CertificateChain') {
      fail(
        'malformed',
        "a v0.3 bundle carries a single certificate, not a certificate chain (model_signing's certificate method writes chains: verify those with --certificate-chain CA.pem)",
      );
    }
    if (vm.$case === 'x509CertificateChain') {
      // Trust anchors come from the trusted root only; a bundle that ships a root is refused
      // (as Sigstore clients do), rather than left to chain building.
      for (const c of vm.x509CertificateChain.certificates) {
        let cert: X509Certificate;
        try {
          cert = X509Certificate.parse(Buffer.from(c.rawBytes));
        } catch (err) {
          fail('malformed', `a certificate in the bundle does not parse: ${err instanceof Error ? err.message : String(err)}`);
        }
        // A copy of a trusted root (sigstore-js 1.x wrote the full chain into v0.1 bundles) adds
        // nothing: the chain is built from the trusted root either way. Any other root is refused.
        if (cert.subject.equals(cert.issuer) && safeVerify(cert, cert) && !isTrustedCertificate(ctx, cert)) {
          fail('malformed', 'the bundle\'s certificate chain contains a root certificate the trusted root does not hold; roots come from the trusted root only');
        }
      }
    }
  }
  if (policy.kind === 'certificate-chain' && vm.$case === 'publicKey') {
    fail('wrong-identity', 'the bundle is signed with a key, not a certificate: verify it with --key');
  }
  if (loaded.content === 'message-signature') {
    if (target.kind === 'folder' && !target.isFile) {
      fail('digest-mismatch', 'the bundle signs a single file (a message signature), not a folder');
    }
    return;
  }
  // DSSE
  const st = loaded.statement;
  if (!st) {
    fail('unsupported', `the DSSE payload is ${JSON.stringify(loaded.payloadType)}, not an in-toto statement: nothing ties it to the artifact`);
  }
  if (target.kind === 'folder') {
    if (!isModelSigningStatement(st)) {
      fail(
        'digest-mismatch',
        target.isFile
          ? 'internal: a file prepared as a model without a model signature'
          : `a folder verifies against a model_signing signature; this statement's predicateType is ${st.predicateType}`,
      );
    }
  }
}

/** The SignedEntity @sigstore/verify checks, with the signature content suited to the target. */
function signedEntity(loaded: LoadedBundle, target: PreparedTarget): SignedEntity {
  const bundle = loaded.bundle;
  let entity: SignedEntity;
  try {
    if (bundle.content.$case === 'messageSignature') {
      const ms = bundle.content.messageSignature;
      const alg = messageDigestAlgorithm(bundle)!;
      if (alg === 'unsupported') fail('unsupported', 'the bundle uses a message digest algorithm aibom does not know');
      const signed = Buffer.from(ms.messageDigest?.digest ?? Buffer.alloc(0));
      let digest: Buffer | undefined;
      if (target.kind === 'file') digest = target.digests[alg];
      else if (target.kind === 'digest') {
        if (target.algorithm !== alg) {
          fail('unsupported', `the bundle's message digest is ${alg}; a ${target.algorithm} digest cannot be checked against it (give the file instead)`);
        }
        digest = target.digest;
      } else if (target.kind === 'folder') digest = undefined;
      if (!digest) throw new AibomError('INTERNAL', `no ${alg} digest of the target was computed`);
      // The artifact must be what the bundle says was signed.
      if (!sigCrypto.bufferEqual(digest, signed)) {
        fail('digest-mismatch', `the artifact's ${alg} digest ${digest.toString('hex')} is not the one the bundle signs (${signed.toString('hex')})`);
      }
      const bytes = target.kind === 'file' ? target.bytes : undefined;
      entity = toSignedEntity(bundle, bytes);
      if (!bytes) entity = { ...entity, signature: prehashedContent(ms.signature, alg, digest) };
      else {
        // @sigstore/verify checks every message signature with the digest algorithm named in the
        // bundle; an Ed25519 signature is over the message itself (no digest), so check it so.
        const inner = entity.signature;
        const sig = Buffer.from(ms.signature);
        entity = {
          ...entity,
          signature: {
            signature: inner.signature,
            compareSignature: (s: Buffer) => inner.compareSignature(s),
            compareDigest: (d: Buffer) => inner.compareDigest(d),
            compareSignedDigest: (d: Buffer) => inner.compareSignedDigest(d),
            verifySignature: (key) =>
              inner.verifySignature(key) || (key.asymmetricKeyType === 'ed25519' && sigCrypto.verify(bytes, key, sig)),
          },
        };
      }
    } else {
      entity = toSignedEntity(bundle);
      const env = bundle.content.dsseEnvelope;
      const signedBytes = pae(env.payloadType, env.payload);
      const sig = Buffer.from(env.signatures[0]?.sig ?? Buffer.alloc(0));
      const inner = entity.signature;
      // A Rekor v2 entry for a DSSE envelope is "hashedrekord over DSSE" (rekor-v2 spec 6.1.4):
      // @sigstore/verify compares its digest with SHA-256 of PAE(payloadType, payload), the
      // bytes actually signed (compareSignedDigest); a v1 dsse/intoto entry with the payload's.
      entity = {
        ...entity,
        signature: {
          signature: inner.signature,
          compareSignature: (s: Buffer) => inner.compareSignature(s),
          compareDigest: (d: Buffer) => inner.compareDigest(d),
          compareSignedDigest: (d: Buffer) => inner.compareSignedDigest(d),
          // @sigstore/verify checks DSSE signatures with OpenSSL's default digest (SHA-256) for
          // every EC key; P-384 and P-521 keys sign with SHA-384 / SHA-512 (Sigstore's
          // PKIX_ECDSA_P384_SHA_384 etc., as model_signing does), so try the curve's own digest too.
          verifySignature: (key) => inner.verifySignature(key) || verifyWithCurveHash(key, signedBytes, sig),
        },
      };
    }
    if (entity.key.$case === 'certificate') memoizeDer(entity.key.certificate);
  } catch (err) {
    if (err instanceof VerifyFailure) throw err;
    fail('malformed', `the bundle's verification material does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  return entity;
}

const CURVE_HASH: Record<string, string> = { secp384r1: 'sha384', secp521r1: 'sha512' };

function verifyWithCurveHash(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const hash = key.asymmetricKeyType === 'ec' ? CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  return hash ? sigCrypto.verify(data, key, signature, hash) : false;
}

/** Signature content for a message signature when only the artifact's digest is known. */
function prehashedContent(signature: Buffer, alg: string, digest: Buffer): SignedEntity['signature'] {
  return {
    signature: Buffer.from(signature),
    compareSignature: (sig: Buffer) => sigCrypto.bufferEqual(sig, Buffer.from(signature)),
    compareDigest: (d: Buffer) => sigCrypto.bufferEqual(d, digest),
    // A message signature signs the artifact: the signed digest is the artifact's digest.
    compareSignedDigest: (d: Buffer) => sigCrypto.bufferEqual(d, digest),
    verifySignature: (key) => {
      try {
        return verifyPrehashed(key, alg, digest, Buffer.from(signature));
      } catch (err) {
        if (err instanceof PrehashUnsupported) fail('unsupported', err.message);
        throw err;
      }
    },
  };
}

const NO_THRESHOLDS: VerifierOptions = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

function verifyCrypto(
  ctx: TrustContext,
  loaded: LoadedBundle,
  entity: SignedEntity,
  policy: IdentityPolicy,
): { signer: VerifiedSigner; witnesses: Witness[]; signedAt?: string } {
  try {
    return verifyCryptoInner(ctx, loaded, entity, policy);
  } catch (err) {
    // @sigstore/verify reports a key or authority used outside its validity window as a
    // failure to find a trusted one; say what it was, when that is the case.
    const window = (err as { name?: string })?.name === 'VerificationError' ? outsideValidity(ctx, entity) : undefined;
    if (window) fail('expired', window);
    throw err;
  }
}

const iso = (d: Date) => (d.getTime() >= 8.64e15 ? 'no end' : d.toISOString());
const within = (v: { start: Date; end: Date }, t: Date) => v.start <= t && t <= v.end;

/** Whether the failure is a trusted key or authority that exists but was not valid at the signature's time. */
function outsideValidity(ctx: TrustContext, entity: SignedEntity): string | undefined {
  const times: Date[] = [];
  for (const e of entity.tlogEntries) {
    if (!e.integratedTime || e.integratedTime === '0') continue;
    const t = new Date(Number(e.integratedTime) * 1000);
    times.push(t);
    const logs = ctx.material.tlogs.filter((l) => l.logID.equals(Buffer.from(e.logId.keyId)));
    if (logs.length && !logs.some((l) => within(l.validFor, t))) {
      const l = logs[0]!;
      return `transparency log ${l.baseURL || 'key'} was not valid at the entry's time ${t.toISOString()} (valid ${iso(l.validFor.start)} to ${iso(l.validFor.end)})`;
    }
  }
  for (const ts of entity.timestamps) {
    if (ts.$case !== 'timestamp-authority') continue;
    const t = ts.timestamp.signingTime;
    times.push(t);
    // Only the authorities that issued this timestamp's signing certificate count.
    const tsas = ctx.material.timestampAuthorities.filter((a) => a.certChain[0]?.issuer.equals(ts.timestamp.signerIssuer));
    if (tsas.length && !tsas.some((a) => within(a.validFor, t))) {
      return `the timestamp authority that signed the timestamp was not valid at its time ${t.toISOString()}`;
    }
  }
  if (entity.key.$case === 'certificate' && times.length) {
    // Only the CAs whose chain holds the signing certificate's issuer count.
    const leaf = entity.key.certificate;
    const cas = ctx.material.certificateAuthorities.filter((c) => c.certChain.some((x) => x.subject.equals(leaf.issuer)));
    if (cas.length && times.every((t) => !cas.some((c) => within(c.validFor, t)))) {
      return `the certificate authority that issued the signing certificate was not valid at the signature's time ${times[0]!.toISOString()}`;
    }
  }
  return undefined;
}

function verifyCryptoInner(
  ctx: TrustContext,
  loaded: LoadedBundle,
  entity: SignedEntity,
  policy: IdentityPolicy,
): { signer: VerifiedSigner; witnesses: Witness[]; signedAt?: string } {
  let signer: VerifiedSigner;
  // Checkpoints signed by a trusted log under an origin its URL does not spell (checkpoint.ts).
  const named = withCheckpointNames(ctx.material, checkpointSigners(entity.tlogEntries, ctx.material.tlogs, ctx.checkpointKeyIds));
  const trustMaterial = named ?? ctx.material;
  if (policy.kind === 'keyless') {
    const s = (named ? new Verifier(named) : ctx.keyless).verify(entity);
    const identity = s.identity?.subjectAlternativeName;
    const issuer = s.identity?.extensions?.issuer;
    const claims = signingCertificateClaims(loaded);
    const bad = checkKeylessIdentity(policy, identity, issuer, claims);
    if (bad) fail(bad.reason, bad.message);
    signer = { method: 'certificate' };
    if (identity !== undefined) signer.identity = identity;
    if (issuer !== undefined) signer.issuer = issuer;
    if (Object.keys(claims).length) signer.claims = claims;
  } else if (policy.kind === 'key') {
    // The user's key is the trust anchor: the bundle's key hint or certificate is not consulted.
    const material: TrustMaterial = { ...trustMaterial, publicKey: () => ({ publicKey: policy.key, validFor: () => true }) };
    new Verifier(material, NO_THRESHOLDS).verify({ ...entity, key: { $case: 'public-key', hint: '' } });
    signer = { method: 'public-key', keyFingerprint: keyFingerprint(policy.key), keyFile: policy.keyFile };
  } else {
    const leaf = verifyCertificateChain(loaded, policy.roots);
    const material: TrustMaterial = {
      ...trustMaterial,
      publicKey: () => ({
        publicKey: sigCrypto.createPublicKey(leaf.publicKey),
        validFor: (date: Date) => leaf.validForDate(date),
      }),
    };
    new Verifier(material, NO_THRESHOLDS).verify({ ...entity, key: { $case: 'public-key', hint: '' } });
    signer = { method: 'certificate-chain', subject: describeName(leaf) };
    const san = leaf.subjectAltName;
    if (san) signer.identity = san;
  }
  const { witnesses, signedAt } = describeWitnesses(ctx, entity);
  return signedAt ? { signer, witnesses, signedAt } : { signer, witnesses };
}

/**
 * model_signing's certificate method: the signing certificate (first in the bundle's chain)
 * must chain, through the bundle's other certificates, to one of the given CA certificates,
 * every certificate valid at the signing certificate's notBefore (as model_signing checks),
 * intermediates must be CAs, and the signing certificate must allow digital signatures
 * (key usage) or code signing (extended key usage).
 */
function verifyCertificateChain(loaded: LoadedBundle, roots: X509Certificate[]): X509Certificate {
  const vm = loaded.bundle.verificationMaterial.content;
  let chain: X509Certificate[];
  try {
    const raws =
      vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates.map((c) => c.rawBytes) : vm.$case === 'certificate' ? [vm.certificate.rawBytes] : [];
    chain = raws.map((r) => X509Certificate.parse(Buffer.from(r)));
  } catch (err) {
    fail('malformed', `a certificate in the bundle does not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  const leaf = chain[0];
  if (!leaf) fail('malformed', 'the bundle has no signing certificate');
  const at = leaf.notBefore;
  const pool = [...chain.slice(1), ...roots];
  let current = leaf;
  const seen = new Set<X509Certificate>([leaf]);
  for (let depth = 0; depth < 10; depth++) {
    if (!current.validForDate(at)) fail('expired', `certificate ${describeName(current)} is not valid at ${at.toISOString()}`);
    const trustedIssuer = roots.find((r) => r.equals(current) && depth > 0);
    if (trustedIssuer) return checkLeafUsage(leaf);
    const issuer = pool.find((c) => !seen.has(c) && c.subject.equals(current.issuer) && safeVerify(current, c));
    if (!issuer) {
      // A root given by the user that is the current certificate itself (self-signed leaf).
      if (roots.some((r) => r.equals(current))) return checkLeafUsage(leaf);
      fail('untrusted', `certificate ${describeName(current)} does not chain to the given CA certificates`);
    }
    if (!issuer.isCA) fail('untrusted', `certificate ${describeName(issuer)} is not a CA`);
    if (roots.some((r) => r.equals(issuer))) {
      if (!issuer.validForDate(at)) fail('expired', `CA certificate ${describeName(issuer)} is not valid at ${at.toISOString()}`);
      return checkLeafUsage(leaf);
    }
    seen.add(issuer);
    current = issuer;
  }
  fail('untrusted', 'certificate chain is too long');
}

function isTrustedCertificate(ctx: TrustContext, cert: X509Certificate): boolean {
  return ctx.material.certificateAuthorities.some((ca) => ca.certChain.some((c) => c.equals(cert)));
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer);
  } catch {
    return false;
  }
}

const OID_EKU = '2.5.29.37';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

function checkLeafUsage(leaf: X509Certificate): X509Certificate {
  const ku = leaf.extKeyUsage;
  if (ku?.digitalSignature) return leaf;
  const eku = leaf.extension(OID_EKU);
  const oids = eku ? eku.valueObj.subs.map((s) => s.toOID()) : [];
  if (oids.includes(OID_CODE_SIGNING)) return leaf;
  fail('untrusted', `signing certificate ${describeName(leaf)} may not be used for signing (no digitalSignature key usage or codeSigning extended key usage)`);
}

function describeName(cert: X509Certificate): string {
  try {
    const subject = new NodeX509Certificate(cert.root.toDER()).subject.replace(/\n/g, ', ');
    return subject ? subject.slice(0, 200) : 'without a subject';
  } catch {
    return 'with an unreadable subject';
  }
}

function describeWitnesses(ctx: TrustContext, entity: SignedEntity): { witnesses: Witness[]; signedAt?: string } {
  const witnesses: Witness[] = [];
  const times: number[] = [];
  for (const e of entity.tlogEntries) {
    const id = Buffer.from(e.logId.keyId).toString('hex');
    const w: Witness = { kind: 'tlog', log: ctx.logNames.get(id) ?? `log ${id.slice(0, 16)}`, logIndex: e.logIndex };
    if (e.integratedTime && e.integratedTime !== '0') {
      const t = Number(e.integratedTime) * 1000;
      w.integratedTime = new Date(t).toISOString();
      times.push(t);
    }
    witnesses.push(w);
  }
  for (const t of entity.timestamps) {
    if (t.$case !== 'timestamp-authority') continue;
    const time = t.timestamp.signingTime;
    times.push(time.getTime());
    const tsa = ctx.trusted.root.timestampAuthorities.find((a) => {
      const first = a.certChain?.certificates[0];
      if (!first) return false;
      try {
        return X509Certificate.parse(Buffer.from(first.rawBytes)).issuer.equals(t.timestamp.signerIssuer);
      } catch {
        return false;
      }
    });
    witnesses.push({ kind: 'tsa', authority: tsa?.uri || tsa?.subject?.commonName || 'a trusted timestamp authority', time: time.toISOString() });
  }
  return times.length ? { witnesses, signedAt: new Date(Math.min(...times)).toISOString() } : { witnesses };
}

/** After the signature verifies: is it about this artifact / digest / folder? */
function checkBinding(loaded: LoadedBundle, target: PreparedTarget): void {
  if (loaded.content === 'message-signature') return; // digest compared before the signature
  const st = loaded.statement!;
  if (isModelSigningStatement(st)) {
    const { digest, predicate, name } = parseModelSigningPredicate(st, loaded.file);
    if (target.kind === 'folder') {
      const signedSingle = predicate.resources.length === 1 && predicate.resources[0]!.name === '.';
      if (signedSingle && !target.isFile) {
        fail('digest-mismatch', `the signature covers a single file (${name || 'unnamed'}), not a folder: verify that file`);
      }
      if (!signedSingle && target.isFile) {
        fail('digest-mismatch', `the signature covers a folder of ${predicate.resources.length} files (${name || 'unnamed'}), not a single file`);
      }
      const diff = compareManifests(predicate.resources, target.manifest.resources);
      if (!manifestsEqual(diff)) throw new VerifyFailure('digest-mismatch', 'the folder does not match its signature', undefined, diff);
      if (target.manifest.digest !== digest) fail('digest-mismatch', 'the folder digest does not match the signature');
      return;
    }
    const have = target.kind === 'file' ? target.sha256 : target.algorithm === 'sha256' ? target.digest.toString('hex') : undefined;
    if (have === undefined) fail('unsupported', 'a model signature is matched by its sha256 digest; give a sha256 digest');
    if (have !== digest) fail('digest-mismatch', `the digest ${have} is not the model signature's subject (${digest})`);
    return;
  }
  if (target.kind === 'folder') fail('digest-mismatch', 'a folder verifies against a model_signing signature only');
  // The target's digests by in-toto name: every digest computed for a file (and, when its bytes
  // are at hand, any other algorithm a subject names), or the given digest.
  const have: Record<string, string> = {};
  if (target.kind === 'file') {
    for (const [inToto, alg] of Object.entries(IN_TOTO_DIGESTS)) {
      const d = target.digests[alg.node];
      if (d) have[inToto] = d.toString('hex');
    }
    if (target.bytes) {
      const missing = subjectAlgorithms(st.subject).filter((a) => have[a] === undefined);
      Object.assign(have, digestBytes(target.bytes, missing));
    }
  } else {
    const inToto = Object.entries(IN_TOTO_DIGESTS).find(([name, a]) => name === target.algorithm || a.node === target.algorithm)?.[0];
    if (inToto) have[inToto] = target.digest.toString('hex');
  }
  if (matchingSubjects(st.subject, have).subjects.length === 0) {
    const shown = target.kind === 'file' ? `sha256 ${target.sha256}` : `${target.algorithm} ${target.digest.toString('hex')}`;
    const algs = [...new Set(st.subject.slice(0, 1000).flatMap((s) => Object.keys(s.digest)))].slice(0, 8).join(', ');
    const weak = st.subject.length > 0 && st.subject.every(onlyWeakDigests) ? '; md5 and sha1 digests do not bind an artifact' : '';
    fail('digest-mismatch', `no subject of the statement has ${shown} (subjects: ${st.subject.length}, digests in ${algs || 'none'})${weak}`);
  }
}

/** Map anything thrown during verification to a failure with a reason. */
function toFailure(err: unknown): { reason: FailureReason; message: string; details?: VerifyFailure['details'] } {
  if (err instanceof VerifyFailure) {
    const f: { reason: FailureReason; message: string; details?: VerifyFailure['details'] } = { reason: err.reason, message: err.message };
    if (err.details) f.details = err.details;
    return f;
  }
  if (err instanceof AibomError) return { reason: asVerifyFailure(err).reason, message: err.message };
  const e = err as { name?: string; code?: string; message?: string };
  const message = e?.message ?? String(err);
  if (e?.name === 'PolicyError') return { reason: 'wrong-identity', message };
  if (e?.name === 'VerificationError') {
    switch (e.code) {
      case 'SIGNATURE_ERROR':
        return { reason: 'signature', message: 'the signature does not verify' };
      case 'CERTIFICATE_ERROR': {
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        const text = cause ? `${message}: ${cause}` : message;
        return { reason: /expired|not valid/i.test(text) ? 'expired' : 'untrusted', message: text };
      }
      case 'PUBLIC_KEY_ERROR':
        return { reason: /not valid for/i.test(message) ? 'expired' : 'untrusted', message };
      default:
        return { reason: 'untrusted', message: `${e.code?.toLowerCase().replace(/_/g, ' ') ?? 'verification error'}: ${message}` };
    }
  }
  // Anything else came from parsing hostile content inside @sigstore/* (ASN.1, JSON bodies).
  return { reason: 'malformed', message: `the bundle could not be processed: ${message}` };
}
