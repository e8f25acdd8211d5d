/**
 * Reading Sigstore bundles that came from outside: size-bounded, depth-checked JSON, a known
 * media type (v0.1, v0.2, v0.3 in both spellings), the structural checks @sigstore/bundle
 * makes for that version, and, for DSSE bundles, the in-toto statement inside.
 *
 * Every problem with a bundle's content is a VERIFY_FAILED error with reason 'malformed':
 * a bundle we cannot read is a bundle that does not verify (exit 1). A bundle file that is
 * missing or unreadable is an INPUT error (exit 2): the user named the wrong file.
 */
import {
  assertBundleV01,
  assertBundleV02,
  type Bundle,
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
} from '@sigstore/bundle';
import { Bundle as ProtoBundle } from '@sigstore/protobuf-specs';
import { dssePayloadBytes, IN_TOTO_PAYLOAD_TYPE, parseDsseEnvelope } from '../attestation/dsse.js';
import { parseStatementBytes, type Statement } from '../attestation/statement.js';
import { AibomError } from '../errors.js';
import { formatBytes, readBytesBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import { bundleShapeProblem } from './bundle-shape.js';
import { VerifyFailure } from './result.js';

/**
 * Largest bundle aibom reads: 16 MiB. A message-signature bundle is a few KiB; a DSSE bundle
 * carries its statement, and an attestation whose predicate is a large CycloneDX BOM can run
 * to several MiB once base64-encoded. Anything bigger is refused before it is parsed.
 */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
/** Bundles are shallow (depth ~8); a deeply nested one is hostile. */
export const MAX_BUNDLE_JSON_DEPTH = 64;

export type BundleVersion = '0.1' | '0.2' | '0.3';

export interface LoadedBundle {
  /** The path as the user gave it. */
  file: string;
  bundle: Bundle;
  mediaType: string;
  version: BundleVersion;
  content: 'message-signature' | 'dsse';
  /** For DSSE bundles: the payload type and, when it is an in-toto statement, the statement. */
  payloadType?: string;
  statement?: Statement;
  /** Whether the verification material is a certificate chain (v0.1/v0.2 style, or model_signing's certificate method). */
  hasCertificateChain: boolean;
}

const MEDIA_TYPES: Record<string, BundleVersion> = {
  [BUNDLE_V01_MEDIA_TYPE]: '0.1',
  [BUNDLE_V02_MEDIA_TYPE]: '0.2',
  [BUNDLE_V03_LEGACY_MEDIA_TYPE]: '0.3',
  [BUNDLE_V03_MEDIA_TYPE]: '0.3',
};

/** Largest JSON Lines bundle file (`gh attestation download`): many bundles, each within MAX_BUNDLE_BYTES. */
export const MAX_BUNDLE_LINES_BYTES = 64 * 1024 * 1024;
/** Most bundles read from one JSON Lines file. */
export const MAX_BUNDLE_LINES = 1000;

/** One bundle of a bundle file: loaded, or why it could not be (a JSON Lines line may fail alone). */
export type BundleLine = { display: string; loaded: LoadedBundle } | { display: string; failure: VerifyFailure };

/**
 * Read a bundle file that holds one bundle (JSON, any layout) or several as JSON Lines, one
 * per line, as `gh attestation download` writes them (a line may also wrap its bundle as
 * `{"bundle": {...}}`, as GitHub's attestations API returns it). Each line of a JSON Lines file
 * is named `FILE:LINE`. A single bundle that does not load throws, as loadBundle does.
 */
export async function loadBundleFile(file: string, display: string = file): Promise<BundleLine[]> {
  let bytes: Buffer;
  try {
    bytes = await readBytesBounded(file, MAX_BUNDLE_LINES_BYTES, display);
  } catch (err) {
    if (err instanceof AibomError && err.code === 'TOO_LARGE') {
      throw new VerifyFailure('malformed', `bundle file is too large: over the ${formatBytes(MAX_BUNDLE_LINES_BYTES)} limit`, display);
    }
    throw err;
  }
  const lines = jsonLines(bytes);
  if (!lines) return [{ display, loaded: parseBundle(bytes, display) }];
  if (lines.length > MAX_BUNDLE_LINES) {
    throw new VerifyFailure('malformed', `bundle file has ${lines.length} JSON Lines bundles (limit ${MAX_BUNDLE_LINES})`, display);
  }
  // A line that is not JSON at all makes the file something other than JSON Lines: refused whole.
  for (const { line, bytes: b } of lines) {
    try {
      JSON.parse(b.toString('utf8'));
    } catch {
      throw new VerifyFailure('malformed', `line ${line} of the JSON Lines bundle file is not JSON`, display);
    }
  }
  return lines.map(({ line, bytes: b }) => {
    const name = `${display}:${line}`;
    try {
      return { display: name, loaded: parseBundle(unwrapBundle(b), name) };
    } catch (err) {
      if (err instanceof VerifyFailure) return { display: name, failure: err };
      throw err;
    }
  });
}

/**
 * The lines of a JSON Lines file (1-based line numbers, blank lines skipped), or undefined when
 * the file is one JSON document: it has a single non-blank line, or its first line is not a
 * complete JSON value on its own (a pretty-printed bundle).
 */
function jsonLines(bytes: Buffer): Array<{ line: number; bytes: Buffer }> | undefined {
  const out: Array<{ line: number; bytes: Buffer }> = [];
  let start = 0;
  let n = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    n++;
    const slice = bytes.subarray(start, end);
    if (slice.toString('latin1').trim() !== '') out.push({ line: n, bytes: slice });
    start = end + 1;
  }
  if (out.length < 2) return undefined;
  try {
    const first = JSON.parse(out[0]!.bytes.toString('utf8'));
    if (!isObject(first)) return undefined;
  } catch {
    return undefined;
  }
  return out;
}

/** `{"bundle": {...}}` (GitHub's attestations API and some `gh` versions) → the bundle's bytes. */
function unwrapBundle(bytes: Buffer): Buffer {
  if (bytes.length > MAX_BUNDLE_BYTES) return bytes;
  try {
    // Checked as every bundle is (depth, duplicate keys), before it is re-serialized.
    const v = parseJsonText(bytes.toString('utf8'), 'bundle', MAX_BUNDLE_JSON_DEPTH + 1);
    if (isObject(v) && v.mediaType === undefined && isObject(v.bundle)) return Buffer.from(JSON.stringify(v.bundle));
  } catch {
    // parseBundle reports it.
  }
  return bytes;
}

/** Read and check a bundle file. */
export async function loadBundle(file: string, display: string = file): Promise<LoadedBundle> {
  let bytes: Buffer;
  try {
    bytes = await readBytesBounded(file, MAX_BUNDLE_BYTES, display);
  } catch (err) {
    if (err instanceof AibomError && err.code === 'TOO_LARGE') {
      throw new VerifyFailure('malformed', `bundle is too large: over the ${formatBytes(MAX_BUNDLE_BYTES)} limit for Sigstore bundles`, display);
    }
    throw err;
  }
  return parseBundle(bytes, display);
}

/** Check bundle bytes (already read). */
export function parseBundle(bytes: Uint8Array, display: string): LoadedBundle {
  if (bytes.length > MAX_BUNDLE_BYTES) {
    throw new VerifyFailure('malformed', `bundle is too large: over the ${formatBytes(MAX_BUNDLE_BYTES)} limit for Sigstore bundles`, display);
  }
  let json: unknown;
  try {
    json = parseJsonText(Buffer.from(bytes).toString('utf8'), display, MAX_BUNDLE_JSON_DEPTH);
  } catch (err) {
    const m = stripFile(err, display);
    throw new VerifyFailure('malformed', m.startsWith('not valid JSON') ? `bundle is ${m}` : `bundle ${m}`, display);
  }
  if (!isObject(json)) throw new VerifyFailure('malformed', 'bundle is not a JSON object', display);
  const mediaType = json.mediaType;
  if (typeof mediaType !== 'string') throw new VerifyFailure('malformed', 'bundle has no mediaType', display);
  const version = MEDIA_TYPES[mediaType];
  if (!version) {
    throw new VerifyFailure(
      'malformed',
      `unsupported bundle media type ${JSON.stringify(mediaType).slice(0, 120)}; aibom reads Sigstore bundles v0.1, v0.2 and v0.3`,
      display,
    );
  }
  // A DSSE envelope is checked strictly first (base64, signature count), with clear messages.
  if (json.dsseEnvelope !== undefined) {
    try {
      parseDsseEnvelope(json.dsseEnvelope, display);
    } catch (err) {
      throw new VerifyFailure('malformed', stripFile(err, display), display);
    }
  }
  // Every field's JSON type before any parser reads it: a wrong shape is named, never a crash.
  const shape = bundleShapeProblem(json) ?? checkpointProblem(json, version);
  if (shape) throw new VerifyFailure('malformed', `not a valid Sigstore bundle v${version}: ${shape}`, display);
  let bundle: Bundle;
  try {
    // Parsed with the protobuf-specs reader, then checked per version: v0.1 requires inclusion
    // promises; v0.2 and v0.3 require inclusion proofs. (@sigstore/bundle's bundleFromJSON also
    // refuses a certificate chain in v0.3, which model_signing's certificate method writes; that
    // rule is enforced in verify.ts for keyless verification, where it belongs.)
    bundle = ProtoBundle.fromJSON(json) as Bundle;
    if (version === '0.1') assertBundleV01(bundle);
    else assertBundleV02(bundle);
  } catch (err) {
    throw new VerifyFailure('malformed', `not a valid Sigstore bundle v${version}: ${describeBundleError(err)}`, display);
  }
  const vm = bundle.verificationMaterial.content;
  const loaded: LoadedBundle = {
    file: display,
    bundle,
    mediaType,
    version,
    content: bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature',
    hasCertificateChain: vm.$case === 'x509CertificateChain',
  };
  if (vm.$case === 'x509CertificateChain' && vm.x509CertificateChain.certificates.length === 0) {
    throw new VerifyFailure('malformed', 'bundle has an empty certificate chain', display);
  }
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = json.dsseEnvelope as { payloadType: string; payload: string; signatures: Array<{ sig: string }> };
    loaded.payloadType = env.payloadType;
    if (env.payloadType === IN_TOTO_PAYLOAD_TYPE) {
      try {
        loaded.statement = parseStatementBytes(dssePayloadBytes(parseDsseEnvelope(env, display), display), display, 'in-toto statement in the bundle');
      } catch (err) {
        throw new VerifyFailure('malformed', stripFile(err, display), display);
      }
    }
  }
  return loaded;
}

/**
 * An inclusion proof is verified through its checkpoint; v0.2 and v0.3 proofs must carry one. A
 * v0.1 bundle (2023 and earlier) may have a proof without one beside its inclusion promise:
 * that proof cannot be checked, so it is set aside and the promise is what vouches (as v0.1
 * verification always did). Mutates `json`.
 */
function checkpointProblem(json: Record<string, unknown>, version: BundleVersion): string | undefined {
  const entries = (json.verificationMaterial as { tlogEntries?: Array<Record<string, unknown>> }).tlogEntries ?? [];
  for (const [i, e] of entries.entries()) {
    const proof = e.inclusionProof as Record<string, unknown> | undefined;
    if (!proof || proof.checkpoint !== undefined) continue;
    if (version === '0.1' && e.inclusionPromise !== undefined) delete e.inclusionProof;
    else return `/verificationMaterial/tlogEntries/${i}/inclusionProof/checkpoint: missing`;
  }
  return undefined;
}

function describeBundleError(err: unknown): string {
  if (err instanceof Error) {
    const fields = (err as Error & { fields?: string[] }).fields;
    return fields?.length ? `missing or invalid ${fields.join(', ')}` : err.message;
  }
  return String(err);
}

function stripFile(err: unknown, display: string): string {
  if (err instanceof AibomError) return err.message;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith(`${display}: `) ? msg.slice(display.length + 2) : msg;
}
