import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Finding, Location, Severity } from '../inventory/types.js';
import type { GateFailure, GateResult } from '../policy/evaluate.js';
import { RULE_IDS } from '../policy/types.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import type { InventoryReport } from '../bom/rows.js';

/**
 * SARIF 2.1.0 for GitHub code scanning: stable rule ids (`aibom/<rule>` for gate rules,
 * `aibom/finding/<code>` for findings), every result with a location (the lockfile/config line
 * where known, else the BOM file) and a partial fingerprint so alerts track across runs.
 */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: Array<Record<string, unknown>>;
}

const GATE_RULE_TEXT: Record<string, string> = {
  'model-hashed': 'Every model and dataset has a SHA-256 hash',
  'model-signed': 'Every model is signed by a trusted publisher',
  'pickle-model': 'No pickle-serialized model',
  'pickle-risky-import': 'No pickle that imports callables outside the allow-list',
  'plugin-pinned': 'Every plugin is pinned to an exact version and folder digest',
  'plugin-signed': 'Every plugin is signed by a trusted publisher',
  'mcp-pinned': 'Every MCP server runs a pinned version',
  'package-hashed': 'Every package has an integrity hash',
  'package-pinned': 'Every package comes from a pinned source',
  'bom-signed': 'The BOM is signed by the release identity',
  'artifact-attested': 'Every release artifact has a verified attestation',
  'license-allowed': 'Licenses are allowed by the policy',
  'exception-expired': 'Policy exceptions have not expired',
  'provenance-drift': 'Signers and their build provenance match the provenance lock',
  'package-provenance': 'npm packages carry verified provenance as the policy requires',
  'package-release-age': 'npm package versions are older than the policy cooldown',
};

function level(sev: Severity): 'error' | 'warning' | 'note' {
  return sev === 'critical' || sev === 'high' ? 'error' : sev === 'medium' ? 'warning' : 'note';
}

/**
 * Where the paths of a report are relative to, so that SARIF locations are relative to the
 * repository root, as GitHub code scanning reads them. `scanRoot`: the folder the BOM describes
 * (component locations are relative to it); `cwd`: where paths the user gave (the policy file,
 * artifacts, the BOM file) are relative to; `repoRoot`: the repository root.
 */
export interface SarifPaths {
  scanRoot: string;
  repoRoot: string;
  cwd?: string;
}

/** The repository root above `start`: the nearest folder with `.git`, else `start`. */
export function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start);
    dir = up;
  }
}

function repoRelative(file: string, paths: SarifPaths | undefined): string {
  if (!paths) return file.replace(/^\.\//, '');
  const cwd = paths.cwd ?? process.cwd();
  // A component's location is relative to the scanned folder; a path the user gave, to the working folder.
  const inScan = resolve(paths.scanRoot, file);
  const abs = isAbsolute(file) ? file : existsSync(inScan) || !existsSync(resolve(cwd, file)) ? inScan : resolve(cwd, file);
  return relative(paths.repoRoot, abs).split(sep).join('/') || '.';
}

function locationOf(loc: Location | undefined, fallback: string, paths?: SarifPaths): Record<string, unknown> {
  const file = repoRelative(loc?.file ?? fallback, paths);
  const physical: Record<string, unknown> = { artifactLocation: { uri: encodeURI(file), uriBaseId: '%SRCROOT%' } };
  if (loc?.line && loc.line > 0) physical.region = { startLine: loc.line };
  return { physicalLocation: physical };
}

function run(rules: Array<Record<string, unknown>>, results: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    tool: { driver: { name: TOOL_NAME, version: TOOL_VERSION, semanticVersion: TOOL_VERSION, rules } },
    originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The repository root' } } },
    results,
  };
}

export function gateToSarif(res: GateResult, bomFile: string, paths?: SarifPaths): SarifLog {
  const ids = [...RULE_IDS, 'exception-expired', 'provenance-drift', 'package-provenance', 'package-release-age'];
  const rules = ids.map((id) => ({
    id: `aibom/${id}`,
    name: id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: GATE_RULE_TEXT[id] ?? id },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['supply-chain', 'provenance'] },
  }));
  const results = res.failures.map((f: GateFailure) => ({
    ruleId: `aibom/${f.rule}`,
    ruleIndex: ids.indexOf(f.rule),
    level: 'error',
    message: { text: `${f.name}: ${f.message}. Fix: ${f.fix}` },
    locations: [locationOf(f.location, bomFile, paths)],
    partialFingerprints: { 'aibom/v1': `${f.rule}:${f.subject}` },
  }));
  return { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: [run(rules, results)] };
}

export function auditToSarif(rep: InventoryReport, bomFile: string, paths?: SarifPaths): SarifLog {
  const items: Array<{ f: Finding; subject: string; name: string; loc: Location | undefined }> = [];
  for (const r of rep.rows) for (const f of r.risks) items.push({ f, subject: r.ref, name: r.name, loc: f.location ?? r.locations[0] });
  for (const f of rep.findings) items.push({ f, subject: 'bom', name: '', loc: f.location });
  const codes = [...new Set(items.map((i) => i.f.code))].sort();
  const rules = codes.map((c) => ({
    id: `aibom/finding/${c}`,
    name: c,
    shortDescription: { text: c.replace(/-/g, ' ') },
    defaultConfiguration: { level: 'warning' },
  }));
  const results = items.map(({ f, subject, name, loc }) => ({
    ruleId: `aibom/finding/${f.code}`,
    ruleIndex: codes.indexOf(f.code),
    level: level(f.severity),
    message: { text: name ? `${name}: ${f.message}` : f.message },
    locations: [locationOf(loc, bomFile, paths)],
    partialFingerprints: { 'aibom/v1': `${f.code}:${subject}:${f.message}` },
  }));
  return { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: [run(rules, results)] };
}
