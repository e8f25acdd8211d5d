/**
 * The harness of the Action suites (test/action*.test.ts): the bundled Action (action/dist/index.js, as committed) run end to end the way the runner
 * starts it: a node process with INPUT_* and GITHUB_* variables, against a loopback GitHub
 * REST API that checks every request against GitHub's OpenAPI description, the loopback
 * Sigstore stack, and its GitHub-Actions-style OIDC token endpoint.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO, runCli, tempDir } from './cli.js';
import type { GitHubFake } from './github-fake.js';
import { type SigstoreStack, startSigstoreStack } from './sigstore-stack.js';

export const ACTION = join(REPO, 'action', 'dist', 'index.js');
export const GITHUB_TOKEN = 'ghs_fakeTokenThatMustNeverBePrinted0123456789';

export interface ActionInput {
  description: string;
  required?: boolean;
  default?: string;
}
export interface ActionMetadata {
  inputs: Record<string, ActionInput>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

/** action.yml read as GitHub's runner reads it: strict YAML 1.2, duplicate keys refused. */
export async function actionMetadata(): Promise<ActionMetadata> {
  return parseYaml(await readFile(join(REPO, 'action.yml'), 'utf8'), { strict: true, uniqueKeys: true, prettyErrors: true }) as ActionMetadata;
}

/** The runner's variable for an input: `INPUT_` + the name upper-cased, spaces as `_`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export let stack: SigstoreStack;
export let tmp: { dir: string; cleanup: () => Promise<void> };
export let publisherPub: string;
export let publisherKey: string;
export let meta: ActionMetadata;

export interface ActionRun {
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
export async function runAction(opts: RunOptions): Promise<ActionRun> {
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
export function errors(run: ActionRun): string {
  return run.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .join('\n');
}

export async function write(path: string, data: string) {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
}

let pluginTemplate: Promise<string> | undefined;
/**
 * The `tools` plugin, signed once by the publisher (`aibom sign DIR --key`), copied into each
 * workspace. One signing however many tests ask at once (they run side by side).
 */
export function signedPlugin(): Promise<string> {
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
export async function workspace(name: string, opts: { unpinned?: boolean } = {}): Promise<string> {
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

export const releaseInputs = () => ({
  'signing-config': stack.signingConfigPath,
  subjects: 'dist/*.tgz',
  policy: 'aibom-policy.yaml',
});

/**
 * Call at the top of an Action suite: starts the loopback Sigstore stack and the publisher key
 * before its tests, stops them after. (Test files may share a worker: nothing outlives a suite.)
 */
export function useActionHarness(): void {
  beforeAll(async () => {
    pluginTemplate = undefined;
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
}
