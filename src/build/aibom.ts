/**
 * The one way to build an AI-BOM of a folder: inventory → lock (plugin paths, publisher pins) →
 * CycloneDX JSON. The CLI (`aibom build`), the library (`import { buildAibom } from 'aibom'`,
 * reports built from a folder) and the GitHub Action all call this, so the three give the same
 * bytes for the same inputs (with `reproducible`).
 *
 * An input that could not be read at all (a malformed lockfile, an unreadable config) fails the
 * build with an IncompleteInventoryError: a BOM that silently misses it would be signed and
 * trusted. `keepGoing` builds it anyway and leaves those inputs out (they stay in `findings`).
 */
import { assertKnownOptions } from '../util/options.js';
import { resolve } from 'node:path';
import { type BomJson, buildBom, serializeBom } from '../bom/build.js';
import { specFor, type WritableSpecVersion } from '../bom/spec.js';
import { AibomError } from '../errors.js';
import { loadConfig } from '../inventory/config.js';
import { buildInventory, type InventoryOptions, type ProgressEvent } from '../inventory/index.js';
import type { Finding, Inventory } from '../inventory/types.js';
import type { McpToolsOptions } from '../mcp-tools/pin.js';
import type { Policy } from '../policy/types.js';
import type { ProvenanceSummary } from '../provenance/build-step.js';

export interface BuildAibomOptions {
  /** CycloneDX spec version: '1.6' (default) or '1.7'. */
  specVersion?: WritableSpecVersion;
  /** Same inputs, same bytes: no timestamp or serial number, sorted lists. */
  reproducible?: boolean;
  /** A config file to read instead of aibom.config.* in the folder. */
  configFile?: string;
  /** Globs (POSIX, relative to the folder) to leave out. */
  exclude?: string[];
  /** Follow symbolic links that stay inside the folder. */
  followSymlinks?: boolean;
  /** Bound for one lockfile's size in bytes. */
  maxLockfileBytes?: number;
  /** Build even when an input could not be read (the BOM will be incomplete). */
  keepGoing?: boolean;
  /** PEM public keys of plugin publishers (files): plugins whose signature verifies are pinned. */
  publisherKeys?: string[];
  /** A policy (loaded, or a file to load) whose publishers pin the plugins they signed. */
  policy?: Policy | string;
  /** Sigstore trusted root JSON for keyless plugin signatures (default: cached, else public-good). */
  trustedRoot?: string;
  /** Environment for the trust-material cache (default process.env). */
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: ProgressEvent) => void;
  /** Start (isolated) or connect to each MCP server and pin its tool definitions (src/mcp-tools). */
  mcpTools?: McpToolsOptions;
  /** Fetch and verify each npm package's registry provenance (src/provenance): `registry` overrides npm's config. */
  npmProvenance?: { registry?: string; onProgress?: (done: number, total: number) => void };
}

export interface BuiltAibom {
  bom: BomJson;
  /** The BOM as written to a file (validated, newline-terminated). */
  text: string;
  inventory: Inventory;
  /** Everything found on the way, including inputs left out under `keepGoing` (`fatal`). */
  findings: Finding[];
  /** What the npm provenance step proved (with `npmProvenance`). */
  npmProvenance?: ProvenanceSummary;
}

/** Some inputs could not be read, so no BOM was built. `findings` are the unreadable inputs, `all` every finding. */
export class IncompleteInventoryError extends AibomError {
  readonly findings: Finding[];
  readonly all: Finding[];
  constructor(findings: Finding[], all: Finding[] = findings) {
    const first = findings
      .slice(0, 3)
      .map((f) => `${f.location ? `${f.location.file}: ` : ''}${f.message}`)
      .join('; ');
    super(
      'INPUT',
      `no BOM built: ${findings.length} input${findings.length === 1 ? '' : 's'} could not be read: ${first}${findings.length > 3 ? ` (and ${findings.length - 3} more)` : ''}`,
    );
    this.name = 'IncompleteInventoryError';
    this.findings = findings;
    this.all = all;
  }
}

const BUILD_OPTION_KEYS = [
  'specVersion', 'reproducible', 'configFile', 'exclude', 'followSymlinks', 'maxLockfileBytes', 'keepGoing', 'publisherKeys', 'policy', 'trustedRoot', 'env', 'onProgress', 'mcpTools', 'npmProvenance',
] as const satisfies ReadonlyArray<keyof BuildAibomOptions>;
// Compile-time: the list names every option of BuildAibomOptions.
const everyBuildOption: Exclude<keyof BuildAibomOptions, (typeof BUILD_OPTION_KEYS)[number]> extends never ? true : never = true;
void everyBuildOption;

export async function buildAibom(dir: string, options: BuildAibomOptions = {}): Promise<BuiltAibom> {
  assertKnownOptions('buildAibom', options, BUILD_OPTION_KEYS, { npmProvenance: ['registry', 'onProgress'] });
  const specVersion = options.specVersion ?? '1.6';
  specFor(specVersion);
  const root = resolve(dir);
  // Policy first: a bad policy file is reported before the (possibly long) scan.
  const policy =
    typeof options.policy === 'string' ? await (await import('../policy/load.js')).loadPolicy(options.policy) : options.policy;
  const config = await loadConfig(root, { display: dir, ...(options.configFile !== undefined ? { file: options.configFile } : {}) });
  // Fatal findings (unreadable inputs) are refused below, after the lock, unless keepGoing.
  const invOpts: InventoryOptions = { config, keepGoing: true };
  if (options.exclude?.length) invOpts.exclude = options.exclude;
  if (options.followSymlinks) invOpts.followSymlinks = true;
  if (options.maxLockfileBytes !== undefined) invOpts.maxLockfileBytes = options.maxLockfileBytes;
  if (options.onProgress) invOpts.onProgress = options.onProgress;
  const inventory = await buildInventory(dir, invOpts);

  // The lock: scanned plugin folders, and the publishers whose plugin signatures verify (pin.ts).
  const { recordPluginPaths, pinPublishers } = await import('./pin.js');
  await recordPluginPaths(inventory, root, config);
  if (options.publisherKeys?.length || policy) {
    await pinPublishers(inventory, {
      root,
      ...(options.publisherKeys?.length ? { publisherKeys: options.publisherKeys } : {}),
      ...(policy ? { policy } : {}),
      ...(options.trustedRoot !== undefined ? { trustedRoot: options.trustedRoot } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
  }

  if (options.mcpTools) {
    // Tool-definition pins: a server that cannot be read is a finding, never a hang.
    const { pinMcpTools } = await import('../mcp-tools/pin.js');
    await pinMcpTools(inventory, root, options.mcpTools);
  }

  let npmProvenance: ProvenanceSummary | undefined;
  if (options.npmProvenance) {
    const { npmProvenanceStep } = await import('../provenance/build-step.js');
    npmProvenance = await npmProvenanceStep(inventory, {
      cwd: root,
      ...(options.npmProvenance.registry ? { registry: options.npmProvenance.registry } : {}),
      ...(options.trustedRoot !== undefined ? { trustedRoot: options.trustedRoot } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.npmProvenance.onProgress ? { onProgress: options.npmProvenance.onProgress } : {}),
    });
  }

  const fatal = inventory.findings.filter((f) => f.fatal);
  if (fatal.length && !options.keepGoing) throw new IncompleteInventoryError(fatal, inventory.findings);
  const bom = await buildBom(inventory, { specVersion, reproducible: !!options.reproducible });
  return { bom, text: serializeBom(bom), inventory, findings: inventory.findings, ...(npmProvenance ? { npmProvenance } : {}) };
}
