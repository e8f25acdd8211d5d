import { basename } from 'node:path';
import { errorMessage } from '../../errors.js';
import { hashFiles } from '../../digest/digest.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from '../discoverer.js';
import type { Component, Finding } from '../types.js';
import { buildModelComponent } from './component.js';
import { indexFiles, inspectCandidate, type ModelDraft } from './describe.js';
import { effectiveFiles, findModels } from './find.js';

/**
 * Models → `machine-learning-model` components: find model folders and files (find.ts), read
 * their headers, configs and cards (describe.ts), hash every file once across worker threads
 * with a progress report, then build the components (component.ts).
 */
export const modelsDiscoverer: Discoverer = {
  name: 'models',
  discover: discoverModels,
};

async function discoverModels(ctx: DiscoverContext): Promise<DiscoverResult> {
  const files = await effectiveFiles(ctx);
  const { candidates, findings } = await findModels(ctx, files);
  const drafts: ModelDraft[] = [];
  const index = indexFiles(files);
  let done = 0;
  for (const c of candidates) {
    ctx.options.onProgress?.({ phase: 'reading models', done: done++, total: candidates.length });
    try {
      const d = await inspectCandidate(ctx, c, index);
      if (d) drafts.push(d);
    } catch (err) {
      // Whatever went wrong with one model, the others still make it into the BOM.
      findings.push({
        code: 'model-file-unreadable',
        severity: 'medium',
        message: `cannot read model ${c.rel || '.'}: ${errorMessage(err)}`,
        location: { file: c.rel || '.' },
      });
    }
  }

  // One hashing pass over every model file (a file shared by two models is hashed once).
  const jobs = new Map<string, { path: string; size: number; display: string }>();
  for (const d of drafts) {
    for (const f of d.files) {
      if (!jobs.has(f.abs)) jobs.set(f.abs, { path: f.abs, size: f.size, display: f.name === '.' ? d.rel : `${d.rel ? `${d.rel}/` : ''}${f.name}` });
    }
  }
  const list = [...jobs.values()];
  const digests = new Map<string, string>();
  let last = 0;
  try {
    const hex = await hashFiles(list, {
      onProgress: (bytes, totalBytes) => {
        if (bytes - last >= 16 * 1024 * 1024 || bytes === totalBytes) {
          last = bytes;
          ctx.options.onProgress?.({ phase: 'hashing models', bytes, totalBytes });
        }
      },
    });
    for (const [i, j] of list.entries()) digests.set(j.path, hex[i]!);
  } catch {
    // One unreadable file must not cost every model its hashes: hash file by file instead.
    for (const j of list) {
      try {
        digests.set(j.path, (await hashFiles([j]))[0]!);
      } catch (err) {
        findings.push({ code: 'model-file-unreadable', severity: 'medium', message: `cannot hash: ${errorMessage(err)}`, location: { file: j.display } });
      }
    }
  }

  const components: Component[] = [];
  const rootName = basename(ctx.root);
  for (const d of drafts) {
    const built = buildModelComponent(d, (abs) => digests.get(abs), rootName);
    components.push(built.component, ...built.datasets);
    findings.push(...d.facts.findings);
  }
  const modelRefs = components.filter((c) => c.type === 'machine-learning-model').map((c) => c.ref);
  return { components, findings: dedupeFindings(findings), rootDependencies: modelRefs };
}

function dedupeFindings(list: Finding[]): Finding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const key = `${f.code}\u0000${f.component ?? ''}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
