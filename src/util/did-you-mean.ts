/** "did you mean" for a misspelled or misremembered name: a known alias, else the closest name. */

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The suggestion, or undefined: aliases first, then a name at most 2 edits away (case ignored). */
export function didYouMean(word: string, known: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  if (word.length > 200) return undefined;
  const alias = aliases[word];
  if (alias !== undefined) return alias;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or ''. */
export function suggestion(word: string, known: readonly string[], aliases: Readonly<Record<string, string>> = {}): string {
  const s = didYouMean(word, known, aliases);
  return s === undefined ? '' : ` (did you mean "${s}"?)`;
}
