import { resolve } from 'node:path';
import { AibomError } from '../errors.js';
import { agentFilesDiscoverer } from './agent-plugins/discover.js';
import type { Discoverer, InventoryOptions } from './discoverer.js';
import { DEFAULT_PLUGIN_PATHS, loadConfig, normalizeConfigPath } from './config.js';
import { DEFAULT_MODELS_FOLDER } from './models/find.js';
import { datasetsDiscoverer } from './datasets/index.js';
import { mcpDiscoverer } from './mcp/index.js';
import { modelsDiscoverer } from './models/index.js';
import { pluginsDiscoverer } from './plugins/index.js';
import { servicesDiscoverer } from './services.js';
import { pathKind } from '../util/fs.js';
import { collectPackages } from './packages.js';
import { readProject } from './project.js';
import type { Component, Finding, Inventory } from './types.js';
import { walk } from './walk.js';

export type { DiscoverContext, DiscoverResult, Discoverer, InventoryOptions, ProgressEvent } from './discoverer.js';

export const packagesDiscoverer: Discoverer = {
  name: 'packages',
  async discover(ctx) {
    const opts: { maxLockfileBytes?: number } = {};
    if (ctx.options.maxLockfileBytes !== undefined) opts.maxLockfileBytes = ctx.options.maxLockfileBytes;
    const res = await collectPackages(ctx.walked, opts);
    const components = [...res.components];
    const dependencies = new Map(res.dependencies);
    const rootDependencies: string[] = [];
    const subProjects = new Map<string, Component>();
    for (const lock of res.lockfiles) {
      const dir = lock.path.includes('/') ? lock.path.slice(0, lock.path.lastIndexOf('/')) : '';
      if (dir === '') {
        rootDependencies.push(...lock.direct);
        continue;
      }
      // A lockfile in a subfolder is a sub-project of its own: a component the root depends on.
      const name = lock.root.name ?? dir;
      const ref = `project:${dir}`;
      const seen = subProjects.get(ref);
      if (seen) {
        // Several lockfiles in one folder (requirements.txt and requirements-dev.txt): one sub-project.
        seen.properties.push({ name: 'aibom:lockfile', value: lock.path });
        seen.locations.push({ file: lock.path });
        if (lock.root.name && seen.name === dir) seen.name = lock.root.name;
        if (lock.root.version && !seen.version) seen.version = lock.root.version;
        for (const d of lock.direct) dependencies.get(ref)?.add(d);
        continue;
      }
      const sub: Component = {
        ref,
        type: 'application',
        name,
        hashes: [],
        properties: [{ name: 'aibom:lockfile', value: lock.path }],
        locations: [{ file: lock.path }],
      };
      if (lock.root.version) sub.version = lock.root.version;
      subProjects.set(ref, sub);
      components.push(sub);
      dependencies.set(ref, new Set(lock.direct));
      rootDependencies.push(ref);
    }
    return { components, dependencies, rootDependencies, findings: res.findings };
  },
};

/** The discoverers `aibom build` runs, in order. Later issues append to this list. */
export const DEFAULT_DISCOVERERS: Discoverer[] = [
  packagesDiscoverer,
  modelsDiscoverer,
  datasetsDiscoverer,
  pluginsDiscoverer,
  agentFilesDiscoverer,
  mcpDiscoverer,
  servicesDiscoverer,
];

/** Walk `dir` and run every discoverer over it. */
export async function buildInventory(
  dir: string,
  options: InventoryOptions = {},
  discoverers: Discoverer[] = DEFAULT_DISCOVERERS,
): Promise<Inventory> {
  const root = resolve(dir);
  const kind = await pathKind(root);
  if (kind === 'missing') throw new AibomError('INPUT', 'no such folder', { file: dir });
  if (kind !== 'dir') throw new AibomError('INPUT', 'not a folder', { file: dir });
  if (!options.config) {
    const loadOpts: Parameters<typeof loadConfig>[1] = { display: dir };
    if (options.configFile !== undefined) loadOpts.file = options.configFile;
    options = { ...options, config: await loadConfig(root, loadOpts) };
  }
  options.onProgress?.({ phase: 'scanning files' });
  const walkOpts: Parameters<typeof walk>[1] = {};
  const exclude = [...(options.exclude ?? []), ...(options.config?.exclude ?? [])];
  if (exclude.length) walkOpts.exclude = exclude;
  if (options.followSymlinks) walkOpts.followSymlinks = true;
  // Nothing is skipped inside the model and plugin folders: the configured ones, else the
  // defaults (plugins/ at the root, every folder named models/), where the models discoverer looks.
  walkOpts.keepPaths = [...(options.config?.plugins?.paths ?? DEFAULT_PLUGIN_PATHS), ...(options.config?.models?.paths ?? [])].map(normalizeConfigPath);
  if (!options.config?.models?.paths) walkOpts.keepNames = [DEFAULT_MODELS_FOLDER];
  const walked = await walk(root, walkOpts);
  const findings: Finding[] = [...walked.findings];
  const project = await readProject(root, findings);
  const inv: Inventory = { root: project, components: [], services: [], dependencies: new Map(), findings };
  const rootDeps = new Set<string>();
  const claimed = new Set<string>();
  for (const d of discoverers) {
    options.onProgress?.({ phase: d.name });
    const res = await d.discover({ root, walked, project, options, claimed });
    if (res.components) inv.components.push(...res.components);
    if (res.services) inv.services.push(...res.services);
    if (res.findings) inv.findings.push(...res.findings);
    for (const r of res.rootDependencies ?? []) rootDeps.add(r);
    for (const [from, tos] of res.dependencies ?? []) {
      const set = inv.dependencies.get(from);
      if (set) for (const t of tos) set.add(t);
      else inv.dependencies.set(from, new Set(tos));
    }
  }
  dedupeRefs(inv);
  rootDeps.delete(project.ref);
  inv.dependencies.set(project.ref, rootDeps);
  if (!options.keepGoing) throwOnFatal(inv.findings, dir);
  return inv;
}

/** Inputs that could not be read fail the build: one typed error naming each. */
function throwOnFatal(findings: Finding[], dir: string): void {
  const fatal = findings.filter((f) => f.fatal);
  if (!fatal.length) return;
  const first = fatal[0]!;
  const rest = fatal.slice(1).map((f) => `${f.location?.file ?? dir}: ${f.message}`);
  const more = rest.length ? `; and ${rest.length} more input${rest.length > 1 ? 's' : ''}: ${rest.join('; ')}` : '';
  throw new AibomError('INPUT', `${first.message}${more}`, { file: first.location?.file ?? dir });
}

/** The same bom-ref from two discoverers (or the project itself) must not appear twice. */
function dedupeRefs(inv: Inventory): void {
  const seen = new Set<string>([inv.root.ref]);
  inv.components = inv.components.filter((c) => {
    if (seen.has(c.ref)) return false;
    seen.add(c.ref);
    return true;
  });
  inv.services = inv.services.filter((s) => {
    if (seen.has(s.ref)) return false;
    seen.add(s.ref);
    return true;
  });
}

export type { Component, Finding, Inventory, Service } from './types.js';
