/**
 * The aibom GitHub Action: a thin shell over the library. On a release (or a tag push):
 * build → sign → attest → upload → gate; a gate failure fails the step only after the evidence
 * is uploaded. On a pull request or a branch push: build and gate, with a job summary; no
 * upload, and no signing unless `sign: true` (never on pull requests). The build is the CLI's
 * (src/build/aibom.ts); errors name the Action's inputs and permissions (./messages.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as core from '@actions/core';
import { glob } from 'tinyglobby';
import { buildAibom } from '../../src/build/aibom.js';
import { runGate } from '../../src/gate/gate.js';
import { inventoryFromBom } from '../../src/bom/rows.js';
import { renderAuditMarkdown, renderGateMarkdown } from '../../src/report/markdown.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import type { SigningIdentity } from '../../src/signature/bundle-builder.js';
import { createAttestation, getReleaseByTag, makeOctokit, type Repo, uploadAssets } from './github.js';
import { InputError, type Inputs, readInputs } from './inputs.js';
import { actionMessage, type MessageContext } from './messages.js';

interface EventInfo {
  name: string;
  isPullRequest: boolean;
  /** A release event, or a push of a tag: the events that publish something. */
  isRelease: boolean;
  tag?: string;
}

async function readEvent(): Promise<EventInfo> {
  const name = process.env.GITHUB_EVENT_NAME ?? '';
  let payload: Record<string, any> = {};
  if (process.env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(await readFile(process.env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, any>;
    } catch {
      throw new Error('cannot read the event payload the runner wrote (GITHUB_EVENT_PATH)');
    }
  }
  const ref = process.env.GITHUB_REF ?? '';
  const info: EventInfo = { name, isPullRequest: name.startsWith('pull_request'), isRelease: false };
  if (name === 'release' && typeof payload.release?.tag_name === 'string') {
    info.tag = payload.release.tag_name;
    info.isRelease = ['published', 'created', 'released', 'prereleased'].includes(String(payload.action ?? 'published'));
  } else if (name === 'push' && ref.startsWith('refs/tags/')) {
    info.tag = ref.slice('refs/tags/'.length);
    info.isRelease = true;
  }
  return info;
}

function repoFromEnv(): Repo {
  const full = process.env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = full.split('/');
  if (!owner || !repo) throw new Error('GITHUB_REPOSITORY is not set (owner/repo): run the Action in a GitHub Actions workflow');
  return { owner, repo };
}

/** Sign? `auto`: on releases and tag pushes. Never on pull requests (their code is not yours to vouch for). */
function shouldSign(inputs: Inputs, event: EventInfo): boolean {
  if (event.isPullRequest) return false;
  if (inputs.sign === 'auto') return event.isRelease;
  return inputs.sign === 'true';
}

const ctx: MessageContext = { workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(), secretPaths: [] };
if (process.env.RUNNER_TEMP) ctx.runnerTemp = process.env.RUNNER_TEMP;

export async function run(): Promise<void> {
  const inputs = readInputs();
  const event = await readEvent();
  const workspace = ctx.workspace;
  const root = resolve(workspace, inputs.path);
  const output = resolve(workspace, inputs.output);
  core.info(`aibom: ${event.name || 'manual'} event${event.tag ? ` for ${event.tag}` : ''}; scanning ${inputs.path}`);

  // 1. Build: the same build as `aibom build` (src/build/aibom.ts); an unreadable input fails the step.
  const built = await buildAibom(root, {
    specVersion: inputs.specVersion,
    reproducible: inputs.reproducible,
    ...(inputs.policy ? { policy: resolve(workspace, inputs.policy) } : {}),
    ...(inputs.trustedRoot ? { trustedRoot: resolve(workspace, inputs.trustedRoot) } : {}),
  });
  const bom = built.bom;
  for (const f of built.findings) {
    if (f.severity === 'info') continue;
    core.warning(f.message, f.location ? { file: join(inputs.path, f.location.file).replace(/^\.\//, '') } : {});
  }
  await writeFileAtomic(output, built.text);
  core.setOutput('bom-path', output);
  core.info(`aibom: wrote ${output}: ${bom.components?.length ?? 0} components, ${bom.services?.length ?? 0} services`);

  // 2. Sign and attest: by default on releases and tag pushes, never on pull requests.
  const signing = shouldSign(inputs, event);
  if (!signing && inputs.sign !== 'false') {
    core.info(`aibom: not signing on a ${event.isPullRequest ? 'pull request' : `${event.name || 'manual'} event that publishes no release`} (the \`sign\` input)`);
  }
  const produced: string[] = [output];
  let attestationBundle: unknown;
  let identity: SigningIdentity | undefined;
  if (signing) {
    const { resolveSigningIdentity } = await import('../../src/signature/identity.js');
    const { signFile } = await import('../../src/signature/sign-file.js');
    const { attest } = await import('../../src/signature/attest.js');
    if (!inputs.key && !process.env.ACTIONS_ID_TOKEN_REQUEST_URL && !process.env.SIGSTORE_ID_TOKEN) {
      throw new InputError(
        'signing needs an identity: give the job `permissions: id-token: write` for keyless signing, set the `key` input, or set `sign: false`',
      );
    }
    let keyDir: string | undefined;
    try {
      const opts: Parameters<typeof resolveSigningIdentity>[0] = { env: process.env };
      if (inputs.key) {
        // A private file for the step only, in the runner's temp folder (removed below).
        keyDir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'aibom-key-'));
        ctx.secretPaths.push({ path: keyDir, input: 'key' });
        const keyFile = join(keyDir, `${randomBytes(8).toString('hex')}.pem`);
        ctx.secretPaths.push({ path: keyFile, input: 'key' });
        await writeFile(keyFile, inputs.key, { mode: 0o600 });
        opts.key = keyFile;
      }
      if (inputs.signingConfig) opts.signingConfig = resolve(workspace, inputs.signingConfig);
      if (inputs.fulcioUrl) opts.fulcioUrl = inputs.fulcioUrl;
      if (inputs.rekorUrl) opts.rekorUrl = inputs.rekorUrl;
      if (inputs.tsaUrl) opts.tsaUrl = inputs.tsaUrl;
      identity = await resolveSigningIdentity(opts);
      const bundlePath = `${output}.sigstore.json`;
      if (identity.mode === 'key' && identity.key.kind === 'ed25519') {
        // Ed25519 signs DSSE envelopes only: the BOM's bundle is an in-toto statement whose
        // subject is the BOM file (its sha256) and whose predicate is the BOM.
        const signed = await attest([output], identity, { predicate: output });
        await writeFileAtomic(bundlePath, `${JSON.stringify(signed.bundle, null, 2)}\n`);
      } else {
        const signed = await signFile(output, identity);
        await writeFileAtomic(bundlePath, `${JSON.stringify(signed.bundle, null, 2)}\n`);
      }
      produced.push(bundlePath);
      core.setOutput('bundle-path', bundlePath);
      core.info(`aibom: signed the BOM: ${bundlePath}`);
      if (inputs.subjects.length) {
        const files = (await glob(inputs.subjects, { cwd: workspace, onlyFiles: true, absolute: true })).sort();
        if (files.length === 0) throw new InputError(`the \`subjects\` input (${inputs.subjects.join(', ')}) matched no files in the workspace`);
        const att = await attest(files, identity, { predicate: output });
        const attPath = join(dirname(output), `${basename(output).replace(/\.json$/, '')}.intoto.sigstore.json`);
        await writeFileAtomic(attPath, `${JSON.stringify(att.bundle, null, 2)}\n`);
        attestationBundle = att.bundle;
        produced.push(attPath);
        core.setOutput('attestation-path', attPath);
        core.info(`aibom: attested ${files.length} release artifact${files.length === 1 ? '' : 's'} with the BOM: ${attPath}`);
      }
    } finally {
      if (keyDir) await rm(keyDir, { recursive: true, force: true });
    }
  }

  // 3. Gate (the verdict is acted on after the evidence is uploaded).
  // The committed provenance lock is checked, never rewritten in CI: drift not accepted in the
  // repository (--accept-drift, reviewed in a pull request) fails the release.
  const vsaPath = join(dirname(output), `${basename(output).replace(/\.json$/, '')}.vsa.sigstore.json`);
  const gate = await runGate({
    bom: output,
    root,
    ...(inputs.policy ? { policy: resolve(workspace, inputs.policy) } : {}),
    ...(inputs.trustedRoot ? { trustedRoot: resolve(workspace, inputs.trustedRoot) } : {}),
    ...(inputs.provenanceLock ? { lock: { file: resolve(workspace, inputs.provenanceLock), frozen: true } } : {}),
    ...(inputs.vsa && identity ? { vsa: { file: vsaPath, identity } } : {}),
  });
  if (gate.vsa) {
    produced.push(vsaPath);
    core.setOutput('vsa-path', vsaPath);
    core.info(`aibom: signed the gate's verdict (${gate.vsa.verificationResult}) as a SLSA VSA: ${vsaPath}`);
  }
  core.setOutput('findings-count', String(gate.failures.length));
  core.setOutput('verdict', gate.passed ? 'pass' : 'fail');
  for (const f of gate.failures) {
    const props: core.AnnotationProperties = { title: `aibom ${f.rule}: ${f.name}` };
    if (f.location) {
      props.file = join(inputs.path, f.location.file).replace(/^\.\//, '');
      if (f.location.line) props.startLine = f.location.line;
    }
    core.error(`${f.message}. Fix: ${f.fix}`, props);
  }

  // 4. Upload to the release, and 5. store the attestation with GitHub.
  const upload = inputs.uploadReleaseAssets === 'auto' ? event.isRelease : inputs.uploadReleaseAssets === 'true';
  if ((upload && event.tag) || (inputs.attest && attestationBundle && !event.isPullRequest)) {
    if (!inputs.githubToken) throw new InputError('the `github-token` input is empty: it is needed to upload release assets and attestations');
    const gh = makeOctokit(inputs.githubToken, process.env.GITHUB_API_URL ?? 'https://api.github.com');
    const repo = repoFromEnv();
    if (upload && event.tag && !event.isPullRequest) {
      const release = await getReleaseByTag(gh, repo, event.tag);
      const done = await uploadAssets(gh, repo, release, produced);
      for (const a of done) core.info(`aibom: ${a.replaced ? 'replaced' : 'uploaded'} release asset ${a.name}`);
    }
    if (inputs.attest && attestationBundle && !event.isPullRequest) {
      const id = await createAttestation(gh, repo, attestationBundle);
      core.setOutput('attestation-id', String(id));
      core.info(`aibom: stored attestation ${id} with GitHub`);
    }
  }

  // Job summary: the inventory and every finding.
  if (process.env.GITHUB_STEP_SUMMARY) {
    const rep = inventoryFromBom(bom);
    const interesting = rep.rows.filter((r) => r.kind !== 'package' || r.pinned === false || r.risks.length > 0);
    await core.summary
      .addRaw(renderGateMarkdown(gate))
      .addRaw('\n')
      .addRaw(renderAuditMarkdown(rep, interesting))
      .addRaw(
        interesting.length < rep.rows.length
          ? `\n${rep.rows.length - interesting.length} pinned packages without findings are not listed; the full inventory is in ${basename(output)}.\n`
          : '',
      )
      .write();
  }

  if (!gate.passed) {
    const msg = `aibom gate: ${gate.failures.length} provenance failure${gate.failures.length === 1 ? '' : 's'} (see the annotations and the job summary)`;
    if (inputs.failOnMissingProvenance) core.setFailed(msg);
    else core.warning(msg);
  } else {
    core.info(`aibom gate: passed (${gate.checked} components)`);
  }
}

run().catch((err: unknown) => {
  core.setFailed(`aibom: ${actionMessage(err, ctx)}`);
});
