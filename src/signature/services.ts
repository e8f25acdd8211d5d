/**
 * Which Fulcio / Rekor / TSA a signing run uses: `--signing-config FILE` first, then the
 * single-service flags (`--fulcio-url`, `--rekor-url`, `--tsa-url`) on top of it, else the
 * Sigstore public-good instance (or its staging instance with `--staging`).
 *
 * Key signing (`--key`) talks to no CA; it records the signature in Rekor (the signing config's,
 * `--rekor-url`, else public-good) as `cosign sign-blob --key` does, unless `--no-tlog-upload`
 * (air-gapped); a model folder only when a log is named (model_signing's key method records
 * none). It asks a TSA for a signed timestamp when the signing config or `--tsa-url` names one.
 */
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { parseJsonText } from '../util/json.js';
import { checkServiceUrl, type SigningServices, selectFromSigningConfig } from './signing-config.js';

/** Sigstore public-good production instance. */
export const PUBLIC_GOOD = { fulcio: 'https://fulcio.sigstore.dev', rekor: 'https://rekor.sigstore.dev' } as const;
/** Sigstore public-good staging instance (test signatures only). */
export const PUBLIC_GOOD_STAGING = { fulcio: 'https://fulcio.sigstage.dev', rekor: 'https://rekor.sigstage.dev' } as const;

const MAX_SIGNING_CONFIG_BYTES = 1024 * 1024;

export interface ServiceOptions {
  signingConfig?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
  /** false: key signing without a transparency log entry (air-gapped; --no-tlog-upload). */
  tlogUpload?: boolean;
  /** Signing a model folder (model_signing format). */
  folder?: boolean;
}

export type SigningMode = 'keyless' | 'key';

export async function resolveServices(mode: SigningMode, options: ServiceOptions, now: Date = new Date()): Promise<SigningServices> {
  let base: SigningServices | undefined;
  if (options.signingConfig) {
    const text = await readTextBounded(options.signingConfig, MAX_SIGNING_CONFIG_BYTES, options.signingConfig);
    base = selectFromSigningConfig(parseJsonText(text, options.signingConfig, 32), options.signingConfig, now);
  }
  if (mode === 'key') {
    if (options.fulcioUrl) throw new AibomError('USAGE', '--fulcio-url is for keyless signing; it cannot be used with --key');
    const tsa = options.tsaUrl ? [checkServiceUrl(options.tsaUrl, '--tsa-url')] : (base?.tsa ?? []);
    if (options.tlogUpload === false) {
      if (options.rekorUrl) throw new AibomError('USAGE', '--rekor-url and --no-tlog-upload contradict each other: choose one');
      return { rekor: [], tsa };
    }
    // As `cosign sign-blob --key`: the signature is recorded in Rekor (the signing config's, or
    // public-good), so verifiers that require a log entry (sigstore-js, cosign) accept the bundle.
    // A model folder (model_signing's key method records none) only when a log is named.
    const named = options.rekorUrl ? [{ url: checkServiceUrl(options.rekorUrl, '--rekor-url'), majorApiVersion: 1 }] : base?.rekor;
    const rekor = named ?? (options.folder ? [] : [{ url: (options.staging ? PUBLIC_GOOD_STAGING : PUBLIC_GOOD).rekor, majorApiVersion: 1 }]);
    return { rekor, tsa };
  }
  if (options.tlogUpload === false) {
    throw new AibomError('USAGE', '--no-tlog-upload is for key signing (--key): a keyless signature needs the transparency log');
  }
  const defaults = options.staging ? PUBLIC_GOOD_STAGING : PUBLIC_GOOD;
  const out: SigningServices = base ?? { fulcio: defaults.fulcio, rekor: [{ url: defaults.rekor, majorApiVersion: 1 }], tsa: [] };
  if (options.fulcioUrl) out.fulcio = checkServiceUrl(options.fulcioUrl, '--fulcio-url');
  if (options.rekorUrl) out.rekor = [{ url: checkServiceUrl(options.rekorUrl, '--rekor-url'), majorApiVersion: 1 }];
  if (options.tsaUrl) out.tsa = [checkServiceUrl(options.tsaUrl, '--tsa-url')];
  if (!out.fulcio) {
    throw new AibomError('INPUT', 'the signing config names no usable certificate authority (caUrls); keyless signing needs one', {
      ...(options.signingConfig ? { file: options.signingConfig } : {}),
    });
  }
  if (out.rekor.length === 0 && out.tsa.length === 0) {
    // A keyless signature needs a trusted time: the log's, or a TSA's. Verifiers refuse one without either.
    throw new AibomError('INPUT', 'the signing config names neither a transparency log nor a timestamp authority; keyless signing needs one', {
      ...(options.signingConfig ? { file: options.signingConfig } : {}),
    });
  }
  return out;
}
