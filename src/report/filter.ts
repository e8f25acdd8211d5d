import picomatch from 'picomatch';
import { AibomError } from '../errors.js';
import type { InventoryRow } from './inventory.js';

/**
 * `--filter` expressions, all of which must hold: `kind=<kind>`, `name=<glob>`, `unpinned`,
 * `pinned`, `unsigned`, `signed`, `unhashed`, `risky`, `scope=<scope>`.
 */
export function filterRows(rows: InventoryRow[], exprs: string[]): InventoryRow[] {
  const preds = exprs.map(compile);
  return rows.filter((r) => preds.every((p) => p(r)));
}

function compile(expr: string): (r: InventoryRow) => boolean {
  const [key, value] = expr.includes('=') ? [expr.slice(0, expr.indexOf('=')), expr.slice(expr.indexOf('=') + 1)] : [expr, ''];
  switch (key) {
    case 'kind':
      return (r) => r.kind === value;
    case 'name': {
      const m = picomatch(value || '*', { dot: true, nocase: true });
      return (r) => m(r.name);
    }
    case 'scope':
      return (r) => (r.scope ?? 'required') === value;
    case 'unpinned':
      return (r) => r.pinned === false;
    case 'pinned':
      return (r) => r.pinned === true;
    case 'unsigned':
      return (r) => !r.signature;
    case 'signed':
      return (r) => !!r.signature;
    case 'unhashed':
      return (r) => r.hashes.length === 0 && !r.folderDigest;
    case 'risky':
      return (r) => r.risks.length > 0;
    default:
      throw new AibomError(
        'USAGE',
        `unknown --filter "${expr}"; use kind=KIND, name=GLOB, scope=SCOPE, pinned, unpinned, signed, unsigned, unhashed or risky`,
      );
  }
}
