/**
 * Scripts a skill ships that download code and run it: `curl … | sh`, `wget -O- … | bash`,
 * `bash <(curl …)`, `sh -c "$(curl …)"`, `iwr … | iex`, `python -c "…urlopen…exec…"`. What they
 * run is whatever the server returns that day: nothing in the BOM pins it.
 */

export interface ScriptRisk {
  line: number;
  /** The matched text (bounded). */
  text: string;
}

const FETCH = String.raw`(?:curl|wget|fetch|iwr|irm|invoke-webrequest|invoke-restmethod)\b`;
const SHELL = String.raw`(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|k|da|fi)?sh\b|python[0-9.]*\b|node\b|perl\b|ruby\b|iex\b|invoke-expression\b|pwsh\b|powershell\b|source\b`;

const PATTERNS: RegExp[] = [
  // curl … | sh  (a pipe from a download into an interpreter, on one line)
  new RegExp(String.raw`\b${FETCH}[^|\n]{0,400}\|\s*(?:${SHELL})`, 'i'),
  // sh <(curl …), source <(wget …), . <(curl …)
  new RegExp(String.raw`(?:\b(?:${SHELL})|(?:^|\s)\.)\s*<\(\s*${FETCH}`, 'i'),
  // sh -c "$(curl …)", eval "$(curl …)", eval `curl …`
  new RegExp(String.raw`(?:\b(?:${SHELL})\s+-c|\beval)\s+["']?(?:\$\(|\x60)\s*${FETCH}`, 'i'),
  // iex (iwr …), Invoke-Expression (New-Object Net.WebClient).DownloadString(…)
  /\b(?:iex|invoke-expression)\b[^\n]{0,200}(?:\b(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b|downloadstring)/i,
  // python/node one-liners that fetch and exec
  /\b(?:exec|eval)\s*\([^\n]{0,200}\b(?:urlopen|requests\.get|urllib|fetch)\s*\(/i,
];

const MAX_LINE = 4096;

export function findDownloadAndRun(text: string): ScriptRisk[] {
  const out: ScriptRisk[] = [];
  const raw = text.split('\n');
  // A command continued over lines (`curl … \` then `| sh`) is one line to the shell.
  for (let i = 0; i < raw.length && out.length < 20; ) {
    const first = i;
    let l = '';
    do {
      const part = raw[i++]!.replace(/\r$/, '');
      l += part.endsWith('\\') ? `${part.slice(0, -1)} ` : part;
      if (!part.endsWith('\\') || l.length > MAX_LINE) break;
    } while (i < raw.length);
    if (l.length > MAX_LINE) l = l.slice(0, MAX_LINE);
    if (/^\s*(?:#|\/\/)/.test(l)) continue;
    for (const re of PATTERNS) {
      const m = re.exec(l);
      if (m) {
        out.push({ line: first + 1, text: m[0].slice(0, 160) });
        break;
      }
    }
  }
  return out;
}
