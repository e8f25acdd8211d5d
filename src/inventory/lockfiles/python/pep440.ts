/**
 * Just enough PEP 440 to pick, among several locked versions of one package, the ones a
 * dependency constraint allows (poetry.lock can lock `flake8` 5.0.4 and 6.1.0 for different
 * Pythons; each dependent wants one). Hand-written because no maintained npm package
 * implements PEP 440 (`semver` orders pre-releases and post-releases differently). Anything it
 * cannot read counts as "allowed": the caller then links to every candidate, never to none.
 */

interface Parsed {
  epoch: number;
  release: number[];
  /** Pre-release: [rank, n] with a < b < rc; absent = final. */
  pre?: [number, number];
  post?: number;
  dev?: number;
}

const VERSION_RE =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(\d*)))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?$/i;

const PRE_RANK: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

export function parseVersion(v: string): Parsed | undefined {
  if (v.length > 128) return undefined;
  const m = VERSION_RE.exec(v.trim());
  if (!m) return undefined;
  const p: Parsed = { epoch: m[1] ? Number(m[1]) : 0, release: m[2]!.split('.').map(Number) };
  if (m[3]) p.pre = [PRE_RANK[m[3].toLowerCase()]!, Number(m[4] || 0)];
  if (m[5] !== undefined) p.post = Number(m[5]);
  else if (m[6] !== undefined) p.post = Number(m[6] || 0);
  if (m[7] !== undefined) p.dev = Number(m[7] || 0);
  return p;
}

function cmpRelease(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Order two parsed PEP 440 versions (epoch, release, dev-only < pre < final < post, dev last).
 * The ordering of version strings per ecosystem, PyPI included, is report/diff.ts's
 * compareVersions, which calls this one for PyPI: one version order, not two.
 */
export function comparePep440(x: Parsed, y: Parsed): number {
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const r = cmpRelease(x.release, y.release);
  if (r) return r;
  // dev-only release < pre < final < post
  const phase = (p: Parsed) => (p.pre ? 1 : p.dev !== undefined && p.post === undefined ? 0 : 2);
  const px = phase(x);
  const py = phase(y);
  if (px !== py) return px < py ? -1 : 1;
  if (x.pre && y.pre) {
    if (x.pre[0] !== y.pre[0]) return x.pre[0] < y.pre[0] ? -1 : 1;
    if (x.pre[1] !== y.pre[1]) return x.pre[1] < y.pre[1] ? -1 : 1;
  }
  const postX = x.post ?? -1;
  const postY = y.post ?? -1;
  if (postX !== postY) return postX < postY ? -1 : 1;
  const devX = x.dev ?? Number.POSITIVE_INFINITY;
  const devY = y.dev ?? Number.POSITIVE_INFINITY;
  return devX === devY ? 0 : devX < devY ? -1 : 1;
}

/**
 * Does `version` satisfy a Poetry/PEP 440 constraint (`>=2.9,<2.10`, `^1.2`, `~1.2`, `1.2.*`,
 * `==1.0`, `1.0`, `*`, alternatives joined by `||`)? Unreadable → true.
 */
export function satisfies(version: string, constraint: string): boolean {
  const v = parseVersion(version);
  if (!v) return true;
  const alternatives = constraint.split('||');
  return alternatives.some((alt) => alt.split(',').every((clause) => clauseHolds(v, version, clause.trim())));
}

function clauseHolds(v: Parsed, raw: string, clause: string): boolean {
  if (!clause || clause === '*') return true;
  const m = /^(\^|~=|~|===|==|!=|<=|>=|<|>)?\s*([\s\S]+)$/.exec(clause);
  if (!m) return true;
  const op = m[1] ?? '==';
  const target = m[2]!.trim();
  if (op === '===') return raw === target;
  if (target.endsWith('.*')) {
    const prefix = parseVersion(target.slice(0, -2));
    if (!prefix) return true;
    const same = cmpRelease(v.release.slice(0, prefix.release.length), prefix.release) === 0 && v.epoch === prefix.epoch;
    return op === '!=' ? !same : same;
  }
  const t = parseVersion(target);
  if (!t) return true;
  const c = comparePep440(v, t);
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '^': {
      // Poetry caret: up to the next change of the first non-zero release part.
      const idx = t.release.findIndex((x) => x !== 0);
      const keep = idx < 0 ? t.release.length : idx + 1;
      const upper = t.release.slice(0, keep);
      upper[keep - 1] = (upper[keep - 1] ?? 0) + 1;
      return c >= 0 && cmpRelease(v.release, upper) < 0;
    }
    case '~': {
      // Poetry tilde: ~1.2.3 → <1.3; ~1.2 → <1.3; ~1 → <2.
      const keep = t.release.length >= 2 ? 2 : 1;
      const upper = t.release.slice(0, keep);
      upper[keep - 1] = (upper[keep - 1] ?? 0) + 1;
      return c >= 0 && cmpRelease(v.release, upper) < 0;
    }
    case '~=': {
      // PEP 440 compatible release: ~=1.4.5 → >=1.4.5, ==1.4.*
      if (t.release.length < 2) return true;
      const prefix = t.release.slice(0, -1);
      return c >= 0 && cmpRelease(v.release.slice(0, prefix.length), prefix) === 0;
    }
    default:
      return true;
  }
}
