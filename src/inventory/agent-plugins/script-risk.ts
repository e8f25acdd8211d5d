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
/** An interpreter, by name or by path (`/bin/sh`, `/usr/bin/env bash`), optionally under sudo. */
const SHELL = String.raw`(?:sudo\s+(?:-\S+\s+){0,8})?(?:[\w.-]{0,40}\/){0,8}(?:env\s+(?:-\S+\s+){0,4})?(?:(?:ba|z|k|da|fi|a|mk)?sh\b|python[0-9.]*\b|node\b|bun\b|deno\b|perl\b|ruby\b|php\b|iex\b|invoke-expression\b|pwsh\b|powershell\b|source\b)`;

/** What a pipe feeds an interpreter through: quoted, `$SHELL`, `command sh`, `busybox sh`, `xargs … sh -c`. */
const PIPE_INTO = String.raw`\|\s*(?:command\s+|busybox\s+|xargs\b[^|\n]{0,100}?\s)?["']?(?:${SHELL}|\$\{?SHELL\}?)`;

const PATTERNS: RegExp[] = [
  // curl … | sh, curl … | tee f | /bin/sh, curl … | "bash", curl … | $SHELL  (a download piped into an interpreter)
  new RegExp(String.raw`\b${FETCH}[^\n]{0,400}?${PIPE_INTO}`, 'i'),
  // bash <<< "$(curl …)"
  new RegExp(String.raw`\b(?:${SHELL})\s*<<<\s*["']?(?:\$\(|\x60)\s*${FETCH}`, 'i'),
  // base64 -d … | sh: code hidden in the script, decoded and run
  new RegExp(String.raw`\bbase64\s+(?:-\w*d\w*|--decode)\b[^\n]{0,400}?${PIPE_INTO}`, 'i'),
  // fetch(…).then(eval), .then((r) => r.text()).then(eval)
  /\.then\(\s*(?:eval|Function)\s*\)/,
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
const MAX_FILES = 20;

/** A download saved to a file: `curl -o f` (`-fsSLo f`, `--output f`), `wget -O f`, `… > f`. */
const SAVE_AS = [
  /\bcurl\b[^\n]{0,400}?(?:\s-[a-zA-Z]{0,10}o\s*|\s--output(?:=|\s+)|\s>{1,2}\s*)(["']?)([^\s"'|;&<>()]{1,200})\1/,
  /\bwget\b[^\n]{0,400}?(?:\s-[a-zA-Z]{0,10}O\s*|\s--output-document(?:=|\s+)|\s>{1,2}\s*)(["']?)([^\s"'|;&<>()]{1,200})\1/,
  // `curl -O URL`, `wget URL`: saved under the URL's last path segment.
  /\b(?:curl\b[^\n]{0,400}?\s(?:-[a-zA-Z]{0,10}O|--remote-name)|wget(?:\s+-[a-zA-Z-]{1,20}){0,6})\s+()["']?https?:\/\/[^\s"'/]{1,253}(?:\/[^\s"'/?#]{0,200}){0,20}\/([^\s"'/?#]{1,200})/,
];

/** Code fetched in a script and run on another line: Python urlopen/requests then exec/eval; Node fetch then eval/Function/import of data:. */
const PY_FETCH = /\b(?:urlopen|urlretrieve|requests\.(?:get|post|request)|httpx\.(?:get|post)|urllib3?\b|http\.client)/;
const PY_RUN = /(?:^|[^\w.])(?:exec|eval|compile)\s*\(|\b(?:runpy|importlib\.util\.spec_from_loader)/;
const JS_FETCH = /\b(?:fetch|https?\.get|https?\.request|axios(?:\.get)?|got|undici\.request)\s*\(/;
const JS_RUN = /(?:^|[^\w.$])(?:eval|Function)\s*\(|\bnew\s+Function\b|\bimport\s*\(\s*[`"'](?:data|blob|https?):|\bimport\s*\([^)\n]{0,200}\bdata:|\bvm\.(?:runIn\w{0,20}|Script|compileFunction|SourceTextModule)\b/;
const PS_FETCH = /\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|downloadfile)\b/i;
const PS_RUN = /\b(?:iex|invoke-expression)\b/i;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Logical lines: a line ending in `\`, `|`, `||` or `&&` continues on the next one, as the shell reads it. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const raw = text.split('\n');
  const out: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < raw.length; ) {
    const first = i;
    let l = '';
    do {
      const part = raw[i++]!.replace(/\r$/, '');
      const t = part.trimEnd();
      if (t.endsWith('\\')) l += `${t.slice(0, -1)} `;
      else if (/(?:\|\|?|&&)$/.test(t) && !/^\s*(?:#|\/\/)/.test(t)) l += `${t} `;
      else {
        l += part;
        break;
      }
      if (l.length > MAX_LINE) break;
    } while (i < raw.length);
    out.push({ line: first + 1, text: l.length > MAX_LINE ? l.slice(0, MAX_LINE) : l });
  }
  return out;
}

/** A matcher for a line that runs `file` (as a command, through an interpreter, sourced, or made executable). */
function runsFile(file: string): RegExp {
  const path = String.raw`(?:\.\/)?${escapeRe(file.replace(/^\.\//, ''))}(?![\w./-])`;
  return new RegExp(
    String.raw`(?:(?:^|[;&|(]|\bthen\b|\bdo\b|\bexec\b)\s*(?:\.\s+)?${path}|(?:${SHELL})\s+(?:-\S+\s+){0,4}${path}|\bchmod\s+\S{1,20}\s+${path})`,
    'i',
  );
}

export function findDownloadAndRun(text: string): ScriptRisk[] {
  const out: ScriptRisk[] = [];
  const lines = logicalLines(text).filter((l) => !/^\s*(?:#|\/\/)/.test(l.text));
  const saved: Array<{ file: string; run: RegExp }> = [];
  for (const { line, text: l } of lines) {
    if (out.length >= 20) break;
    let hit = false;
    for (const re of PATTERNS) {
      const m = re.exec(l);
      if (m) {
        out.push({ line, text: m[0].slice(0, 160) });
        hit = true;
        break;
      }
    }
    if (hit) continue;
    // A file downloaded earlier and run here.
    for (const { file, run } of saved) {
      const r = l.includes(file.replace(/^\.\//, '')) ? run.exec(l)?.[0] : undefined;
      if (r) {
        out.push({ line, text: `downloads ${file.slice(0, 60)} and runs it: ${r.slice(0, 100)}` });
        hit = true;
        break;
      }
    }
    if (hit || saved.length >= MAX_FILES) continue;
    const m = SAVE_AS.map((re) => re.exec(l)).find((x) => x !== null);
    const file = m?.[2];
    if (!m || !file || file === '-' || file.startsWith('/dev/')) continue;
    const run = runsFile(file);
    saved.push({ file, run });
    // `curl -o f URL && sh f` on one line.
    const r = run.exec(l.slice(m.index + m[0].length))?.[0];
    if (r) out.push({ line, text: `downloads ${file.slice(0, 60)} and runs it: ${r.slice(0, 100)}` });
  }
  // Fetch on one line, run on another (Python, Node, PowerShell): judged over the whole script.
  if (!out.length) {
    const code = lines.map((l) => l.text);
    const pairs: Array<[RegExp, RegExp]> = [
      // S=$(curl …) then eval "$S" on a later line
      [new RegExp(String.raw`=\s*["']?(?:\$\(|\x60)\s*${FETCH}`, 'i'), /(?:^|[;&|\s])eval\s+["']?\$/],
      [PY_FETCH, PY_RUN],
      [JS_FETCH, JS_RUN],
      [PS_FETCH, PS_RUN],
    ];
    for (const [fetchRe, runRe] of pairs) {
      if (!code.some((l) => fetchRe.test(l))) continue;
      const i = code.findIndex((l) => runRe.test(l));
      if (i >= 0) {
        out.push({ line: lines[i]!.line, text: code[i]!.trim().slice(0, 160) });
        break;
      }
    }
  }
  return out;
}
