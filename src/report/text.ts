import type { GateResult } from '../policy/evaluate.js';
import type { InventoryReport, InventoryRow } from '../bom/rows.js';

/** ANSI colour only when asked (the CLI decides: a TTY and no NO_COLOR). */
export interface TextOptions {
  color: boolean;
  width?: number;
  /** false: piped or written to a file: nothing is cut to the width (the reader is a program). */
  truncate?: boolean;
}

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
function paint(on: boolean, c: keyof typeof ANSI, s: string): string {
  return on ? `\x1b[${ANSI[c]}m${s}\x1b[0m` : s;
}

function padTo(s: string, n: number): string {
  if (s.length <= n) return s.padEnd(n);
  return `${s.slice(0, Math.max(0, n - 1))}…`;
}

function yesNo(v: boolean | undefined): string {
  return v === true ? 'yes' : v === false ? 'no' : '-';
}

/** The inventory as a table that fits an 80-column terminal. */
export function renderAuditTable(rep: InventoryReport, rows: InventoryRow[], opt: TextOptions): string {
  const width = Math.max(60, Math.min(opt.width ?? 80, 200));
  const s = rep.summary;
  const lines: string[] = [];
  lines.push(paint(opt.color, 'bold', `${rep.project.name}${rep.project.version ? `@${rep.project.version}` : ''} — CycloneDX ${rep.specVersion}`));
  const kinds = Object.entries(s.byKind)
    .map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`)
    .join(', ');
  lines.push(`${s.total} components: ${kinds || 'none'}`);
  lines.push(
    `pinned ${s.pinned}, unpinned ${s.unpinned}; hashed ${s.hashed}, unhashed ${s.unhashed}; signed ${s.signed}; risks ${
      Object.entries(s.risks)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'none'
    }`,
  );
  lines.push('');
  // KIND NAME PINNED HASHED SIGNED RISKS: fixed columns, the name takes the rest.
  const fixed = 10 + 1 + 6 + 1 + 6 + 1 + 6 + 1 + 6;
  const full = opt.truncate === false;
  const nameW = full ? Math.max(4, ...rows.map((r) => (r.version ? `${r.name}@${r.version}` : r.name).length)) : width - fixed - 1;
  const kindW = full ? Math.max(10, ...rows.map((r) => r.kind.length)) : 10;
  lines.push(paint(opt.color, 'dim', `${padTo('KIND', kindW)} ${padTo('NAME', nameW)} ${padTo('PINNED', 6)} ${padTo('HASHED', 6)} ${padTo('SIGNED', 6)} RISKS`));
  for (const r of rows) {
    const pinned = yesNo(r.pinned);
    const hashed = r.hashes.length || r.folderDigest ? 'yes' : 'no';
    const signed = r.signature ? (r.signature.signer || r.signature.keyFingerprint ? 'yes' : 'bundle') : 'no';
    const risks = r.risks.length ? String(r.risks.length) : '-';
    const name = r.version ? `${r.name}@${r.version}` : r.name;
    lines.push(
      [
        padTo(r.kind, kindW),
        padTo(name, nameW),
        paint(opt.color, r.pinned === false ? 'red' : 'green', padTo(pinned, 6)),
        paint(opt.color, hashed === 'no' ? 'red' : 'green', padTo(hashed, 6)),
        paint(opt.color, signed === 'no' ? 'yellow' : 'green', padTo(signed, 6)),
        paint(opt.color, r.risks.length ? 'red' : 'dim', risks),
      ].join(' '),
    );
  }
  const allRisks = rows.flatMap((r) => r.risks.map((f) => ({ r, f })));
  if (allRisks.length || rep.findings.length) {
    lines.push('', paint(opt.color, 'bold', 'Risks and findings:'));
    const fitLine = (line: string) => (full ? line : wrap(line, width));
    for (const { r, f } of allRisks) lines.push(fitLine(`- [${f.severity}] ${r.name}: ${f.message}`));
    for (const f of rep.findings) lines.push(fitLine(`- [${f.severity}] ${f.location?.file ?? ''}${f.location ? ': ' : ''}${f.message}`));
  }
  return `${lines.join('\n')}\n`;
}

function wrap(s: string, width: number): string {
  if (s.length <= width) return s;
  const indent = /^\s*/.exec(s)![0];
  const out: string[] = [];
  let line = indent;
  for (const word of s.slice(indent.length).split(' ')) {
    if (line.trim() && line.length + word.length + 1 > width) {
      out.push(line);
      line = `${indent}  ${word}`;
    } else line = line.trim() ? `${line} ${word}` : `${line}${word}`;
  }
  if (line.trim()) out.push(line);
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
}

/** Gate verdict for a terminal: every failure with component, rule and fix. */
export function renderGateText(res: GateResult, opt: TextOptions): string {
  const width = opt.width ?? 80;
  const lines: string[] = [];
  if (res.passed) {
    lines.push(paint(opt.color, 'green', `aibom gate: PASSED — ${res.checked} components checked against ${res.policy}`));
  } else {
    lines.push(
      paint(
        opt.color,
        'red',
        `aibom gate: FAILED — ${res.failures.length} failure${res.failures.length === 1 ? '' : 's'} (${res.checked} components checked against ${res.policy})`,
      ),
    );
  }
  for (const f of res.failures) {
    const at = f.location ? ` (${f.location.file}${f.location.line ? `:${f.location.line}` : ''})` : '';
    lines.push(wrap(`✗ [${f.rule}] ${f.name}${at}: ${f.message}`, width));
    lines.push(wrap(`    fix: ${f.fix}`, width));
  }
  for (const e of res.excepted) {
    lines.push(wrap(`~ [${e.rule}] ${e.name}: excepted until ${e.exception.expires} — ${e.exception.reason}`, width));
  }
  return `${lines.join('\n')}\n`;
}
