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

/** Where the model came from: a hub cache snapshot, or download metadata naming a repository. */
interface Identity {
  namespace?: string;
  repoName?: string;
  commit?: string;
  /** How the origin is known (`hub-cache`, `download-metadata`); undefined for a local model. */
  how?: string;
}

/** A file of the model with its SHA-256. */
interface Resource {
  name: string;
  digest: string;
  size: number;
}

/** identity → formats → hashes → download check → nested files → licenses → pedigree → model card. */
export function buildModelComponent(draft: ModelDraft, digestOf: (abs: string) => string | undefined, rootName: string): BuiltModel {
  const f = draft.facts;
  const properties: Property[] = [prop(`${NS}kind`, 'model')];
  const id = identity(draft, properties);
  const name = id.repoName ?? (draft.rel ? posix.basename(draft.rel) : rootName);
  const component: Component = {
    ref: f.ref,
    type: 'machine-learning-model',
    name,
    hashes: [],
    properties,
    locations: [{ file: draft.rel || '.' }],
  };
  if (id.namespace) component.group = id.namespace;
  if (id.commit) component.version = id.commit;
  if (f.name && f.name !== name) component.description = f.name;
  if (id.repoName) {
    try {
      component.purl = huggingfacePurl(id.namespace, id.repoName, id.commit);
    } catch {
      // an unusable name: no purl
    }
  }
  properties.push(...sourceProperties(id));
  properties.push(...formatProperties(draft));
  const resources = hashFiles(draft, digestOf, component);
  checkDownload(draft, resources, properties);
  const extra: Record<string, unknown> = {};
  if (draft.kind === 'folder' && resources.length) extra.components = nestedFiles(resources, properties);
  if (f.licenses.length) component.licenses = [...f.licenses];
  if (f.licenseLink) component.externalReferences = [{ type: 'license', url: f.licenseLink }];
  if (f.tags.length) extra.tags = [...new Set(f.tags)];
  if (f.ancestors.length) {
    extra.pedigree = pedigree(f);
    if (f.baseModelRelation) properties.push(prop(`${NS}model:base-model-relation`, f.baseModelRelation));
  }
  const datasets: Component[] = [];
  const modelCard = buildModelCard(draft, datasets);
  if (Object.keys(modelCard).length) extra.modelCard = modelCard;
  if (Object.keys(extra).length) component.extra = extra;
  return { component, datasets };
}

/** The hub repository when the folder says where it came from (several download commits: a property). */
function identity(draft: ModelDraft, properties: Property[]): Identity {
  if (draft.hubOrigin) {
    const { namespace, name, commit } = draft.hubOrigin;
    return { namespace, repoName: name, commit, how: 'hub-cache' };
  }
  if (!draft.download) return {};
  const id: Identity = { how: 'download-metadata' };
  if (draft.download.commits.length === 1) id.commit = draft.download.commits[0];
  else properties.push(prop(`${NS}huggingface:commits`, draft.download.commits.join(',')));
  const modelName = draft.facts.modelName;
  if (modelName && /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(modelName)) [id.namespace, id.repoName] = modelName.split('/') as [string, string];
  return id;
}

/** Source and pinning: a hub model is pinned when both repository and commit are known. */
function sourceProperties(id: Identity): Property[] {
  if (!id.how) return [prop(`${NS}source`, 'local')];
  const { namespace, repoName, commit } = id;
  const out = [prop(`${NS}source`, 'huggingface'), prop(`${NS}huggingface:origin`, id.how)];
  if (repoName) out.push(prop(`${NS}huggingface:repo`, namespace ? `${namespace}/${repoName}` : repoName));
  if (commit) out.push(prop(`${NS}huggingface:commit`, commit));
  out.push(prop(`${NS}pinned`, !!(repoName && commit)));
  if (!(repoName && commit)) {
    out.push(prop(`${NS}unpinned-reason`, !commit ? 'no single commit recorded for the download' : 'the repository is not named in the folder'));
  }
  return out;
}

/** Serializations, tensor facts, pickle imports, the readers' own properties, signature bundles. */
function formatProperties(draft: ModelDraft): Property[] {
  const f = draft.facts;
  const out: Property[] = [];
  const formats = SERIALIZATION_PREFERENCE.filter((s) => f.serializations.has(s));
  out.push(prop(`${NS}serialization`, formats[0] ?? 'unknown'));
  if (formats.length > 1) out.push(prop(`${NS}serializations`, formats.join(',')));
  if (f.parameterCount !== undefined) out.push(prop(`${NS}model:parameter-count`, f.parameterCount.toString()));
  if (f.tensorCount) out.push(prop(`${NS}model:tensor-count`, f.tensorCount));
  if (f.dtypes.size) {
    const dtypes = [...f.dtypes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([d]) => d);
    out.push(prop(`${NS}model:dtypes`, dtypes.join(',')));
  }
  if (f.pickleImports.size) {
    const imports = [...f.pickleImports.keys()].sort();
    out.push(prop(`${NS}pickle:imports`, imports.slice(0, 100).join(', ')));
  }
  out.push(...f.props);
  for (const b of draft.signatureBundles) out.push(prop(`${NS}signature-bundle`, b));
  return out;
}

/** Each file's SHA-256; the component's hash: the file's own, or the folder digest when every file was hashed. */
function hashFiles(draft: ModelDraft, digestOf: (abs: string) => string | undefined, component: Component): Resource[] {
  const properties = component.properties!;
  const resources: Resource[] = [];
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
    return resources;
  }
  if (draft.digestable && complete) {
    const digest = manifestDigest(resources);
    component.hashes.push({ alg: 'SHA-256', content: digest });
    properties.push(prop(`${NS}folder-digest`, `sha256:${digest}`));
  }
  properties.push(prop(`${NS}file-count`, resources.length), prop(`${NS}size`, resources.reduce((n, r) => n + r.size, 0)));
  return resources;
}

/** Files the download metadata recorded: verified, or a finding when they changed since. */
function checkDownload(draft: ModelDraft, resources: Resource[], properties: Property[]): void {
  if (!draft.download) return;
  const prefix = draft.rel ? `${draft.rel}/` : '';
  let verified = 0;
  for (const [file, expected] of draft.download.sha256) {
    const got = resources.find((r) => r.name === file);
    if (!got) continue;
    if (got.digest === expected) verified++;
    else {
      finding(
        draft.facts,
        'model-file-modified',
        'high',
        `${prefix}${file} is not the file that was downloaded: its SHA-256 is ${got.digest}, the download recorded ${expected}`,
        `${prefix}${file}`,
      );
    }
  }
  if (verified) properties.push(prop(`${NS}huggingface:verified-files`, verified));
}

/** A folder's files as nested `file` components (up to MAX_NESTED_FILES; the digest covers all). */
function nestedFiles(resources: Resource[], properties: Property[]): unknown[] {
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  if (sorted.length > MAX_NESTED_FILES) properties.push(prop(`${NS}files-listed`, `${MAX_NESTED_FILES} of ${sorted.length}`));
  return sorted.slice(0, MAX_NESTED_FILES).map((r) => ({
    type: 'file',
    name: r.name,
    hashes: [{ alg: 'SHA-256', content: r.digest }],
    properties: [{ name: `${NS}size`, value: String(r.size) }],
  }));
}

/** Pedigree: what the model was derived from. */
function pedigree(f: ModelDraft['facts']): Record<string, unknown> {
  return {
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
}

/** The CycloneDX model card (parameters, metrics, card properties); the datasets it names go to `datasets`. */
function buildModelCard(draft: ModelDraft, datasets: Component[]): Record<string, unknown> {
  const f = draft.facts;
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
  const modelCard: Record<string, unknown> = {};
  if (Object.keys(modelParameters).length) modelCard.modelParameters = modelParameters;
  if (f.metrics.length) {
    modelCard.quantitativeAnalysis = {
      performanceMetrics: f.metrics.map((m) => (m.slice ? { type: m.type, value: m.value, slice: m.slice } : { type: m.type, value: m.value })),
    };
  }
  const cardProps = cardProperties(f);
  if (cardProps.length) modelCard.properties = cardProps;
  return modelCard;
}

/** Card properties: the parameter count, the card's own, and chat templates (verbatim up to MAX_INLINE_TEMPLATE, else by SHA-256). */
function cardProperties(f: ModelDraft['facts']): Property[] {
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
  return cardProps;
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
