import { createRequire } from 'node:module';
import type { PackageURL as PackageURLType } from 'packageurl-js';
import { lazy } from '../util/lazy.js';

const require = createRequire(import.meta.url);

/**
 * Package URLs. packageurl-js (the reference implementation) decides encoding and per-type
 * normalization (npm names lowercased, PyPI names lowercased with '-'), and builds every purl
 * with qualifiers, odd spacing or an odd namespace. The plain case, `name@version` with
 * nothing to normalize but case, is spelled out here with the same encoding rules (see
 * packageurl-js src/encode.js): a lockfile of 2,000 packages pays ~25 ms for the library's
 * load and per-purl validation otherwise. A CLI test (purls.test.ts) checks every purl aibom
 * writes for the fixtures against packageurl-js.
 */
const lib = lazy(() => require('packageurl-js') as typeof import('packageurl-js'));

function make(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers: Record<string, string> | undefined,
): string {
  const PackageURL: typeof PackageURLType = lib().PackageURL;
  return new PackageURL(type, namespace, name, version, qualifiers, undefined).toString();
}

/** Nothing for packageurl-js to normalize but letter case (which the caller applies). */
function plain(namespace: string | undefined, name: string, version: string | undefined): boolean {
  return (
    name !== '' &&
    name.trim() === name &&
    (version === undefined || (version !== '' && version.trim() === version)) &&
    (namespace === undefined || (namespace !== '' && !namespace.includes('/') && namespace.trim() === namespace))
  );
}

function format(type: string, namespace: string | undefined, name: string, version: string | undefined): string {
  let s = `pkg:${type}/`;
  if (namespace !== undefined) s += `${encodeURIComponent(namespace).replace(/%3A/g, ':')}/`;
  s += encodeURIComponent(name);
  if (version !== undefined) s += `@${encodeURIComponent(version).replace(/%3A/g, ':').replace(/%2B/g, '+')}`;
  return s;
}

export function npmPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  let namespace: string | undefined;
  let base = name;
  if (name.startsWith('@') && name.includes('/')) {
    const slash = name.indexOf('/');
    namespace = name.slice(0, slash);
    base = name.slice(slash + 1);
  }
  if (!qualifiers && plain(namespace, base, version)) return format('npm', namespace?.toLowerCase(), base.toLowerCase(), version);
  return make('npm', namespace, base, version, qualifiers);
}

/** PEP 503 normalized name: lowercase, runs of -_. become '-'. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function pypiPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  const normalized = normalizePypiName(name);
  if (!qualifiers && plain(undefined, normalized, version)) return format('pypi', undefined, normalized, version);
  return make('pypi', undefined, normalized, version, qualifiers);
}

export function huggingfacePurl(namespace: string | undefined, name: string, revision?: string): string {
  return make('huggingface', namespace, name, revision, undefined);
}

export function genericPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  return make('generic', undefined, name, version, qualifiers);
}
