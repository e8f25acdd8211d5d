/**
 * Linear-time string trimming for untrusted input. A regex anchored at the end such as
 * `/ +$/` is retried at every start position and goes quadratic on long runs of the character.
 */
export function trimTrailing(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** PEM blocks of one label (e.g. CERTIFICATE), found with indexOf: linear on hostile input. */
export function pemBlocks(text: string, label: string, max: number): string[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const b = text.indexOf(begin, pos);
    if (b < 0) break;
    const e = text.indexOf(end, b + begin.length);
    if (e < 0) break;
    out.push(text.slice(b, e + end.length));
    if (out.length > max) break;
    pos = e + end.length;
  }
  return out;
}
