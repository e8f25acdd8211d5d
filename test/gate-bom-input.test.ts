/**
 * `aibom gate --bom`: the BOM is hostile input. It is schema-validated before anything reads
 * it, duplicate keys are refused, components are read wherever CycloneDX allows them, a
 * component's CycloneDX `type` decides what it is (never an `aibom:` property), MD5 / SHA-1
 * are not integrity, and other generators' dev flags are honoured.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { runGate } from '../src/gate/gate.js';
import { runCli, tempDir } from './helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
  await mkdir(join(tmp.dir, 'root'), { recursive: true });
});
afterAll(async () => {
  await tmp.cleanup();
});

const SHA256 = 'a'.repeat(64);
const base = (extra: Record<string, unknown> = {}) => ({
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  metadata: { component: { type: 'application', name: 'agent', 'bom-ref': 'root' } },
  ...extra,
});
const pkg = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'library',
  name,
  version: '1.0.0',
  'bom-ref': `pkg:npm/${name}@1.0.0`,
  purl: `pkg:npm/${name}@1.0.0`,
  hashes: [{ alg: 'SHA-512', content: 'b'.repeat(128) }],
  ...extra,
});
const pickleModel = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'machine-learning-model',
  name,
  'bom-ref': `model:${name}`,
  hashes: [{ alg: 'SHA-256', content: SHA256 }],
  properties: [
    { name: 'aibom:kind', value: 'model' },
    { name: 'aibom:serialization', value: 'pickle' },
  ],
  ...extra,
});

async function bomFile(content: string | object): Promise<string> {
  const f = join(tmp.dir, `bom-${n++}.json`);
  await writeFile(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

async function gateError(content: string | object): Promise<AibomError> {
  const bom = await bomFile(content);
  const err = await runGate({ bom, root: join(tmp.dir, 'root') }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AibomError);
  return err as AibomError;
}

async function gate(content: string | object) {
  return runGate({ bom: await bomFile(content), root: join(tmp.dir, 'root') });
}

describe('schema first', () => {
  it('components given as an object is a schema error (exit 1), not "0 components"', async () => {
    const e = await gateError(base({ components: { a: pickleModel('evil') } }));
    expect(e.code).toBe('INVALID_BOM');
    expect(e.message).toMatch(/\$\.components/);
  });
  it('a component without a name, or with an unknown type, is a schema error', async () => {
    expect((await gateError(base({ components: [{ type: 'library', 'bom-ref': 'x' }] }))).code).toBe('INVALID_BOM');
    expect((await gateError(base({ components: [{ type: 'weights', name: 'm' }] }))).code).toBe('INVALID_BOM');
  });
  it('a hash that is not hex is a schema error', async () => {
    const e = await gateError(base({ components: [pkg('a', { hashes: [{ alg: 'SHA-256', content: 'not-a-digest' }] })] }));
    expect(e.code).toBe('INVALID_BOM');
  });
  it('through the CLI: exit 1 and the schema errors on stderr', async () => {
    const bom = await bomFile(base({ components: { a: pickleModel('evil') } }));
    const r = await runCli(['gate', '--bom', bom, '--root', join(tmp.dir, 'root')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a valid CycloneDX 1\.6 BOM/);
    expect(r.stderr).toMatch(/\$\.components/);
  });
});

describe('duplicate keys are refused', () => {
  it('components given twice (the second empty)', async () => {
    const text = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[${JSON.stringify(pickleModel('evil'))}],"components":[]}`;
    const e = await gateError(text);
    expect(e.code).toBe('INPUT');
    expect(e.message).toMatch(/duplicate key "components"/);
  });
  it('a duplicate inside a component, spelled with an escape', async () => {
    const m = JSON.stringify(pickleModel('evil')).replace('"type":"machine-learning-model"', '"type":"machine-learning-model","t\\u0079pe":"library"');
    const e = await gateError(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[${m}]}`);
    expect(e.message).toMatch(/duplicate key "type"/);
  });
  it('through the CLI: an input error naming the file', async () => {
    const bom = await bomFile('{"bomFormat":"CycloneDX","specVersion":"1.6","specVersion":"1.6","version":1}');
    const r = await runCli(['gate', '--bom', bom]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bom}: not valid JSON: duplicate key "specVersion"`);
  });
});

describe('components wherever CycloneDX allows them', () => {
  it('metadata.component.components', async () => {
    const res = await gate(base({ metadata: { component: { type: 'application', name: 'agent', components: [pickleModel('hidden')] } } }));
    expect(res.passed).toBe(false);
    expect(res.failures.map((f) => f.rule)).toContain('pickle-model');
  });
  it('a subject that is itself a pickle model', async () => {
    const res = await gate(base({ metadata: { component: pickleModel('subject') } }));
    expect(res.failures.some((f) => f.rule === 'pickle-model' && f.subject === 'model:subject')).toBe(true);
  });
  it('a library subject (another generator’s project) is not judged as a package', async () => {
    const res = await gate(base({ metadata: { component: { type: 'library', name: 'proj', version: '1.0.0' } }, components: [pkg('ok')] }));
    expect(res.passed).toBe(true);
  });
  it('nested components, several levels deep', async () => {
    const res = await gate(base({ components: [pkg('outer', { components: [pkg('mid', { components: [pickleModel('deep')] })] })] }));
    expect(res.failures.some((f) => f.rule === 'pickle-model' && f.subject === 'model:deep')).toBe(true);
  });
  it('a nested "file" component is still judged (its risks count)', async () => {
    const file = {
      type: 'file',
      name: 'evil.pkl',
      'bom-ref': 'file:evil',
      hashes: [{ alg: 'SHA-256', content: SHA256 }],
      properties: [{ name: 'aibom:finding', value: 'critical pickle-unsafe-import: imports os.system' }],
    };
    const res = await gate(base({ components: [pkg('outer', { components: [file] })] }));
    expect(res.failures.some((f) => f.rule === 'pickle-risky-import')).toBe(true);
  });
  it('nested services', async () => {
    const svc = { name: 'remote', 'bom-ref': 'svc:remote', properties: [{ name: 'aibom:kind', value: 'mcp-server' }, { name: 'aibom:pinned', value: 'false' }] };
    const res = await gate(base({ services: [{ name: 'outer', 'bom-ref': 'svc:outer', services: [svc] }] }));
    expect(res.failures.some((f) => f.rule === 'mcp-pinned' && f.subject === 'svc:remote')).toBe(true);
  });
});

describe("a component's type wins over aibom: properties", () => {
  it('a machine-learning-model that says aibom:kind=package is a model', async () => {
    const m = pickleModel('disguised', { properties: [{ name: 'aibom:kind', value: 'package' }, { name: 'aibom:serialization', value: 'pickle' }] });
    const res = await gate(base({ components: [m] }));
    expect(res.failures.some((f) => f.rule === 'pickle-model' && f.subject === 'model:disguised')).toBe(true);
  });
  it('a machine-learning-model that says aibom:kind=application is still hashed and signed', async () => {
    const m = { type: 'machine-learning-model', name: 'm', 'bom-ref': 'model:m', properties: [{ name: 'aibom:kind', value: 'application' }] };
    const rules = (await gate(base({ components: [m] }))).failures.map((f) => f.rule);
    expect(rules).toContain('model-hashed');
    expect(rules).toContain('model-signed');
  });
  it('data that claims to be a hub reference via aibom:kind=dataset on a library is a package', async () => {
    const c = pkg('x', { hashes: [], properties: [{ name: 'aibom:kind', value: 'dataset' }, { name: 'aibom:source', value: 'huggingface' }] });
    const res = await gate(base({ components: [c] }));
    expect(res.failures.some((f) => f.rule === 'package-hashed')).toBe(true);
  });
  it('a library with aibom:mcp: properties is not excused as an MCP server', async () => {
    const c = pkg('y', { hashes: [], properties: [{ name: 'aibom:mcp:server', value: 'y' }, { name: 'aibom:pinned', value: 'true' }] });
    const res = await gate(base({ components: [c] }));
    expect(res.failures.some((f) => f.rule === 'package-hashed')).toBe(true);
  });
});

describe('MD5 and SHA-1 are not integrity', () => {
  for (const alg of ['MD5', 'SHA-1']) {
    it(`a package with only ${alg}`, async () => {
      const content = alg === 'MD5' ? 'c'.repeat(32) : 'c'.repeat(40);
      const res = await gate(base({ components: [pkg('weak', { hashes: [{ alg, content }] })] }));
      expect(res.failures.some((f) => f.rule === 'package-hashed')).toBe(true);
    });
    it(`a model with only ${alg}`, async () => {
      const content = alg === 'MD5' ? 'c'.repeat(32) : 'c'.repeat(40);
      const m = { type: 'machine-learning-model', name: 'm', 'bom-ref': 'model:m', hashes: [{ alg, content }] };
      const res = await gate(base({ components: [m] }));
      expect(res.failures.some((f) => f.rule === 'model-hashed')).toBe(true);
    });
    it(`a distribution reference with only ${alg}`, async () => {
      const content = alg === 'MD5' ? 'c'.repeat(32) : 'c'.repeat(40);
      const c = pkg('dist', { hashes: [], externalReferences: [{ type: 'distribution', url: 'https://example.test/x.tgz', hashes: [{ alg, content }] }] });
      const res = await gate(base({ components: [c] }));
      expect(res.failures.some((f) => f.rule === 'package-hashed')).toBe(true);
    });
  }
  it('SHA-512 and SHA3-256 are', async () => {
    const a = pkg('s512');
    const b = pkg('s3', { hashes: [{ alg: 'SHA3-256', content: 'd'.repeat(64) }] });
    const res = await gate(base({ components: [a, b] }));
    expect(res.failures.filter((f) => f.rule === 'package-hashed')).toEqual([]);
  });
});

describe("other generators' dev flags", () => {
  it('cdx:npm:package:development=true is a dev package (left out by default, judged with includeDevPackages)', async () => {
    const c = pkg('devonly', { hashes: [], properties: [{ name: 'cdx:npm:package:development', value: 'true' }] });
    const res = await gate(base({ components: [c] }));
    expect(res.failures.filter((f) => f.subject === c['bom-ref'])).toEqual([]);
    const prod = pkg('prod', { hashes: [], properties: [{ name: 'cdx:npm:package:development', value: 'false' }] });
    const res2 = await gate(base({ components: [prod] }));
    expect(res2.failures.some((f) => f.rule === 'package-hashed')).toBe(true);
  });
  it('a dev flag on a model does not excuse it', async () => {
    const m = pickleModel('devmodel', { properties: [{ name: 'aibom:serialization', value: 'pickle' }, { name: 'cdx:npm:package:development', value: 'true' }] });
    const res = await gate(base({ components: [m] }));
    expect(res.failures.some((f) => f.rule === 'pickle-model')).toBe(true);
  });
});

describe('policies: duplicate keys, escaped or not, are refused', () => {
  for (const [label, text] of [
    ['plain', '{"rules": {"mcp-pinned": true}, "rules": {"mcp-pinned": false}}'],
    ['escaped', '{"rules": {"mcp-pinned": true}, "rul\\u0065s": {"mcp-pinned": false}}'],
    ['nested', '{"rules": {"mcp-pinned": true, "mcp-pinn\\u0065d": false}}'],
  ] as const) {
    it(label, async () => {
      const f = join(tmp.dir, `policy-${n++}.json`);
      await writeFile(f, text);
      const { loadPolicy } = await import('../src/policy/load.js');
      const e = await loadPolicy(f).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(AibomError);
      expect((e as AibomError).message).toMatch(/duplicate key/);
    });
  }
});
