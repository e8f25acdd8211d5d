/**
 * Shared helpers of the sign-* tests: a clean environment for the CLI (no ambient identity
 * from the machine running the tests), reading bundles, verifying them with @sigstore/verify
 * against the loopback stack's trusted root, and scanning a folder for a leaked secret.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type Signer, toSignedEntity, toTrustMaterial, type VerificationPolicy, Verifier } from '@sigstore/verify';
import type { SigstoreStack } from './sigstore-stack.js';

/** Environment for CLI subprocesses: no identity leaks in from the host, loopback never proxied. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    SIGSTORE_ID_TOKEN: undefined,
    ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
    AIBOM_KEY_PASSWORD: undefined,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...extra,
  };
}

export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** Verify a bundle file with @sigstore/verify against the stack's trusted root (keyless). */
export async function verifyKeyless(
  stack: SigstoreStack,
  bundlePath: string,
  artifact?: Buffer,
  policy?: VerificationPolicy,
): Promise<Signer> {
  const root = TrustedRoot.fromJSON(JSON.parse(await readFile(stack.trustedRootPath, 'utf8')));
  const verifier = new Verifier(toTrustMaterial(root));
  return verifier.verify(toSignedEntity(bundleFromJSON(await readJson(bundlePath)), artifact), policy);
}

/** Every file under dir whose bytes contain needle. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await readFile(p)).includes(needle)) hits.push(p);
    }
  };
  await walk(dir);
  return hits;
}

/** The decoded in-toto statement of a DSSE bundle. */
export function statementOf(bundle: any): any {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}
