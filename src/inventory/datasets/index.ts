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

async function describeDataset(
  ctx: DiscoverContext,
  d: DatasetConfig,
  configLoc: Location | undefined,
): Promise<{ component?: Component; findings: Finding[] }> {
  const rel = normalizeConfigPath(d.path);
  const findings: Finding[] = [];
  const at = (f: Omit<Finding, 'location'>, location?: Location): Finding => {
    const l = location ?? configLoc;
    return l ? { ...f, location: l } : { ...f };
  };
  if (rel === '') {
    return { findings: [at({ code: 'dataset-invalid', severity: 'medium', message: 'a dataset path names the scanned folder itself' })] };
  }
  const abs = join(ctx.root, ...rel.split('/'));
  let lst: Awaited<ReturnType<typeof lstat>>;
  try {
    lst = await lstat(abs);
  } catch {
    return {
      findings: [at({ code: 'dataset-missing', severity: 'high', message: `dataset ${rel} declared in the config is not there` })],
    };
  }
  const ref = `dataset:local/${rel}`;
  const name = d.name ?? posix.basename(rel);
  const properties: Property[] = [prop(`${NS}kind`, 'dataset'), prop(`${NS}dataset:path`, rel)];
  const dataEntry: Record<string, unknown> = { type: 'dataset', name, contents: { url: encodeURI(rel) } };
  if (d.description) dataEntry.description = d.description;
  if (d.classification) dataEntry.classification = d.classification;
  if (d.sensitiveData?.length) dataEntry.sensitiveData = [...d.sensitiveData];
  const component: Component = {
    ref,
    type: 'data',
    name,
    hashes: [],
    properties,
    locations: configLoc ? [{ file: rel }, configLoc] : [{ file: rel }],
    extra: { data: [dataEntry] },
  };
  if (d.description) component.description = d.description;
  if (d.license) component.licenses = [d.license];

  // The dataset path itself a link: follow it only inside the root and only when asked to.
  let target = abs;
  let st = lst;
  if (lst.isSymbolicLink()) {
    const realRoot = await realpath(ctx.root);
    const real = await realpath(abs).catch(() => undefined);
    const outside = real !== undefined && !isInside(realRoot, real);
    properties.push(prop(`${NS}symlink`, `${rel} -> ${real === undefined ? '(broken)' : outside ? '(outside the scanned folder)' : posix.relative(toPosix(realRoot), toPosix(real))}`));
    if (!real || outside || !ctx.options.followSymlinks) {
      findings.push({
        code: 'dataset-symlink',
        severity: outside ? 'high' : 'medium',
        message: `dataset ${rel} is a symbolic link ${real === undefined ? 'to nothing' : outside ? 'out of the scanned folder' : 'inside the scanned folder'}; not followed${real && !outside ? ' (use --follow-symlinks)' : ''}, not hashed`,
        component: ref,
        location: { file: rel },
      });
      return { component, findings };
    }
    target = real;
    st = await stat(real);
  }

  try {
    if (st.isFile()) {
      const total = st.size;
      const digest = await sha256File(target, progress(ctx, total));
      component.hashes.push({ alg: 'SHA-256', content: digest });
      properties.push(prop(`${NS}size`, total));
      const fmt = d.format ?? formatOfFile(posix.basename(rel))?.format;
      if (fmt) properties.push(prop(`${NS}dataset:format`, fmt));
      const mime = d.format ? undefined : formatOfFile(posix.basename(rel))?.mime;
      if (mime) component.extra = { ...component.extra, 'mime-type': mime };
    } else if (st.isDirectory()) {
      const { links } = await findFolderSymlinks(target, ctx.root);
      for (const l of links) {
        properties.push(prop(`${NS}symlink`, `${l.rel} -> ${l.target}`));
        findings.push({
          code: 'dataset-symlink',
          severity: l.resolves === 'outside-root' ? 'high' : 'medium',
          message: `symbolic link in dataset ${rel}: ${l.rel} -> ${l.target}; not followed and not in the folder digest`,
          component: ref,
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
    } else {
      findings.push({
        code: 'dataset-invalid',
        severity: 'medium',
        message: `dataset ${rel} is not a regular file or folder; not hashed`,
        component: ref,
        location: { file: rel },
      });
    }
  } catch (err) {
    findings.push({
      code: 'dataset-unreadable',
      severity: 'high',
      message: `cannot hash dataset ${rel}: ${isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err)}`,
      component: ref,
      location: { file: rel },
    });
  }
  return { component, findings };
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
