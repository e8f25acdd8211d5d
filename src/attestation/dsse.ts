/**
 * DSSE (Dead Simple Signing Envelope) v1: the envelope type, the pre-authentication
 * encoding (PAE) that is what actually gets signed, and strict parsing of envelopes that
 * came from outside. Spec: https://github.com/secure-systems-lab/dsse (envelope.md, protocol.md).
 *
 * Pure functions, no I/O. Signing and signature verification themselves are done by
 * @sigstore/sign and @sigstore/verify; this file only shapes and checks the bytes.
 */
import { AibomError } from '../errors.js';
import { isObject } from '../util/json.js';

/** payloadType of an in-toto statement inside DSSE. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** A signature inside an envelope: `sig` is base64 of the raw signature bytes. */
export interface DsseSignature {
  sig: string;
  /** Optional, unauthenticated hint of which key signed. */
  keyid?: string;
}

/** The JSON envelope: `payload` is base64 of the serialized body (e.g. the statement). */
export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** Bounds for envelopes read from outside (a Sigstore bundle carries exactly one signature). */
export const MAX_DSSE_SIGNATURES = 16;

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the
 * ASCII decimal byte length with no leading zeros and type is UTF-8. This is what a DSSE
 * signature signs.
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} `, 'utf8');
  const mid = Buffer.from(` ${payload.length} `, 'utf8');
  return Buffer.concat([head, type, mid, payload]);
}

// One character class and the padding checked by length (isBase64Padded): the same language as
// ^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$, without a quantified
// group, which made this check the largest cost of reading a model_signing bundle (a 30 KiB
// payload is read for every plugin at agent start-up).
const STD_B64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_B64_CHARS = /^[A-Za-z0-9_-]*={0,2}$/;

/** Padding only where base64 allows it: none (length mod 4 ≠ 1), or completing the last group. */
function isBase64Padded(value: string): boolean {
  const pad = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  const rem = (value.length - pad) % 4;
  return pad === 0 ? rem !== 1 : rem + pad === 4;
}

/**
 * Decode base64 strictly: DSSE allows the standard or the URL-safe alphabet, with or without
 * padding, and nothing else (Buffer.from(s, 'base64') silently skips junk characters, so a
 * tampered field could decode to something plausible; we refuse it instead).
 */
export function decodeBase64Strict(value: string, what: string, file?: string): Buffer {
  const std = STD_B64_CHARS.test(value);
  if ((!std && !URL_B64_CHARS.test(value)) || !isBase64Padded(value)) {
    throw new AibomError('INPUT', `${what} is not valid base64`, fileOpt(file));
  }
  return Buffer.from(value, std ? 'base64' : 'base64url');
}

/**
 * Check the shape of a JSON DSSE envelope from outside: payloadType a string, payload and
 * every sig valid base64, at least one and at most MAX_DSSE_SIGNATURES signatures.
 */
export function parseDsseEnvelope(value: unknown, file?: string): DsseEnvelope {
  if (!isObject(value)) throw new AibomError('INPUT', 'DSSE envelope is not a JSON object', fileOpt(file));
  const { payloadType, payload, signatures } = value;
  if (typeof payloadType !== 'string' || payloadType === '') {
    throw new AibomError('INPUT', 'DSSE envelope has no payloadType', fileOpt(file));
  }
  if (typeof payload !== 'string') throw new AibomError('INPUT', 'DSSE envelope has no payload', fileOpt(file));
  decodeBase64Strict(payload, 'DSSE payload', file);
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new AibomError('INPUT', 'DSSE envelope has no signatures', fileOpt(file));
  }
  if (signatures.length > MAX_DSSE_SIGNATURES) {
    throw new AibomError('TOO_LARGE', `DSSE envelope has ${signatures.length} signatures (limit ${MAX_DSSE_SIGNATURES})`, fileOpt(file));
  }
  const sigs: DsseSignature[] = signatures.map((s, i) => {
    if (!isObject(s) || typeof s.sig !== 'string' || s.sig === '') {
      throw new AibomError('INPUT', `DSSE signature ${i + 1} has no sig`, fileOpt(file));
    }
    decodeBase64Strict(s.sig, `DSSE signature ${i + 1}`, file);
    // keyid is an optional hint; some signers write null (older model_signing) or "".
    if (s.keyid !== undefined && s.keyid !== null && typeof s.keyid !== 'string') {
      throw new AibomError('INPUT', `DSSE signature ${i + 1} has a keyid that is not a string`, fileOpt(file));
    }
    return typeof s.keyid === 'string' && s.keyid !== '' ? { sig: s.sig, keyid: s.keyid } : { sig: s.sig };
  });
  return { payloadType, payload, signatures: sigs };
}

/** The raw payload bytes of an envelope. */
export function dssePayloadBytes(envelope: DsseEnvelope, file?: string): Buffer {
  return decodeBase64Strict(envelope.payload, 'DSSE payload', file);
}

/** The bytes a verifier checks each signature of the envelope against. */
export function dsseSignedBytes(envelope: DsseEnvelope, file?: string): Buffer {
  return pae(envelope.payloadType, dssePayloadBytes(envelope, file));
}

/** Build an envelope from a payload and raw signatures. */
export function makeDsseEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signatures: Array<{ sig: Uint8Array; keyid?: string }>,
): DsseEnvelope {
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: signatures.map((s) =>
      s.keyid === undefined ? { sig: Buffer.from(s.sig).toString('base64') } : { sig: Buffer.from(s.sig).toString('base64'), keyid: s.keyid },
    ),
  };
}

function fileOpt(file: string | undefined): { file?: string } {
  return file === undefined ? {} : { file };
}
