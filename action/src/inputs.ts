/**
 * The Action's inputs, read the way the runner passes them: `INPUT_` + the name upper-cased with
 * spaces as `_` (hyphens kept), through @actions/core. Every input is read through `input()`
 * here, and only here: test/action.test.ts checks that the names read are exactly the inputs
 * action.yml declares.
 */
import * as core from '@actions/core';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export type Tristate = 'auto' | 'true' | 'false';

export interface Inputs {
  path: string;
  specVersion: '1.6' | '1.7';
  output: string;
  reproducible: boolean;
  sign: Tristate;
  key: string;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  signingConfig: string;
  subjects: string[];
  policy: string;
  trustedRoot: string;
  failOnMissingProvenance: boolean;
  uploadReleaseAssets: Tristate;
  attest: boolean;
  githubToken: string;
  /** A committed provenance lock the gate checks (frozen: never written here). */
  provenanceLock: string;
  /** Sign the gate's verdict as a SLSA VSA and upload it with the release assets. */
  vsa: boolean;
}

function input(name: string): string {
  return core.getInput(name);
}

const TRUE = ['true', 'yes', '1', 'on'];
const FALSE = ['false', 'no', '0', 'off'];

function bool(name: string, fallback: boolean): boolean {
  const v = input(name).trim().toLowerCase();
  if (v === '') return fallback;
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new InputError(`the \`${name}\` input must be true or false, got "${v}"`);
}

function tristate(name: string): Tristate {
  const v = input(name).trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (TRUE.includes(v)) return 'true';
  if (FALSE.includes(v)) return 'false';
  throw new InputError(`the \`${name}\` input must be auto, true or false, got "${v}"`);
}

export function readInputs(): Inputs {
  const key = input('key');
  const githubToken = input('github-token');
  // Never let a secret reach the log, even inside an error message.
  if (key) {
    core.setSecret(key);
    // The runner masks a multi-line secret only line by line: register each line of the PEM body.
    for (const line of key.split(/\r?\n/)) {
      const t = line.trim();
      if (t && !t.startsWith('-----')) core.setSecret(t);
    }
  }
  if (githubToken) core.setSecret(githubToken);
  const specVersion = input('spec-version').trim() || '1.6';
  if (specVersion !== '1.6' && specVersion !== '1.7') throw new InputError(`the \`spec-version\` input must be 1.6 or 1.7, got "${specVersion}"`);
  return {
    path: input('path').trim() || '.',
    specVersion,
    output: input('output').trim() || 'aibom.cdx.json',
    reproducible: bool('reproducible', false),
    sign: tristate('sign'),
    key,
    fulcioUrl: input('fulcio-url').trim(),
    rekorUrl: input('rekor-url').trim(),
    tsaUrl: input('tsa-url').trim(),
    signingConfig: input('signing-config').trim(),
    subjects: input('subjects')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean),
    policy: input('policy').trim(),
    trustedRoot: input('trusted-root').trim(),
    failOnMissingProvenance: bool('fail-on-missing-provenance', true),
    uploadReleaseAssets: tristate('upload-release-assets'),
    attest: bool('attest', false),
    githubToken,
    provenanceLock: input('provenance-lock').trim(),
    vsa: bool('vsa', false),
  };
}
