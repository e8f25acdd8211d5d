/**
 * PEP 508 requirement strings as pip reads them in requirements files: `name[extras] spec ;
 * marker`, `name[extras] @ url ; marker`, and pip's nameless forms (a URL, a VCS URL with
 * `#egg=name`, a local path). Hand-written: no maintained JavaScript PEP 508 parser exists on
 * npm, and the grammar is small. Linear in the input; no regex can backtrack badly (every
 * pattern is anchored and unambiguous).
 */

export interface SpecClause {
  op: string;
  version: string;
}

export interface ParsedRequirement {
  /** As written; undefined for nameless URL/path requirements without `#egg=`. */
  name?: string;
  extras: string[];
  /** Version clauses (empty: any version). */
  specifiers: SpecClause[];
  /** The specifier text as written, for messages. */
  specText?: string;
  /** Direct URL, VCS URL or local path (for `name @ url` and nameless forms). */
  url?: string;
  marker?: string;
}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const CLAUSE_RE = /^(===|~=|==|!=|<=|>=|<|>)\s*([^\s,;()]+)$/;

/** A whole string that is a valid project name (PEP 508 `identifier`). */
export function isProjectName(s: string): boolean {
  const m = NAME_RE.exec(s);
  return !!m && m[0] === s;
}

export function isUrl(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s) || /^file:/i.test(s);
}

export function isVcsUrl(s: string): boolean {
  return /^(git|hg|svn|bzr)\+/i.test(s);
}

/** pip treats a requirement as a path when it has a separator, starts with '.', or is an archive. */
export function looksLikePath(s: string): boolean {
  return (
    s.startsWith('.') ||
    s.startsWith('/') ||
    s.startsWith('~') ||
    s.includes('/') ||
    s.includes('\\') ||
    /^[A-Za-z]:[\\/]/.test(s) ||
    /\.(whl|tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$/i.test(s)
  );
}

/**
 * `path[extra1,extra2]` → `path`. What `/\[[^\]]*\]$/` removes, without its backtracking
 * (quadratic on a line of thousands of `[`).
 */
function withoutTrailingExtras(s: string): string {
  if (!s.endsWith(']')) return s;
  const open = s.indexOf('[', s.lastIndexOf(']', s.length - 2) + 1);
  return open >= 0 && open < s.length - 1 ? s.slice(0, open) : s;
}

/** Parse one requirement (options already split off). Returns a message string on error. */
export function parseRequirement(input: string): ParsedRequirement | string {
  const s = input.trim();
  if (!s) return 'empty requirement';
  if (isUrl(s) || isVcsUrl(s)) return parseNameless(s);
  // pip: the first token is a path when it has a separator, starts with '.', or is an archive.
  const head = s.split(/[\s;]/, 1)[0] ?? '';
  if (!head.includes('@') && looksLikePath(withoutTrailingExtras(head))) return parseNameless(s);
  const nm = NAME_RE.exec(s);
  if (!nm) return `cannot read a package name in ${quote(s)}`;
  const out: ParsedRequirement = { name: nm[0], extras: [], specifiers: [] };
  let rest = s.slice(nm[0].length).trimStart();
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return `unclosed extras in ${quote(s)}`;
    const extras = rest.slice(1, close).split(',').map((e) => e.trim()).filter(Boolean);
    for (const e of extras) if (!NAME_RE.test(e) || NAME_RE.exec(e)![0] !== e) return `bad extra ${quote(e)}`;
    out.extras = extras;
    rest = rest.slice(close + 1).trimStart();
  }
  if (rest.startsWith('@')) {
    rest = rest.slice(1).trimStart();
    // PEP 508: the URL ends at whitespace; a marker follows after ';'.
    const ws = rest.search(/\s/);
    const url = ws < 0 ? rest : rest.slice(0, ws);
    let after = ws < 0 ? '' : rest.slice(ws).trim();
    if (!url) return `no URL after "@" in ${quote(s)}`;
    out.url = url;
    if (after.startsWith(';')) after = after.slice(1).trim();
    else if (after) return `unexpected ${quote(after)} after the URL`;
    if (after) out.marker = after;
    return out;
  }
  const semi = rest.indexOf(';');
  let spec = semi < 0 ? rest : rest.slice(0, semi);
  if (semi >= 0) {
    const marker = rest.slice(semi + 1).trim();
    if (!marker) return `empty environment marker in ${quote(s)}`;
    out.marker = marker;
  }
  spec = spec.trim();
  if (spec.startsWith('(') && spec.endsWith(')')) spec = spec.slice(1, -1).trim();
  if (spec) {
    out.specText = spec;
    for (const part of spec.split(',')) {
      const c = CLAUSE_RE.exec(part.trim());
      if (!c) return `bad version specifier ${quote(part.trim())}`;
      out.specifiers.push({ op: c[1]!, version: c[2]! });
    }
  }
  return out;
}

function parseNameless(s: string): ParsedRequirement | string {
  const out: ParsedRequirement = { extras: [], specifiers: [] };
  // pip: a URL's marker needs "; " (a URL may contain ';'); a path's may use ';' alone.
  let body = s;
  const sep = isUrl(s) || isVcsUrl(s) ? body.search(/\s;|;\s/) : body.indexOf(';');
  if (sep >= 0) {
    const marker = body.slice(sep).replace(/^\s*;\s*/, '').trim();
    body = body.slice(0, sep).trim();
    if (marker) out.marker = marker;
  }
  // pip allows "path[extra1,extra2]" for local paths.
  const ex = /\[([^\][]*)\]$/.exec(body);
  if (ex && !isUrl(body) && !isVcsUrl(body)) {
    out.extras = ex[1]!.split(',').map((e) => e.trim()).filter(Boolean);
    body = body.slice(0, ex.index);
  }
  out.url = body;
  const egg = eggName(body);
  if (egg) {
    const nm = NAME_RE.exec(egg.name);
    if (nm) out.name = nm[0];
    if (egg.extras.length) out.extras = egg.extras;
  }
  return out;
}

/** `#egg=name[extras]` in a URL fragment (pip's legacy way to name a URL requirement). */
export function eggName(url: string): { name: string; extras: string[] } | undefined {
  const hash = url.indexOf('#');
  if (hash < 0) return undefined;
  for (const kv of url.slice(hash + 1).split('&')) {
    const [k, v] = kv.split('=', 2) as [string, string | undefined];
    if (k === 'egg' && v) {
      const m = /^([^[]+)(?:\[([^\]]*)\])?$/.exec(decodeSafe(v));
      if (!m) return undefined;
      return { name: m[1]!.trim(), extras: (m[2] ?? '').split(',').map((e) => e.trim()).filter(Boolean) };
    }
  }
  return undefined;
}

/** `#sha256=<hex>` (and other algorithms) in a URL fragment. */
export function fragmentHashes(url: string): Array<{ alg: string; hex: string }> {
  const hash = url.indexOf('#');
  if (hash < 0) return [];
  const out: Array<{ alg: string; hex: string }> = [];
  for (const kv of url.slice(hash + 1).split('&')) {
    const m = /^(sha1|sha224|sha256|sha384|sha512|md5)=([0-9a-fA-F]+)$/.exec(kv);
    if (m) out.push({ alg: m[1]!, hex: m[2]! });
  }
  return out;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** An exact pin: `==X` without a wildcard, or `===X`. */
export function exactVersion(specs: SpecClause[]): string | undefined {
  for (const c of specs) {
    if (c.op === '===') return c.version;
    if (c.op === '==' && !c.version.includes('*')) return c.version;
  }
  return undefined;
}

function quote(s: string): string {
  const short = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  return JSON.stringify(short);
}
