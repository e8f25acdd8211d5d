import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInProcess } from './helpers/build-in-process.js';
import { type BomDoc, FIXTURES, REPO } from './helpers/cli.js';

const { PackageURL } = createRequire(import.meta.url)('packageurl-js') as typeof import('packageurl-js');

/**
 * aibom spells plain npm and PyPI purls itself (src/inventory/purl.ts) instead of through
 * packageurl-js, for speed. Every purl in the BOMs of the bench lockfile and of every
 * lockfile fixture must be exactly what packageurl-js makes of the component's name, group,
 * version and qualifiers, and must be canonical (parse and print give it back).
 */
async function bomOf(dir: string): Promise<BomDoc> {
  // In-process: the purls are the builder's, the same code the CLI runs (test/helpers/build-in-process.ts).
  return (await buildInProcess(dir, ['--keep-going'])).bom;
}

function expected(c: Record<string, any>, qualifiers: Record<string, string> | undefined): string | undefined {
  const q = qualifiers && Object.keys(qualifiers).length ? qualifiers : undefined;
  if (c.purl.startsWith('pkg:npm/')) {
    return new PackageURL('npm', c.group, c.name, c.version, q, undefined).toString();
  }
  if (c.purl.startsWith('pkg:pypi/')) {
    const name = String(c.name).toLowerCase().replace(/[-_.]+/g, '-');
    return new PackageURL('pypi', undefined, name, c.version, q, undefined).toString();
  }
  return undefined;
}

describe('purls', () => {
  it('are what packageurl-js makes of each npm and PyPI package, and canonical', async () => {
    const boms = [await bomOf(join(REPO, 'bench', 'fixtures', 'webapp')), await bomOf(join(FIXTURES, 'lockfiles'))];
    let checked = 0;
    for (const bom of boms) {
      for (const c of bom.components ?? []) {
        if (typeof c.purl !== 'string' || c.type === 'application') continue;
        const parsed = PackageURL.fromString(c.purl);
        expect(parsed.toString(), c.purl).toBe(c.purl);
        const want = expected(c, parsed.qualifiers as Record<string, string> | undefined);
        if (want === undefined) continue;
        expect(c.purl).toBe(want);
        checked++;
      }
    }
    // The bench lockfile alone has over 2,000 packages; the fixtures add every other kind.
    expect(checked).toBeGreaterThan(2100);
    const types = new Set(boms.flatMap((b) => (b.components ?? []).map((c) => String(c.purl).split('/')[0])));
    expect(types.has('pkg:npm') && types.has('pkg:pypi')).toBe(true);
  });
});
