/** The `aibom build --provenance` step: registry, trust material and cache resolved, then npm-provenance.ts. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { stateDir } from '../util/state-dir.js';
import { cacheDir, loadTrustedRoot } from '../verification/trusted-root.js';
import { makeTrustContext } from '../verification/verify.js';
import { resolveNpmRegistry } from './npm-config.js';
import { annotateInventory } from './annotate.js';
import { checkNpmProvenance, npmPackages, type ProvenanceStatus } from './npm-provenance.js';

export interface ProvenanceStepOptions {
  /** The scanned folder (its .npmrc is read). */
  cwd: string;
  registry?: string;
  trustedRoot?: string;
  env?: NodeJS.ProcessEnv;
  /** Off: no on-disk cache. */
  cache?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ProvenanceSummary {
  registry: string;
  packages: number;
  cached: number;
  counts: Record<ProvenanceStatus, number>;
}

export async function npmProvenanceStep(inv: Inventory, o: ProvenanceStepOptions): Promise<ProvenanceSummary> {
  const env = o.env ?? process.env;
  const pkgs = npmPackages(inv.components);
  const registry = await resolveNpmRegistry({ cwd: o.cwd, env, ...(o.registry ? { registry: o.registry } : {}) });
  const counts: Record<ProvenanceStatus, number> = { verified: 0, missing: 0, invalid: 0, error: 0 };
  if (pkgs.length === 0) return { registry: registry.url, packages: 0, cached: 0, counts };
  const root = await loadTrustedRoot(o.trustedRoot, env);
  const trustKey = createHash('sha256').update(JSON.stringify(root.root)).digest('hex');
  let trust: ReturnType<typeof makeTrustContext> | undefined;
  const run = await checkNpmProvenance(pkgs, {
    registry,
    trust: () => {
      trust ??= makeTrustContext(root);
      return trust;
    },
    trustKey,
    ...(o.cache === false ? {} : { cacheDir: join(cacheDir(env), 'npm-provenance'), keyDir: stateDir(env) }),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  annotateInventory(inv, run.results);
  if (run.cacheUntrusted) {
    inv.findings.push({ code: 'npm-provenance-cache-untrusted', severity: 'medium', message: `the npm provenance cache was not used (everything was asked again): ${run.cacheUntrusted}` });
  }
  for (const r of run.results.values()) counts[r.status]++;
  return { registry: registry.url, packages: pkgs.length, cached: run.cached, counts };
}
