/**
 * A dependency loaded on first use, synchronously (through `require`; every package it is
 * used for ships CommonJS). `aibom build` starts every discoverer and lockfile parser, most
 * of which find nothing to read: their parsers (yaml ~25 ms, semver ~15 ms to load) should
 * cost nothing then. The `require` is the calling module's own, written out with a literal
 * name, so that the CLI's bundler sees the package (scripts/bundle-cli.mjs) and the library,
 * unbundled, loads it from node_modules:
 *   const require = createRequire(import.meta.url);
 *   const yaml = lazy(() => require('yaml') as typeof import('yaml'));  ...  yaml().parseDocument(text)
 */
export function lazy<T>(load: () => T): () => T {
  let mod: T | undefined;
  return () => (mod ??= load());
}
