/**
 * One duplicate-key check for every YAML input (src/util/yaml.ts duplicateKey): a key given
 * twice in one mapping is refused with the key and its line wherever YAML is read. Here: the
 * start-up check's runtime config (read by the hook before any plugin is checked), the
 * policy file, and the check itself with its variant for formats that only write plain keys.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { loadPolicy } from '../src/policy/load.js';
import { loadRuntimeConfig } from '../src/runtime/config.js';
import { duplicateKey, parseYamlDocument } from '../src/util/yaml.js';
import { tempDir } from './helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('aibom-yaml-keys-');
});
afterAll(() => tmp?.cleanup());

async function runtimeRefusal(name: string, text: string): Promise<AibomError> {
  const file = join(tmp.dir, name);
  await writeFile(file, text);
  const err = await loadRuntimeConfig({ AIBOM_CONFIG: file }, tmp.dir, undefined).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AibomError);
  return err as AibomError;
}

describe('the runtime config (aibom.runtime.yaml)', () => {
  it('a key given twice is refused with the key and its line: a second "bom" cannot hide behind the first', async () => {
    const err = await runtimeRefusal('dup.aibom.runtime.yaml', 'bom: release.cdx.json\npolicy: p.yaml\nbom: other.cdx.json\n');
    expect(err.code).toBe('INPUT');
    expect(err.message).toBe('line 3: not valid YAML: duplicate key "bom"');
  });

  it('a duplicate deep inside a list of mappings is found too', async () => {
    const err = await runtimeRefusal('deep.aibom.runtime.yaml', 'bom: b.json\npluginPaths:\n  - {a: 1, a: 2}\n');
    expect(err.message).toBe('line 3: not valid YAML: duplicate key "a"');
  });

  it('nesting too deep to read is an input error, never a crash', async () => {
    const err = await runtimeRefusal('nest.aibom.runtime.yaml', `bom: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    expect(err.message).toMatch(/not valid YAML: .*(nests too deeply|call stack)/);
  });
});

describe('the policy file', () => {
  it('a key given twice is refused with the key and its line', async () => {
    const file = join(tmp.dir, 'dup-policy.yaml');
    await writeFile(file, 'rules:\n  pickle-model: true\n  pickle-model: false\n');
    await expect(loadPolicy(file)).rejects.toThrow('line 3: not valid YAML/JSON: duplicate key "pickle-model"');
  });
});

describe('duplicateKey', () => {
  it('by default searches keys that are mappings for duplicates inside them; plainKeysOnly refuses such a key', () => {
    const doc = parseYamlDocument('? {x: 1, y: 2}\n: v\n', { uniqueKeys: false });
    expect(duplicateKey(doc)).toBeUndefined();
    expect(duplicateKey(doc, { plainKeysOnly: true })).toEqual({ key: '', offset: 2, notPlain: true });
    const twice = parseYamlDocument('? {x: 1, x: 2}\n: v\n', { uniqueKeys: false });
    expect(duplicateKey(twice)).toEqual({ key: 'x', offset: 9 });
  });

  it('compares keys by their string form, as they become JavaScript keys', () => {
    const doc = parseYamlDocument('1: a\n"1": b\n', { uniqueKeys: false });
    expect(duplicateKey(doc)).toEqual({ key: '1', offset: 5 });
  });
});
