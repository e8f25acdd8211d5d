/**
 * Making a Sigstore bundle (v0.3) with @sigstore/sign: a message signature over an artifact's
 * bytes, or a DSSE envelope over a payload (an in-toto statement). The signer is Fulcio with an
 * ephemeral key (keyless) or a local key; the witnesses are the transparency logs and
 * timestamp authorities chosen by services.ts. Nothing here writes files.
 *
 * @sigstore/sign assembles message-signature bundles as v0.2 with a one-certificate chain; the
 * v0.3 form carries the leaf certificate alone (`verificationMaterial.certificate`), which is
 * the same material. We convert before serializing and check the result with @sigstore/bundle.
 */
import {
  assertBundleLatest,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
  bundleToJSON,
  type SerializedBundle,
  type TransparencyLogEntry,
} from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import {
  type Artifact,
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signature,
  type SignatureBundle,
  type Signer,
  TSAWitness,
  type VerificationMaterial,
  type Witness,
} from '@sigstore/sign';
import { AibomError } from '../errors.js';
import type { IdentityToken } from './identity-token.js';
import { KeySigner, type LoadedKey, type SignatureKind, signingHash } from './key-signer.js';
import { keyTlogWitness } from './key-tlog-witness.js';
import { type ServiceName, scrub, serviceError } from './service-errors.js';
import type { SigningServices } from './signing-config.js';

export type SigningIdentity =
  | { mode: 'keyless'; token: IdentityToken; services: SigningServices }
  | { mode: 'key'; key: LoadedKey; keyFile: string; services: SigningServices };

export type SignContent = { kind: 'message'; data: Buffer } | { kind: 'dsse'; payload: Buffer; payloadType: string };

const TIMEOUT_MS = 30_000;
const REKOR_V2_TIMEOUT_MS = 60_000;
/** Retry transient failures (5xx, 408, 429, network) twice, quickly. */
const RETRY = { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 };

/** Sign and return the bundle as Sigstore bundle v0.3 JSON. */
export async function createBundle(content: SignContent, identity: SigningIdentity): Promise<SerializedBundle> {
  const secrets = identity.mode === 'keyless' ? [identity.token.token] : [];
  const signer = makeSigner(content.kind, identity, secrets);
  const witnesses = makeWitnesses(identity.services, secrets, identity.mode === 'key' ? identity.key : undefined);
  let bundle: Bundle;
  try {
    if (content.kind === 'message') {
      // Sigstore's algorithm registry: a P-384 key signs with SHA-384, and the bundle says so.
      const Builder = identity.mode === 'key' && signingHash(identity.key.kind, 'message') === 'sha384' ? Sha384MessageBundleBuilder : MessageSignatureBundleBuilder;
      bundle = await new Builder({ signer, witnesses }).create({ data: content.data });
    } else {
      bundle = await new DSSEBundleBuilder({ signer, witnesses, certificateChain: false }).create({
        data: content.payload,
        type: content.payloadType,
      });
    }
  } catch (err) {
    if (err instanceof AibomError) throw err;
    // Anything else from the library: report it without the token, without a stack.
    throw new AibomError('SERVICE', `signing failed: ${scrub(err instanceof Error ? err.message : String(err), secrets).slice(0, 300)}`);
  }
  return toV03Json(bundle);
}

function makeSigner(kind: SignatureKind, identity: SigningIdentity, secrets: string[]): Signer {
  if (identity.mode === 'key') return new KeySigner(identity.key, kind, identity.keyFile);
  const url = identity.services.fulcio;
  if (!url) throw new AibomError('INTERNAL', 'keyless signing without a Fulcio URL');
  const token = identity.token.token;
  const fulcio = new FulcioSigner({
    fulcioBaseURL: url,
    identityProvider: { getToken: async () => token },
    timeout: TIMEOUT_MS,
    retry: RETRY,
  });
  return {
    sign: async (data: Buffer) => {
      try {
        return await fulcio.sign(data);
      } catch (err) {
        throw serviceError('Fulcio', url, err, secrets);
      }
    },
  };
}

function makeWitnesses(services: SigningServices, secrets: string[], key?: LoadedKey): Witness[] {
  const witnesses: Witness[] = [];
  for (const tlog of services.rekor) {
    const timeout = tlog.majorApiVersion === 2 ? REKOR_V2_TIMEOUT_MS : TIMEOUT_MS;
    const rekor = new RekorWitness({
      rekorBaseURL: tlog.url,
      majorApiVersion: tlog.majorApiVersion,
      entryType: 'dsse',
      fetchOnConflict: true,
      timeout,
      retry: RETRY,
    });
    // Key-signed bundles: entries @sigstore/sign writes wrongly for a key (key-tlog-witness.ts).
    const w = key ? keyTlogWitness({ url: tlog.url, majorApiVersion: tlog.majorApiVersion, key, timeoutMs: timeout, fallback: rekor }) : rekor;
    witnesses.push(guard(w, 'Rekor', tlog.url, secrets));
  }
  for (const url of services.tsa) {
    witnesses.push(guard(new TSAWitness({ tsaBaseURL: url, timeout: TIMEOUT_MS, retry: RETRY }), 'the timestamp authority', url, secrets));
  }
  return witnesses;
}

/** A witness whose failures name the service. */
function guard(w: Witness, name: ServiceName, url: string, secrets: string[]): Witness {
  return {
    testify: async (content: SignatureBundle, publicKey: string): Promise<VerificationMaterial> => {
      try {
        return await w.testify(content, publicKey);
      } catch (err) {
        throw serviceError(name, url, err, secrets);
      }
    },
  };
}

/** Serialize as bundle v0.3: a single leaf certificate instead of a one-element chain. */
/** Message signatures over SHA-384 (P-384 keys): the bundle's message digest is SHA-384 too. */
class Sha384MessageBundleBuilder extends MessageSignatureBundleBuilder {
  protected override async package(artifact: Artifact, signature: Signature) {
    const bundle = await super.package(artifact, signature);
    bundle.content.messageSignature.messageDigest = { algorithm: HashAlgorithm.SHA2_384, digest: createHash('sha384').update(artifact.data).digest() };
    return bundle;
  }
}

export function toV03Json(bundle: Bundle): SerializedBundle {
  const vm = bundle.verificationMaterial;
  if (vm.content?.$case === 'x509CertificateChain') {
    const leaf = vm.content.x509CertificateChain.certificates[0];
    if (!leaf) throw new AibomError('SERVICE', 'Fulcio returned an empty certificate chain');
    vm.content = { $case: 'certificate', certificate: leaf };
  }
  bundle.mediaType = BUNDLE_V03_MEDIA_TYPE;
  const json = bundleToJSON(bundle);
  try {
    assertBundleLatest(bundleFromJSON(json));
  } catch (err) {
    throw new AibomError('INTERNAL', `the bundle aibom assembled is not a valid v0.3 bundle: ${err instanceof Error ? err.message : String(err)}`);
  }
  return json;
}

export type { TransparencyLogEntry };
