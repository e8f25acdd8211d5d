import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isAibomError } from '../../errors.js';
import { configLocation, type DatasetConfig, normalizeConfigPath } from '../config.js';
import { folderManifest, sha256File } from '../../digest/digest.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from '../discoverer.js';
import { findFolderSymlinks } from '../symlinks.js';
import type { Component, Finding, Location, Property } from '../types.js';
import { NS, prop } from '../types.js';
import { isInside } from '../walk.js';
import { formatOfFile, formatOfFolder } from './format.js';

/**
 * Datasets declared in aibom.config (`datasets: [{path, ...}]`): each file or folder becomes
 * a CycloneDX component of type `data` with a `data[]` entry of type `dataset` (CycloneDX
 * 1.6 componentData: name, contents, classification, sensitiveData, description), the
 * SHA-256 of the file or the folder digest (model_signing manifest method), its size and
 * format. Symbolic links are recorded and never followed out of the scanned folder.
 */

export const datasetsDiscoverer: Discoverer = {
  name: 'datasets',
  discover: discoverDatasets,
};

async function discoverDatasets(ctx: DiscoverContext): Promise<DiscoverResult> {
  const config = ctx.options.config;
  const components: Component[] = [];
  const findings: Finding[] = [];
  const list = config?.datasets ?? [];
  for (const [i, d] of list.entries()) {
    const loc = configLocation(config, `/datasets/${i}`);
    const res = await describeDataset(ctx, d, loc);
    if (res.component) components.push(res.component);
    findings.push(...res.findings);
  }
  return { components, findings, rootDependencies: components.map((c) => c.ref) };
}

/** One declared dataset being described: its config, where it is, and what is built so far. */
interface DatasetDraft {
  ctx: DiscoverContext;
  d: DatasetConfig;
  /** POSIX, relative to the root. */
  rel: string;
  ref: string;
  component: Component;
  properties: Property[];
  findings: Finding[];
}

async function describeDataset(
  ctx: DiscoverContext,
  d: DatasetConfig,
  configLoc: Location | undefined,
): Promise<{ component?: Component; findings: Finding[] }> {
  const rel = normalizeConfigPath(d.path);
  const at = (f: Omit<Finding, 'location'>, location?: Location): Finding => {
    const l = location ?? configLoc;
    return l ? { ...f, location: l } : { ...f };
  };
  if (rel === '') {
    return { findings: [at({ code: 'dataset-invalid', severity: 'medium', message: 'a dataset path names the scanned folder itself' })] };
  }
  const abs = join(ctx.root, ...rel.split('/'));
  let lst: Stats;
  try {
    lst = await lstat(abs);
  } catch {
    return {
      findings: [at({ code: 'dataset-missing', severity: 'high', message: `dataset ${rel} declared in the config is not there` })],
    };
  }
  const component = datasetComponent(d, rel, configLoc);
  const draft: DatasetDraft = { ctx, d, rel, ref: component.ref, component, properties: component.properties, findings: [] };
  const target = lst.isSymbolicLink() ? await followDatasetLink(draft, abs) : { path: abs, st: lst };
  if (target) await hashDataset(draft, target.path, target.st);
  return { component, findings: draft.findings };
}

/** The `data` component with its CycloneDX componentData entry, from the config alone. */
function datasetComponent(d: DatasetConfig, rel: string, configLoc: Location | undefined): Component {
  const name = d.name ?? posix.basename(rel);
  const properties: Property[] = [prop(`${NS}kind`, 'dataset'), prop(`${NS}dataset:path`, rel)];
  const dataEntry: Record<string, unknown> = { type: 'dataset', name, contents: { url: encodeURI(rel) } };
  if (d.description) dataEntry.description = d.description;
  if (d.classification) dataEntry.classification = d.classification;
  if (d.sensitiveData?.length) dataEntry.sensitiveData = [...d.sensitiveData];
  const component: Component = {
    ref: `dataset:local/${rel}`,
    type: 'data',
    name,
    hashes: [],
    properties,
    locations: configLoc ? [{ file: rel }, configLoc] : [{ file: rel }],
    extra: { data: [dataEntry] },
  };
  if (d.description) component.description = d.description;
  if (d.license) component.licenses = [d.license];
  return component;
}

/**
 * The dataset path itself a link: recorded; followed only inside the root and only when asked
 * to (then its target), else a finding and nothing to hash (undefined).
 */
async function followDatasetLink(s: DatasetDraft, abs: string): Promise<{ path: string; st: Stats } | undefined> {
  const { ctx, rel } = s;
  const realRoot = await realpath(ctx.root);
  const real = await realpath(abs).catch(() => undefined);
  const outside = real !== undefined && !isInside(realRoot, real);
  s.properties.push(prop(`${NS}symlink`, `${rel} -> ${real === undefined ? '(broken)' : outside ? '(outside the scanned folder)' : posix.relative(toPosix(realRoot), toPosix(real))}`));
  if (!real || outside || !ctx.options.followSymlinks) {
    s.findings.push({
      code: 'dataset-symlink',
      severity: outside ? 'high' : 'medium',
      message: `dataset ${rel} is a symbolic link ${real === undefined ? 'to nothing' : outside ? 'out of the scanned folder' : 'inside the scanned folder'}; not followed${real && !outside ? ' (use --follow-symlinks)' : ''}, not hashed`,
      component: s.ref,
      location: { file: rel },
    });
    return undefined;
  }
  return { path: real, st: await stat(real) };
}

/** Hash a file or a folder; anything else, or a failure to read, is a finding. */
async function hashDataset(s: DatasetDraft, target: string, st: Stats): Promise<void> {
  try {
    if (st.isFile()) await hashDatasetFile(s, target, st.size);
    else if (st.isDirectory()) await hashDatasetFolder(s, target);
    else {
      s.findings.push({
        code: 'dataset-invalid',
        severity: 'medium',
        message: `dataset ${s.rel} is not a regular file or folder; not hashed`,
        component: s.ref,
        location: { file: s.rel },
      });
    }
  } catch (err) {
    s.findings.push({
      code: 'dataset-unreadable',
      severity: 'high',
      message: `cannot hash dataset ${s.rel}: ${isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err)}`,
      component: s.ref,
      location: { file: s.rel },
    });
  }
}

async function hashDatasetFile(s: DatasetDraft, target: string, total: number): Promise<void> {
  const { d, rel, component, properties } = s;
  const digest = await sha256File(target, progress(s.ctx, total));
  component.hashes.push({ alg: 'SHA-256', content: digest });
  properties.push(prop(`${NS}size`, total));
  const fmt = d.format ?? formatOfFile(posix.basename(rel))?.format;
  if (fmt) properties.push(prop(`${NS}dataset:format`, fmt));
  const mime = d.format ? undefined : formatOfFile(posix.basename(rel))?.mime;
  if (mime) component.extra = { ...component.extra, 'mime-type': mime };
}

/** The folder digest (model_signing manifest), its links recorded and left out. */
async function hashDatasetFolder(s: DatasetDraft, target: string): Promise<void> {
  const { ctx, d, rel, component, properties } = s;
  const { links } = await findFolderSymlinks(target, ctx.root);
  for (const l of links) {
    properties.push(prop(`${NS}symlink`, `${l.rel} -> ${l.target}`));
    s.findings.push({
      code: 'dataset-symlink',
      severity: l.resolves === 'outside-root' ? 'high' : 'medium',
      message: `symbolic link in dataset ${rel}: ${l.rel} -> ${l.target}; not followed and not in the folder digest`,
      component: s.ref,
      location: { file: `${rel}/${l.rel}` },
    });
  }
  let last = 0;
  const manifest = await folderManifest(target, {
    ignorePaths: links.map((l) => l.rel),
    onProgress: (done, total) => {
      // Report at most every 64 MiB and at the end.
      if (done - last >= 64 * 1024 * 1024 || done === total) {
        last = done;
        ctx.options.onProgress?.({ phase: `hashing dataset ${rel}`, bytes: done, totalBytes: total });
      }
    },
  });
  component.hashes.push({ alg: 'SHA-256', content: manifest.digest });
  properties.push(
    prop(`${NS}folder-digest`, `sha256:${manifest.digest}`),
    prop(`${NS}file-count`, manifest.resources.length),
    prop(`${NS}size`, manifest.totalBytes),
  );
  const fmt = d.format ?? formatOfFolder(manifest.resources.map((r) => r.name));
  if (fmt) properties.push(prop(`${NS}dataset:format`, fmt));
}

function toPosix(p: string): string {
  return p.split('\\').join('/');
}

function progress(ctx: DiscoverContext, total: number): ((n: number) => void) | undefined {
  const cb = ctx.options.onProgress;
  if (!cb) return undefined;
  let done = 0;
  let last = 0;
  return (n) => {
    done += n;
    if (done - last >= 64 * 1024 * 1024 || done === total) {
      last = done;
      cb({ phase: 'hashing datasets', bytes: done, totalBytes: total });
    }
  };
}
