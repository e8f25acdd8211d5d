/**
 * The GitHub REST calls the Action makes, through octokit (retries on 5xx and rate limits are
 * octokit's own plugins). Every failure becomes an error that says what to do, naming the
 * workflow permission when GitHub answers 403/404 for lack of one.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Octokit } from 'octokit';

export interface Repo {
  owner: string;
  repo: string;
}

export class GitHubApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

export function makeOctokit(token: string, apiUrl: string): Octokit {
  return new Octokit({
    auth: token,
    baseUrl: apiUrl.replace(/\/+$/, ''),
    userAgent: 'aibom-action',
    request: { retries: 3, retryAfter: 1 },
    // Keep octokit quiet: the Action reports errors itself, without request details or tokens.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      onRateLimit: (_after: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 2,
      onSecondaryRateLimit: (_after: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 1,
    },
  });
}

function explain(err: unknown, what: string, permission: string): GitHubApiError {
  const status = (err as { status?: number }).status;
  const msg = (err as { response?: { data?: { message?: string } } }).response?.data?.message ?? (err instanceof Error ? err.message : String(err));
  if (status === 403 || status === 401) {
    return new GitHubApiError(
      `${what}: GitHub answered ${status} (${msg}). The workflow token lacks a permission: add \`permissions: ${permission}\` to the job (and check that github-token is set).`,
      status,
    );
  }
  if (status === 404) {
    return new GitHubApiError(`${what}: GitHub answered 404 (${msg}). Check the repository and, for private repositories, \`permissions: ${permission}\`.`, status);
  }
  return new GitHubApiError(`${what}: ${status ? `GitHub answered ${status}: ` : ''}${msg}`, status);
}

export interface ReleaseRef {
  id: number;
  tag: string;
  uploadUrl: string;
}

export async function getReleaseByTag(gh: Octokit, r: Repo, tag: string): Promise<ReleaseRef> {
  try {
    const res = await gh.rest.repos.getReleaseByTag({ ...r, tag });
    return { id: res.data.id, tag, uploadUrl: res.data.upload_url };
  } catch (err) {
    throw explain(err, `finding the release for tag ${tag}`, 'contents: write');
  }
}

/**
 * Upload files as release assets. An asset of the same name is replaced (deleted, then
 * uploaded), so a re-run leaves one copy of each, as anchore/sbom-action does.
 */
export async function uploadAssets(gh: Octokit, r: Repo, release: ReleaseRef, files: string[]): Promise<Array<{ name: string; id: number; replaced: boolean }>> {
  let existing: Array<{ id: number; name: string }>;
  try {
    existing = await gh.paginate(gh.rest.repos.listReleaseAssets, { ...r, release_id: release.id, per_page: 100 });
  } catch (err) {
    throw explain(err, `listing the assets of release ${release.tag}`, 'contents: write');
  }
  const origin = new URL(release.uploadUrl.replace(/\{.*$/, '')).origin;
  const out: Array<{ name: string; id: number; replaced: boolean }> = [];
  for (const file of files) {
    const name = basename(file);
    const old = existing.filter((a) => a.name === name);
    for (const a of old) {
      try {
        await gh.rest.repos.deleteReleaseAsset({ ...r, asset_id: a.id });
      } catch (err) {
        throw explain(err, `replacing release asset ${name}`, 'contents: write');
      }
    }
    const data = await readFile(file);
    const size = (await stat(file)).size;
    try {
      const res = await gh.rest.repos.uploadReleaseAsset({
        ...r,
        release_id: release.id,
        name,
        // The upload origin comes from the release's upload_url (uploads.github.com on github.com).
        baseUrl: origin,
        // octokit sends the bytes as they are; its types want a string.
        data: data as unknown as string,
        headers: { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': size },
      });
      out.push({ name, id: res.data.id, replaced: old.length > 0 });
    } catch (err) {
      throw explain(err, `uploading release asset ${name}`, 'contents: write');
    }
  }
  return out;
}

/** Store a Sigstore bundle through GitHub's attestations API. */
export async function createAttestation(gh: Octokit, r: Repo, bundle: unknown): Promise<number> {
  try {
    const res = await gh.request('POST /repos/{owner}/{repo}/attestations', { ...r, bundle: bundle as never });
    return (res.data as { id?: number }).id ?? 0;
  } catch (err) {
    throw explain(err, 'storing the attestation', 'attestations: write (and id-token: write)');
  }
}
