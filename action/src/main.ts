/**
 * The aibom GitHub Action: a thin shell over the library. On a release (or a tag push):
 * build → sign → attest → upload → gate; a gate failure fails the step only after the evidence
 * is uploaded. On a pull request: build and gate, with a job summary, no signing, no upload.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as core from '@actions/core';
import { glob } from 'tinyglobby';
import { buildBom, serializeBom } from '../../src/bom/build.js';
import { isWritableSpecVersion } from '../../src/bom/spec.js';
import { errorMessage } from '../../src/errors.js';
import { buildInventory } from '../../src/inventory/index.js';
import { runGate } from '../../src/policy/gate.js';
import { inventoryFromBom } from '../../src/report/inventory.js';
import { renderAuditMarkdown, renderGateMarkdown } from '../../src/report/markdown.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import type { SigningIdentity } from '../../src/signature/bundle-builder.js';
import { createAttestation, getReleaseByTag, makeOctokit, type Repo, uploadAssets } from './github.js';

interface Inputs {
  path: string;
  specVersion: string;
  output: string;
  sign: boolean;
  key: string;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  signingConfig: string;
  subjects: string[];
  policy: string;
  trustedRoot: string;
  failOnMissingProvenance: boolean;
  uploadReleaseAssets: string;
  attest: boolean;
  githubToken: string;
  /** A committed provenance lock the gate checks (frozen: never written here). */
  provenanceLock: string;
  /** Sign the gate's verdict as a SLSA VSA and upload it with the release assets. */
  vsa: boolean;
}

function bool(name: string, fallback: boolean): boolean {
  const v = core.getInput(name).trim().toLowerCase();
  if (v === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  throw new Error(`input ${name} must be true or false, got "${v}"`);
}

function readInputs(): Inputs {
  const key = core.getInput('key');
  const githubToken = core.getInput('github-token');
  // Never let a secret reach the log, even inside an error message.
  if (key) core.setSecret(key);
  if (githubToken) core.setSecret(githubToken);
  return {
    path: core.getInput('path') || '.',
    specVersion: core.getInput('spec-version') || '1.6',
    output: core.getInput('output') || 'aibom.cdx.json',
    sign: bool('sign', true),
    key,
    fulcioUrl: core.getInput('fulcio-url'),
    rekorUrl: core.getInput('rekor-url'),
    tsaUrl: core.getInput('tsa-url'),
    signingConfig: core.getInput('signing-config'),
    subjects: core
      .getInput('subjects')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean),
    policy: core.getInput('policy'),
    trustedRoot: core.getInput('trusted-root'),
    failOnMissingProvenance: bool('fail-on-missing-provenance', true),
    uploadReleaseAssets: (core.getInput('upload-release-assets') || 'auto').trim().toLowerCase(),
    attest: bool('attest', false),
    githubToken,
    provenanceLock: core.getInput('provenance-lock'),
    vsa: bool('vsa', false),
  };
}

interface EventInfo {
  name: string;
  isPullRequest: boolean;
  isRelease: boolean;
  tag?: string;
}

async function readEvent(): Promise<EventInfo> {
  const name = process.env.GITHUB_EVENT_NAME ?? '';
  let payload: Record<string, any> = {};
  if (process.env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(await readFile(process.env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, any>;
    } catch (err) {
      throw new Error(`cannot read the event payload ${process.env.GITHUB_EVENT_PATH}: ${errorMessage(err)}`);
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
  if (!owner || !repo) throw new Error('GITHUB_REPOSITORY is not set (owner/repo)');
  return { owner, repo };
}

export async function run(): Promise<void> {
  const inputs = readInputs();
  if (!isWritableSpecVersion(inputs.specVersion)) throw new Error(`spec-version must be 1.6 or 1.7, got "${inputs.specVersion}"`);
  const event = await readEvent();
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const root = resolve(workspace, inputs.path);
  const output = resolve(workspace, inputs.output);
  core.info(`aibom: ${event.name || 'manual'} event${event.tag ? ` for ${event.tag}` : ''}; scanning ${inputs.path}`);

  // 1. Build.
  const inv = await buildInventory(root, {});
  const bom = await buildBom(inv, { specVersion: inputs.specVersion });
  await writeFileAtomic(output, serializeBom(bom));
  core.setOutput('bom-path', output);
  core.info(`aibom: wrote ${output}: ${bom.components?.length ?? 0} components, ${bom.services?.length ?? 0} services`);

  // 2. Sign and attest (never on pull requests).
  const signing = inputs.sign && !event.isPullRequest;
  const produced: string[] = [output];
  let attestationBundle: unknown;
  let identity: SigningIdentity | undefined;
  if (signing) {
    const { resolveSigningIdentity } = await import('../../src/signature/identity.js');
    const { signFile } = await import('../../src/signature/sign-file.js');
    const { attest } = await import('../../src/signature/attest.js');
    let keyDir: string | undefined;
    try {
      const opts: Parameters<typeof resolveSigningIdentity>[0] = { env: process.env };
      if (inputs.key) {
        keyDir = await mkdtemp(join(tmpdir(), 'aibom-key-'));
        const keyFile = join(keyDir, `${randomBytes(8).toString('hex')}.pem`);
        await writeFile(keyFile, inputs.key, { mode: 0o600 });
        opts.key = keyFile;
      }
      if (inputs.signingConfig) opts.signingConfig = resolve(workspace, inputs.signingConfig);
      if (inputs.fulcioUrl) opts.fulcioUrl = inputs.fulcioUrl;
      if (inputs.rekorUrl) opts.rekorUrl = inputs.rekorUrl;
      if (inputs.tsaUrl) opts.tsaUrl = inputs.tsaUrl;
      identity = await resolveSigningIdentity(opts);
      const signed = await signFile(output, identity);
      const bundlePath = `${output}.sigstore.json`;
      await writeFileAtomic(bundlePath, `${JSON.stringify(signed.bundle, null, 2)}\n`);
      produced.push(bundlePath);
      core.setOutput('bundle-path', bundlePath);
      core.info(`aibom: signed the BOM: ${bundlePath}`);
      if (inputs.subjects.length) {
        const files = (await glob(inputs.subjects, { cwd: workspace, onlyFiles: true, absolute: true })).sort();
        if (files.length === 0) throw new Error(`subjects ${inputs.subjects.join(', ')} matched no files`);
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
    if (!inputs.githubToken) throw new Error('github-token is empty: it is needed to upload release assets and attestations');
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
  core.setFailed(`aibom: ${errorMessage(err)}`);
});
