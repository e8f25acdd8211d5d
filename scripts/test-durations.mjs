#!/usr/bin/env node
// Writes test/durations.json (seconds per test file) from vitest's own record of the last run
// (node_modules/.vite/vitest/*/results.json). vitest.config.ts starts the longest files first
// with it on a fresh clone, where vitest has no record yet; run after `npm test` when test files
// were added, split or grew a lot.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cacheRoot = join('node_modules', '.vite', 'vitest');
const durations = {};
for (const dir of readdirSync(cacheRoot)) {
  const { results } = JSON.parse(readFileSync(join(cacheRoot, dir, 'results.json'), 'utf8'));
  for (const [key, { duration }] of results) {
    const file = key.slice(key.indexOf(':') + 1);
    if (file.startsWith('test/') && !file.startsWith('test/conformance/') && existsSync(file)) durations[file] = Math.round(duration / 100) / 10;
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(join('test', 'durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
