/**
 * `audit --filter` and the audit table, in-process (the library functions the CLI calls):
 * unknown values are usage errors naming what is allowed, name globs see inside scoped names,
 * and a table for a pipe or a file keeps every name whole.
 */
import { describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { filterRows } from '../src/report/filter.js';
import { inventoryFromBom } from '../src/bom/rows.js';
import { renderAuditTable } from '../src/report/text.js';

const LONG = '@a-very-long-organisation-name/an-even-longer-package-name-for-the-table';
const rep = inventoryFromBom({
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  metadata: { component: { type: 'application', name: 'agent', 'bom-ref': 'agent' } },
  components: [
    { type: 'library', name: 'sdk', group: '@modelcontextprotocol', version: '1.12.1', purl: 'pkg:npm/%40modelcontextprotocol/sdk@1.12.1', 'bom-ref': 'a' },
    { type: 'library', name: 'zod', version: '3.25.0', purl: 'pkg:npm/zod@3.25.0', 'bom-ref': 'b', scope: 'optional' },
    { type: 'library', name: LONG, version: '10.20.30', purl: 'pkg:npm/long@10.20.30', 'bom-ref': 'c' },
  ],
});
const names = (exprs: string[]) => filterRows(rep.rows, exprs).map((r) => r.name);

function usageError(exprs: string[]): string {
  try {
    filterRows(rep.rows, exprs);
  } catch (err) {
    expect(err).toBeInstanceOf(AibomError);
    expect((err as AibomError).code).toBe('USAGE');
    return (err as Error).message;
  }
  throw new Error(`--filter ${exprs.join(' ')} was accepted`);
}

describe('audit --filter', () => {
  it('an unknown kind, scope or key, a value on a flag, or an empty name is an error naming what is allowed', () => {
    expect(usageError(['kind=modle'])).toBe(
      '--filter "kind=modle": unknown kind "modle"; use one of package, model, dataset, plugin, mcp-server, service, application, other',
    );
    expect(usageError(['scope=dev'])).toBe('--filter "scope=dev": unknown scope "dev"; use one of required, optional, excluded');
    expect(usageError(['risky=yes'])).toBe('--filter "risky=yes": risky takes no value');
    expect(usageError(['name='])).toContain('give a name or glob');
    expect(usageError(['bogus'])).toContain('unknown --filter "bogus"');
  });

  it('name globs match inside scoped names; known values filter', () => {
    const sdk = rep.rows.find((r) => r.name.endsWith('sdk'))!.name;
    expect(names(['name=*sdk*'])).toEqual([sdk]);
    expect(names(['name=*SDK'])).toEqual([sdk]);
    expect(names(['name=@modelcontextprotocol/*'])).toEqual([sdk]);
    expect(names(['name=zod'])).toEqual(['zod']);
    expect(names(['scope=optional'])).toEqual(['zod']);
    expect(names(['kind=package', 'name=*long*'])).toEqual([LONG]);
    expect(names(['kind=model'])).toEqual([]);
  });
});

describe('audit table', () => {
  it('on a terminal, fits the width; for a pipe or a file, keeps every name whole', () => {
    const tty = renderAuditTable(rep, rep.rows, { color: false, width: 80 });
    expect(tty).not.toContain(`${LONG}@10.20.30`);
    for (const line of tty.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    const piped = renderAuditTable(rep, rep.rows, { color: false, width: 80, truncate: false });
    expect(piped).toContain(`${LONG}@10.20.30`);
    expect(piped).not.toContain('…');
    const row = piped.split('\n').find((l) => l.includes(LONG))!;
    expect(row.split(/\s+/)).toEqual(['package', `${LONG}@10.20.30`, '-', 'no', 'no', '-']);
  });
});
