/**
 * `aibom build DIR --reproducible` in the test process, for tests of what the parsers and readers
 * put in the BOM: the same library calls as cli/commands/build.ts (inventory, plugin paths, BOM,
 * schema validation, serialization), without starting a process per case. Exit codes, messages
 * and flags stay tested through the CLI as a process (cli-basics, bad-input-lockfiles, …).
 *
 * `stderr` holds the warnings as the CLI prints them (`aibom: warning: FILE: MESSAGE`); a fatal
 * finding (the CLI's exit 2 without --keep-going) fails the calling test, as a non-zero exit did.
 */
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { buildBom, serializeBom } from '../../src/bom/build.js';
import { validateBomJson } from '../../src/bom/validate.js';
import { loadConfig } from '../../src/inventory/config.js';
import { buildInventory } from '../../src/inventory/index.js';
import { recordPluginPaths } from '../../src/build/pin.js';
import type { BomDoc } from './cli.js';

/** The CLI flags these tests use: `--exclude GLOB` (repeatable) and `--keep-going`. */
function options(extra: string[]): { exclude: string[]; keepGoing: boolean } {
  const exclude: string[] = [];
  let keepGoing = false;
  for (let i = 0; i < extra.length; i++) {
    if (extra[i] === '--exclude' && extra[i + 1] !== undefined) exclude.push(extra[++i]!);
    else if (extra[i] === '--keep-going') keepGoing = true;
    else throw new Error(`build-in-process: flag ${extra[i]} is not supported here; run the CLI (runCli) for it`);
  }
  return { exclude, keepGoing };
}

export async function buildInProcess(dir: string, extra: string[] = []): Promise<{ bom: BomDoc; stderr: string }> {
  const { exclude, keepGoing } = options(extra);
  const inv = await buildInventory(dir, { exclude, followSymlinks: false, maxLockfileBytes: 100 * 1024 * 1024 });
  const root = resolve(dir);
  await recordPluginPaths(inv, root, await loadConfig(root, { display: dir }));
  const where = (f: { location?: { file: string } }) => (f.location ? `${f.location.file}: ` : '');
  const fatal = inv.findings.filter((f) => f.fatal);
  expect(keepGoing || fatal.length === 0, fatal.map((f) => `${where(f)}${f.message}`).join('\n')).toBe(true);
  const lines: string[] = [];
  for (const f of inv.findings) {
    if (f.fatal) lines.push(`aibom: warning: ${where(f)}${f.message} (left out)`);
    else if (f.severity !== 'info') lines.push(`aibom: warning: ${where(f)}${f.message}`);
  }
  const json = await buildBom(inv, { specVersion: '1.6', reproducible: true });
  const bom = JSON.parse(serializeBom(json)) as BomDoc;
  return { bom, stderr: lines.map((l) => `${l}\n`).join('') };
}

/** The BOM of DIR validates against the official CycloneDX schema (as `aibom validate` checks it). */
export async function expectValidInProcess(dir: string): Promise<void> {
  const { bom } = await buildInProcess(dir);
  expect(await validateBomJson(bom as never, '1.6')).toEqual([]);
}
