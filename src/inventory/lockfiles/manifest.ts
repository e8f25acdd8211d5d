import { isObject, parseJsonText } from '../../util/json.js';
import type { ParseContext } from './types.js';
import type { Warnings } from './warnings.js';

/**
 * Reading the manifests beside a lockfile (package.json, pyproject.toml, .yarnrc.yml,
 * pnpm-workspace.yaml): one way for every parser. A manifest is a best-effort aid (root
 * name, workspace versions, dependency kinds): the lockfile stays the authority, so a
 * missing or unreadable manifest never fails the lockfile, except where a format says so
 * (`skipOversized: false`: a manifest over the size bound fails the lockfile).
 */
export interface SiblingOptions {
  /**
   * A sibling that cannot be read (over the size bound) is skipped (true, the default) or
   * its error fails the lockfile (false).
   */
  skipOversized?: boolean;
}

/** The text of a file relative to the lockfile's folder; undefined when it is not there. */
export async function readSiblingText(ctx: ParseContext, rel: string, options: SiblingOptions = {}): Promise<string | undefined> {
  if (options.skipOversized === false) return ctx.readSibling?.(rel);
  try {
    return await ctx.readSibling?.(rel);
  } catch {
    return undefined; // over the size bound: the lockfile is still readable without it
  }
}

export interface JsonManifestOptions extends SiblingOptions {
  /** Say here why a manifest that is not a JSON object was left out (else silently). */
  warnings?: Warnings | undefined;
  /** Bound on JSON nesting (default: the project's JSON bound). */
  maxDepth?: number;
}

/** A JSON manifest (package.json) as an object; undefined when missing or not a JSON object. */
export async function readJsonManifest(
  ctx: ParseContext,
  rel: string,
  options: JsonManifestOptions = {},
): Promise<Record<string, unknown> | undefined> {
  const text = await readSiblingText(ctx, rel, options);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseJsonText(text, rel, options.maxDepth);
  } catch (err) {
    options.warnings?.add(`${rel} is not valid JSON (${err instanceof Error ? err.message : String(err)}); read the lockfile without it`);
    return undefined;
  }
  if (!isObject(doc)) {
    options.warnings?.add(`${rel} is not a JSON object; read the lockfile without it`);
    return undefined;
  }
  return doc;
}

/** What aibom reads of a package.json: its identity, dependency maps, resolutions, workspaces. */
export interface PackageManifest {
  name?: string;
  version?: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  /** `resolutions`: ranges forced on every dependent (`name`, `parent/name`, `name@range`, any depth with two stars). */
  resolutions: Record<string, string>;
  /** `workspaces` globs (array, or yarn's `{ packages: [...] }`). */
  workspaces: string[];
}

/** The typed view of a package.json object: string-valued entries only. */
export function packageManifest(doc: Record<string, unknown>): PackageManifest {
  const deps = (field: string): Record<string, string> => {
    const v = doc[field];
    const out: Record<string, string> = {};
    if (isObject(v)) for (const [k, r] of Object.entries(v)) if (typeof r === 'string') out[k] = r;
    return out;
  };
  let ws: unknown = doc.workspaces;
  if (isObject(ws)) ws = ws.packages;
  const m: PackageManifest = {
    dependencies: deps('dependencies'),
    devDependencies: deps('devDependencies'),
    optionalDependencies: deps('optionalDependencies'),
    peerDependencies: deps('peerDependencies'),
    resolutions: deps('resolutions'),
    workspaces: Array.isArray(ws) ? ws.filter((g): g is string => typeof g === 'string') : [],
  };
  if (typeof doc.name === 'string') m.name = doc.name;
  if (typeof doc.version === 'string') m.version = doc.version;
  return m;
}
