/** A finding as a BOM property: written by build.ts, read back by rows.ts (without the CycloneDX library). */
import type { Finding } from '../inventory/types.js';

/** Property that carries a finding: `<severity> <code>: <message> [at <file>:<line>]`. */
export const FINDING_PROPERTY = 'aibom:finding';

export function formatFinding(f: Finding): string {
  const at = f.location ? ` [at ${f.location.file}${f.location.line !== undefined ? `:${f.location.line}` : ''}]` : '';
  return `${f.severity} ${f.code}: ${f.message}${at}`;
}

/**
 * Inverse of formatFinding. Read from BOM files, which are hostile input: split by hand, as
 * the one regex this replaces backtracked quadratically on a long value (2 s at 200 KB).
 */
export function parseFinding(value: string): Finding | undefined {
  const head = /^(info|low|medium|high|critical) ([\w:.-]+): /.exec(value);
  if (!head) return undefined;
  let message = value.slice(head[0].length);
  let location: Finding['location'];
  // The location is the last " [at FILE[:LINE]]", when the value ends with it.
  const at = message.lastIndexOf(' [at ');
  if (at >= 0 && message.endsWith(']') && message.length - at > ' [at ]'.length) {
    const loc = message.slice(at + ' [at '.length, -1);
    const line = /:(\d+)$/.exec(loc);
    location = line && line.index > 0 ? { file: loc.slice(0, line.index), line: Number(line[1]) } : { file: loc };
    message = message.slice(0, at);
  }
  const f: Finding = { severity: head[1] as Finding['severity'], code: head[2]!, message };
  if (location) f.location = location;
  return f;
}
