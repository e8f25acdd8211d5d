/**
 * Private-instance Rekor checkpoints: the checkpoint's key name (its origin) is the one the
 * trusted root names for that log, or, when the trusted root names none, the log is identified
 * by its checkpoint key ID and key (signed-note spec), not by whether its URL spells the origin.
 * Shapes made on the loopback stack, whose log signs checkpoints as `127.0.0.1:<port>`; the
 * trusted root is rewritten as a private instance's would be (another URL for the same log).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifySession } from '../src/verification/run.js';
import { tempDir } from './helpers/cli.js';
import { type KeylessBundles, makeKeylessBundles } from './helpers/keyless-bundles.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let made: KeylessBundles;
let origin: string;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir();
  made = await makeKeylessBundles(stack, { dir: join(tmp.dir, 'b'), count: 1 });
  const b = JSON.parse(await readFile(made.entries[0]!.bundle, 'utf8'));
  const envelope: string = b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope;
  origin = /\n\n\u2014 (\S+) /.exec(envelope)![1]!;
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

async function rootWithBaseUrl(baseUrl: string): Promise<string> {
  const root = structuredClone(stack.trustedRoot) as { tlogs: Array<{ baseUrl: string }> };
  root.tlogs[0]!.baseUrl = baseUrl;
  const p = join(tmp.dir, `root-${Buffer.from(baseUrl).toString('hex').slice(0, 40)}.json`);
  await writeFile(p, JSON.stringify(root));
  return p;
}

async function verifyWith(trustedRoot: string) {
  const e = made.entries[0]!;
  return new VerifySession({}).verify({
    target: e.artifact,
    bundle: e.bundle,
    certificateIdentity: made.identity,
    certificateOidcIssuer: made.issuer,
    trustedRoot,
  });
}

describe('checkpoint origins of private instances', () => {
  it('the log is identified by its checkpoint key, not by a URL that spells its origin', async () => {
    expect(origin).toMatch(/^127\.0\.0\.1:\d+$/);
    const root = await rootWithBaseUrl('https://rekor.private-instance.example');
    // @sigstore/verify alone refuses it (its name check is a substring of the URL) ...
    const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(await readFile(root, 'utf8'))));
    const bundle = bundleFromJSON(JSON.parse(await readFile(made.entries[0]!.bundle, 'utf8')));
    const entity = toSignedEntity(bundle, await readFile(made.entries[0]!.artifact));
    expect(() => new Verifier(material).verify(entity)).toThrow(/checkpoint/);
    expect(() => new Verifier(toTrustMaterial(TrustedRoot.fromJSON(stack.trustedRoot))).verify(entity)).not.toThrow();
    // ... aibom follows the checkpoint spec.
    const r = await verifyWith(root);
    expect(r.error).toBeUndefined();
    expect(r.verified).toBe(true);
  });

  it('an origin the trusted root names (a scheme-less base URL) must be the checkpoint key name', async () => {
    expect((await verifyWith(await rootWithBaseUrl(origin))).verified).toBe(true);
    const other = await verifyWith(await rootWithBaseUrl('rekor.another-origin.example'));
    expect(other.verified).toBe(false);
    expect(other.reason).toBe('untrusted');
    expect(other.error).toMatch(/checkpoint/);
  });

  it('a checkpoint signed by a key the trusted root does not hold is still refused', async () => {
    const root = structuredClone(stack.trustedRoot) as { tlogs: Array<{ baseUrl: string; publicKey: { rawBytes: string } }> };
    const { generateKeyPairSync } = await import('node:crypto');
    root.tlogs[0]!.publicKey.rawBytes = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    root.tlogs[0]!.baseUrl = 'https://rekor.private-instance.example';
    const p = join(tmp.dir, 'root-other-key.json');
    await writeFile(p, JSON.stringify(root));
    const r = await verifyWith(p);
    expect(r.verified).toBe(false);
    expect(r.reason).toBe('untrusted');
  });
});
