import type { GateResult } from '../policy/evaluate.js';
import type { InventoryReport, InventoryRow } from '../bom/rows.js';

/** Escape text for a Markdown table cell. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

export function renderAuditMarkdown(rep: InventoryReport, rows: InventoryRow[]): string {
  const s = rep.summary;
  const out: string[] = [];
  out.push(`## AI-BOM inventory: ${mdCell(rep.project.name)}${rep.project.version ? ` ${mdCell(rep.project.version)}` : ''}`, '');
  out.push(
    `${s.total} components (${Object.entries(s.byKind)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}); pinned ${s.pinned}, unpinned ${s.unpinned}; hashed ${s.hashed}; signed ${s.signed}.`,
    '',
  );
  out.push('| kind | name | version | pinned | hashed | signed | provenance | license | risks |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    out.push(
      `| ${r.kind} | ${mdCell(r.name)} | ${mdCell(r.version ?? '')} | ${r.pinned === undefined ? '' : r.pinned ? 'yes' : `no${r.unpinnedReason ? ` (${mdCell(r.unpinnedReason)})` : ''}`} | ${r.hashes.length || r.folderDigest ? 'yes' : 'no'} | ${r.signature ? mdCell(r.signature.signer ?? r.signature.keyFingerprint ?? 'bundle present') : 'no'} | ${mdCell(r.provenance)} | ${mdCell(r.licenses.join(', '))} | ${mdCell(r.risks.map((f) => `${f.severity}: ${f.message}`).join('; '))} |`,
    );
  }
  return `${out.join('\n')}\n`;
}

export function renderGateMarkdown(res: GateResult): string {
  const out: string[] = [];
  out.push(`## aibom gate: ${res.passed ? '✅ passed' : `❌ failed (${res.failures.length})`}`, '');
  out.push(`${res.checked} components checked against \`${mdCell(res.policy)}\`.`, '');
  if (res.failures.length) {
    out.push('| rule | component | problem | fix | where |', '| --- | --- | --- | --- | --- |');
    for (const f of res.failures) {
      const at = f.location ? `${f.location.file}${f.location.line ? `:${f.location.line}` : ''}` : '';
      out.push(`| \`${f.rule}\` | ${mdCell(f.name)} | ${mdCell(f.message)} | ${mdCell(f.fix)} | ${mdCell(at)} |`);
    }
    out.push('');
  }
  if (res.excepted.length) {
    out.push('Excepted by policy:', '');
    for (const e of res.excepted) out.push(`- \`${e.rule}\` ${mdCell(e.name)}: until ${e.exception.expires} — ${mdCell(e.exception.reason)}`);
  }
  return `${out.join('\n')}\n`;
}
