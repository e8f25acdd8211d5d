/**
 * The JSON shape of a Sigstore bundle (protobuf-specs Bundle, proto3 JSON mapping), checked
 * before anything reads it: every field that is present has its type (no null, no number for a
 * string, no object for an array), and the fields verification reads are present. A bundle
 * that is not this shape is refused with the JSON pointer of the first bad field, instead of
 * reaching a parser that would fail with a runtime error ("Cannot read properties of
 * undefined"). Unknown fields are ignored, as the proto3 JSON mapping requires.
 */

type Spec =
  | 'string'
  /** A string that proto3 JSON also allows as null (its default): model_signing writes `keyid: null`. */
  | 'string?'
  | 'bytes'
  | 'int64'
  | 'enum'
  | { array: Spec; min?: number }
  | { object: Record<string, Spec>; required?: string[]; oneOf?: string[] };

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const INT64 = /^-?[0-9]{1,20}$/;

const bytesField: Spec = 'bytes';
const checkpoint: Spec = { object: { envelope: 'string' }, required: ['envelope'] };
const inclusionProof: Spec = {
  object: { logIndex: 'int64', rootHash: bytesField, treeSize: 'int64', hashes: { array: bytesField }, checkpoint },
  required: ['rootHash'],
};
const tlogEntry: Spec = {
  object: {
    logIndex: 'int64',
    logId: { object: { keyId: bytesField }, required: ['keyId'] },
    kindVersion: { object: { kind: 'string', version: 'string' }, required: ['kind', 'version'] },
    integratedTime: 'int64',
    inclusionPromise: { object: { signedEntryTimestamp: bytesField }, required: ['signedEntryTimestamp'] },
    inclusionProof,
    canonicalizedBody: bytesField,
  },
  required: ['logId', 'kindVersion', 'canonicalizedBody'],
};
const certificate: Spec = { object: { rawBytes: bytesField }, required: ['rawBytes'] };
const verificationMaterial: Spec = {
  object: {
    publicKey: { object: { hint: 'string' } },
    x509CertificateChain: { object: { certificates: { array: certificate, min: 1 } }, required: ['certificates'] },
    certificate,
    tlogEntries: { array: tlogEntry },
    timestampVerificationData: {
      object: { rfc3161Timestamps: { array: { object: { signedTimestamp: bytesField }, required: ['signedTimestamp'] } } },
    },
  },
  oneOf: ['publicKey', 'x509CertificateChain', 'certificate'],
};
const BUNDLE: Spec = {
  object: {
    mediaType: 'string',
    verificationMaterial,
    messageSignature: {
      object: { messageDigest: { object: { algorithm: 'enum', digest: bytesField }, required: ['digest'] }, signature: bytesField },
      required: ['signature'],
    },
    dsseEnvelope: {
      object: {
        payload: bytesField,
        payloadType: 'string',
        signatures: { array: { object: { sig: bytesField, keyid: 'string?' }, required: ['sig'] }, min: 1 },
      },
      required: ['payload', 'payloadType', 'signatures'],
    },
  },
  required: ['mediaType', 'verificationMaterial'],
  oneOf: ['messageSignature', 'dsseEnvelope'],
};

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** The first problem with the bundle's shape, as `<JSON pointer>: <what is wrong>`, or undefined. */
export function bundleShapeProblem(json: unknown): string | undefined {
  return check(json, BUNDLE, '');
}

function check(v: unknown, spec: Spec, at: string): string | undefined {
  const where = at || '/';
  if (spec === 'string') return typeof v === 'string' ? undefined : `${where}: expected a string, got ${typeName(v)}`;
  if (spec === 'string?') return typeof v === 'string' || v === null ? undefined : `${where}: expected a string, got ${typeName(v)}`;
  if (spec === 'bytes') {
    return typeof v === 'string' && BASE64.test(v) ? undefined : `${where}: expected base64 bytes, got ${typeof v === 'string' ? 'a string that is not base64' : typeName(v)}`;
  }
  if (spec === 'int64') {
    const ok = (typeof v === 'string' && INT64.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v));
    return ok ? undefined : `${where}: expected an integer, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeName(v)}`;
  }
  if (spec === 'enum') {
    const ok = (typeof v === 'string' && /^[A-Z0-9_]{1,64}$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v));
    return ok ? undefined : `${where}: expected an enum name, got ${typeName(v)}`;
  }
  if ('array' in spec) {
    if (!Array.isArray(v)) return `${where}: expected an array, got ${typeName(v)}`;
    if (spec.min !== undefined && v.length < spec.min) return `${where}: expected at least ${spec.min} element${spec.min === 1 ? '' : 's'}`;
    for (let i = 0; i < v.length; i++) {
      const p = check(v[i], spec.array, `${at}/${i}`);
      if (p) return p;
    }
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${where}: expected an object, got ${typeName(v)}`;
  const o = v as Record<string, unknown>;
  for (const k of spec.required ?? []) if (!Object.hasOwn(o, k)) return `${at}/${k}: missing`;
  if (spec.oneOf) {
    const present = spec.oneOf.filter((k) => Object.hasOwn(o, k));
    if (present.length !== 1) {
      return present.length === 0 ? `${where}: needs one of ${spec.oneOf.join(', ')}` : `${where}: has both ${present.join(' and ')}; a bundle has one`;
    }
  }
  for (const [k, sub] of Object.entries(spec.object)) {
    if (!Object.hasOwn(o, k)) continue;
    const p = check(o[k], sub, `${at}/${k}`);
    if (p) return p;
  }
  return undefined;
}
