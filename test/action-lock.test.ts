/**
 * The bundled Action (action/dist/index.js, as committed) run the way the runner starts it, against a
 * loopback GitHub REST API checked against GitHub's OpenAPI description and the loopback Sigstore
 * stack (the harness: test/helpers/action-harness.ts). This file: the committed provenance lock and the signed verdict (VSA).
 */
import { createHash, createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { type GitHubFake, startGitHubFake } from './helpers/github-fake.js';
import { publisherPub, releaseInputs, runAction, stack, useActionHarness, workspace } from './helpers/action-harness.js';

useActionHarness();

describe('the aibom Action (bundled): provenance lock and signed verdict', () => {
  let gh: GitHubFake;
  beforeAll(async () => {
    gh = await startGitHubFake();
  });
  afterAll(() => gh?.close());

  it('checks the committed lock (frozen) and uploads the signed VSA: PASSED when the lock holds, FAILED with provenance-drift when it does not', async () => {
    const ws = await workspace('release-lock');
    const fp = createHash('sha256').update(createPublicKey(await readFile(publisherPub, 'utf8')).export({ type: 'spki', format: 'der' })).digest('hex');
    const lock = { lockVersion: 1, components: { 'plugin:tools': { kind: 'plugin', signer: `key sha256:${fp}` } } };
    await writeFile(join(ws, 'aibom.lock.json'), JSON.stringify(lock));
    const release = gh.addRelease('v5.0.0');
    const payload = { action: 'published', release: { tag_name: 'v5.0.0', id: release.id } };
    const inputs = { ...releaseInputs(), 'provenance-lock': 'aibom.lock.json', vsa: 'true' };
    const ok = await runAction({ workspace: ws, event: 'release', payload, inputs, gh });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(release.assets.map((a) => a.name).sort()).toEqual(['aibom.cdx.intoto.sigstore.json', 'aibom.cdx.json', 'aibom.cdx.json.sigstore.json', 'aibom.cdx.vsa.sigstore.json']);
    expect(ok.outputs['vsa-path']).toBe(join(ws, 'aibom.cdx.vsa.sigstore.json'));
    const v = await runCli([
      'verify',
      join(ws, 'aibom.cdx.json'),
      '--bundle',
      join(ws, 'aibom.cdx.vsa.sigstore.json'),
      '--trusted-root',
      stack.trustedRootPath,
      '--certificate-identity',
      'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.0.0',
      '--certificate-oidc-issuer',
      stack.urls.oidc,
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('SLSA VSA PASSED');
    // The lock is never rewritten in CI.
    expect(JSON.parse(await readFile(join(ws, 'aibom.lock.json'), 'utf8'))).toEqual(lock);
    // A lock that pins another publisher key: drift, the step fails, the FAILED verdict is uploaded.
    await writeFile(join(ws, 'aibom.lock.json'), JSON.stringify({ lockVersion: 1, components: { 'plugin:tools': { kind: 'plugin', signer: `key sha256:${'0'.repeat(64)}` } } }));
    const bad = await runAction({ workspace: ws, event: 'release', payload, inputs, gh });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error title=aibom provenance-drift%3A plugin%3Atools::provenance changed since the lock: signer "key sha256:0+" → "key sha256:[0-9a-f]{64}"/);
    const vsa = JSON.parse(await readFile(join(ws, 'aibom.cdx.vsa.sigstore.json'), 'utf8'));
    expect(JSON.parse(Buffer.from(vsa.dsseEnvelope.payload, 'base64').toString()).predicate.verificationResult).toBe('FAILED');
    expect(gh.violations).toEqual([]);
  });
});
