/**
 * Provenance changes between two BOMs: for a plugin or model in both, the signer the BOM
 * pins (certificate identity without its per-release `@refs/…` suffix, OIDC issuer, or key
 * fingerprint) changed, appeared or disappeared. A new version signed by the same workflow
 * is no change; the same component now signed by another repository, workflow or key is.
 */
import type { Change } from './diff.js';
import type { InventoryReport, InventoryRow } from './inventory.js';

type Signer = { who?: string; issuer?: string };

function signerOf(row: InventoryRow): Signer | undefined {
  const s = row.signature;
  if (!s || (!s.signer && !s.keyFingerprint)) return undefined;
  const out: Signer = {};
  if (s.keyFingerprint) out.who = `key ${s.keyFingerprint}`;
  else if (s.signer) {
    const at = s.signer.lastIndexOf('@refs/');
    out.who = at > 0 ? s.signer.slice(0, at) : s.signer;
  }
  if (s.issuer) out.issuer = s.issuer;
  return out;
}

const describe = (s: Signer | undefined) => (s ? `${s.who ?? '(unknown)'}${s.issuer ? ` (issuer ${s.issuer})` : ''}` : 'no pinned signer');

export function provenanceChanges(oldInv: InventoryReport, newInv: InventoryReport): Change[] {
  const index = (inv: InventoryReport) => {
    const m = new Map<string, InventoryRow>();
    for (const r of inv.rows) if ((r.kind === 'plugin' || r.kind === 'model') && !m.has(`${r.kind}\u0000${r.name}`)) m.set(`${r.kind}\u0000${r.name}`, r);
    return m;
  };
  const a = index(oldInv);
  const b = index(newInv);
  const out: Change[] = [];
  for (const [key, oldRow] of a) {
    const newRow = b.get(key);
    if (!newRow) continue;
    const o = signerOf(oldRow);
    const n = signerOf(newRow);
    if (o?.who === n?.who && o?.issuer === n?.issuer) continue;
    const change: Change = { kind: 'provenance', component: oldRow.kind, name: oldRow.name, detail: `signer ${describe(o)} → ${describe(n)}` };
    if (oldRow.version !== undefined) change.from = oldRow.version;
    if (newRow.version !== undefined) change.to = newRow.version;
    out.push(change);
  }
  return out;
}
