import { randomUUID } from 'node:crypto';
import type * as CDX from '@cyclonedx/cyclonedx-library';
import spdxExpressionParse from 'spdx-expression-parse';
import { AibomError } from '../errors.js';
import type { Component, Inventory, Service } from '../inventory/types.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import * as cdx from './cdx.js';
import { FINDING_PROPERTY, formatFinding } from './finding.js';
import { DEFAULT_SPEC_VERSION, specFor, type WritableSpecVersion } from './spec.js';
import { validateBomJson } from './validate.js';

export interface BomOptions {
  specVersion?: WritableSpecVersion;
  /** Same inputs, same bytes: no timestamp, no random serial number, sorted lists. */
  reproducible?: boolean;
}

export type BomJson = Record<string, unknown> & {
  bomFormat: 'CycloneDX';
  specVersion: string;
  components?: Array<Record<string, unknown>>;
  services?: Array<Record<string, unknown>>;
};

/**
 * Inventory → CycloneDX JSON. The cyclonedx library builds and normalizes the BOM; fields it
 * does not model (modelCard, data, evidence occurrences with lines, ...) are then merged in
 * from each component's `extra`. The result is always schema-validated before it is returned:
 * an invalid BOM is a bug and is never written.
 */
export async function buildBom(inv: Inventory, options: BomOptions = {}): Promise<BomJson> {
  const specVersion = options.specVersion ?? DEFAULT_SPEC_VERSION;
  const spec = specFor(specVersion);
  const reproducible = options.reproducible ?? false;

  const bom = new cdx.Models.Bom();
  if (!reproducible) {
    bom.serialNumber = `urn:uuid:${randomUUID()}`;
    bom.metadata.timestamp = new Date();
  }
  bom.metadata.tools.components.add(
    new cdx.Models.Component(cdx.Enums.ComponentType.Application, TOOL_NAME, {
      version: TOOL_VERSION,
      bomRef: `tool:${TOOL_NAME}`,
    }),
  );
  const models = new Map<string, CDX.Models.Component | CDX.Models.Service>();
  const root = toModel(inv.root);
  bom.metadata.component = root;
  models.set(inv.root.ref, root);
  for (const c of inv.components) {
    const m = toModel(c);
    models.set(c.ref, m);
    bom.components.add(m);
  }
  for (const s of inv.services) {
    const m = toServiceModel(s);
    models.set(s.ref, m);
    bom.services.add(m);
  }
  // Findings travel in the BOM, so `aibom audit` and `aibom gate` can read a BOM file alone.
  for (const f of inv.findings) {
    const target = f.component ? models.get(f.component) : undefined;
    const value = formatFinding(f);
    if (target) target.properties.add(new cdx.Models.Property(FINDING_PROPERTY, value));
    else bom.metadata.properties.add(new cdx.Models.Property(FINDING_PROPERTY, value));
  }
  for (const [from, tos] of inv.dependencies) {
    const m = models.get(from);
    if (!m) continue;
    for (const t of tos) {
      const target = models.get(t);
      if (target) m.dependencies.add(target.bomRef);
    }
  }

  const normalizer = new cdx.Serialize.JSON.Normalize.Factory(spec).makeForBom();
  const json = normalizer.normalize(bom, { sortLists: reproducible }) as unknown as BomJson;
  mergeExtras(json, inv);
  if (reproducible) sortExtras(json);
  const errors = await validateBomJson(json, specVersion);
  if (errors.length) {
    const first = errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`);
    throw new AibomError(
      'INTERNAL',
      `the BOM aibom built does not validate against CycloneDX ${specVersion} (a bug in aibom; nothing was written):\n  ${first.join('\n  ')}`,
    );
  }
  return json;
}

/** Serialize as written to disk: 2-space JSON with a final newline. */
export function serializeBom(json: BomJson): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

function toModel(c: Component): CDX.Models.Component {
  const m = new cdx.Models.Component(c.type as CDX.Enums.ComponentType, c.name, { bomRef: c.ref });
  if (c.group) m.group = c.group;
  if (c.version !== undefined) m.version = c.version;
  if (c.description) m.description = c.description;
  if (c.purl) m.purl = c.purl;
  if (c.scope) m.scope = c.scope as CDX.Enums.ComponentScope;
  for (const h of c.hashes) m.hashes.set(h.alg as CDX.Enums.HashAlgorithm, h.content);
  for (const l of licensesOf(c.licenses)) m.licenses.add(l);
  for (const r of c.externalReferences ?? []) {
    m.externalReferences.add(
      new cdx.Models.ExternalReference(r.url, r.type as CDX.Enums.ExternalReferenceType, r.comment ? { comment: r.comment } : {}),
    );
  }
  for (const p of c.properties) m.properties.add(new cdx.Models.Property(p.name, p.value));
  return m;
}

function toServiceModel(s: Service): CDX.Models.Service {
  const m = new cdx.Models.Service(s.name, { bomRef: s.ref });
  if (s.group) m.group = s.group;
  if (s.version !== undefined) m.version = s.version;
  if (s.description) m.description = s.description;
  for (const p of s.properties) m.properties.add(new cdx.Models.Property(p.name, p.value));
  return m;
}

let licenseFactory: CDX.Contrib.License.Factories.LicenseFactory | undefined;

/** SPDX ids, SPDX expressions or license names, as the library's license factory reads them. */
function licensesOf(list: string[] | undefined): CDX.Models.License[] {
  if (!list?.length) return [];
  licenseFactory ??= new (cdx.licenseContrib().Factories.LicenseFactory)(spdxExpressionParse);
  // CycloneDX allows one expression alone, or any number of single licenses.
  if (list.length === 1) return [licenseFactory.makeFromString(list[0]!)];
  return list.map((l) => licenseFactory!.makeDisjunctive(l));
}

/** Fields the library does not model, merged into the normalized JSON by bom-ref. */
function mergeExtras(json: BomJson, inv: Inventory): void {
  const byRef = new Map<string, Component | Service>();
  for (const c of inv.components) byRef.set(c.ref, c);
  for (const s of inv.services) byRef.set(s.ref, s);
  const meta = json.metadata as Record<string, unknown> | undefined;
  const patch = (node: Record<string, unknown>, src: Component | Service | undefined, isService = false) => {
    if (!src) return;
    // Services have no evidence in CycloneDX; their locations stay in the inventory only.
    if (src.locations.length && !isService) {
      const occurrences = src.locations.map((l) => (l.line !== undefined ? { location: l.file, line: l.line } : { location: l.file }));
      const evidence = (node.evidence as Record<string, unknown> | undefined) ?? {};
      evidence.occurrences = occurrences;
      node.evidence = evidence;
    }
    if (isService) {
      const svc = src as Service;
      if (svc.endpoints?.length) node.endpoints = svc.endpoints;
      if (svc.trustZone) node.trustZone = svc.trustZone;
    }
    if (src.extra) Object.assign(node, src.extra);
  };
  if (meta?.component) patch(meta.component as Record<string, unknown>, inv.root);
  for (const c of json.components ?? []) patch(c, byRef.get(c['bom-ref'] as string));
  for (const s of json.services ?? []) patch(s, byRef.get(s['bom-ref'] as string), true);
}

function sortExtras(json: BomJson): void {
  for (const c of json.components ?? []) {
    const ev = c.evidence as { occurrences?: Array<{ location: string; line?: number }> } | undefined;
    ev?.occurrences?.sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  }
}
