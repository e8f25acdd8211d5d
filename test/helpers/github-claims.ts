/**
 * Identity-token claims as GitHub Actions puts them in its OIDC tokens; the loopback stack's
 * Fulcio (@sigstore/mock, strict) turns them into the certificate extensions real Fulcio writes
 * (OIDs 1.3.6.1.4.1.57264.1.8–22: source repository, ref, digest, build signer URI, runner
 * environment, build trigger, run invocation URI, …).
 */
import type { TokenClaims } from './sigstore-stack.js';

export interface GithubJob {
  /** owner/name */
  repository?: string;
  ref?: string;
  sha?: string;
  /** Path of the workflow in the repository. */
  workflow?: string;
  event?: string;
  runner?: 'github-hosted' | 'self-hosted';
}

export function githubTokenClaims(job: GithubJob = {}): TokenClaims & { sub: string } {
  const repository = job.repository ?? 'acme/agent';
  const ref = job.ref ?? 'refs/tags/v1.2.0';
  const workflow = job.workflow ?? '.github/workflows/release.yml';
  const sha = job.sha ?? 'a'.repeat(40);
  const jobWorkflowRef = `${repository}/${workflow}@${ref}`;
  return {
    sub: `https://github.com/${jobWorkflowRef}`,
    repository,
    repository_id: '123456',
    repository_owner: repository.split('/')[0]!,
    repository_owner_id: '654321',
    repository_visibility: 'public',
    ref,
    sha,
    event_name: job.event ?? 'push',
    runner_environment: job.runner ?? 'github-hosted',
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: sha,
    workflow_ref: jobWorkflowRef,
    workflow_sha: sha,
    run_id: '42',
    run_attempt: '1',
  };
}

/** The certificate identity (SAN) of such a job: the build signer URI. */
export function githubIdentity(job: GithubJob = {}): string {
  return githubTokenClaims(job).sub;
}
