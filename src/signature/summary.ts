/**
 * What a signing run produced, for `--json` and the one-line report: who signed (the
 * certificate's identity and OIDC issuer, or the key's hint), which logs recorded it (log
 * index, integrated time) and how many signed timestamps it carries. Read from the bundle
 * aibom just made; pure.
 */
import { X509Certificate } from '@sigstore/core';
import type { SerializedBundle } from '@sigstore/bundle';
import type { KeyKind } from './key-signer.js';

const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

export type SignerSummary =
  | { method: 'keyless'; identity?: string; issuer?: string; certificateNotAfter?: string }
  /** keyFingerprint: `sha256:<hex>` of the DER SubjectPublicKeyInfo, as the BOM and verify name the key; keyHint: model_signing's hint in the bundle. */
  | { method: 'key'; keyType: KeyKind; keyFingerprint: string; keyHint: string };

export interface TlogSummary {
  logIndex: string;
  integratedTime?: string;
  kind: string;
  version: string;
  /** Base64 log ID (SHA-256 of the log's key). */
  logId: string;
}

export interface BundleSummary {
  mediaType: string;
  content: 'messageSignature' | 'dsseEnvelope';
  signer: SignerSummary;
  tlogEntries: TlogSummary[];
  timestamps: number;
}

export function summarizeBundle(bundle: SerializedBundle, key?: { kind: KeyKind; hint: string; fingerprint: string }): BundleSummary {
  const vm = bundle.verificationMaterial;
  let signer: SignerSummary;
  const certB64 = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  if (key) signer = { method: 'key', keyType: key.kind, keyFingerprint: key.fingerprint, keyHint: key.hint };
  else if (certB64) signer = certificateSigner(certB64);
  else signer = { method: 'keyless' };
  return {
    mediaType: bundle.mediaType,
    content: bundle.dsseEnvelope ? 'dsseEnvelope' : 'messageSignature',
    signer,
    tlogEntries: (vm.tlogEntries ?? []).map((e) => {
      const t: TlogSummary = {
        logIndex: e.logIndex,
        kind: e.kindVersion?.kind ?? '',
        version: e.kindVersion?.version ?? '',
        logId: e.logId?.keyId ?? '',
      };
      if (e.integratedTime && e.integratedTime !== '0') t.integratedTime = new Date(Number(e.integratedTime) * 1000).toISOString();
      return t;
    }),
    timestamps: vm.timestampVerificationData?.rfc3161Timestamps?.length ?? 0,
  };
}

function certificateSigner(b64: string): SignerSummary {
  try {
    const cert = X509Certificate.parse(Buffer.from(b64, 'base64'));
    const out: SignerSummary = { method: 'keyless', certificateNotAfter: cert.notAfter.toISOString() };
    const san = cert.subjectAltName;
    if (san) out.identity = san;
    const v2 = cert.extension(OID_ISSUER_V2);
    // v2: a DER UTF8String inside the extension value; v1: the raw string.
    const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('utf8') : cert.extension(OID_ISSUER_V1)?.value.toString('utf8');
    if (issuer) out.issuer = issuer;
    return out;
  } catch {
    return { method: 'keyless' };
  }
}

/** "as <identity> (<issuer>)" / "with <type> key sha256:<fingerprint…>" for the one-line report. */
export function describeSigner(s: SignerSummary): string {
  if (s.method === 'key') return `with ${s.keyType} key ${s.keyFingerprint.slice(0, 'sha256:'.length + 16)}…`;
  if (s.identity) return `as ${s.identity}${s.issuer ? ` (issuer ${s.issuer})` : ''}`;
  return 'keyless';
}

/** The result of one signing operation (the CLI writes `bundle` and prints the rest). */
export interface SignOutcome {
  /** file: message signature; in-toto: a statement signed as is; folder: model_signing; attestation: aibom attest. */
  kind: 'file' | 'in-toto' | 'folder' | 'attestation';
  /** The path signed, as the user gave it. */
  target: string;
  /** sha256 of the file; of the statement bytes (in-toto, attestation); the model_signing digest (folder). */
  sha256: string;
  /** Statement subjects (in-toto, folder, attestation). */
  subjects?: Array<{ name?: string; digest: Record<string, string> }>;
  predicateType?: string;
  /** Folder: how many files were hashed, and their total size. */
  files?: number;
  bytes?: number;
  ignoredPaths?: string[];
  bundle: SerializedBundle;
  summary: BundleSummary;
}
