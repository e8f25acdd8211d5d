/**
 * `npm ci` refuses a lock that misses an optional dependency of a package it lists, even a
 * platform package for another OS or CPU (a registry mirror that serves only linux-x64 makes
 * `npm install` leave those out). Both locks, the project's and bench/'s, must list every
 * optional dependency of every package they hold, so `npm ci` and `npm run bench` install on a
 * fresh clone on any platform.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

interface Lock {
  packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }>;
}

/** Optional dependencies that Node's resolution from the dependent's folder would not find in the lock. */
function missingOptional(lock: Lock): string[] {
  const missing = new Set<string>();
  for (const [path, pkg] of Object.entries(lock.packages)) {
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
      let base = path;
      let found = false;
      for (;;) {
        if (lock.packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) {
          found = true;
          break;
        }
        if (!base) break;
        const i = base.lastIndexOf('/node_modules/');
        base = i < 0 ? '' : base.slice(0, i);
      }
      if (!found) missing.add(`${dep} (optional dependency of ${path || 'the project'})`);
    }
  }
  return [...missing].sort();
}

describe('package locks list every platform package', () => {
  for (const file of ['package-lock.json', 'bench/package-lock.json']) {
    it(file, async () => {
      const lock = JSON.parse(await readFile(join(REPO, file), 'utf8')) as Lock;
      expect(Object.keys(lock.packages).length).toBeGreaterThan(10);
      expect(missingOptional(lock)).toEqual([]);
    });
  }

  it('the check finds a missing platform package', () => {
    const lock: Lock = {
      packages: {
        '': {},
        'node_modules/tool': { version: '1.0.0', optionalDependencies: { 'tool-linux-x64': '1.0.0', 'tool-darwin-arm64': '1.0.0' } },
        'node_modules/tool-linux-x64': { version: '1.0.0' },
      },
    };
    expect(missingOptional(lock)).toEqual(['tool-darwin-arm64 (optional dependency of node_modules/tool)']);
  });
});
