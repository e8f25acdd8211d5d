import { PackageURL } from 'packageurl-js';

/**
 * Package URLs, built with packageurl-js (the reference implementation) so encoding and
 * per-type normalization (PyPI names lowercased with '-', npm scopes) follow the spec.
 */
export function npmPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  let namespace: string | undefined;
  let base = name;
  if (name.startsWith('@') && name.includes('/')) {
    const slash = name.indexOf('/');
    namespace = name.slice(0, slash);
    base = name.slice(slash + 1);
  }
  return new PackageURL('npm', namespace, base, version, qualifiers, undefined).toString();
}

/** PEP 503 normalized name: lowercase, runs of -_. become '-'. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function pypiPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  return new PackageURL('pypi', undefined, normalizePypiName(name), version, qualifiers, undefined).toString();
}

export function huggingfacePurl(namespace: string | undefined, name: string, revision?: string): string {
  return new PackageURL('huggingface', namespace, name, revision, undefined, undefined).toString();
}

export function genericPurl(name: string, version?: string, qualifiers?: Record<string, string>): string {
  return new PackageURL('generic', undefined, name, version, qualifiers, undefined).toString();
}
