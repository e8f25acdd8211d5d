import { AibomError } from '../errors.js';
import { FINDING_PROPERTY, parseFinding } from './finding.js';
import type { Finding, Location } from '../inventory/types.js';
import { isObject } from '../util/json.js';

/**
 * A reviewer's view of a BOM: one row per component or service with what matters for
 * provenance (pinned? hashed? signed, by whom? where from? license? risks?). Reads only the
 * BOM JSON, so it works on BOMs aibom wrote and, as far as their fields allow, on others'.
 */
export type RowKind = 'package' | 'model' | 'dataset' | 'plugin' | 'mcp-server' | 'service' | 'application' | 'other';

export interface InventoryRow {
  ref: string;
  kind: RowKind;
  /** CycloneDX type, or 'service'. */
  type: string;
  name: string;
  version?: string;
  purl?: string;
  scope?: string;
  /** A development-only package by another generator's flag (see isDevByGenerator). */
  dev?: boolean;
  /** true/false when the BOM says; undefined when it does not. */
  pinned?: boolean;
  unpinnedReason?: string;
  /** Hash algorithms present. */
  hashes: string[];
  /** Hash algorithm → value. */
  hashValues: Map<string, string>;
  /** Folder digest (model_signing manifest), when recorded. */
  folderDigest?: string;
  signature?: { bundle?: string; signer?: string; issuer?: string; keyFingerprint?: string };
  provenance: string;
  licenses: string[];
  risks: Finding[];
  locations: Location[];
  properties: Map<string, string[]>;
}

export interface InventorySummary {
  total: number;
  byKind: Record<string, number>;
  pinned: number;
  unpinned: number;
  hashed: number;
  unhashed: number;
  signed: number;
  risks: Record<string, number>;
}

export interface InventoryReport {
  project: { name: string; version?: string; ref?: string };
  specVersion: string;
  rows: InventoryRow[];
  /** Findings not tied to a component (from the BOM's metadata). */
  findings: Finding[];
  summary: InventorySummary;
  /** bom-ref → refs it depends on. */
  dependencies: Map<string, string[]>;
}

type Json = Record<string, unknown>;

export interface InventoryFromBomOptions {
  /**
   * Nested `file` components as rows of their own (the gate judges every component: a file
   * nested under a package may carry a risk). Reports leave them out (parts of their parent).
   */
  nestedFiles?: boolean;
}

export function inventoryFromBom(bom: Json, options: InventoryFromBomOptions = {}): InventoryReport {
  const meta = isObject(bom.metadata) ? bom.metadata : {};
  const root = isObject(meta.component) ? meta.component : {};
  const rows: InventoryRow[] = [];
  // Nested components are rows too: other tools nest what a package bundles or installs
  // below it (cyclonedx-npm's default output, cdxgen). Nested `file` components (the files
  // of a model or plugin folder) are parts of their parent, not rows. Depth-first, parents
  // before their children, with an explicit stack (the nesting depth is untrusted).
  // Every place CycloneDX 1.4-1.7 allows a component or a service is read, so a hostile
  // BOM cannot hide a model where the schema allows one (see bomPlaces). What made or
  // describes the BOM (its tools, its subject) is not shipped: from
  // there only what the gate judges wherever it sits (models, datasets, plugins, MCP servers)
  // becomes a row. Every node counts against MAX_BOM_NODES.
  type Item = { node: unknown; nested: boolean; isService: boolean; context: boolean; kidsContext: boolean; where: string };
  const stack: Item[] = [];
  const pushAll = (list: unknown, base: Omit<Item, 'node'>) => {
    const items = Array.isArray(list) ? list : list === undefined ? [] : [list];
    for (let i = items.length - 1; i >= 0; i--) stack.push({ ...base, node: items[i] });
  };
  let seen = 0;
  for (const place of bomPlaces(bom).reverse()) pushAll(place.list, { nested: false, isService: place.isService, context: place.context, kidsContext: place.kidsContext, where: place.where });
  while (stack.length) {
    const item = stack.pop()!;
    const { node, nested, isService, context, kidsContext, where } = item;
    if (!isObject(node)) continue;
    if (++seen > MAX_BOM_NODES) throw new AibomError('INPUT', `the BOM holds more than ${MAX_BOM_NODES} components and services`);
    const kids = node[isService ? 'services' : 'components'];
    if (Array.isArray(kids)) pushAll(kids, { nested: true, isService, context: kidsContext, kidsContext, where });
    if (nested && node.type === 'file' && !options.nestedFiles) continue;
    const row = rowOf(node, isService);
    if (context && !JUDGED_ANYWHERE.has(row.kind)) continue;
    if (where !== 'components' && where !== 'services') row.properties.set(BOM_PLACE_PROPERTY, [where]);
    rows.push(row);
  }
  const findings = propsOf(meta).get(FINDING_PROPERTY)?.flatMap((v) => {
    const f = parseFinding(v);
    return f ? [f] : [];
  }) ?? [];
  const dependencies = new Map<string, string[]>();
  if (Array.isArray(bom.dependencies)) {
    for (const d of bom.dependencies) {
      if (isObject(d) && typeof d.ref === 'string') {
        dependencies.set(d.ref, Array.isArray(d.dependsOn) ? d.dependsOn.filter((x): x is string => typeof x === 'string') : []);
      }
    }
  }
  const project: InventoryReport['project'] = { name: typeof root.name === 'string' ? root.name : '(unnamed)' };
  if (typeof root.version === 'string') project.version = root.version;
  if (typeof root['bom-ref'] === 'string') project.ref = root['bom-ref'];
  return {
    project,
    specVersion: typeof bom.specVersion === 'string' ? bom.specVersion : '?',
    rows,
    findings,
    summary: summarize(rows),
    dependencies,
  };
}

/** Where a row came from when not the BOM's top-level components or services. */
export const BOM_PLACE_PROPERTY = 'aibom:bom-place';

/** Kinds judged wherever they sit in a BOM, even among its tools or in a lineage. */
const JUDGED_ANYWHERE = new Set<RowKind>(['model', 'dataset', 'plugin', 'mcp-server']);

/** Components and services read from one BOM, at most (bounds the work on a hostile BOM). */
export const MAX_BOM_NODES = 1_000_000;

interface BomPlace {
  list: unknown;
  isService: boolean;
  /** Describes the BOM or its subject rather than listing what ships. */
  context: boolean;
  /** The same for the components nested below (the subject's are shipped parts). */
  kidsContext: boolean;
  where: string;
}

/**
 * Every place CycloneDX 1.4-1.7 allows a component or a service (bom-1.x schemas: every
 * `$ref` to #/definitions/component or #/definitions/service): the BOM's components and
 * services, its subject (metadata.component), its tools (metadata.tools.components/services
 * from 1.5), formulation[].components/services (1.5), declarations.targets (1.6), the tools of
 * vulnerabilities[] and the annotators of annotations[] (1.5). Nested components/services are
 * followed from each by the walker. Not read: a component's pedigree (ancestors, descendants,
 * variants), its lineage: other versions of it, not parts of what ships (aibom records a
 * fine-tuned model's base model there).
 */
function bomPlaces(bom: Json): BomPlace[] {
  const out: BomPlace[] = [];
  const meta = isObject(bom.metadata) ? bom.metadata : {};
  const add = (list: unknown, isService: boolean, context: boolean, where: string, kidsContext = context) => {
    if (list !== undefined) out.push({ list, isService, context, kidsContext, where });
  };
  add(meta.component, false, true, 'metadata.component', false);
  add(bom.components, false, false, 'components');
  add(bom.services, true, false, 'services');
  const tools = (t: unknown, where: string) => {
    if (!isObject(t)) return;
    add(t.components, false, true, `${where}.components`);
    add(t.services, true, true, `${where}.services`);
  };
  tools(meta.tools, 'metadata.tools');
  if (Array.isArray(bom.formulation)) {
    for (const f of bom.formulation) {
      if (!isObject(f)) continue;
      add(f.components, false, false, 'formulation.components');
      add(f.services, true, false, 'formulation.services');
    }
  }
  const decl = isObject(bom.declarations) ? bom.declarations : undefined;
  if (decl && isObject(decl.targets)) {
    add(decl.targets.components, false, false, 'declarations.targets.components');
    add(decl.targets.services, true, false, 'declarations.targets.services');
  }
  if (Array.isArray(bom.vulnerabilities)) for (const v of bom.vulnerabilities) if (isObject(v)) tools(v.tools, 'vulnerabilities.tools');
  if (Array.isArray(bom.annotations)) {
    for (const a of bom.annotations) {
      if (!isObject(a) || !isObject(a.annotator)) continue;
      add(a.annotator.component, false, true, 'annotations.annotator.component');
      add(a.annotator.service, true, true, 'annotations.annotator.service');
    }
  }
  return out;
}

function propsOf(node: Json): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(node.properties)) return out;
  for (const p of node.properties) {
    if (!isObject(p) || typeof p.name !== 'string') continue;
    const v = typeof p.value === 'string' ? p.value : '';
    const list = out.get(p.name);
    if (list) list.push(v);
    else out.set(p.name, [v]);
  }
  return out;
}

function first(props: Map<string, string[]>, name: string): string | undefined {
  return props.get(name)?.[0];
}

/** What a CycloneDX type says a component is; `undefined` when the type leaves it open. */
const KIND_OF_TYPE: Record<string, RowKind> = {
  'machine-learning-model': 'model',
  data: 'dataset',
  library: 'package',
  framework: 'package',
  file: 'other',
};
/** The refinements an `aibom:` property may make of a typed kind: only to a kind judged as strictly. */
const REFINES: Partial<Record<RowKind, RowKind[]>> = { package: ['plugin'] };

/**
 * A row's kind. The component's CycloneDX `type` wins: a `machine-learning-model` is a model
 * and `data` a dataset whatever its `aibom:` properties say, a `library` is a package unless
 * aibom marks it a plugin (judged more strictly). Only components whose type leaves it open
 * (application, container, service...) take their kind from `aibom:kind` or `aibom:mcp:*`.
 */
function kindOf(node: Json, props: Map<string, string[]>, isService: boolean): RowKind {
  const explicit = first(props, 'aibom:kind');
  // A model card makes it a model whatever its type says (judged as strictly as one).
  const typed = isService ? undefined : isObject(node.modelCard) && node.type !== 'data' ? 'model' : typeof node.type === 'string' ? KIND_OF_TYPE[node.type] : undefined;
  if (typed) {
    const plugin = explicit === 'plugin' || props.has('aibom:plugin:manifest') || (props.has('aibom:install-path') && props.has('aibom:folder-digest'));
    if (plugin && REFINES[typed]?.includes('plugin')) return 'plugin';
    return typed;
  }
  if (explicit && ['package', 'model', 'dataset', 'plugin', 'mcp-server', 'service', 'application'].includes(explicit)) {
    return explicit as RowKind;
  }
  if ([...props.keys()].some((k) => k.startsWith('aibom:mcp:'))) return 'mcp-server';
  if (isService) return 'service';
  if (props.has('aibom:package-manager')) return 'package';
  if (props.has('aibom:plugin:manifest') || (props.has('aibom:install-path') && props.has('aibom:folder-digest'))) return 'plugin';
  if (node.type === 'application') return 'application';
  if (typeof node.purl === 'string') return 'package';
  return 'other';
}

/** Hash algorithms that bind content: not MD5, not SHA-1 (collisions can be made for both). */
export const STRONG_HASH_ALGS = new Set(['SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512', 'BLAKE2b-256', 'BLAKE2b-384', 'BLAKE2b-512', 'BLAKE3']);

/**
 * Development-only flags other generators write: cyclonedx-npm and cdxgen
 * (`cdx:npm:package:development`), cyclonedx-py for Poetry (`cdx:poetry:group`, dev when no
 * group is "main") and Pipenv (`cdx:pipenv:category` "develop").
 */
function isDevByGenerator(props: Map<string, string[]>): boolean {
  if (props.get('cdx:npm:package:development')?.some((v) => v === 'true')) return true;
  const groups = props.get('cdx:poetry:group');
  if (groups?.length && !groups.includes('main')) return true;
  const cats = props.get('cdx:pipenv:category');
  if (cats?.length && cats.every((c) => c === 'develop')) return true;
  return false;
}

function licensesOf(node: Json): string[] {
  if (!Array.isArray(node.licenses)) return [];
  const out: string[] = [];
  for (const l of node.licenses) {
    if (!isObject(l)) continue;
    if (typeof l.expression === 'string') out.push(l.expression);
    else if (isObject(l.license)) {
      const id = l.license.id ?? l.license.name;
      if (typeof id === 'string') out.push(id);
    }
  }
  return out;
}

function rowOf(node: Json, isService: boolean): InventoryRow {
  const props = propsOf(node);
  const kind = kindOf(node, props, isService);
  const group = typeof node.group === 'string' ? node.group : undefined;
  const baseName = typeof node.name === 'string' ? node.name : '(unnamed)';
  const name = group && kind === 'package' && group.startsWith('@') ? `${group}/${baseName}` : group ? `${group}/${baseName}` : baseName;
  const hashes: string[] = [];
  const hashValues = new Map<string, string>();
  const addHashes = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const h of list) {
      if (!isObject(h) || typeof h.alg !== 'string' || hashValues.has(h.alg)) continue;
      hashes.push(h.alg);
      if (typeof h.content === 'string') hashValues.set(h.alg, h.content.toLowerCase());
    }
  };
  addHashes(node.hashes);
  // The digest of the artifact a package was installed from: cyclonedx-npm (and others) put
  // the lockfile's integrity there, not in the component's own hashes.
  if (Array.isArray(node.externalReferences)) {
    for (const r of node.externalReferences) if (isObject(r) && r.type === 'distribution') addHashes(r.hashes);
  }
  const pinnedProp = first(props, 'aibom:pinned');
  const row: InventoryRow = {
    ref: typeof node['bom-ref'] === 'string' ? node['bom-ref'] : name,
    kind,
    type: isService ? 'service' : typeof node.type === 'string' ? node.type : '?',
    name,
    hashes,
    hashValues,
    provenance: provenanceOf(props, node),
    licenses: licensesOf(node),
    risks: (props.get(FINDING_PROPERTY) ?? []).flatMap((v) => {
      const f = parseFinding(v);
      return f ? [f] : [];
    }),
    locations: locationsOf(node),
    properties: props,
  };
  if (typeof node.version === 'string') row.version = node.version;
  if (typeof node.purl === 'string') row.purl = node.purl;
  if (typeof node.scope === 'string') row.scope = node.scope;
  if (isDevByGenerator(props)) row.dev = true;
  if (pinnedProp === 'true') row.pinned = true;
  else if (pinnedProp === 'false') row.pinned = false;
  const reason = first(props, 'aibom:unpinned-reason');
  if (reason) row.unpinnedReason = reason;
  const folder = first(props, 'aibom:folder-digest');
  if (folder) row.folderDigest = folder;
  const bundle = first(props, 'aibom:signature-bundle');
  const signer = first(props, 'aibom:publisher:identity') ?? first(props, 'aibom:signer:identity');
  const issuer = first(props, 'aibom:publisher:issuer') ?? first(props, 'aibom:signer:issuer');
  const keyFp = first(props, 'aibom:publisher:key-fingerprint');
  if (bundle || signer || keyFp) {
    const sig: NonNullable<InventoryRow['signature']> = {};
    if (bundle) sig.bundle = bundle;
    if (signer) sig.signer = signer;
    if (issuer) sig.issuer = issuer;
    if (keyFp) sig.keyFingerprint = keyFp;
    row.signature = sig;
  }
  return row;
}

function provenanceOf(props: Map<string, string[]>, node: Json): string {
  const source = first(props, 'aibom:source');
  const url = first(props, 'aibom:source:url');
  if (source) return url ? `${source} ${url}` : source;
  if (Array.isArray(node.externalReferences)) {
    const vcs = node.externalReferences.find((r) => isObject(r) && (r.type === 'vcs' || r.type === 'distribution'));
    if (isObject(vcs) && typeof vcs.url === 'string') return vcs.url;
  }
  return typeof node.purl === 'string' ? 'purl only' : 'unknown';
}

function locationsOf(node: Json): Location[] {
  const ev = isObject(node.evidence) ? node.evidence : undefined;
  if (!ev || !Array.isArray(ev.occurrences)) return [];
  const out: Location[] = [];
  for (const o of ev.occurrences) {
    if (!isObject(o) || typeof o.location !== 'string') continue;
    out.push(typeof o.line === 'number' ? { file: o.location, line: o.line } : { file: o.location });
  }
  return out;
}

function summarize(rows: InventoryRow[]): InventorySummary {
  const s: InventorySummary = { total: rows.length, byKind: {}, pinned: 0, unpinned: 0, hashed: 0, unhashed: 0, signed: 0, risks: {} };
  for (const r of rows) {
    s.byKind[r.kind] = (s.byKind[r.kind] ?? 0) + 1;
    if (r.pinned === true) s.pinned++;
    else if (r.pinned === false) s.unpinned++;
    if (r.hashes.length || r.folderDigest) s.hashed++;
    else s.unhashed++;
    if (r.signature) s.signed++;
    for (const f of r.risks) s.risks[f.severity] = (s.risks[f.severity] ?? 0) + 1;
  }
  return s;
}
