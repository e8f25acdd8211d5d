/**
 * The certificate-claim flags every keyless identity check takes (verify, gate,
 * verify-plugins): the same names, help and parsing in each command.
 */
import type { Command } from 'commander';
import type { ClaimOptions } from '../src/verification/claim-policy.js';
import { collect } from './io.js';

export function addClaimFlags(cmd: Command): Command {
  return cmd
    .option('--source-repository <uri>', 'certificate claim: source repository URI, exact (e.g. https://github.com/acme/app)')
    .option('--source-repository-regexp <re>', 'certificate claim: source repository URI, regexp (anchored)')
    .option('--source-ref <ref>', 'certificate claim: source ref, exact (e.g. refs/tags/v1.2.0)')
    .option('--source-ref-regexp <re>', 'certificate claim: source ref, regexp (anchored), e.g. "refs/tags/v.*"')
    .option('--source-digest <sha>', 'certificate claim: source commit digest (hex)')
    .option('--signer-workflow <uri>', 'certificate claim: build signer URI (the workflow that signed), exact')
    .option('--signer-workflow-regexp <re>', 'certificate claim: build signer URI, regexp (anchored)')
    .option('--runner-environment <env>', 'certificate claim: github-hosted, self-hosted or any (default: any but self-hosted)')
    .option('--deny-trigger <event>', 'certificate claim: refuse this build trigger (repeatable; pull_request_target is refused by default)', collect)
    .option('--allow-trigger <event>', 'accept a trigger refused by default (e.g. pull_request_target)', collect);
}

/** The claim options among parsed flags. */
export function claimFlags(flags: ClaimOptions): ClaimOptions {
  const out: ClaimOptions = {};
  for (const k of Object.keys(flags) as Array<keyof ClaimOptions>) {
    if (
      [
        'sourceRepository',
        'sourceRepositoryRegexp',
        'sourceRef',
        'sourceRefRegexp',
        'sourceDigest',
        'signerWorkflow',
        'signerWorkflowRegexp',
        'runnerEnvironment',
        'denyTrigger',
        'allowTrigger',
      ].includes(k) &&
      flags[k] !== undefined
    ) {
      (out as Record<string, unknown>)[k] = flags[k];
    }
  }
  return out;
}
