import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { compareCodePoints, manifestDigest } from '../../digest/digest.js';
import { huggingfacePurl } from '../purl.js';
import type { Component, Property } from '../types.js';
import { NS, prop } from '../types.js';
import type { ModelDraft } from './describe.js';
import { finding, SERIALIZATION_PREFERENCE } from './facts.js';
import { formatParameterCount } from './reader.js';

/**
 * A described model → a CycloneDX `machine-learning-model` component (plus `data` components
 * for the datasets its card names). Hashes: a single-file model carries its file's SHA-256; a
 * folder carries the model_signing v1.0 folder digest (also as `aibom:folder-digest`) and
 * each file's SHA-256 as a nested `file` component.
 */

/** Nested file components listed per model folder (the folder digest covers all files regardless). */
const MAX_NESTED_FILES = 10_000;
/** Chat templates up to this size go into the BOM verbatim; larger ones by SHA-256. */
const MAX_INLINE_TEMPLATE = 64 * 1024;

export function datasetRef(id: string): string {
  return `dataset:huggingface/${id}`;
}

export interface BuiltModel {
  component: Component;
  datasets: Component[];
}

export function buildModelComponent(draft: ModelDraft, digestOf: (abs: string) => string | undefined, rootName: string): BuiltModel {
  const f = draft.facts;
  const here = draft.rel || '.';
  const properties: Property[] = [prop(`${NS}kind`, 'model')];

  // Identity: the hub repository when the folder says where it came from.
  let namespace: string | undefined;
  let repoName: string | undefined;
  let commit: string | undefined;
  let how: string | undefined;
  if (draft.hubOrigin) {
    namespace = draft.hubOrigin.namespace;
    repoName = draft.hubOrigin.name;
    commit = draft.hubOrigin.commit;
    how = 'hub-cache';
  } else if (draft.download) {
    how = 'download-metadata';
    if (draft.download.commits.length === 1) commit = draft.download.commits[0];
    else properties.push(prop(`${NS}huggingface:commits`, draft.download.commits.join(',')));
    const id = f.modelName;
    if (id && /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(id)) [namespace, repoName] = id.split('/') as [string, string];
  }
  const name = repoName ?? (draft.rel ? posix.basename(draft.rel) : rootName);
  const component: Component = {
    ref: f.ref,
    type: 'machine-learning-model',
    name,
    hashes: [],
    properties,
    locations: [{ file: here }],
  };
  if (namespace) component.group = namespace;
  if (commit) component.version = commit;
  if (f.name && f.name !== name) component.description = f.name;
  if (repoName) {
    try {
      component.purl = huggingfacePurl(namespace, repoName, commit);
    } catch {
      // an unusable name: no purl
    }
  }
  if (how) {
    properties.push(prop(`${NS}source`, 'huggingface'), prop(`${NS}huggingface:origin`, how));
    if (repoName) properties.push(prop(`${NS}huggingface:repo`, namespace ? `${namespace}/${repoName}` : repoName));
    if (commit) properties.push(prop(`${NS}huggingface:commit`, commit));
    properties.push(prop(`${NS}pinned`, !!(repoName && commit)));
    if (!(repoName && commit)) {
      properties.push(prop(`${NS}unpinned-reason`, !commit ? 'no single commit recorded for the download' : 'the repository is not named in the folder'));
    }
  } else {
    properties.push(prop(`${NS}source`, 'local'));
  }

  // Formats.
  const formats = SERIALIZATION_PREFERENCE.filter((s) => f.serializations.has(s));
  properties.push(prop(`${NS}serialization`, formats[0] ?? 'unknown'));
  if (formats.length > 1) properties.push(prop(`${NS}serializations`, formats.join(',')));
  if (f.parameterCount !== undefined) properties.push(prop(`${NS}model:parameter-count`, f.parameterCount.toString()));
  if (f.tensorCount) properties.push(prop(`${NS}model:tensor-count`, f.tensorCount));
  if (f.dtypes.size) {
    const dtypes = [...f.dtypes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([d]) => d);
    properties.push(prop(`${NS}model:dtypes`, dtypes.join(',')));
  }
  if (f.pickleImports.size) {
    const imports = [...f.pickleImports.keys()].sort();
    properties.push(prop(`${NS}pickle:imports`, imports.slice(0, 100).join(', ')));
  }
  properties.push(...f.props);
  for (const b of draft.signatureBundles) properties.push(prop(`${NS}signature-bundle`, b));

  // Hashes.
  const resources: Array<{ name: string; digest: string; size: number }> = [];
  for (const file of draft.files) {
    const d = digestOf(file.abs);
    if (d) resources.push({ name: file.name, digest: d, size: file.size });
  }
  const complete = resources.length === draft.files.length;
  if (draft.kind === 'file') {
    const r = resources[0];
    if (r) {
      component.hashes.push({ alg: 'SHA-256', content: r.digest });
      properties.push(prop(`${NS}folder-digest`, `sha256:${manifestDigest([r])}`), prop(`${NS}size`, r.size));
    }
  } else {
    if (draft.digestable && complete) {
      const digest = manifestDigest(resources);
      component.hashes.push({ alg: 'SHA-256', content: digest });
      properties.push(prop(`${NS}folder-digest`, `sha256:${digest}`));
    }
    properties.push(prop(`${NS}file-count`, resources.length), prop(`${NS}size`, resources.reduce((n, r) => n + r.size, 0)));
  }
  if (draft.download) {
    let verified = 0;
    for (const [file, expected] of draft.download.sha256) {
      const got = resources.find((r) => r.name === file);
      if (!got) continue;
      if (got.digest === expected) verified++;
      else {
        finding(
          f,
          'model-file-modified',
          'high',
          `${draft.rel ? `${draft.rel}/` : ''}${file} is not the file that was downloaded: its SHA-256 is ${got.digest}, the download recorded ${expected}`,
          `${draft.rel ? `${draft.rel}/` : ''}${file}`,
        );
      }
    }
    if (verified) properties.push(prop(`${NS}huggingface:verified-files`, verified));
  }

  const extra: Record<string, unknown> = {};
  if (draft.kind === 'folder' && resources.length) {
    const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
    extra.components = sorted.slice(0, MAX_NESTED_FILES).map((r) => ({
      type: 'file',
      name: r.name,
      hashes: [{ alg: 'SHA-256', content: r.digest }],
      properties: [{ name: `${NS}size`, value: String(r.size) }],
    }));
    if (sorted.length > MAX_NESTED_FILES) properties.push(prop(`${NS}files-listed`, `${MAX_NESTED_FILES} of ${sorted.length}`));
  }

  // Licenses and links.
  if (f.licenses.length) component.licenses = [...f.licenses];
  if (f.licenseLink) component.externalReferences = [{ type: 'license', url: f.licenseLink }];
  if (f.tags.length) extra.tags = [...new Set(f.tags)];

  // Pedigree: what the model was derived from.
  if (f.ancestors.length) {
    extra.pedigree = {
      ancestors: f.ancestors.map((a) => {
        const node: Record<string, unknown> = { type: 'machine-learning-model', name: a.name };
        if (a.namespace) node.group = a.namespace;
        if (a.hf) {
          try {
            node.purl = huggingfacePurl(a.namespace, a.name);
          } catch {
            // no purl
          }
        }
        return node;
      }),
    };
    if (f.baseModelRelation) properties.push(prop(`${NS}model:base-model-relation`, f.baseModelRelation));
  }

  // Model card.
  const datasets: Component[] = [];
  const modelParameters: Record<string, unknown> = {};
  if (f.task) modelParameters.task = f.task;
  if (f.architectureFamily) modelParameters.architectureFamily = f.architectureFamily;
  if (f.modelArchitecture) modelParameters.modelArchitecture = f.modelArchitecture;
  if (f.datasets.length) {
    modelParameters.datasets = f.datasets.map((id) => ({ ref: datasetRef(id) }));
    const card = draft.rel ? `${draft.rel}/README.md` : 'README.md';
    for (const id of f.datasets) datasets.push(datasetComponent(id, card));
  }
  if (f.inputs.length) modelParameters.inputs = f.inputs.map((format) => ({ format }));
  if (f.outputs.length) modelParameters.outputs = f.outputs.map((format) => ({ format }));
  const cardProps: Property[] = [];
  if (f.parameterCount !== undefined && f.parameterCount > 0n) {
    cardProps.push(prop('cdx:ai-ml:model:parameter:count', formatParameterCount(f.parameterCount)));
  }
  for (const [k, v] of f.cardProps) cardProps.push(prop(k, v));
  for (const t of f.chatTemplates) {
    const size = Buffer.byteLength(t.template);
    if (size <= MAX_INLINE_TEMPLATE) {
      cardProps.push(prop(t.name ? `${NS}model:chat-template:${t.name}` : 'cdx:ai-ml:model:template:chat', t.template));
    } else {
      const digest = createHash('sha256').update(t.template).digest('hex');
      cardProps.push(prop(`${NS}model:chat-template${t.name ? `:${t.name}` : ''}-sha256`, digest));
    }
  }
  const modelCard: Record<string, unknown> = {};
  if (Object.keys(modelParameters).length) modelCard.modelParameters = modelParameters;
  if (f.metrics.length) {
    modelCard.quantitativeAnalysis = {
      performanceMetrics: f.metrics.map((m) => (m.slice ? { type: m.type, value: m.value, slice: m.slice } : { type: m.type, value: m.value })),
    };
  }
  if (cardProps.length) modelCard.properties = cardProps;
  if (Object.keys(modelCard).length) extra.modelCard = modelCard;
  if (Object.keys(extra).length) component.extra = extra;
  return { component, datasets };
}

function datasetComponent(id: string, card: string): Component {
  const [ns, name] = id.includes('/') ? (id.split('/') as [string, string]) : [undefined, id];
  const c: Component = {
    ref: datasetRef(id),
    type: 'data',
    name,
    hashes: [],
    properties: [prop(`${NS}kind`, 'dataset'), prop(`${NS}source`, 'huggingface'), prop(`${NS}dataset:id`, id)],
    locations: [{ file: card }],
    extra: { data: [{ type: 'dataset', name: id, description: `Hugging Face dataset ${id}, named by the model card` }] },
  };
  if (ns) c.group = ns;
  return c;
}
