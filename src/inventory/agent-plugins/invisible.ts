/**
 * Invisible Unicode in text an agent reads as instructions (SKILL.md, agent definitions, tool
 * descriptions, manifests): characters a person reviewing the file does not see but a model
 * does. Tag characters (U+E0000–E007F) spell hidden ASCII; bidi controls reorder what is shown
 * (Trojan Source); zero-width characters hide text between visible letters.
 */

export type InvisibleKind = 'tag' | 'bidi' | 'zero-width';

export interface InvisibleHit {
  line: number;
  kind: InvisibleKind;
  /** U+XXXX of the first such character on the line. */
  codePoint: string;
  /** How many such characters on that line. */
  count: number;
  /** For tag characters: the ASCII they spell (bounded), which is what the model reads. */
  hidden?: string;
}

const BIDI = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x180e, 0xfeff]);

export function kindOf(cp: number): InvisibleKind | undefined {
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if (BIDI.has(cp)) return 'bidi';
  if (ZERO_WIDTH.has(cp)) return 'zero-width';
  return undefined;
}

const MAX_HITS = 100;

/** Lines holding invisible characters, one hit per line and kind; a leading BOM is not one. */
export function findInvisible(text: string): InvisibleHit[] {
  const hits: InvisibleHit[] = [];
  let line = 1;
  let current = new Map<InvisibleKind, InvisibleHit>();
  const flush = () => {
    for (const h of current.values()) if (hits.length < MAX_HITS) hits.push(h);
    current = new Map();
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (cp === 10) {
      flush();
      line++;
      if (hits.length >= MAX_HITS) break;
      continue;
    }
    const kind = kindOf(cp);
    if (!kind) continue;
    const h = current.get(kind);
    if (h) {
      h.count++;
      if (kind === 'tag' && h.hidden !== undefined && h.hidden.length < 200) h.hidden += tagChar(cp);
    } else {
      const hit: InvisibleHit = { line, kind, codePoint: `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`, count: 1 };
      if (kind === 'tag') hit.hidden = tagChar(cp);
      current.set(kind, hit);
    }
  }
  flush();
  return hits;
}

function tagChar(cp: number): string {
  const c = cp - 0xe0000;
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '';
}

const LABEL: Record<InvisibleKind, string> = {
  tag: 'Unicode tag characters (hidden text a model reads)',
  bidi: 'bidirectional control characters (text shown in another order than read)',
  'zero-width': 'zero-width characters',
};

export function describeHit(h: InvisibleHit): string {
  const hidden = h.hidden ? `; they spell ${JSON.stringify(h.hidden)}` : '';
  return `${h.count} ${LABEL[h.kind]} starting with ${h.codePoint}${hidden}`;
}
