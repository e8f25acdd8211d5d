import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { specVersionOf, validateBomJson } from '../../src/bom/validate.js';
import { type BomDoc, runCli } from './cli.js';

/** Shared by the test/models-*.test.ts files: write a tree of files, build its BOM, look things up. */

export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, ...rel.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

export interface BuildFinding {
  code: string;
  severity: string;
  message: string;
  component?: string;
  location?: { file: string; line?: number };
}

export interface Built {
  bom: BomDoc;
  findings: BuildFinding[];
  stderr: string;
}

/**
 * `aibom build DIR` as a user runs it, for CycloneDX 1.6 and 1.7: both must exit 0 (the CLI
 * validates the BOM against the official schema before writing it) and what was written must
 * validate as `aibom validate` checks it (in-process). Returns the 1.6 BOM and the findings of the JSON summary.
 */
export async function buildBoth(dir: string, out: string, extra: string[] = []): Promise<Built> {
  let first: Built | undefined;
  for (const spec of ['1.6', '1.7']) {
    const file = join(out, `bom-${spec}.json`);
    const r = await runCli(['build', dir, '-o', file, '--json', '--reproducible', '--spec-version', spec, ...extra]);
    expect(r.stderr, r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    const bom = JSON.parse(await readFile(file, 'utf8')) as BomDoc;
    // What `aibom validate` checks, in-process (its exit codes are tested in cli-basics).
    expect(await validateBomJson(bom, specVersionOf(bom))).toEqual([]);
    expect(bom.specVersion).toBe(spec);
    const summary = JSON.parse(r.stdout) as { findings: BuildFinding[] };
    first ??= { bom, findings: summary.findings, stderr: r.stderr };
  }
  return first!;
}

export function component(bom: BomDoc, ref: string): Record<string, any> {
  const c = bom.components?.find((x) => x['bom-ref'] === ref);
  expect(c, `component ${ref} in ${bom.components?.map((x) => x['bom-ref']).join(', ')}`).toBeDefined();
  return c!;
}

export function props(c: Record<string, any>, name: string): string[] {
  return ((c.properties ?? []) as Array<{ name: string; value: string }>).filter((p) => p.name === name).map((p) => p.value);
}

export function cardProp(c: Record<string, any>, name: string): string | undefined {
  return ((c.modelCard?.properties ?? []) as Array<{ name: string; value: string }>).find((p) => p.name === name)?.value;
}

export function findingsOf(b: Built, code: string): BuildFinding[] {
  return b.findings.filter((f) => f.code === code);
}
