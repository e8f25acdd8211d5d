/**
 * Invisible Unicode in text an agent reads as instructions (SKILL.md, agent definitions, tool
 * descriptions, manifests): characters a person reviewing the file does not see but a model
 * does. Tag characters (U+E0000–E007F) spell hidden ASCII; bidi controls reorder what is shown
 * (Trojan Source); zero-width characters hide text between visible letters; variation selectors
 * (U+FE00–FE0F, U+E0100–E01EF) carry a byte each after any character; the other
 * Default_Ignorable_Code_Point characters of Unicode (soft hyphen, Hangul fillers, combining
 * grapheme joiner, Mongolian selectors, invisible operators, noncharacter-like format
 * controls...) are not shown either. The reference is Unicode's DerivedCoreProperties.txt
 * Default_Ignorable_Code_Point. One allowance: a single U+FE0E/U+FE0F right after a visible
 * character (text/emoji presentation, as in "⚠️") is ordinary text.
 */

export type InvisibleKind = 'tag' | 'bidi' | 'zero-width' | 'variation-selector' | 'ignorable';

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

/** Default_Ignorable_Code_Point ranges (Unicode 16 DerivedCoreProperties.txt), inclusive. */
const IGNORABLE: ReadonlyArray<readonly [number, number]> = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfff8],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0000, 0xe0fff],
];

export function isDefaultIgnorable(cp: number): boolean {
  for (const [lo, hi] of IGNORABLE) if (cp >= lo && cp <= hi) return true;
  return false;
}

export function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x180b && cp <= 0x180d) || cp === 0x180f;
}

export function kindOf(cp: number): InvisibleKind | undefined {
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if (BIDI.has(cp)) return 'bidi';
  if (ZERO_WIDTH.has(cp)) return 'zero-width';
  if (isVariationSelector(cp)) return 'variation-selector';
  if (isDefaultIgnorable(cp)) return 'ignorable';
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
  // The previous code point was visible (not an invisible one, not a line break).
  let afterVisible = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (cp === 10) {
      flush();
      line++;
      afterVisible = false;
      if (hits.length >= MAX_HITS) break;
      continue;
    }
    const kind = kindOf(cp);
    const presentation = (cp === 0xfe0e || cp === 0xfe0f) && afterVisible;
    afterVisible = !kind && cp !== 13 && cp !== 9 && cp !== 32;
    if (!kind || presentation) continue;
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
  'variation-selector': 'variation selectors (each can carry a hidden byte)',
  ignorable: 'invisible (default-ignorable) characters',
};

export function describeHit(h: InvisibleHit): string {
  const hidden = h.hidden ? `; they spell ${JSON.stringify(h.hidden)}` : '';
  return `${h.count} ${LABEL[h.kind]} starting with ${h.codePoint}${hidden}`;
}
