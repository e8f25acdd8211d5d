import picomatch from 'picomatch';
import { AibomError } from '../errors.js';
import type { InventoryRow, RowKind } from '../bom/rows.js';

const KINDS: readonly RowKind[] = ['package', 'model', 'dataset', 'plugin', 'mcp-server', 'service', 'application', 'other'];
/** CycloneDX component scopes (a component without one is required). */
const SCOPES = ['required', 'optional', 'excluded'] as const;
const FLAGS = ['pinned', 'unpinned', 'signed', 'unsigned', 'unhashed', 'risky'] as const;

/**
 * `--filter` expressions, all of which must hold: `kind=<kind>`, `name=<glob>`, `unpinned`,
 * `pinned`, `unsigned`, `signed`, `unhashed`, `risky`, `scope=<scope>`.
 */
export function filterRows(rows: InventoryRow[], exprs: string[]): InventoryRow[] {
  const preds = exprs.map(compile);
  return rows.filter((r) => preds.every((p) => p(r)));
}

function usage(message: string): AibomError {
  return new AibomError('USAGE', message);
}

function compile(expr: string): (r: InventoryRow) => boolean {
  const hasValue = expr.includes('=');
  const [key, value] = hasValue ? [expr.slice(0, expr.indexOf('=')), expr.slice(expr.indexOf('=') + 1)] : [expr, ''];
  if ((FLAGS as readonly string[]).includes(key) && hasValue) throw usage(`--filter "${expr}": ${key} takes no value`);
  switch (key) {
    case 'kind':
      if (!(KINDS as readonly string[]).includes(value)) throw usage(`--filter "${expr}": unknown kind "${value}"; use one of ${KINDS.join(', ')}`);
      return (r) => r.kind === value;
    case 'name': {
      if (!value) throw usage(`--filter "${expr}": give a name or glob, e.g. name='*sdk*'`);
      // bash-style: `*` also crosses "/", so `*sdk*` matches @modelcontextprotocol/sdk.
      const m = picomatch(value, { dot: true, nocase: true, bash: true });
      return (r) => m(r.name);
    }
    case 'scope':
      if (!(SCOPES as readonly string[]).includes(value)) throw usage(`--filter "${expr}": unknown scope "${value}"; use one of ${SCOPES.join(', ')}`);
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
