import type { Provenance } from '../types.js';

/**
 * Source and pin provenance, for every ecosystem: classify where a resolved package comes
 * from, from the URL or spec a lockfile records, and whether that pins its content. No registry host names are known here: a registry tarball is
 * recognised by the shape every npm-compatible registry uses (`/<name>/-/<file>.tgz`).
 */
export function isCommitSha(ref: string | undefined): boolean {
  return !!ref && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(ref);
}

export function gitProvenance(url: string): Provenance {
  const hash = url.indexOf('#');
  const ref = hash >= 0 ? url.slice(hash + 1) : undefined;
  // npm/yarn write "#<sha>", pip writes "@<sha>", poetry/uv record the commit separately.
  const pinned = isCommitSha(ref);
  return pinned
    ? { source: 'git', url, pinned: true }
    : {
        source: 'git',
        url,
        pinned: false,
        unpinnedReason: ref
          ? `git dependency pinned to "${ref}", a branch or tag that can move, not a commit`
          : 'git dependency without a commit',
      };
}

export function looksLikeGit(spec: string): boolean {
  return (
    /^git(\+[a-z]+)?:/i.test(spec) ||
    /^(github|gitlab|bitbucket):/i.test(spec) ||
    /^https?:\/\/[^#]*\.git(#.*)?$/i.test(spec) ||
    /^[\w.-]+@[\w.-]+:[\w./-]+\.git/.test(spec)
  );
}

/** npm-compatible registry tarball: .../<name>/-/<basename>-<version>.tgz */
export function isRegistryTarball(url: string): boolean {
  return /^https?:\/\/[^?#]+\/-\/[^/?#]+\.tgz(\?.*)?$/i.test(url);
}

/**
 * The version in an npm-compatible registry tarball URL of package `name`:
 * `.../<name>/-/<unscoped name>-<version>.tgz` (the scope may be `@s/` or `@s%2f`). npm 5
 * wrote such URLs as the `version` of registry packages in some lockfiles (v1).
 */
export function registryTarballVersion(url: string, name: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const base = name.slice(name.indexOf('/') + 1);
  const m = /\/-\/([^/]+)\.tgz$/.exec(path);
  if (!m || !path.slice(0, m.index).endsWith(`/${name}`)) return undefined;
  const file = m[1]!;
  if (!file.startsWith(`${base}-`)) return undefined;
  const version = file.slice(base.length + 1);
  return /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version) ? version : undefined;
}

/**
 * Pinning by content: a registry package, URL or tarball is pinned when the lockfile records
 * a digest of it (integrity, hash, checksum), and unpinned, with the format's own words for
 * what is missing, when it does not. Every parser states its sources through this.
 */
export function pinnedByDigest(source: Provenance['source'], url: string | undefined, hasDigest: boolean, missing: string): Provenance {
  const p: Provenance = url === undefined ? { source, pinned: hasDigest } : { source, url, pinned: hasDigest };
  if (!hasDigest) p.unpinnedReason = missing;
  return p;
}

/** A package from a registry: pinned by its integrity. */
export function registryProvenance(
  hasDigest: boolean,
  url?: string,
  missing = 'registry package without an integrity hash',
): Provenance {
  return pinnedByDigest('registry', url, hasDigest, missing);
}

export function urlProvenance(url: string, hasHash: boolean): Provenance {
  return pinnedByDigest('url', url, hasHash, 'URL dependency without an integrity hash');
}

export function localProvenance(spec: string, isTarball: boolean, hasHash: boolean): Provenance {
  if (isTarball) return pinnedByDigest('file', spec, hasHash, 'local tarball without an integrity hash');
  return {
    source: 'directory',
    url: spec,
    pinned: false,
    unpinnedReason: 'local folder dependency: its content is not pinned by the lockfile',
  };
}

/** Line numbers of keys in a text, searched in order (keys must appear in the given order). */
export function lineIndex(text: string): (needle: string) => number | undefined {
  let pos = 0;
  let line = 1;
  return (needle: string) => {
    const at = text.indexOf(needle, pos);
    if (at < 0) return undefined;
    for (let i = pos; i < at; i++) if (text.charCodeAt(i) === 10) line++;
    pos = at;
    return line;
  };
}
