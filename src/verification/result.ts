/**
 * What a verification decides, and how it is told: the result types (`--json` prints them
 * as they are), the reasons a verification fails, and the one-line verdict.
 */
import { AibomError } from '../errors.js';
import type { VsaSummary } from '../attestation/vsa.js';
import type { CertificateClaims } from './claims.js';

/**
 * Why a verification failed:
 * - wrong-identity: signed, but by someone the policy does not accept (identity, issuer, key)
 * - digest-mismatch: the artifact, digest or folder is not what was signed
 * - expired: a certificate or key was not valid at the time of the signature
 * - untrusted: the chain to the trusted root, a log entry, a timestamp or the trusted root itself failed
 * - signature: the signature does not verify
 * - malformed: the bundle (or a statement inside it) cannot be read
 * - unsupported: a format aibom does not verify (e.g. model_signing shards)
 * - input: (batch only) an artifact, bundle or key named by the entry could not be read
 */
export type FailureReason =
  | 'wrong-identity'
  | 'digest-mismatch'
  | 'expired'
  | 'untrusted'
  | 'signature'
  | 'malformed'
  | 'unsupported'
  | 'input'
  /** A verified SLSA VSA whose verdict is not PASSED: a signed record of a refusal, never a pass. */
  | 'vsa-failed';

/** A signature content error from a parser (AibomError) as a failed verification. */
export function asVerifyFailure(err: AibomError, file?: string): VerifyFailure {
  if (err instanceof VerifyFailure) return err;
  return new VerifyFailure(err.code === 'UNSUPPORTED' ? 'unsupported' : 'malformed', err.message, file);
}

/** A failed verification: exit 1, with a reason. */
export class VerifyFailure extends AibomError {
  readonly reason: FailureReason;
  readonly details?: FolderDifference;

  constructor(reason: FailureReason, message: string, file?: string, details?: FolderDifference) {
    super('VERIFY_FAILED', message, file === undefined ? {} : { file });
    this.reason = reason;
    if (details) this.details = details;
  }
}

export interface FolderDifference {
  changed: string[];
  added: string[];
  missing: string[];
}

/** A timestamp that vouched for the time of the signature. */
export type Witness =
  | { kind: 'tlog'; log: string; logIndex: string; integratedTime?: string }
  | { kind: 'tsa'; authority: string; time: string };

export interface VerifiedSigner {
  /** 'certificate': a Fulcio-style certificate chained to the trusted root; 'public-key': --key; 'certificate-chain': --certificate-chain. */
  method: 'certificate' | 'public-key' | 'certificate-chain';
  /** Subject alternative name of the certificate (email, URI), when there is a certificate. */
  identity?: string;
  /** OIDC issuer from the Fulcio certificate extension. */
  issuer?: string;
  /** Subject of the certificate (certificate-chain method), e.g. `CN=signing-key`. */
  subject?: string;
  /** public-key: `sha256:<hex>` of the key's DER SubjectPublicKeyInfo, and the file it came from. */
  keyFingerprint?: string;
  keyFile?: string;
  /** The signing certificate's Fulcio claims (OIDs 1.3.6.1.4.1.57264.1.8–22), keyless only. */
  claims?: CertificateClaims;
}

export interface TargetDescription {
  kind: 'file' | 'digest' | 'folder';
  /** As the user gave it. */
  name: string;
  /** sha256 hex of the file, the given digest, or the folder's model_signing digest. */
  sha256?: string;
  /** Other digests known for the target (e.g. sha384 when the bundle used it). */
  files?: number;
}

export interface VerificationResult {
  verified: boolean;
  target: TargetDescription;
  bundle: string;
  bundleVersion?: string;
  content?: 'message-signature' | 'dsse';
  signer?: VerifiedSigner;
  /** Earliest verified time of the signature (ISO 8601), when a log or TSA vouched for one. */
  signedAt?: string;
  witnesses?: Witness[];
  /** For DSSE bundles with an in-toto statement. */
  statement?: { predicateType: string; subjects: Array<{ name?: string; digest: Record<string, string> }> };
  /** For failures. */
  reason?: FailureReason;
  error?: string;
  /** For folders that do not match their signature. */
  differences?: FolderDifference;
  /** For a verified SLSA Verification Summary Attestation: its verdict. */
  vsa?: VsaSummary;
}

/** The one-line verdict a user reads. */
export function verdictLine(r: VerificationResult): string {
  if (!r.verified) {
    let line = `FAILED ${r.target.name}: ${r.reason ?? 'error'}: ${r.error ?? 'not verified'}`;
    if (r.differences) line += `${formatDifferences(r.differences)}`;
    return line;
  }
  const who = r.signer
    ? r.signer.method === 'public-key'
      ? `key ${r.signer.keyFingerprint ?? '(given)'}`
      : `${r.signer.identity ?? r.signer.subject ?? 'unknown identity'}${r.signer.issuer ? ` (issuer ${r.signer.issuer})` : ''}`
    : 'unknown signer';
  const when = r.signedAt ? ` at ${r.signedAt}` : '';
  const by = r.witnesses?.length ? `; vouched for by ${r.witnesses.map(describeWitness).join(', ')}` : '; no transparency log or timestamp authority vouched for the time';
  const what = r.target.kind === 'folder' ? ` (${r.target.files ?? 0} files)` : '';
  return `OK ${r.target.name}${what}: signed by ${who}${when}${by}`;
}

function describeWitness(w: Witness): string {
  return w.kind === 'tlog' ? `transparency log ${w.log} (entry ${w.logIndex})` : `timestamp authority ${w.authority} (${w.time})`;
}

const MAX_LISTED = 20;

export function formatDifferences(d: FolderDifference): string {
  const parts: string[] = [];
  const list = (label: string, xs: string[]) => {
    if (!xs.length) return;
    const shown = xs.slice(0, MAX_LISTED).join(', ');
    parts.push(`${label} ${xs.length}: ${shown}${xs.length > MAX_LISTED ? `, … (${xs.length - MAX_LISTED} more)` : ''}`);
  };
  list('changed', d.changed);
  list('added', d.added);
  list('missing', d.missing);
  return parts.length ? ` (${parts.join('; ')})` : '';
}
