/**
 * The self-check after signing (`--trusted-root` on sign/attest) runs @sigstore/verify 4's
 * checks over what the services returned: a bundle whose log entries repeat one entry (so one
 * entry would count twice toward the log threshold) is refused, as current verifiers refuse it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTrustedRoot } from '../src/signature/self-check.js';
import { tempDir } from './helpers/cli.js';
import { makeKeylessBundles } from './helpers/keyless-bundles.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir();
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

describe('self-check after signing', () => {
  it('accepts the bundle the services returned, refuses one whose log entry is repeated', async () => {
    for (const dsse of [false, true]) {
      const out = await makeKeylessBundles(stack, { dir: join(tmp.dir, dsse ? 'dsse' : 'msg'), count: 1, tsa: true, dsse });
      const entry = out.entries[0]!;
      const bundle = JSON.parse(await readFile(entry.bundle, 'utf8'));
      const root = TrustedRoot.fromJSON(JSON.parse(await readFile(stack.trustedRootPath, 'utf8')));
      const artifact = dsse ? undefined : await readFile(entry.artifact);
      expect(() => checkAgainstTrustedRoot(bundle, root, entry.bundle, artifact)).not.toThrow();
      const twice = structuredClone(bundle);
      twice.verificationMaterial.tlogEntries.push(structuredClone(twice.verificationMaterial.tlogEntries[0]));
      expect(() => checkAgainstTrustedRoot(twice, root, entry.bundle, artifact)).toThrow(/duplicate (tlog entry|timestamp)\b.*no bundle written/);
      // A repeated entry that claims another index is still the same entry.
      const reindexed = structuredClone(twice);
      reindexed.verificationMaterial.tlogEntries[1].logIndex = String(Number(reindexed.verificationMaterial.tlogEntries[1].logIndex) + 7);
      expect(() => checkAgainstTrustedRoot(reindexed, root, entry.bundle, artifact)).toThrow(/duplicate (tlog entry|timestamp)\b/);
    }
  });
});
