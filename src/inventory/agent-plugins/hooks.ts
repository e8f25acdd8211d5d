import { isObject } from '../../util/json.js';
import { analyzeCommand } from '../mcp/launch.js';
import { redactArgs, sanitizeToken, splitCommandLine } from '../mcp/redact.js';
import { findDownloadAndRun } from './script-risk.js';

/**
 * Hooks: shell commands an agent runs at its events (before a tool call, at session start …).
 * Read from the shapes clients write:
 * - Claude Code (`.claude/settings*.json`, a plugin's `hooks/hooks.json`) and Gemini CLI
 *   (`.gemini/settings.json`): `hooks.<Event>[].hooks[] = { type: "command", command }`;
 * - Cursor (`.cursor/hooks.json`): `hooks.<event>[] = { command }`;
 * - GitHub Copilot (`.github/hooks/*.json`): `hooks.<event>[] = { type: "command", bash, powershell }`.
 * Each command is recorded redacted, with what it runs and whether that is pinned: a script
 * inside the scanned folder (hashed in the BOM), a package launched at an exact version, or
 * neither (a program from PATH, a download).
 */

export interface HookCommand {
  event: string;
  /** The command as the BOM records it (secrets redacted). */
  command: string;
  /** Which field held it: command, bash or powershell. */
  field: string;
  /** Path of a script it runs, relative to the hook's base (`${CLAUDE_PLUGIN_ROOT}/x` → `x`), when it names one. */
  script?: string;
  /** Set when the hook runs a package through a launcher (npx, uvx …). */
  launch?: ReturnType<typeof analyzeCommand>;
  downloadsAndRuns: boolean;
}

const MAX_HOOKS = 500;
const COMMAND_FIELDS = ['command', 'bash', 'powershell'];

/** Every hook command in a parsed settings / hooks file. */
export function hookCommands(doc: unknown): HookCommand[] {
  const out: HookCommand[] = [];
  if (!isObject(doc)) return out;
  // A plugin's hooks/hooks.json may also hold the events at the top level.
  const hooks = isObject(doc.hooks) ? doc.hooks : undefined;
  if (!hooks) return out;
  for (const [event, list] of Object.entries(hooks)) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!isObject(item)) continue;
      const inner = Array.isArray(item.hooks) ? item.hooks : [item];
      for (const h of inner) {
        if (!isObject(h) || out.length >= MAX_HOOKS) continue;
        for (const field of COMMAND_FIELDS) {
          const c = h[field];
          if (typeof c === 'string' && c.trim()) out.push(describeHook(event.slice(0, 80), field, c.trim()));
        }
      }
    }
  }
  return out;
}

const SCRIPT_BASES = /^(?:\$\{?(?:CLAUDE_PLUGIN_ROOT|CLAUDE_PROJECT_DIR|PLUGIN_ROOT|GEMINI_PROJECT_DIR|CURSOR_PROJECT_DIR)\}?\/)/;
const INTERPRETERS = new Set(['sh', 'bash', 'zsh', 'node', 'python', 'python3', 'deno', 'bun', 'pwsh', 'powershell', 'ruby', 'perl']);

export function describeHook(event: string, field: string, raw: string): HookCommand {
  const words = splitCommandLine(raw.slice(0, 8192));
  const red = redactArgs(words);
  const command = red.args.map((w) => sanitizeToken(w)).join(' ');
  const h: HookCommand = { event, field, command, downloadsAndRuns: findDownloadAndRun(raw).length > 0 };
  const unq = red.args.map((w) => w.replace(/^["']|["']$/g, ''));
  let first = unq[0] ?? '';
  let rest = unq.slice(1);
  const base = first.split(/[\\/]/).pop() ?? first;
  if (INTERPRETERS.has(base) && rest[0] && !rest[0].startsWith('-')) {
    first = rest[0];
    rest = rest.slice(1);
  }
  const script = scriptPath(first);
  if (script !== undefined) h.script = script;
  else if (unq[0]) {
    const info = analyzeCommand(unq[0], unq.slice(1));
    if (info.launcher !== 'binary') h.launch = info;
  }
  return h;
}

/** A script path relative to the hook's base folder, when the word names one. */
function scriptPath(word: string): string | undefined {
  let p = word;
  if (SCRIPT_BASES.test(p)) p = p.replace(SCRIPT_BASES, '');
  else if (p.startsWith('./')) p = p.slice(2);
  else if (!/^[\w.-]+\/[\w./-]+$/.test(p) || p.startsWith('/')) return undefined;
  if (!p || p.split('/').includes('..')) return undefined;
  return p;
}
