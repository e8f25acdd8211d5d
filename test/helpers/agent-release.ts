/**
 * Releases of an agent for the start-up check tests, made the way a release workflow makes
 * them, through the CLI: plugin publishers sign their plugin folders (`aibom sign DIR --key`),
 * the release builds the BOM pinning the publishers (`aibom build --publisher-key`) and signs
 * it (`aibom sign BOM --key`, or keyless through the loopback Sigstore stack).
 */
import { generateKeyPairSync } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type CliResult, REPO, runCli } from './cli.js';

export const EXAMPLE_AGENT = join(REPO, 'examples', 'agent');

export interface KeyFiles {
  /** PKCS#8 PEM private key. */
  priv: string;
  /** SPKI PEM public key. */
  pub: string;
}

/** A fresh ECDSA P-256 key pair written as name.pem / name.pub in dir. */
export async function makeKey(dir: string, name: string): Promise<KeyFiles> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub`);
  await writeFile(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

/** Copy a folder tree as is (links stay links). */
export async function copyTree(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
}

export function ok(r: CliResult, what: string): CliResult {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** Sign a plugin folder with a publisher key (writes DIR/model.sig). */
export async function signPlugin(dir: string, key: KeyFiles, env: Record<string, string | undefined>): Promise<void> {
  ok(await runCli(['sign', dir, '--key', key.priv], { env }), `sign ${dir}`);
}

/** Build DIR/aibom.cdx.json with extra build flags. */
export async function buildBom(dir: string, flags: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return ok(await runCli(['build', dir, '-o', join(dir, 'aibom.cdx.json'), ...flags], { env }), `build ${dir}`);
}

/** Sign DIR/aibom.cdx.json with the release key (writes aibom.cdx.json.sigstore.json). */
export async function signBom(dir: string, key: KeyFiles, env: Record<string, string | undefined>): Promise<void> {
  ok(await runCli(['sign', join(dir, 'aibom.cdx.json'), '--key', key.priv, '--no-tlog-upload'], { env }), 'sign the BOM');
}
