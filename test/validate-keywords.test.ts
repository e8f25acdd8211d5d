import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specVersionOf, validateBomJson } from '../src/bom/validate.js';
import { parseJsonText } from '../src/util/json.js';
import { runCli, tempDir } from './helpers/cli.js';

// `uniqueItems` and `enum` are checked by aibom's faster keywords (src/bom/ajv-keywords.ts)
// instead of ajv's own; these tests pin down that they check exactly the same thing.
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

/** `aibom validate FILE --json` as a process, where what it prints on stderr matters too. */
async function validateCli(text: string) {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'bom.json');
    await writeFile(file, text);
    return await runCli(['validate', file, '--json']);
  } finally {
    await cleanup();
  }
}

/**
 * `aibom validate FILE --json` in-process: the command's library calls (parse, spec version,
 * schema validation), its exit code and its JSON. The command's own exit codes and messages are
 * tested through the CLI in cli-basics.
 */
async function validate(text: string): Promise<{ code: number; stdout: string }> {
  const file = 'bom.json';
  const data = parseJsonText(text, file);
  const specVersion = specVersionOf(data);
  const errors = await validateBomJson(data, specVersion);
  return { code: errors.length ? 1 : 0, stdout: JSON.stringify({ file, specVersion, valid: errors.length === 0, errors }) };
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

  it('finds a reordered duplicate among many items, and tells near-duplicates apart', async () => {
    // More than a handful of items takes the keyed path instead of pairwise comparison.
    const many = Array.from({ length: 12 }, (_, i) =>
      lib('same', { hashes: [{ alg: 'SHA-256', content: i.toString(16).padStart(64, '0') }] }),
    );
    const ok = await validate(bomWith(many));
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true });
    const dup = Object.fromEntries(Object.entries(many[4]!).reverse());
    const bad = await validate(bomWith([...many, dup]));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).errors).toContainEqual({
      path: '$.components',
      message: 'must NOT have duplicate items (items ## 4 and 12 are identical)',
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
    const r = await validateCli(bomWith(components, [{ ref: 'ref-p', dependsOn: ['ref-q', 'ref-r'] }]));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, errors: [] });
    expect(r.code).toBe(0);
  });

  it('rejects a value outside a large enum (SPDX license ids) and a small one (component type)', async () => {
    const r = await validate(
      bomWith([lib('a', { licenses: [{ license: { id: 'MIT-ish' } }] }), lib('b', { type: 'gadget' })]),
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { errors: Array<{ path: string; message: string }> };
    const paths = out.errors.filter((e) => e.message.startsWith('must be equal to one of the allowed values'));
    expect(paths.map((e) => e.path)).toEqual(
      expect.arrayContaining(['$.components[0].licenses[0].license.id', '$.components[1].type']),
    );
  });

  it('accepts every value of the enums, including the last SPDX id', async () => {
    const r = await validate(
      bomWith([
        lib('a', { licenses: [{ license: { id: 'ZPL-2.1' } }] }),
        lib('b', { licenses: [{ license: { id: '0BSD' } }] }),
        lib('c', { type: 'machine-learning-model' }),
      ]),
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
    expect(r.code).toBe(0);
  });
});
