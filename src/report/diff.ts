import semver from 'semver';
import { comparePep440, parseVersion as parsePep440 } from '../inventory/lockfiles/python/pep440.js';
import type { InventoryReport, InventoryRow } from '../bom/rows.js';

/**
 * signer: who signed the component changed (another identity, key or none); provenance: where
 * it comes from changed (registry, source URL, repository).
 */
export type ChangeKind = 'added' | 'removed' | 'upgraded' | 'downgraded' | 'changed' | 'suspicious' | 'signer' | 'provenance';

export interface Change {
  kind: ChangeKind;
  /** Component kind (package, model, plugin, ...). */
  component: string;
  name: string;
  from?: string;
  to?: string;
  /** For humans: which digests differ (shortened), or the old and new signer / provenance. */
  detail?: string;
  /** suspicious: the digests that differ, in full. */
  digests?: Array<{ alg: string; from: string; to: string }>;
}

export interface DiffResult {
  changes: Change[];
  counts: Record<ChangeKind, number>;
}

/**
 * Compare two inventories. Components are matched by kind + name; versions present in both
 * are compared by their digests: the same name and version with a different hash is the
 * alarm case (a re-published or tampered artifact) and is flagged suspicious. A
 * component whose signer changed (a workflow identity without its per-release ref) is a
 * `signer` change; one whose source changed is a `provenance` change.
 */
export function diffInventories(oldInv: InventoryReport, newInv: InventoryReport): DiffResult {
  const index = (inv: InventoryReport) => {
    const m = new Map<string, Map<string, InventoryRow>>();
    for (const r of inv.rows) {
      const key = `${r.kind}\u0000${r.name}`;
      let byVersion = m.get(key);
      if (!byVersion) m.set(key, (byVersion = new Map()));
      byVersion.set(r.version ?? '', r);
    }
    return m;
  };
  const a = index(oldInv);
  const b = index(newInv);
  const changes: Change[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const [kind, name] = key.split('\u0000') as [string, string];
    const ov = a.get(key) ?? new Map<string, InventoryRow>();
    const nv = b.get(key) ?? new Map<string, InventoryRow>();
    for (const [v, oldRow] of ov) {
      const newRow = nv.get(v);
      if (!newRow) continue;
      const d = digestDifference(oldRow, newRow);
      if (d) changes.push({ kind: 'suspicious', component: kind, name, from: v, to: v, detail: d.detail, digests: d.digests });
      changes.push(...originChanges(kind, name, v, v, oldRow, newRow));
    }
    const tools = toolDifference(ov, nv);
    if (tools) changes.push({ ...tools, component: kind, name });
    const removed = [...ov.keys()].filter((v) => !nv.has(v));
    const added = [...nv.keys()].filter((v) => !ov.has(v));
    if (removed.length === 1 && added.length === 1) {
      const from = removed[0]!;
      const to = added[0]!;
      const oldRow = ov.get(from)!;
      const newRow = nv.get(to)!;
      const cmp = compareVersions(from, to, ecosystemOf(newRow) ?? ecosystemOf(oldRow));
      changes.push({ kind: cmp < 0 ? 'upgraded' : cmp > 0 ? 'downgraded' : 'changed', component: kind, name, from, to });
      changes.push(...originChanges(kind, name, from, to, oldRow, newRow));
      continue;
    }
    for (const v of removed) changes.push({ kind: 'removed', component: kind, name, from: v });
    for (const v of added) changes.push({ kind: 'added', component: kind, name, to: v });
  }
  const order: ChangeKind[] = ['suspicious', 'signer', 'provenance', 'downgraded', 'removed', 'added', 'upgraded', 'changed'];
  changes.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const counts = Object.fromEntries(order.map((k) => [k, 0])) as Record<ChangeKind, number>;
  for (const c of changes) counts[c.kind]++;
  return { changes, counts };
}

function digestDifference(o: InventoryRow, n: InventoryRow): { detail: string; digests: Array<{ alg: string; from: string; to: string }> } | undefined {
  const digests: Array<{ alg: string; from: string; to: string }> = [];
  for (const [alg, v] of o.hashValues) {
    const w = n.hashValues.get(alg);
    if (w !== undefined && w !== v) digests.push({ alg, from: v, to: w });
  }
  if (o.folderDigest && n.folderDigest && o.folderDigest !== n.folderDigest) {
    digests.push({ alg: 'folder digest', from: o.folderDigest, to: n.folderDigest });
  }
  if (!digests.length) return undefined;
  return { detail: digests.map((d) => `${d.alg} ${d.from.slice(0, 12)}… → ${d.to.slice(0, 12)}…`).join(', '), digests };
}

/** Who signed it: an identity (with its issuer), a key fingerprint, a bundle of unknown signer, or nobody. */
function signerOf(r: InventoryRow): string {
  const s = r.signature;
  if (!s) return 'unsigned';
  if (s.signer) {
    // A workflow identity names the release's ref (…/release.yml@refs/tags/v1.2.0): a new release
    // signed by the same workflow is no change of signer.
    const at = s.signer.lastIndexOf('@refs/');
    const who = at > 0 ? s.signer.slice(0, at) : s.signer;
    return s.issuer ? `${who} (issuer ${s.issuer})` : who;
  }
  if (s.keyFingerprint) return `key ${s.keyFingerprint}`;
  return 'signed (signer not recorded)';
}

/** A change of signer or provenance between the old and new row of a component. */
function originChanges(component: string, name: string, from: string, to: string, o: InventoryRow, n: InventoryRow): Change[] {
  const out: Change[] = [];
  const so = signerOf(o);
  const sn = signerOf(n);
  if (so !== sn) out.push({ kind: 'signer', component, name, from, to, detail: `signer ${so} → ${sn}` });
  // A download URL names the version: an upgrade alone is not a change of provenance.
  const where = (p: string, v: string) => (v ? p.split(v).join('<version>') : p);
  if (where(o.provenance, from) !== where(n.provenance, to)) out.push({ kind: 'provenance', component, name, from, to, detail: `provenance ${o.provenance || 'none'} → ${n.provenance || 'none'}` });
  return out;
}

/** The package ecosystem from the purl type (pkg:pypi/…, pkg:npm/…). */
function ecosystemOf(r: InventoryRow): string | undefined {
  const m = /^pkg:([a-z0-9.+-]+)\//i.exec(r.purl ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Order two version strings by the ecosystem's own rules, the project's one version order. The
 * variants, by ecosystem (the purl type):
 *  - `pypi`: PEP 440 (1.0.0rc1 < 1.0.0 < 1.0.0.post1; lockfiles/python/pep440.ts), when both parse;
 *  - any other (npm and the rest), or PyPI versions PEP 440 cannot read: SemVer, each version
 *    coerced loosely (`v1.2` → 1.2.0) when it is not SemVer already, when both parse and differ;
 *  - else text order.
 * (The start-up rollback check, runtime/rollback.ts, compares release versions by strict SemVer on
 * purpose: a release version that is not SemVer is never coerced there.)
 */
export function compareVersions(a: string, b: string, ecosystem?: string): number {
  if (ecosystem === 'pypi') {
    const pa = parsePep440(a);
    const pb = parsePep440(b);
    if (pa && pb) return comparePep440(pa, pb);
  }
  const va = semver.valid(a) ?? semver.valid(semver.coerce(a, { loose: true }));
  const vb = semver.valid(b) ?? semver.valid(semver.coerce(b, { loose: true }));
  if (va && vb && semver.compare(va, vb) !== 0) return semver.compare(va, vb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * MCP tool-definition pins (aibom build --mcp-tools) that differ between the releases: the same
 * server version with other tools is a rug pull (suspicious); across versions, a change named.
 */
function toolDifference(ov: Map<string, InventoryRow>, nv: Map<string, InventoryRow>): Omit<Change, 'component' | 'name'> | undefined {
  const o = [...ov.values()].find((r) => r.properties.has('aibom:mcp:tools-sha256'));
  const n = [...nv.values()].find((r) => r.properties.has('aibom:mcp:tools-sha256'));
  if (!o || !n || o.properties.get('aibom:mcp:tools-sha256')?.[0] === n.properties.get('aibom:mcp:tools-sha256')?.[0]) return undefined;
  const pins = (r: InventoryRow) => new Map((r.properties.get('aibom:mcp:tool') ?? []).map((v) => [v.slice(0, v.lastIndexOf(' ')), v.slice(v.lastIndexOf(' ') + 1)]));
  const a = pins(o);
  const b = pins(n);
  const list = (xs: string[]) => xs.sort().map((x) => JSON.stringify(x)).join(', ');
  const parts: string[] = [];
  const added = [...b.keys()].filter((k) => !a.has(k));
  const removed = [...a.keys()].filter((k) => !b.has(k));
  const changed = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k));
  if (added.length) parts.push(`added ${list(added)}`);
  if (removed.length) parts.push(`removed ${list(removed)}`);
  if (changed.length) parts.push(`changed ${list(changed)}`);
  const from = o.version ?? '';
  const to = n.version ?? '';
  return { kind: from === to ? 'suspicious' : 'changed', from, to, detail: `MCP tools: ${parts.join('; ') || 'the pinned set differs'}` };
}
