import type { LockPackage } from './types.js';

/**
 * Scopes (required / optional / development only) from the dependency graph, computed the
 * same way for every ecosystem. A parser declares what its format says — the roots with the
 * kind of dependency each is (a project's `dependencies`, extras or optionalDependencies,
 * devDependencies or dev groups), the edges and which of them are optional, and the flags
 * the lockfile writes itself — and the kernel walks the graph once.
 *
 * Where the ecosystems really differ, the parser says so in `ScopeRules`:
 * - a package no root reaches is kept required in npm-style lockfiles (pnpm, yarn: a stale
 *   entry, counted and reported), and development only in Python lockfiles (uv, poetry: the
 *   project locks every group, and what its runtime and extras do not reach is a dev tool);
 * - flags the lockfile writes (pnpm's `dev` / `optional`) override the graph.
 * npm's package-lock.json writes `dev` / `optional` on every entry itself (npm computed them
 * from the same graph), and Pipfile.lock and requirements files say it by section or file:
 * those parsers take the lockfile's word and do not walk.
 */

/** 2 required, 1 optional, 0 development only. */
export type Level = 0 | 1 | 2;

export interface ScopeSeed {
  key: string;
  level: Level;
}

/**
 * A package's outgoing edges: calls `visit` for each, with whether the edge is optional
 * (an optional dependency: it lowers a required path to optional). A callback, so the walk
 * allocates nothing per edge on large graphs.
 */
export type ScopeEdges = (key: string, visit: (to: string, optional: boolean) => void) => void;

/**
 * Widest-path levels: a package is required (2) if some path of required edges leads to it
 * from a required root, optional (1) if the best path goes through an optional root or
 * edge, development only (0) if only development roots reach it; absent when no root
 * reaches it. Linear: one bucket queue per level, highest first; iterative (the graph is
 * untrusted, its depth unbounded).
 */
export function scopeLevels(seeds: Iterable<ScopeSeed>, edges: ScopeEdges): Map<string, Level> {
  const level = new Map<string, Level>();
  const buckets: string[][] = [[], [], []];
  const seed = (key: string, l: Level) => {
    const cur = level.get(key);
    if (cur !== undefined && cur >= l) return;
    level.set(key, l);
    buckets[l]!.push(key);
  };
  for (const s of seeds) seed(s.key, s.level);
  for (const l of [2, 1, 0] as const) {
    const queue = buckets[l]!;
    for (let i = 0; i < queue.length; i++) {
      const key = queue[i]!;
      if (level.get(key) !== l) continue;
      edges(key, (to, optional) => seed(to, optional && l > 1 ? 1 : l));
    }
  }
  return level;
}

/** The edges of `LockPackage`s, optional ones named per package; workspace members are not walked through. */
export function packageEdges(packages: Iterable<LockPackage>, optionalEdges: Map<string, Set<string>>): ScopeEdges {
  const byKey = new Map<string, LockPackage>();
  for (const p of packages) byKey.set(p.key, p);
  return (key, visit) => {
    const p = byKey.get(key);
    if (!p || p.workspace) return;
    const optional = optionalEdges.get(key);
    for (const to of p.dependencies) visit(to, optional?.has(to) === true);
  };
}

export interface ScopeRules {
  /** The scope of a package no root reaches (see above). */
  unreached: 'required' | 'dev';
}

/** Flags a lockfile writes on an entry; an absent flag leaves the graph to decide. */
export interface ScopeFlags {
  dev?: boolean | undefined;
  optional?: boolean | undefined;
}

export type Scope = 'required' | 'optional' | 'dev';

/** One package's scope from its level, the ecosystem's rules and the lockfile's own flags. */
export function scopeOf(level: Level | undefined, rules: ScopeRules, flags: ScopeFlags = {}): Scope {
  const dev = flags.dev ?? (level === 0 || (level === undefined && rules.unreached === 'dev'));
  if (dev) return 'dev';
  return flags.optional === true || level === 1 ? 'optional' : 'required';
}

/**
 * Mark `dev` / `optional` on every package but the workspace members (the project itself,
 * always required). Returns how many packages no root reaches.
 */
export function markScopes(
  packages: LockPackage[],
  levels: Map<string, Level>,
  rules: ScopeRules,
  flags?: (pkg: LockPackage) => ScopeFlags,
): number {
  let unreached = 0;
  for (const p of packages) {
    if (p.workspace) continue;
    const l = levels.get(p.key);
    if (l === undefined) unreached++;
    const scope = scopeOf(l, rules, flags?.(p));
    if (scope === 'dev') p.dev = true;
    else if (scope === 'optional') p.optional = true;
  }
  return unreached;
}
