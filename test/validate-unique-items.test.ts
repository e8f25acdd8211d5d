import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

// `uniqueItems` is checked by aibom's linear-time keyword (src/bom/unique-items.ts) instead of
// ajv's pairwise deep-equal; these tests pin down that it means exactly JSON deep equality.
function bomWith(components: unknown[], dependencies: unknown[] = []): string {
  return JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components, dependencies });
}

const lib = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'library',
  name,
  version: '1.0.0',
  'bom-ref': `ref-${name}`,
  ...extra,
});

async function validate(text: string) {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'bom.json');
    await writeFile(file, text);
    return await runCli(['validate', file, '--json']);
  } finally {
    await cleanup();
  }
}

describe('uniqueItems in BOM validation', () => {
  it('reports two deep-equal components even when their keys are in another order', async () => {
    const a = lib('left-pad', { hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] });
    const reordered = Object.fromEntries(Object.entries(a).reverse());
    const r = await validate(bomWith([lib('x'), a, lib('y'), reordered]));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: Array<{ path: string; message: string }> };
    expect(out.valid).toBe(false);
    expect(out.errors).toContainEqual({
      path: '$.components',
      message: 'must NOT have duplicate items (items ## 1 and 3 are identical)',
    });
  });

  it('reports duplicate strings in a dependsOn list', async () => {
    const r = await validate(bomWith([lib('a'), lib('b')], [{ ref: 'ref-a', dependsOn: ['ref-b', 'ref-b'] }]));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('$.dependencies[0].dependsOn');
    expect(r.stdout).toContain('duplicate items');
  });

  it('accepts items that differ only deep inside, by type, or by array order', async () => {
    const components = [
      lib('p', { properties: [{ name: 'k', value: '1' }, { name: 'k', value: '2' }] }),
      lib('p', { properties: [{ name: 'k', value: '2' }, { name: 'k', value: '1' }] }),
      lib('q', { hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] }),
      lib('q', { hashes: [{ alg: 'SHA-256', content: 'c'.repeat(64) }] }),
      lib('r'),
      lib('r', { description: 'the same but described' }),
    ];
    // Same name twice is fine when anything else differs: only whole items must be unique.
    const r = await validate(bomWith(components, [{ ref: 'ref-p', dependsOn: ['ref-q', 'ref-r'] }]));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, errors: [] });
    expect(r.code).toBe(0);
  });
});
