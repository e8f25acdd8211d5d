/**
 * `aibom gate --bom` with a hostile BOM: a model (or plugin, MCP server, dataset) is judged
 * wherever CycloneDX 1.4-1.7 allows a component or a service, not only in `components`:
 * the BOM's subject itself, its tools, formulation, declarations targets, vulnerability
 * tools, annotators, nested at any depth (not pedigree: lineage, not what ships). What only describes how the BOM was made
 * (a tool that is a plain library) is not judged as a shipped package.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { runGate } from '../src/gate/gate.js';
import { inventoryFromBom, MAX_BOM_NODES } from '../src/bom/rows.js';
import { runCli, tempDir } from './helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

// The attacker's model: unsigned, MD5 only, pickle.
const evil = (name = 'evil.pkl') => ({
  type: 'machine-learning-model',
  'bom-ref': `m-${name}`,
  name,
  hashes: [{ alg: 'MD5', content: 'd41d8cd98f00b204e9800998ecf8427e' }],
  properties: [{ name: 'aibom:model:format', value: 'pickle' }],
});
const leftpad = { type: 'library', 'bom-ref': 'p1', name: 'leftpad', version: '1.0.0', purl: 'pkg:npm/leftpad@1.0.0' };
const unpinnedMcp = {
  name: 'evil-mcp',
  'bom-ref': 'mcp1',
  properties: [
    { name: 'aibom:kind', value: 'mcp-server' },
    { name: 'aibom:pinned', value: 'false' },
  ],
};
const head = (spec: string) => ({ bomFormat: 'CycloneDX', specVersion: spec, version: 1 });

async function gate(bom: object) {
  const f = join(tmp.dir, `bom-${n++}.json`);
  await writeFile(f, JSON.stringify(bom));
  return runGate({ bom: f, root: tmp.dir });
}

const HIDDEN: Array<[string, string, object]> = [
  ['metadata.component is the model', '1.6', { metadata: { component: evil() } }],
  ['metadata.component.components', '1.6', { metadata: { component: { type: 'application', name: 'x', components: [evil()] } } }],
  ['metadata.tools.components', '1.6', { metadata: { tools: { components: [evil(), leftpad] } } }],
  ['metadata.tools.components nested', '1.5', { metadata: { tools: { components: [{ type: 'application', name: 't', components: [evil()] }] } } }],
  ['formulation[].components', '1.6', { formulation: [{ 'bom-ref': 'f1', components: [evil(), leftpad] }] }],
  ['formulation[].components (1.5)', '1.5', { formulation: [{ 'bom-ref': 'f1', components: [evil()] }] }],
  ['declarations.targets.components', '1.6', { declarations: { targets: { components: [evil()] } } }],
  ['declarations.targets.components (1.7)', '1.7', { declarations: { targets: { components: [evil()] } } }],
  ['components nested three deep', '1.6', { components: [{ type: 'application', name: 'a', components: [{ type: 'library', name: 'b', version: '1', hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }], components: [evil()] }] }] }],
  ['vulnerabilities[].tools.components', '1.6', { vulnerabilities: [{ id: 'CVE-1', tools: { components: [evil()] } }] }],
  ['annotations[].annotator.component', '1.6', { annotations: [{ subjects: [], annotator: { component: evil() }, timestamp: '2026-01-01T00:00:00Z', text: 'x' }] }],
];

describe('a model hidden where CycloneDX allows a component is judged', () => {
  for (const [label, spec, extra] of HIDDEN) {
    it(label, async () => {
      const res = await gate({ ...head(spec), ...extra });
      expect(res.passed).toBe(false);
      const rules = res.failures.filter((f) => f.name.includes('evil.pkl')).map((f) => f.rule);
      expect(rules).toContain('model-hashed');
      expect(rules).toContain('model-signed');
    });
  }
  it('an unhashed library in formulation fails package-hashed', async () => {
    const res = await gate({ ...head('1.6'), formulation: [{ 'bom-ref': 'f1', components: [leftpad] }] });
    expect(res.failures.map((f) => [f.rule, f.name])).toContainEqual(['package-hashed', 'leftpad@1.0.0']);
  });
  it('an unpinned MCP server among formulation services or tool services', async () => {
    for (const extra of [
      { formulation: [{ 'bom-ref': 'f1', services: [unpinnedMcp] }] },
      { metadata: { tools: { services: [unpinnedMcp] } } },
      { declarations: { targets: { services: [{ name: 'wrap', services: [unpinnedMcp] }] } } },
    ]) {
      const res = await gate({ ...head('1.6'), ...extra });
      expect(res.failures.map((f) => f.rule)).toContain('mcp-pinned');
    }
  });
  it('the row says where in the BOM it was found', () => {
    const inv = inventoryFromBom({ ...head('1.6'), formulation: [{ components: [evil()] }] });
    expect(inv.rows.map((r) => [r.name, r.properties.get('aibom:bom-place')?.[0]])).toEqual([['evil.pkl', 'formulation.components']]);
  });
});

describe('a model card makes a model', () => {
  it('a platform or library component with a modelCard is judged as a model', async () => {
    for (const type of ['platform', 'library', 'application']) {
      const res = await gate({ ...head('1.6'), components: [{ type, name: 'evil.pkl', version: '1', modelCard: {} }] });
      expect(res.failures.map((f) => f.rule)).toContain('model-hashed');
    }
  });
});

describe('what describes the BOM is not judged as shipped', () => {
  it('a tool library and an application subject are not rows; the subject keeps being the project', () => {
    const inv = inventoryFromBom({
      ...head('1.6'),
      metadata: { tools: { components: [leftpad, { type: 'application', name: 'gen' }] }, component: { type: 'application', name: 'agent', version: '2.0.0' } },
    });
    expect(inv.rows).toEqual([]);
    expect(inv.project).toEqual({ name: 'agent', version: '2.0.0' });
  });
  it("a model's lineage (pedigree: its base model, on a hub) is not judged as shipped", async () => {
    const base = { type: 'machine-learning-model', name: 'org/base-model', 'bom-ref': 'base' };
    const res = await gate({ ...head('1.6'), components: [{ type: 'application', name: 'a', pedigree: { ancestors: [base], variants: [base] } }] });
    expect(res.failures).toEqual([]);
  });
  it('a subject library with no hashes passes (it is the thing the BOM describes, not a dependency)', async () => {
    const res = await gate({ ...head('1.6'), metadata: { component: leftpad } });
    expect(res.failures).toEqual([]);
  });
});

describe('bounded', () => {
  it('a BOM nested deeper than any stack is read without a stack overflow', () => {
    let node: Record<string, unknown> = evil();
    for (let i = 0; i < 100_000; i++) node = { type: 'application', name: `a${i}`, components: [node] };
    const inv = inventoryFromBom({ ...head('1.6'), formulation: [{ components: [node] }] });
    expect(inv.rows.some((r) => r.name === 'evil.pkl')).toBe(true);
  });
  it(`more than ${MAX_BOM_NODES} components is an input error`, () => {
    const many = Array.from({ length: MAX_BOM_NODES + 1 }, () => ({}));
    let err: unknown;
    try {
      inventoryFromBom({ ...head('1.6'), components: many });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AibomError);
    expect((err as AibomError).message).toMatch(/more than 1000000 components and services/);
  });
});

describe('through the CLI', () => {
  it('the BOM subject itself an unsigned pickle model: exit 1 naming the rule', async () => {
    const f = join(tmp.dir, 'metaself.json');
    await writeFile(f, JSON.stringify({ ...head('1.6'), metadata: { component: evil() } }));
    const r = await runCli(['gate', '--bom', f, '--root', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/model-hashed/);
    expect(r.stdout + r.stderr).toMatch(/evil\.pkl/);
  });
  it('a model among metadata.tools.components: exit 1', async () => {
    const f = join(tmp.dir, 'tools.json');
    await writeFile(f, JSON.stringify({ ...head('1.6'), metadata: { tools: { components: [evil(), leftpad] } } }));
    const r = await runCli(['gate', '--bom', f, '--root', tmp.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/model-signed/);
  });
});
