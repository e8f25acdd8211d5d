/**
 * The library entry `aibom` (package.json "exports": "."), used the way a JS consumer would: a
 * separate Node process importing the package by name, building and validating a BOM of the
 * example agent and gating it. Under `npm test` this is the compiled dist/; run alone, the
 * TypeScript sources through tsx.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO, USE_DIST } from './helpers/cli.js';

function runNode(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = USE_DIST ? ['--input-type=module', '-e', code] : ['--import', 'tsx', '--input-type=module', '-e', code.replace("'aibom'", "'./src/index.ts'")];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, stdout: out, stderr: err }));
  });
}

describe("import … from 'aibom'", () => {
  it('builds, validates, audits and gates the example agent through the public API', async () => {
    const r = await runNode(`
      const aibom = await import('aibom');
      const inv = await aibom.buildInventory('examples/agent');
      const bom = await aibom.buildBom(inv, { reproducible: true });
      const errors = await aibom.validateBomJson(bom);
      const rep = aibom.inventoryFromBom(bom);
      const gate = await aibom.runGate({ root: 'examples/agent', policy: 'examples/agent/aibom-policy.yaml' });
      console.log(JSON.stringify({
        spec: bom.specVersion, errors: errors.length, kinds: rep.summary.byKind,
        passed: gate.passed, isError: new aibom.AibomError('INPUT', 'x') instanceof Error,
      }));
    `);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { spec: string; errors: number; kinds: Record<string, number>; passed: boolean; isError: boolean };
    expect(res.spec).toBe('1.6');
    expect(res.errors).toBe(0);
    expect(res.kinds.model).toBeGreaterThanOrEqual(2);
    expect(res.kinds.plugin).toBe(2);
    expect(res.kinds['mcp-server']).toBe(3);
    expect(res.passed).toBe(true);
    expect(res.isError).toBe(true);
  });
});
