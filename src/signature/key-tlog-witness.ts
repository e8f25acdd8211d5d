/**
 * Rekor entries for key-signed bundles where @sigstore/sign's RekorWitness writes the wrong
 * entry: it labels every hashedrekord digest sha256 (a P-384 key signs with SHA-384, as
 * Sigstore's algorithm registry pairs PKIX_ECDSA_P384_SHA_384), and for Rekor v2 it names every
 * verifier a P-256 *certificate*, where a key-signed bundle has a public key of its own curve.
 *
 * - Rekor v1, message signature with a SHA-384 digest: a hashedrekord 0.0.1 entry whose data
 *   hash is `sha384`;
 * - Rekor v2 (any key-signed content): a hashedrekord / dsse 0.0.2 request whose verifier is
 *   the public key (DER SPKI) with its key details.
 * Everything else is left to RekorWitness.
 */
import { createPublicKey } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { HashAlgorithm, PublicKeyDetails, TransparencyLogEntry as ProtoTlogEntry } from '@sigstore/protobuf-specs';
import { CreateEntryRequest } from '@sigstore/protobuf-specs/rekor/v2';
import type { SignatureBundle, VerificationMaterial, Witness } from '@sigstore/sign';
import { AibomError } from '../errors.js';
import { KEY_DETAILS, type LoadedKey } from './key-signer.js';

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface KeyTlogOptions {
  url: string;
  majorApiVersion: number;
  key: LoadedKey;
  timeoutMs: number;
  /** The witness for everything this one does not handle. */
  fallback: Witness;
}

export function keyTlogWitness(o: KeyTlogOptions): Witness {
  return {
    testify: async (content: SignatureBundle, publicKey: string): Promise<VerificationMaterial> => {
      if (o.majorApiVersion === 2) return { tlogEntries: [await createV2(o, content)] };
      if (content.$case === 'messageSignature' && content.messageSignature.messageDigest?.algorithm === HashAlgorithm.SHA2_384) {
        return { tlogEntries: [await createV1Sha384(o, content.messageSignature.messageDigest.digest, content.messageSignature.signature, publicKey)] };
      }
      return o.fallback.testify(content, publicKey);
    },
  };
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new AibomError('SERVICE', `the response is over ${MAX_RESPONSE_BYTES} bytes`);
  if (!res.ok) throw new AibomError('SERVICE', `HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new AibomError('SERVICE', 'the response is not JSON');
  }
}

async function createV1Sha384(o: KeyTlogOptions, digest: Buffer, signature: Buffer, publicKeyPem: string): Promise<TransparencyLogEntry> {
  const proposed = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha384', value: Buffer.from(digest).toString('hex') } },
      signature: { content: Buffer.from(signature).toString('base64'), publicKey: { content: Buffer.from(publicKeyPem).toString('base64') } },
    },
  };
  const res = await post(`${o.url.replace(/\/+$/, '')}/api/v1/log/entries`, proposed, o.timeoutMs);
  const entry = res !== null && typeof res === 'object' ? Object.values(res as Record<string, unknown>)[0] : undefined;
  return v1Entry(entry);
}

interface V1Proof {
  logIndex?: unknown;
  rootHash?: unknown;
  treeSize?: unknown;
  hashes?: unknown;
  checkpoint?: unknown;
}
interface V1Entry {
  body?: unknown;
  logID?: unknown;
  logIndex?: unknown;
  integratedTime?: unknown;
  verification?: { inclusionProof?: V1Proof; signedEntryTimestamp?: unknown };
}

const malformed = (what: string) => new AibomError('SERVICE', `the log entry returned is malformed (${what})`);

/** A Rekor v1 log entry (the value under its UUID) as a bundle's TransparencyLogEntry. */
function v1Entry(e: unknown): TransparencyLogEntry {
  if (e === null || typeof e !== 'object') throw malformed('not an object');
  const x = e as V1Entry;
  const { body: rawBody, logID, logIndex, integratedTime } = x;
  if (typeof rawBody !== 'string' || typeof logID !== 'string' || !Number.isSafeInteger(logIndex) || !Number.isSafeInteger(integratedTime)) {
    throw malformed('body, logID, logIndex or integratedTime');
  }
  let body: { kind?: unknown; apiVersion?: unknown };
  try {
    body = JSON.parse(Buffer.from(rawBody, 'base64').toString('utf8'));
  } catch {
    throw malformed('body is not base64 JSON');
  }
  const proof = x.verification?.inclusionProof;
  const set = x.verification?.signedEntryTimestamp;
  if (!proof || typeof proof.rootHash !== 'string' || !Array.isArray(proof.hashes) || typeof proof.checkpoint !== 'string') throw malformed('no inclusion proof');
  const json = {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex').toString('base64') },
    kindVersion: { kind: String(body.kind), version: String(body.apiVersion) },
    integratedTime: String(integratedTime),
    ...(typeof set === 'string' ? { inclusionPromise: { signedEntryTimestamp: set } } : {}),
    inclusionProof: {
      logIndex: String(proof.logIndex),
      rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
      treeSize: String(proof.treeSize),
      hashes: proof.hashes.map((h: unknown) => Buffer.from(String(h), 'hex').toString('base64')),
      checkpoint: { envelope: proof.checkpoint },
    },
    canonicalizedBody: rawBody,
  };
  return ProtoTlogEntry.fromJSON(json) as TransparencyLogEntry;
}

async function createV2(o: KeyTlogOptions, content: SignatureBundle): Promise<TransparencyLogEntry> {
  const verifier = {
    verifier: { $case: 'publicKey' as const, publicKey: { rawBytes: createPublicKey(o.key.publicKeyPem).export({ type: 'spki', format: 'der' }) } },
    keyDetails: PublicKeyDetails[KEY_DETAILS[o.key.kind] as keyof typeof PublicKeyDetails],
  };
  const request: CreateEntryRequest =
    content.$case === 'messageSignature'
      ? {
          spec: {
            $case: 'hashedRekordRequestV002',
            hashedRekordRequestV002: {
              digest: content.messageSignature.messageDigest!.digest,
              signature: { content: content.messageSignature.signature, verifier },
            },
          },
        }
      : { spec: { $case: 'dsseRequestV002', dsseRequestV002: { envelope: content.dsseEnvelope, verifiers: [verifier] } } };
  const res = await post(`${o.url.replace(/\/+$/, '')}/api/v2/log/entries`, CreateEntryRequest.toJSON(request), o.timeoutMs);
  try {
    return ProtoTlogEntry.fromJSON(res) as TransparencyLogEntry;
  } catch (err) {
    throw new AibomError('SERVICE', `the log entry returned is malformed (${err instanceof Error ? err.message : String(err)})`);
  }
}
