import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded on first use, synchronously (through `require`; every package it is
 * used for ships CommonJS). `aibom build` starts every discoverer and lockfile parser, most
 * of which find nothing to read: their parsers (yaml ~25 ms, semver ~15 ms to load) should
 * cost nothing then. Type it with the package's own types:
 *   const yaml = lazyRequire<typeof import('yaml')>('yaml');  ...  yaml().parseDocument(text)
 */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(id) as T);
}
