/**
 * The bundled Action (action/dist/index.js, as committed) run the way the runner starts it, against a
 * loopback GitHub REST API checked against GitHub's OpenAPI description and the loopback Sigstore
 * stack (the harness: test/helpers/action-harness.ts). This file: releases and tag pushes: signing, attesting, uploading, re-runs, API errors.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { type GitHubFake, startGitHubFake } from './helpers/github-fake.js';
import { GITHUB_TOKEN, releaseInputs, runAction, stack, useActionHarness, workspace } from './helpers/action-harness.js';

useActionHarness();

describe('the aibom Action (bundled) on a release', () => {
  let gh: GitHubFake;
  beforeAll(async () => {
    gh = await startGitHubFake();
  });
  afterAll(() => gh?.close());

  it('with everything signed: builds, signs, attests, uploads, stores the attestation and passes', async () => {
    const ws = await workspace('release-ok');
    const release = gh.addRelease('v1.0.0');
    const run = await runAction({
      workspace: ws,
      event: 'release',
      payload: { action: 'published', release: { tag_name: 'v1.0.0', id: release.id } },
      inputs: { ...releaseInputs(), attest: 'true' },
      gh,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('::error');
    expect(gh.violations).toEqual([]);
    expect(release.assets.map((a) => a.name).sort()).toEqual(['aibom.cdx.intoto.sigstore.json', 'aibom.cdx.json', 'aibom.cdx.json.sigstore.json']);
    const bomAsset = release.assets.find((a) => a.name === 'aibom.cdx.json')!;
    expect(JSON.parse(bomAsset.data.toString()).bomFormat).toBe('CycloneDX');
    expect(run.outputs.verdict).toBe('pass');
    expect(run.outputs['findings-count']).toBe('0');
    expect(run.outputs['bom-path']).toBe(join(ws, 'aibom.cdx.json'));
    expect(run.outputs['bundle-path']).toBe(join(ws, 'aibom.cdx.json.sigstore.json'));
    expect(run.outputs['attestation-path']).toBe(join(ws, 'aibom.cdx.intoto.sigstore.json'));
    expect(Number(run.outputs['attestation-id'])).toBeGreaterThan(0);
    expect(gh.attestations).toHaveLength(1);
    expect(run.summary).toContain('aibom gate: ✅ passed');
    // The uploaded bundle verifies for the BOM with the workflow identity (anchored).
    const v = await runCli([
      'verify',
      join(ws, 'aibom.cdx.json'),
      '--bundle',
      join(ws, 'aibom.cdx.json.sigstore.json'),
      '--trusted-root',
      stack.trustedRootPath,
      '--certificate-identity-regexp',
      'https://github.com/acme/agent/\\.github/workflows/release\\.yml@refs/tags/v.*',
      '--certificate-oidc-issuer',
      stack.urls.oidc,
    ]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    // The attestation names the release artifact.
    const att = JSON.parse(await readFile(join(ws, 'aibom.cdx.intoto.sigstore.json'), 'utf8'));
    const statement = JSON.parse(Buffer.from(att.dsseEnvelope.payload, 'base64').toString());
    expect(statement.predicateType).toBe('https://cyclonedx.org/bom');
    expect(statement.subject.map((s: { name: string }) => s.name)).toEqual(['dist/agent-1.0.0.tgz']);
    // Secrets never reach the log or the files written.
    for (const secret of [GITHUB_TOKEN, stack.actionsRequestToken]) {
      expect(run.stdout + run.stderr + run.summary).not.toContain(secret);
      for (const f of await readdir(ws)) if (f.endsWith('.json')) expect(await readFile(join(ws, f), 'utf8')).not.toContain(secret);
    }
    for (const r of gh.requests) expect(r.authorization).toBe(`token ${GITHUB_TOKEN}`);
  });

  it('a re-run on the same release replaces the assets instead of duplicating them', async () => {
    const ws = await workspace('release-rerun');
    const release = gh.addRelease('v2.0.0');
    const payload = { action: 'published', release: { tag_name: 'v2.0.0', id: release.id } };
    const first = await runAction({ workspace: ws, event: 'release', payload, inputs: releaseInputs(), gh });
    expect(first.code, first.stdout).toBe(0);
    const ids = release.assets.map((a) => a.id);
    const second = await runAction({ workspace: ws, event: 'release', payload, inputs: releaseInputs(), gh });
    expect(second.code, second.stdout).toBe(0);
    expect(release.assets).toHaveLength(3);
    expect(release.assets.map((a) => a.id).some((id) => ids.includes(id))).toBe(false);
    expect(second.stdout).toContain('replaced release asset aibom.cdx.json');
    expect(gh.requests.filter((r) => r.operation === 'repos/delete-release-asset').length).toBeGreaterThanOrEqual(3);
    expect(gh.violations).toEqual([]);
  });

  it('a tag push signs by default; missing provenance: the evidence is uploaded, then the step fails with annotations', async () => {
    const ws = await workspace('release-bad', { unpinned: true });
    const release = gh.addRelease('v3.0.0');
    const before = { ...stack.requests };
    const run = await runAction({
      workspace: ws,
      event: 'push',
      ref: 'refs/tags/v3.0.0',
      payload: { ref: 'refs/tags/v3.0.0' },
      inputs: releaseInputs(),
      gh,
    });
    expect(run.code).toBe(1);
    expect(stack.requests.fulcio).toBeGreaterThan(before.fulcio);
    expect(run.outputs['bundle-path']).toBe(join(ws, 'aibom.cdx.json.sigstore.json'));
    expect(release.assets.map((a) => a.name).sort()).toEqual(['aibom.cdx.intoto.sigstore.json', 'aibom.cdx.json', 'aibom.cdx.json.sigstore.json']);
    // The annotation points at the MCP config line (`:` is escaped as %3A in properties).
    expect(run.stdout).toMatch(/^::error title=aibom mcp-pinned%3A @modelcontextprotocol\/server-memory,file=\.mcp\.json,line=\d+::MCP server is not pinned/m);
    expect(run.stdout).toContain('::error::aibom gate: 1 provenance failure');
    expect(run.outputs.verdict).toBe('fail');
    expect(run.outputs['findings-count']).toBe('1');
    expect(run.summary).toContain('`mcp-pinned`');
    expect(gh.violations).toEqual([]);
  });

  it('a 403 from the API is a clear error naming the missing permission', async () => {
    const ws = await workspace('release-403');
    gh.addRelease('v4.0.0');
    gh.failWith.set('repos/list-release-assets', 403);
    try {
      const run = await runAction({ workspace: ws, event: 'release', payload: { action: 'published', release: { tag_name: 'v4.0.0' } }, inputs: releaseInputs(), gh });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/::error::aibom: listing the assets of release v4\.0\.0: GitHub answered 403 .*permissions: contents: write/);
      expect(run.stdout + run.stderr).not.toContain(GITHUB_TOKEN);
    } finally {
      gh.failWith.clear();
    }
  });
});
