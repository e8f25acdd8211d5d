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
