/**
 * `aibom gate --vsa FILE` and its signing flags. The gate's own --key is the release key it
 * verifies with, so the VSA's signing key is --vsa-key; keyless signing takes the usual
 * --identity-token / --signing-config / --fulcio-url / --rekor-url / --tsa-url / --staging.
 */
import type { Command } from 'commander';
import type { VsaOptions } from '../src/policy/vsa.js';
import { usageError } from './io.js';

export interface VsaFlags {
  vsa?: string;
  vsaKey?: string;
  vsaVerifierId?: string;
  vsaPolicyUri?: string;
  vsaResourceUri?: string;
  identityToken?: string;
  signingConfig?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
  /** Commander's --no-tlog-upload: false when given. */
  tlogUpload?: boolean;
  trustedRoot?: string;
}

export function addVsaFlags(cmd: Command): Command {
  return cmd
    .option('--vsa <file>', 'write the verdict as a signed SLSA Verification Summary Attestation v1 (Sigstore bundle); needs --bom')
    .option('--vsa-key <pem>', 'sign the VSA with this private key (default: keyless)')
    .option('--identity-token <token>', 'VSA: OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN or the GitHub Actions token)')
    .option('--signing-config <file>', 'VSA: Sigstore SigningConfig JSON naming Fulcio, Rekor and TSA')
    .option('--fulcio-url <url>', 'VSA: Fulcio (keyless)')
    .option('--rekor-url <url>', 'VSA: Rekor (v1 API)')
    .option('--tsa-url <url>', 'VSA: RFC 3161 timestamp authority')
    .option('--no-tlog-upload', 'VSA signed with --vsa-key, air-gapped: record no transparency log entry')
    .option('--staging', 'VSA: use the Sigstore public-good staging instance')
    .option('--vsa-verifier-id <uri>', 'VSA verifier.id (default: pkg:npm/aibom)')
    .option('--vsa-policy-uri <uri>', 'VSA policy.uri (default: the --policy path)')
    .option('--vsa-resource-uri <uri>', "VSA resourceUri (default: the BOM's serialNumber)");
}

const SIGNING_FLAGS = ['vsaKey', 'identityToken', 'signingConfig', 'fulcioUrl', 'rekorUrl', 'tsaUrl', 'staging', 'vsaVerifierId', 'vsaPolicyUri', 'vsaResourceUri'] as const;

/** The VSA options from flags (resolves the signing identity), or undefined without --vsa. */
export async function vsaOptions(flags: VsaFlags): Promise<VsaOptions | undefined> {
  if (!flags.vsa) {
    const stray = SIGNING_FLAGS.find((k) => flags[k] !== undefined);
    const strayFlag = stray ?? (flags.tlogUpload === false ? 'tlogUpload' : undefined);
    if (strayFlag) throw usageError(`--${(strayFlag === 'tlogUpload' ? 'noTlogUpload' : strayFlag).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} signs the VSA: give --vsa FILE`);
    return undefined;
  }
  const { pathKind } = await import('../src/util/fs.js');
  if ((await pathKind(flags.vsa)) === 'dir') throw usageError(`--vsa ${flags.vsa} is a folder; give a file name`);
  // The same identity resolution as `aibom sign` (the VSA's key is --vsa-key: the gate's --key verifies).
  const { identityFromFlags } = await import('./commands/sign.js');
  const pick = <K extends keyof VsaFlags>(k: K) => (flags[k] !== undefined ? { [k]: flags[k] } : {});
  const identity = await identityFromFlags({
    ...(flags.vsaKey !== undefined ? { key: flags.vsaKey } : {}),
    ...pick('identityToken'),
    ...pick('signingConfig'),
    ...pick('fulcioUrl'),
    ...pick('rekorUrl'),
    ...pick('tsaUrl'),
    ...pick('staging'),
    ...pick('tlogUpload'),
  });
  const o: VsaOptions = { file: flags.vsa, identity };
  if (flags.vsaVerifierId) o.verifierId = flags.vsaVerifierId;
  if (flags.vsaPolicyUri) o.policyUri = flags.vsaPolicyUri;
  if (flags.vsaResourceUri) o.resourceUri = flags.vsaResourceUri;
  if (flags.trustedRoot && identity.mode === 'keyless') {
    const selfCheck = await import('../src/signature/self-check.js');
    const root = await selfCheck.readTrustedRoot(flags.trustedRoot);
    const trustedRoot = flags.trustedRoot;
    o.check = (bundle) => selfCheck.checkAgainstTrustedRoot(bundle as Parameters<typeof selfCheck.checkAgainstTrustedRoot>[0], root, trustedRoot);
  }
  return o;
}
