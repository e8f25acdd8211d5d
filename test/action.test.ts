/**
 * The bundled Action (action/dist/index.js, as committed) run end to end the way the runner
 * starts it: a node process with INPUT_* and GITHUB_* variables, against a loopback GitHub
 * REST API that checks every request against GitHub's OpenAPI description, the loopback
 * Sigstore stack, and its GitHub-Actions-style OIDC token endpoint.
 */
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO, runCli, tempDir } from './helpers/cli.js';
import { type GitHubFake, startGitHubFake } from './helpers/github-fake.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const ACTION = join(REPO, 'action', 'dist', 'index.js');
const GITHUB_TOKEN = 'ghs_fakeTokenThatMustNeverBePrinted0123456789';

interface ActionInput {
  description: string;
  required?: boolean;
  default?: string;
}
interface ActionMetadata {
  inputs: Record<string, ActionInput>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

/** action.yml read as GitHub's runner reads it: strict YAML 1.2, duplicate keys refused. */
async function actionMetadata(): Promise<ActionMetadata> {
  return parseYaml(await readFile(join(REPO, 'action.yml'), 'utf8'), { strict: true, uniqueKeys: true, prettyErrors: true }) as ActionMetadata;
}

/** The runner's variable for an input: `INPUT_` + the name upper-cased, spaces as `_`, hyphens kept. */
function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let publisherPub: string;
let publisherKey: string;
let meta: ActionMetadata;

interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  runnerTemp: string;
  /** The values the step asked the runner to mask (`::add-mask::`). */
  masked: string[];
}

/** GITHUB_OUTPUT is `name<<DELIM\nvalue\nDELIM` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

interface RunOptions {
  workspace: string;
  event: string;
  payload: unknown;
  ref?: string;
  /** The step's `with:` (only declared inputs; the runner fills in the defaults of the others). */
  inputs: Record<string, string>;
  gh: GitHubFake;
  /** The job has `permissions: id-token: write` (the runner then sets ACTIONS_ID_TOKEN_REQUEST_*). Default true. */
  idToken?: boolean;
}

/**
 * Start the bundle as the runner does for `runs.using: node24`: a node process in the workspace,
 * one INPUT_ variable for every declared input (the step's value, else the default from
 * action.yml, `${{ github.token }}` evaluated), and the GITHUB_ / RUNNER_ variables and files.
 */
async function runAction(opts: RunOptions): Promise<ActionRun> {
  const runnerTemp = join(tmp.dir, `runner-${Math.random().toString(36).slice(2)}`);
  const files = join(runnerTemp, '_runner_file_commands');
  await mkdir(files, { recursive: true });
  const eventPath = join(runnerTemp, 'event.json');
  const outputPath = join(files, 'set_output');
  const summaryPath = join(files, 'step_summary');
  await writeFile(eventPath, JSON.stringify(opts.payload));
  for (const f of ['set_output', 'step_summary', 'set_env', 'add_path', 'save_state']) await writeFile(join(files, f), '');
  const ref = opts.ref ?? '';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NO_PROXY: '127.0.0.1,localhost',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: '__acme_aibom',
    GITHUB_ACTION_PATH: REPO,
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: opts.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${opts.gh.owner}/${opts.gh.repo}`,
    GITHUB_API_URL: opts.gh.apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_ENV: join(files, 'set_env'),
    GITHUB_PATH: join(files, 'add_path'),
    GITHUB_STATE: join(files, 'save_state'),
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '1',
    GITHUB_WORKFLOW: 'release',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: runnerTemp,
    ...(opts.idToken === false ? {} : stack.githubActionsEnv({ sub: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.0.0' })),
  };
  for (const name of Object.keys(opts.inputs)) {
    if (!(name in meta.inputs)) throw new Error(`test bug: input ${name} is not declared in action.yml`);
  }
  for (const [name, decl] of Object.entries(meta.inputs)) {
    const value = opts.inputs[name] ?? String(decl.default ?? '');
    env[inputVariable(name)] = value.replace(/\$\{\{\s*github\.token\s*\}\}/g, GITHUB_TOKEN);
  }
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
  const masked = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => l.slice('::add-mask::'.length));
  const run = { ...res, stdout, masked, outputs: parseOutputs(await readFile(outputPath, 'utf8')), summary: await readFile(summaryPath, 'utf8'), runnerTemp };
  // The key the Action wrote for the step is gone afterwards.
  expect((await readdir(runnerTemp)).filter((f) => f.startsWith('aibom-key-'))).toEqual([]);
  return run;
}

/** The step's error lines (`::error::…`), as the runner shows them. */
function errors(run: ActionRun): string {
  return run.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .join('\n');
}

async function write(path: string, data: string) {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
}

let pluginTemplate: Promise<string> | undefined;
/**
 * The `tools` plugin, signed once by the publisher (`aibom sign DIR --key`), copied into each
 * workspace. One signing however many tests ask at once (they run side by side).
 */
function signedPlugin(): Promise<string> {
  pluginTemplate ??= (async () => {
    const dir = join(tmp.dir, 'plugin-template', 'tools');
    await write(join(dir, 'package.json'), JSON.stringify({ name: 'tools', version: '2.0.0' }));
    await write(join(dir, 'index.js'), 'export const tool = () => 1;\n');
    const s = await runCli(['sign', dir, '--key', publisherKey], { env: { SIGSTORE_ID_TOKEN: undefined } });
    expect(s.code, s.stderr).toBe(0);
    return dir;
  })();
  return pluginTemplate;
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
  await cp(await signedPlugin(), join(dir, 'plugins', 'tools'), { recursive: true });
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
  meta = await actionMetadata();
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

describe('action.yml, as GitHub reads it', () => {
  it('is strict YAML 1.2 with unique keys, running the committed bundle on node24', async () => {
    expect(meta.runs).toEqual({ using: 'node24', main: 'action/dist/index.js' });
    expect(join(REPO, meta.runs.main)).toBe(ACTION);
    for (const [name, decl] of Object.entries(meta.inputs)) {
      expect(typeof decl.description, name).toBe('string');
      // A description with an unquoted `: ` would have been a mapping, or a parse error, above.
      if (decl.default !== undefined) expect(typeof decl.default, `${name}: the runner passes defaults as strings`).toBe('string');
    }
  });

  it("passes GitHub's own action parser (@actions/workflow-parser), which refuses what the runner refuses", async () => {
    // The package imports its JSON schemas without import attributes (it is meant to be
    // bundled, as GitHub's tools do): bundle it, then load it.
    const bundle = join(tmp.dir, 'workflow-parser.mjs');
    await build({
      stdin: {
        contents: "export { NoOperationTraceWriter } from '@actions/workflow-parser';\nexport { parseAction, convertActionTemplate } from '@actions/workflow-parser/actions/index';\n",
        resolveDir: REPO,
      },
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      logLevel: 'error',
    });
    const { NoOperationTraceWriter, parseAction, convertActionTemplate } = (await import(pathToFileURL(bundle).href)) as typeof import('@actions/workflow-parser') &
      typeof import('@actions/workflow-parser/actions/index');
    const parse = (content: string) => {
      const result = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
      const template = result.value ? convertActionTemplate(result.context, result.value) : undefined;
      return { errors: result.context.errors.getErrors().map((e) => e.message), template };
    };
    const text = await readFile(join(REPO, 'action.yml'), 'utf8');
    const ours = parse(text);
    expect(ours.errors).toEqual([]);
    expect(ours.template?.runs).toEqual({ using: 'node24', main: 'action/dist/index.js' });
    expect(ours.template?.inputs?.map((i) => i.id).sort()).toEqual(Object.keys(meta.inputs).sort());
    expect(ours.template?.outputs?.map((o) => o.id).sort()).toEqual(Object.keys(meta.outputs).sort());
    // The same parser refuses the defect this file once had, and a runtime the runner lacks.
    const colon = parse(text.replace("description: 'Folder to scan (relative to the workspace).'", 'description: Folder to scan, permissions: id-token: write'));
    expect(colon.errors.join('\n')).toMatch(/mapping values|Nested mappings/i);
    const runtime = parse(text.replace(/^ {2}using: node24$/m, '  using: node25'));
    expect(runtime.errors.join('\n')).toMatch(/node25/);
  });

  it('passes @action-validator/cli against the action metadata schema', async () => {
    const validate = (file: string) =>
      new Promise<{ code: number; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [join(REPO, 'node_modules', '@action-validator', 'cli', 'cli.mjs'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
    const text = await readFile(join(REPO, 'action.yml'), 'utf8');
    const asIs = await validate(join(REPO, 'action.yml'));
    if (asIs.code !== 0) {
      // action-validator 0.6.0 (the newest) embeds a schema whose runs.using enum ends at node20,
      // from before GitHub's runners took node24: that, and only that, may be refused.
      const result = JSON.parse(asIs.out) as { errors: Array<{ code: string; path?: string; states?: Array<{ errors: Array<{ code: string; path: string }> }> }> };
      expect(result.errors, asIs.out).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({ code: 'one_of', path: '/runs' });
      expect(result.errors[0]!.states![0]!.errors, asIs.out).toEqual([expect.objectContaining({ code: 'enum', path: '/runs/using' })]);
      // Everything else in the file is checked: the same metadata with a runtime the schema knows passes.
      const dir = join(tmp.dir, 'validator');
      await mkdir(dir, { recursive: true });
      expect(text.match(/^ {2}using: node24$/gm)).toHaveLength(1);
      await writeFile(join(dir, 'action.yml'), text.replace(/^ {2}using: node24$/m, '  using: node20'));
      const other = await validate(join(dir, 'action.yml'));
      expect(other.code, other.out).toBe(0);
    }
    // And the validator does refuse the defect this file once had (an unquoted `: ` in a description).
    const dir = join(tmp.dir, 'validator-bad');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'action.yml'), text.replace("description: 'Folder to scan (relative to the workspace).'", 'description: Folder to scan, permissions: id-token: write'));
    const bad = await validate(join(dir, 'action.yml'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('parse_error');
  });

  it('declares exactly the inputs the code reads, and the code reads them only through action/src/inputs.ts', async () => {
    const srcDir = join(REPO, 'action', 'src');
    const read = new Set<string>();
    for (const f of await readdir(srcDir)) {
      const text = await readFile(join(srcDir, f), 'utf8');
      if (f === 'inputs.ts') {
        for (const m of text.matchAll(/\b(?:input|bool|tristate)\(\s*'([^']+)'/g)) read.add(m[1]!);
        // The one place that asks @actions/core.
        expect(text.match(/core\.get\w*Input\(/g)).toEqual(['core.getInput(']);
        expect(text).toMatch(/function input\(name: string\): string \{\n\s+return core\.getInput\(name\);/);
      } else {
        expect(text, f).not.toMatch(/get\w*Input\(|INPUT_|\binput\(/);
      }
    }
    expect([...read].sort()).toEqual(Object.keys(meta.inputs).sort());
    // Every output the code sets is declared, and every declared output is set somewhere.
    const main = await readFile(join(srcDir, 'main.ts'), 'utf8');
    const set = new Set([...main.matchAll(/core\.setOutput\('([^']+)'/g)].map((m) => m[1]!));
    expect([...set].sort()).toEqual(Object.keys(meta.outputs).sort());
  });

  it("the runner's variable names are the ones @actions/core reads (hyphens kept, spaces as _)", async () => {
    const core = await import('@actions/core');
    const names = ['github-token', 'fail on missing-provenance'];
    try {
      for (const n of names) process.env[inputVariable(n)] = `value of ${n}`;
      expect(inputVariable('github-token')).toBe('INPUT_GITHUB-TOKEN');
      for (const n of names) expect(core.getInput(n)).toBe(`value of ${n}`);
    } finally {
      for (const n of names) delete process.env[inputVariable(n)];
    }
  });
});

/**
 * Release runs wait on the GitHub API more than they compute (octokit spaces writes a second
 * apart, as GitHub asks): they run side by side, each with its own GitHub fake.
 */
describe.concurrent('the aibom Action (bundled) on a release, with the provenance lock and the signed verdict', () => {
  const gitHub = async (onTestFinished: (fn: () => Promise<void>) => void): Promise<GitHubFake> => {
    const gh = await startGitHubFake();
    onTestFinished(() => gh.close());
    return gh;
  };
  const lockInputs = () => ({ ...releaseInputs(), 'provenance-lock': 'aibom.lock.json', vsa: 'true' });

  it('with everything signed: builds, signs, attests, uploads, stores the attestation and passes', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
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

  it('a re-run on the same release replaces the assets instead of duplicating them', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
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

  it('a tag push signs by default; missing provenance: the evidence is uploaded, then the step fails with annotations', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
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

  it('a 403 from the API is a clear error naming the missing permission', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
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

  it('checks the committed lock (frozen) and uploads the signed VSA: PASSED when the lock holds', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
    const ws = await workspace('release-lock');
    const fp = createHash('sha256').update(createPublicKey(await readFile(publisherPub, 'utf8')).export({ type: 'spki', format: 'der' })).digest('hex');
    const lock = { lockVersion: 1, components: { 'plugin:tools': { kind: 'plugin', signer: `key sha256:${fp}` } } };
    await writeFile(join(ws, 'aibom.lock.json'), JSON.stringify(lock));
    const release = gh.addRelease('v5.0.0');
    const payload = { action: 'published', release: { tag_name: 'v5.0.0', id: release.id } };
    const ok = await runAction({ workspace: ws, event: 'release', payload, inputs: lockInputs(), gh });
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
    expect(gh.violations).toEqual([]);
  });

  it('a committed lock that pins another publisher key: provenance-drift, the step fails, the FAILED verdict is uploaded', async ({ onTestFinished }) => {
    const gh = await gitHub(onTestFinished);
    const ws = await workspace('release-lock-drift');
    await writeFile(join(ws, 'aibom.lock.json'), JSON.stringify({ lockVersion: 1, components: { 'plugin:tools': { kind: 'plugin', signer: `key sha256:${'0'.repeat(64)}` } } }));
    const release = gh.addRelease('v5.1.0');
    const payload = { action: 'published', release: { tag_name: 'v5.1.0', id: release.id } };
    const bad = await runAction({ workspace: ws, event: 'release', payload, inputs: lockInputs(), gh });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error title=aibom provenance-drift%3A plugin%3Atools::provenance changed since the lock: signer "key sha256:0+" → "key sha256:[0-9a-f]{64}"/);
    const vsa = JSON.parse(await readFile(join(ws, 'aibom.cdx.vsa.sigstore.json'), 'utf8'));
    expect(JSON.parse(Buffer.from(vsa.dsseEnvelope.payload, 'base64').toString()).predicate.verificationResult).toBe('FAILED');
    expect(release.assets.map((a) => a.name)).toContain('aibom.cdx.vsa.sigstore.json');
    expect(gh.violations).toEqual([]);
  });
});

describe('the aibom Action (bundled) on a pull request', () => {
  it('builds and gates with a summary, and neither signs (not even with `sign: true`) nor uploads', async () => {
    const gh = await startGitHubFake();
    try {
      const ws = await workspace('pr', { unpinned: true });
      const before = { ...stack.requests };
      const run = await runAction({
        workspace: ws,
        event: 'pull_request',
        ref: 'refs/pull/7/merge',
        payload: { action: 'opened', number: 7 },
        inputs: { ...releaseInputs(), sign: 'true', 'upload-release-assets': 'true' },
        gh,
      });
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

describe('the aibom Action (bundled) on a branch push', () => {
  it('builds and gates; neither signs (by default) nor uploads', async () => {
    const gh = await startGitHubFake();
    try {
      const ws = await workspace('branch');
      const before = { ...stack.requests };
      const run = await runAction({ workspace: ws, event: 'push', ref: 'refs/heads/main', payload: { ref: 'refs/heads/main' }, inputs: releaseInputs(), gh });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.outputs.verdict).toBe('pass');
      expect(run.outputs['bundle-path']).toBeUndefined();
      expect(run.stdout).toContain('not signing');
      expect(gh.requests).toEqual([]);
      expect(stack.requests.fulcio).toBe(before.fulcio);
      expect(stack.requests.oidc).toBe(before.oidc);
      // The BOM carries the lock the start-up check needs, as `aibom build --policy` writes it.
      const bom = JSON.parse(await readFile(join(ws, 'aibom.cdx.json'), 'utf8'));
      const rootProps = (bom.metadata.component.properties ?? []) as Array<{ name: string; value: string }>;
      expect(rootProps).toContainEqual({ name: 'aibom:plugin-path', value: 'plugins' });
      const plugin = bom.components.find((c: { name: string }) => c.name === 'tools');
      expect(plugin.properties.map((p: { name: string }) => p.name)).toContain('aibom:publisher:key-fingerprint');
    } finally {
      await gh.close();
    }
  });

  it('with `sign: true` signs (keyless), still uploads nothing', async () => {
    const gh = await startGitHubFake();
    try {
      const ws = await workspace('branch-sign');
      const run = await runAction({ workspace: ws, event: 'push', ref: 'refs/heads/main', payload: { ref: 'refs/heads/main' }, inputs: { ...releaseInputs(), sign: 'true' }, gh });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.outputs['bundle-path']).toBe(join(ws, 'aibom.cdx.json.sigstore.json'));
      expect(gh.requests).toEqual([]);
    } finally {
      await gh.close();
    }
  });
});

describe('the aibom Action (bundled): failures speak of inputs and permissions', () => {
  let gh: GitHubFake;
  beforeAll(async () => {
    gh = await startGitHubFake();
  });
  afterAll(() => gh?.close());

  /** No CLI flag, no temp path, no stack trace in what the step prints. */
  function expectActionWords(run: ActionRun) {
    const all = run.stdout + run.stderr;
    expect(all).not.toMatch(/(?<![\w-])--[a-z]/);
    expect(all).not.toContain(run.runnerTemp);
    expect(all).not.toContain('aibom-key-');
    expect(all).not.toMatch(/\n\s+at /);
    expect(all).not.toContain(GITHUB_TOKEN);
  }

  it('an unreadable lockfile fails the release before anything is signed or uploaded', async () => {
    const ws = await workspace('release-bad-lock');
    await writeFile(join(ws, 'package-lock.json'), '{"lockfileVersion": 3, "packages": {');
    const release = gh.addRelease('v5.0.0');
    const before = { ...stack.requests };
    const run = await runAction({ workspace: ws, event: 'release', payload: { action: 'published', release: { tag_name: 'v5.0.0' } }, inputs: releaseInputs(), gh });
    expect(run.code).toBe(1);
    expect(errors(run)).toMatch(/^::error::aibom: no BOM built: 1 input could not be read: package-lock\.json: /);
    expectActionWords(run);
    expect(await readdir(ws)).not.toContain('aibom.cdx.json');
    expect(run.outputs['bom-path']).toBeUndefined();
    expect(stack.requests.fulcio).toBe(before.fulcio);
    expect(release.assets).toEqual([]);
  });

  it('an unreadable config fails the build the same way', async () => {
    const ws = await workspace('release-bad-config');
    await writeFile(join(ws, 'aibom.config.json'), '{"plugins": ');
    const run = await runAction({ workspace: ws, event: 'push', ref: 'refs/heads/main', payload: {}, inputs: releaseInputs(), gh });
    expect(run.code).toBe(1);
    expect(errors(run)).toMatch(/^::error::aibom: .*aibom\.config\.json/);
    expectActionWords(run);
    expect(await readdir(ws)).not.toContain('aibom.cdx.json');
  });

  it('a release without `permissions: id-token: write` names that permission', async () => {
    const ws = await workspace('release-no-oidc');
    gh.addRelease('v6.0.0');
    const run = await runAction({
      workspace: ws,
      event: 'release',
      payload: { action: 'published', release: { tag_name: 'v6.0.0' } },
      inputs: releaseInputs(),
      gh,
      idToken: false,
    });
    expect(run.code).toBe(1);
    expect(errors(run)).toContain('`permissions: id-token: write`');
    expect(errors(run)).toContain('`key` input');
    expectActionWords(run);
  });

  it('a public key in the `key` input is refused naming the input, never the file it was written to', async () => {
    const ws = await workspace('release-pub-as-key');
    gh.addRelease('v7.0.0');
    const run = await runAction({
      workspace: ws,
      event: 'release',
      payload: { action: 'published', release: { tag_name: 'v7.0.0' } },
      inputs: { key: await readFile(publisherPub, 'utf8'), 'upload-release-assets': 'false' },
      gh,
    });
    expect(run.code).toBe(1);
    expect(errors(run)).toMatch(/^::error::aibom: the `key` input: this is a public key or certificate; the `key` input needs the private key/);
    expectActionWords(run);
  });

  it('`fulcio-url` with `key` is refused in the words of the inputs', async () => {
    const ws = await workspace('release-key-fulcio');
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const run = await runAction({
      workspace: ws,
      event: 'push',
      ref: 'refs/tags/v8.0.0',
      payload: {},
      inputs: { key: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'fulcio-url': stack.urls.fulcio, 'upload-release-assets': 'false' },
      gh,
    });
    expect(run.code).toBe(1);
    expect(errors(run)).toContain('the `fulcio-url` input is for keyless signing; it cannot be used with the `key` input');
    expectActionWords(run);
  });
});

describe('the aibom Action (bundled) with an Ed25519 `key`', () => {
  it('signs the BOM as a DSSE in-toto statement about it, which `aibom verify --key` accepts', async () => {
    const gh = await startGitHubFake();
    try {
      const ws = await workspace('release-ed25519');
      const release = gh.addRelease('v9.0.0');
      const k = generateKeyPairSync('ed25519');
      const pem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const pub = join(tmp.dir, 'ed25519.pub');
      await writeFile(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
      const before = { ...stack.requests };
      const run = await runAction({
        workspace: ws,
        event: 'release',
        payload: { action: 'published', release: { tag_name: 'v9.0.0' } },
        // A key-signed bundle is recorded in a transparency log (here the loopback stack's Rekor).
        inputs: { key: pem, subjects: 'dist/*.tgz', policy: 'aibom-policy.yaml', 'rekor-url': stack.urls.rekor },
        gh,
        idToken: false,
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(stack.requests.rekor).toBeGreaterThan(before.rekor);
      // The runner masks multi-line secrets line by line: every line of the key's body is masked.
      const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
      expect(body.length).toBeGreaterThan(0);
      for (const line of body) {
        expect(run.masked).toContain(line);
        expect(run.stdout + run.stderr).not.toContain(line);
      }
      expect(stack.requests.fulcio).toBe(before.fulcio);
      expect(release.assets.map((a) => a.name).sort()).toEqual(['aibom.cdx.intoto.sigstore.json', 'aibom.cdx.json', 'aibom.cdx.json.sigstore.json']);
      const bundle = JSON.parse(await readFile(join(ws, 'aibom.cdx.json.sigstore.json'), 'utf8'));
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
      expect(statement.subject.map((s: { name: string }) => s.name)).toEqual(['aibom.cdx.json']);
      expect(statement.predicateType).toBe('https://cyclonedx.org/bom');
      const ok = await runCli(['verify', join(ws, 'aibom.cdx.json'), '--bundle', join(ws, 'aibom.cdx.json.sigstore.json'), '--key', pub, '--trusted-root', stack.trustedRootPath]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      // The start-up check takes the released BOM as the lock: its bundle verifies with the release
      // key, and the plugin matches the folder digest and the publisher pinned in it.
      const startup = await runCli(['verify-plugins', '--bom', join(ws, 'aibom.cdx.json'), '--key', pub, '--root', ws, '--policy', join(ws, 'aibom-policy.yaml'), '--trusted-root', stack.trustedRootPath, '--json']);
      expect(startup.code, startup.stdout + startup.stderr).toBe(0);
      // The bundle is about these bytes: a changed BOM does not verify.
      await writeFile(join(ws, 'aibom.cdx.json'), (await readFile(join(ws, 'aibom.cdx.json'), 'utf8')).replace('"tools"', '"t00ls"'));
      const bad = await runCli(['verify', join(ws, 'aibom.cdx.json'), '--bundle', join(ws, 'aibom.cdx.json.sigstore.json'), '--key', pub, '--trusted-root', stack.trustedRootPath]);
      expect(bad.code).toBe(1);
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
