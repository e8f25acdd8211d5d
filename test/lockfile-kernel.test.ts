/**
 * The lockfile kernel every ecosystem parser shares: the scope walk (dev / optional from the
 * graph) and the capped warnings. The parsers' own tests (lockfiles-*.test.ts) check what each
 * format declares; these check the walk and the caps themselves, on graphs no fixture has.
 */
import { describe, expect, it } from 'vitest';
import { markScopes, packageEdges, type ScopeEdges, scopeLevels, scopeOf } from '../src/inventory/lockfiles/scopes.js';
import type { LockPackage } from '../src/inventory/lockfiles/types.js';
import { Warnings } from '../src/inventory/lockfiles/warnings.js';

/** Edges from a table: `a: ['b', '?c']` is a required edge to b and an optional one to c. */
function edges(table: Record<string, string[]>): ScopeEdges {
  return (key, visit) => {
    for (const t of table[key] ?? []) visit(t.replace(/^\?/, ''), t.startsWith('?'));
  };
}

function pkg(key: string, dependencies: string[], workspace = false): LockPackage {
  const p: LockPackage = { key, ecosystem: 'npm', name: key, hashes: [], source: { source: 'registry', pinned: true }, dependencies };
  if (workspace) p.workspace = true;
  return p;
}

describe('scope walk', () => {
  it('takes the widest path: required beats optional beats dev, an optional edge lowers required to optional', () => {
    const levels = scopeLevels(
      [
        { key: 'app', level: 2 },
        { key: 'extra', level: 1 },
        { key: 'lint', level: 0 },
      ],
      edges({ app: ['core', '?fsevents'], extra: ['core', 'plot'], lint: ['core', 'plot', 'ast'], fsevents: ['bindings'] }),
    );
    expect(Object.fromEntries(levels)).toEqual({
      app: 2,
      core: 2,
      fsevents: 1,
      bindings: 1,
      extra: 1,
      plot: 1,
      lint: 0,
      ast: 0,
    });
  });

  it('an optional edge below a dev root stays dev; a later required path upgrades a package already seen', () => {
    const levels = scopeLevels(
      [
        { key: 'tool', level: 0 },
        { key: 'app', level: 2 },
      ],
      edges({ tool: ['?native', 'shared'], app: ['a'], a: ['b'], b: ['shared'] }),
    );
    expect(levels.get('native')).toBe(0);
    expect(levels.get('shared')).toBe(2);
    expect(levels.has('unrelated')).toBe(false);
  });

  it('terminates on cycles and walks a chain deeper than any stack', () => {
    const n = 200_000;
    const table: Record<string, string[]> = { [`p${n - 1}`]: ['p0'] };
    for (let i = 0; i < n - 1; i++) table[`p${i}`] = [`p${i + 1}`];
    const levels = scopeLevels([{ key: 'p0', level: 2 }], edges(table));
    expect(levels.size).toBe(n);
    expect(levels.get(`p${n - 1}`)).toBe(2);
  });

  it('does not walk through a workspace member: its own manifest seeds its dependencies', () => {
    const packages = [pkg('ws', ['lib'], true), pkg('lib', [])];
    const levels = scopeLevels([{ key: 'ws', level: 2 }], packageEdges(packages, new Map()));
    expect(levels.has('lib')).toBe(false);
  });

  it('unreached packages: kept required (npm-style) or dev (Python); flags written in the lockfile win', () => {
    expect(scopeOf(undefined, { unreached: 'required' })).toBe('required');
    expect(scopeOf(undefined, { unreached: 'dev' })).toBe('dev');
    expect(scopeOf(2, { unreached: 'dev' }, { dev: true })).toBe('dev');
    expect(scopeOf(0, { unreached: 'required' }, { dev: false })).toBe('required');
    expect(scopeOf(2, { unreached: 'required' }, { optional: true })).toBe('optional');
    const packages = [pkg('ws', [], true), pkg('a', ['b']), pkg('b', []), pkg('stale', [])];
    const unreached = markScopes(packages, new Map([['a', 1], ['b', 0]] as const), { unreached: 'required' });
    expect(unreached).toBe(1);
    expect(packages.map((p) => [p.key, p.dev ?? false, p.optional ?? false])).toEqual([
      ['ws', false, false],
      ['a', false, true],
      ['b', true, false],
      ['stale', false, false],
    ]);
  });
});

describe('capped warnings', () => {
  it('keeps the first of each kind, counts the rest, and says so in order', () => {
    const w = new Warnings({ cap: 3 });
    for (let i = 0; i < 5; i++) w.add(`general ${i}`);
    for (let i = 0; i < 12; i++) w.missingDep(`missing ${i}`);
    const list = w.done();
    expect(list.filter((m) => m.startsWith('general'))).toEqual(['general 0', 'general 1', 'general 2']);
    expect(list.filter((m) => m.startsWith('missing'))).toHaveLength(10);
    expect(w.missingCount).toBe(12);
    expect(list.slice(-2)).toEqual(['2 more dependencies are not in the lockfile', '2 more warnings like these']);
  });

  it('a kind closed early puts its count where it ends; later warnings follow it', () => {
    const w = new Warnings({ cap: Number.POSITIVE_INFINITY });
    const bad = w.kind(1, (n) => `… and ${n} more bad values`);
    bad.add('bad 1');
    bad.add('bad 2');
    bad.add('bad 3');
    bad.close();
    w.add('after');
    for (let i = 0; i < 100; i++) w.add('uncapped');
    const list = w.done();
    expect(list.slice(0, 3)).toEqual(['bad 1', '… and 2 more bad values', 'after']);
    expect(list).toHaveLength(103);
  });
});
