/**
 * Fulcio certificate claims: the build's facts a Fulcio certificate carries as X.509
 * extensions (OIDs 1.3.6.1.4.1.57264.1.8–22, each a DER UTF8String), read from the signing
 * certificate's DER with a small bounded parser of our own, and the claim policy checked
 * against them.
 *
 * Read only after the certificate chained to the trusted root (its CA wrote them), but still
 * parsed as hostile input: the certificate, each value and the number of extensions are
 * bounded; an extension that appears twice, a value that is not a DER UTF8String of valid
 * UTF-8, or DER that does not parse is a malformed certificate, never a claim silently
 * dropped (two parsers reading different values of a duplicated claim is the attack).
 */
import { AibomError } from '../errors.js';

/** Claim name (as printed in `verify --json`) by the OID's last arc under 1.3.6.1.4.1.57264.1. */
export const CLAIM_OIDS = {
  issuer: 8,
  buildSignerURI: 9,
  buildSignerDigest: 10,
  runnerEnvironment: 11,
  sourceRepositoryURI: 12,
  sourceRepositoryDigest: 13,
  sourceRepositoryRef: 14,
  sourceRepositoryIdentifier: 15,
  sourceRepositoryOwnerURI: 16,
  sourceRepositoryOwnerIdentifier: 17,
  buildConfigURI: 18,
  buildConfigDigest: 19,
  buildTrigger: 20,
  runInvocationURI: 21,
  sourceRepositoryVisibilityAtSigning: 22,
} as const;

export type ClaimName = keyof typeof CLAIM_OIDS;
export type CertificateClaims = Partial<Record<ClaimName, string>>;

export const FULCIO_OID_PREFIX = '1.3.6.1.4.1.57264.1';
const NAME_BY_ARC = new Map<number, ClaimName>(Object.entries(CLAIM_OIDS).map(([k, v]) => [v, k as ClaimName]));

/**
 * Fulcio's legacy GitHub Actions extensions (…57264.1.1–6, the value's raw bytes rather than a
 * DER UTF8String), still in certificates Fulcio issued before the .8–22 claims existed and in
 * some issued since. Each one stands in for the claim it predates when that claim is absent, and
 * a certificate whose legacy and current values disagree is malformed: a check must never read
 * the field an older certificate leaves empty while the older field says otherwise (a
 * `pull_request_target` build would pass a trigger denial).
 */
const LEGACY_BY_ARC = new Map<number, ClaimName>([
  [1, 'issuer'],
  [2, 'buildTrigger'],
  [3, 'sourceRepositoryDigest'],
  [6, 'sourceRepositoryRef'],
]);

/** Human names for messages. */
export const CLAIM_LABELS: Record<ClaimName, string> = {
  issuer: 'OIDC issuer',
  buildSignerURI: 'signer workflow',
  buildSignerDigest: 'signer workflow digest',
  runnerEnvironment: 'runner environment',
  sourceRepositoryURI: 'source repository',
  sourceRepositoryDigest: 'source digest',
  sourceRepositoryRef: 'source ref',
  sourceRepositoryIdentifier: 'source repository id',
  sourceRepositoryOwnerURI: 'source repository owner',
  sourceRepositoryOwnerIdentifier: 'source repository owner id',
  buildConfigURI: 'build config',
  buildConfigDigest: 'build config digest',
  buildTrigger: 'build trigger',
  runInvocationURI: 'run invocation',
  sourceRepositoryVisibilityAtSigning: 'source repository visibility',
};

export const MAX_CERTIFICATE_BYTES = 64 * 1024;
export const MAX_CLAIM_BYTES = 4096;
const MAX_EXTENSIONS = 128;

/** A certificate whose claims cannot be read. */
export class MalformedClaims extends AibomError {
  constructor(message: string) {
    super('INPUT', `signing certificate: ${message}`);
  }
}

interface Tlv {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** Read one DER TLV at `pos` inside `[pos, limit)`. Single-byte tags only (all X.509 uses here). */
function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new MalformedClaims('DER ends inside a header');
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new MalformedClaims('DER multi-byte tag');
  let len = der[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new MalformedClaims('DER length form not allowed');
    if (p + n > limit) throw new MalformedClaims('DER ends inside a length');
    if (der[p] === 0) throw new MalformedClaims('DER length not minimal');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i]!;
    if (len < 0x80) throw new MalformedClaims('DER length not minimal');
    p += n;
  }
  if (p + len > limit) throw new MalformedClaims('DER value runs past its container');
  return { tag, start: p, end: p + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.start;
  while (p < parent.end) {
    const t = readTlv(der, p, parent.end);
    out.push(t);
    p = t.end;
    if (out.length > MAX_EXTENSIONS + 16) throw new MalformedClaims(`more than ${MAX_EXTENSIONS} elements`);
  }
  return out;
}

function decodeOid(der: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.start || t.end - t.start > 64) throw new MalformedClaims('bad extension OID');
  const arcs: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = der[i]!;
    if (v === 0 && b === 0x80) throw new MalformedClaims('OID arc not minimal');
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) throw new MalformedClaims('OID arc too large');
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    } else if (i === t.end - 1) throw new MalformedClaims('OID ends inside an arc');
  }
  return arcs.join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The Fulcio claims (OIDs …57264.1.8–22) of a DER certificate. Other extensions are skipped;
 * a certificate with none of these has no claims (`{}`).
 */
export function certificateClaims(der: Uint8Array): CertificateClaims {
  if (der.length > MAX_CERTIFICATE_BYTES) throw new MalformedClaims(`over ${MAX_CERTIFICATE_BYTES} bytes`);
  const cert = readTlv(der, 0, der.length);
  if (cert.tag !== 0x30 || cert.end !== der.length) throw new MalformedClaims('not a DER certificate');
  const tbs = children(der, cert)[0];
  if (tbs?.tag !== 0x30) throw new MalformedClaims('no tbsCertificate');
  const ext = children(der, tbs).find((t) => t.tag === 0xa3);
  const claims: CertificateClaims = {};
  if (!ext) return claims;
  const [list, ...rest] = children(der, ext);
  if (list?.tag !== 0x30 || rest.length) throw new MalformedClaims('bad extensions field');
  const exts = children(der, list);
  if (exts.length > MAX_EXTENSIONS) throw new MalformedClaims(`more than ${MAX_EXTENSIONS} extensions`);
  const seen = new Set<string>();
  const legacy: CertificateClaims = {};
  for (const e of exts) {
    if (e.tag !== 0x30) throw new MalformedClaims('an extension is not a SEQUENCE');
    const parts = children(der, e);
    const oid = decodeOid(der, parts[0] ?? { tag: 0, start: 0, end: 0 });
    if (seen.has(oid)) throw new MalformedClaims(`extension ${oid} appears twice`);
    seen.add(oid);
    if (!oid.startsWith(`${FULCIO_OID_PREFIX}.`)) continue;
    const arc = Number(oid.slice(FULCIO_OID_PREFIX.length + 1));
    const legacyName = LEGACY_BY_ARC.get(arc);
    const name = NAME_BY_ARC.get(arc);
    if (!name && !legacyName) continue;
    const value = parts[parts.length - 1];
    const shapeOk = parts.length === 2 || (parts.length === 3 && parts[1]!.tag === 0x01);
    if (value?.tag !== 0x04 || !shapeOk) throw new MalformedClaims(`extension ${oid} has no OCTET STRING value`);
    if (legacyName) {
      // Legacy: the OCTET STRING holds the text itself.
      if (value.end - value.start > MAX_CLAIM_BYTES) throw new MalformedClaims(`extension ${oid} (legacy ${CLAIM_LABELS[legacyName]}) is over ${MAX_CLAIM_BYTES} bytes`);
      try {
        legacy[legacyName] = utf8.decode(der.subarray(value.start, value.end));
      } catch {
        throw new MalformedClaims(`extension ${oid} (legacy ${CLAIM_LABELS[legacyName]}) is not valid UTF-8`);
      }
      continue;
    }
    if (!name) continue;
    const notUtf8String = () => new MalformedClaims(`extension ${oid} (${CLAIM_LABELS[name]}) is not a DER UTF8String`);
    if (value.end === value.start || der[value.start] !== 0x0c) throw notUtf8String();
    let inner: Tlv;
    try {
      inner = readTlv(der, value.start, value.end);
    } catch {
      throw notUtf8String();
    }
    if (inner.end !== value.end) throw notUtf8String();
    if (inner.end - inner.start > MAX_CLAIM_BYTES) throw new MalformedClaims(`extension ${oid} (${CLAIM_LABELS[name]}) is over ${MAX_CLAIM_BYTES} bytes`);
    let text: string;
    try {
      text = utf8.decode(der.subarray(inner.start, inner.end));
    } catch {
      throw new MalformedClaims(`extension ${oid} (${CLAIM_LABELS[name]}) is not valid UTF-8`);
    }
    claims[name] = text;
  }
  for (const [name, text] of Object.entries(legacy) as Array<[ClaimName, string]>) {
    const current = claims[name];
    if (current === undefined) claims[name] = text;
    else if (current !== text) {
      throw new MalformedClaims(`its legacy ${CLAIM_LABELS[name]} (${JSON.stringify(text.slice(0, 200))}) and its ${CLAIM_LABELS[name]} claim (${JSON.stringify(current.slice(0, 200))}) disagree`);
    }
  }
  return claims;
}
