/**
 * The bundled Action (action/dist/index.js, as committed) run end to end the way the runner
 * starts it: a node process with INPUT_* and GITHUB_* variables, against a loopback GitHub
 * REST API that checks every request against GitHub's OpenAPI description, the loopback
 * Sigstore stack, and its GitHub-Actions-style OIDC token endpoint.
 */
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from './helpers/cli.js';
import { type GitHubFake, startGitHubFake } from './helpers/github-fake.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const ACTION = join(REPO, 'action', 'dist', 'index.js');
const GITHUB_TOKEN = 'ghs_fakeTokenThatMustNeverBePrinted0123456789';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let publisherPub: string;
let publisherKey: string;

interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** GITHUB_OUTPUT is `name<<DELIM\nvalue\nDELIM` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

async function runAction(opts: { workspace: string; event: string; payload: unknown; ref?: string; inputs: Record<string, string>; gh: GitHubFake }): Promise<ActionRun> {
  const runDir = await mkdirTemp(opts.workspace, '.runner');
  const eventPath = join(runDir, 'event.json');
  const outputPath = join(runDir, 'output');
  const summaryPath = join(runDir, 'summary.md');
  await writeFile(eventPath, JSON.stringify(opts.payload));
  await writeFile(outputPath, '');
  await writeFile(summaryPath, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NO_PROXY: '127.0.0.1,localhost',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: opts.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${opts.gh.owner}/${opts.gh.repo}`,
    GITHUB_API_URL: opts.gh.apiUrl,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_REF: opts.ref ?? '',
    RUNNER_TEMP: runDir,
    ...stack.githubActionsEnv({ sub: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.0.0' }),
    'INPUT_GITHUB-TOKEN': GITHUB_TOKEN,
  };
  for (const [k, v] of Object.entries(opts.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [ACTION], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
  // `::add-mask::` lines are how a step asks the runner to hide a value; the runner consumes them.
  const stdout = res.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  return { ...res, stdout, outputs: parseOutputs(await readFile(outputPath, 'utf8')), summary: await readFile(summaryPath, 'utf8') };
}

async function mkdirTemp(base: string, name: string): Promise<string> {
  const d = join(base, name);
  await mkdir(d, { recursive: true });
  return d;
}

async function write(path: string, data: string) {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
}

/** An agent repository: npm packages, one plugin, an MCP config; `unpinned` adds an unpinned MCP server. */
async function workspace(name: string, opts: { unpinned?: boolean } = {}): Promise<string> {
  const dir = join(tmp.dir, name);
  const integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
  await write(join(dir, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0', dependencies: { left: '1.0.0' } }));
  await write(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      name: 'agent',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'agent', version: '1.0.0', dependencies: { left: '1.0.0' } }, 'node_modules/left': { version: '1.0.0', integrity } },
    }),
  );
  const servers: Record<string, unknown> = { fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '.'] } };
  if (opts.unpinned) servers.memory = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@latest'] };
  await write(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: servers }, null, 2));
  await write(join(dir, 'plugins', 'tools', 'package.json'), JSON.stringify({ name: 'tools', version: '2.0.0' }));
  await write(join(dir, 'plugins', 'tools', 'index.js'), 'export const tool = () => 1;\n');
  const s = await runCli(['sign', join(dir, 'plugins', 'tools'), '--key', publisherKey], { env: { SIGSTORE_ID_TOKEN: undefined } });
  expect(s.code, s.stderr).toBe(0);
  await write(join(dir, 'aibom-policy.yaml'), `version: 1\npublishers:\n  - match: tools\n    key: ${publisherPub}\n`);
  await write(join(dir, 'dist', 'agent-1.0.0.tgz'), 'the release tarball');
  return dir;
}

const releaseInputs = () => ({
  'signing-config': stack.signingConfigPath,
  subjects: 'dist/*.tgz',
  policy: 'aibom-policy.yaml',
});

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-action-');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  publisherKey = join(tmp.dir, 'publisher.pem');
  publisherPub = join(tmp.dir, 'publisher.pub');
  await writeFile(publisherKey, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publisherPub, k.publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

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

  it('missing provenance: the evidence is uploaded, then the step fails with annotations', async () => {
    const ws = await workspace('release-bad', { unpinned: true });
    const release = gh.addRelease('v3.0.0');
    const run = await runAction({
      workspace: ws,
      event: 'push',
      ref: 'refs/tags/v3.0.0',
      payload: { ref: 'refs/tags/v3.0.0' },
      inputs: releaseInputs(),
      gh,
    });
    expect(run.code).toBe(1);
    expect(release.assets.map((a) => a.name)).toContain('aibom.cdx.json');
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

describe('the aibom Action (bundled) on a pull request', () => {
  it('builds and gates with a summary, and neither signs nor uploads', async () => {
    const gh = await startGitHubFake();
    try {
      const ws = await workspace('pr', { unpinned: true });
      const before = { ...stack.requests };
      const run = await runAction({ workspace: ws, event: 'pull_request', payload: { action: 'opened', number: 7 }, inputs: releaseInputs(), gh });
      expect(run.code).toBe(1);
      expect(run.outputs['bom-path']).toBe(join(ws, 'aibom.cdx.json'));
      expect(run.outputs['bundle-path']).toBeUndefined();
      expect(gh.requests).toEqual([]);
      expect(stack.requests.fulcio).toBe(before.fulcio);
      expect(stack.requests.oidc).toBe(before.oidc);
      expect(run.summary).toContain('aibom gate: ❌ failed (1)');
      expect(run.summary).toContain('## AI-BOM inventory');
    } finally {
      await gh.close();
    }
  });
});

describe('the committed Action bundle', () => {
  it('is fresh: rebuilding from the sources gives the same files', async () => {
    const { dir, cleanup } = await tempDir('aibom-action-build-');
    try {
      const r = await new Promise<{ code: number; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(REPO, 'scripts', 'build-action.mjs'), '--out', dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
      expect(r.code, r.out).toBe(0);
      for (const f of ['index.js', 'generated/validators/bom-1.6.cjs', 'generated/validators/bom-1.7.cjs']) {
        const fresh = await readFile(join(dir, f), 'utf8');
        const committed = await readFile(join(REPO, 'action', 'dist', f), 'utf8');
        expect(committed === fresh, `action/dist/${f} is stale: run npm run build:action and commit it`).toBe(true);
      }
    } finally {
      await cleanup();
    }
  });
});
