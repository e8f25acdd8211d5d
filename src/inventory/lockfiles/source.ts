import type { Provenance } from '../types.js';

/**
 * Classify where a resolved package comes from, ecosystem-neutral, from the URL or spec a
 * lockfile records. No registry host names are known here: a registry tarball is
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

export function urlProvenance(url: string, hasHash: boolean): Provenance {
  return hasHash
    ? { source: 'url', url, pinned: true }
    : { source: 'url', url, pinned: false, unpinnedReason: 'URL dependency without an integrity hash' };
}

export function localProvenance(spec: string, isTarball: boolean, hasHash: boolean): Provenance {
  if (isTarball) {
    return hasHash
      ? { source: 'file', url: spec, pinned: true }
      : { source: 'file', url: spec, pinned: false, unpinnedReason: 'local tarball without an integrity hash' };
  }
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
