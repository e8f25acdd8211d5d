import semver from 'semver';
import type { InventoryReport, InventoryRow } from './inventory.js';
import { provenanceChanges } from './provenance-diff.js';

export type ChangeKind = 'added' | 'removed' | 'upgraded' | 'downgraded' | 'changed' | 'suspicious' | 'provenance';

export interface Change {
  kind: ChangeKind;
  /** Component kind (package, model, plugin, ...). */
  component: string;
  name: string;
  from?: string;
  to?: string;
  /** For suspicious: which digests differ. */
  detail?: string;
}

export interface DiffResult {
  changes: Change[];
  counts: Record<ChangeKind, number>;
}

/**
 * Compare two inventories. Components are matched by kind + name; versions present in both
 * are compared by their digests: the same name and version with a different hash is the
 * alarm case (a re-published or tampered artifact) and is flagged suspicious. A plugin or
 * model whose pinned signer changed is a `provenance` change (provenance-diff.ts).
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
      if (d) changes.push({ kind: 'suspicious', component: kind, name, from: v, to: v, detail: d });
    }
    const removed = [...ov.keys()].filter((v) => !nv.has(v));
    const added = [...nv.keys()].filter((v) => !ov.has(v));
    if (removed.length === 1 && added.length === 1) {
      const from = removed[0]!;
      const to = added[0]!;
      const cmp = compareVersions(from, to);
      changes.push({ kind: cmp < 0 ? 'upgraded' : cmp > 0 ? 'downgraded' : 'changed', component: kind, name, from, to });
      continue;
    }
    for (const v of removed) changes.push({ kind: 'removed', component: kind, name, from: v });
    for (const v of added) changes.push({ kind: 'added', component: kind, name, to: v });
  }
  changes.push(...provenanceChanges(oldInv, newInv));
  const order: ChangeKind[] = ['suspicious', 'provenance', 'downgraded', 'removed', 'added', 'upgraded', 'changed'];
  changes.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const counts = Object.fromEntries(order.map((k) => [k, 0])) as Record<ChangeKind, number>;
  for (const c of changes) counts[c.kind]++;
  return { changes, counts };
}

function digestDifference(o: InventoryRow, n: InventoryRow): string | undefined {
  const diffs: string[] = [];
  for (const [alg, v] of o.hashValues) {
    const w = n.hashValues.get(alg);
    if (w !== undefined && w !== v) diffs.push(`${alg} ${v.slice(0, 12)}… → ${w.slice(0, 12)}…`);
  }
  if (o.folderDigest && n.folderDigest && o.folderDigest !== n.folderDigest) {
    diffs.push(`folder digest ${o.folderDigest.slice(0, 12)}… → ${n.folderDigest.slice(0, 12)}…`);
  }
  return diffs.length ? diffs.join(', ') : undefined;
}

export function compareVersions(a: string, b: string): number {
  const va = semver.valid(a) ?? semver.valid(semver.coerce(a, { loose: true }));
  const vb = semver.valid(b) ?? semver.valid(semver.coerce(b, { loose: true }));
  if (va && vb && semver.compare(va, vb) !== 0) return semver.compare(va, vb);
  return a < b ? -1 : a > b ? 1 : 0;
}
