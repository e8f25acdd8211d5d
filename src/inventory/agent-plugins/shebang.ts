/**
 * What a bundled MCP server really runs when its command is the plugin's own file
 * (`"command": "./bin/server"`): the kernel reads the file's `#!` line and runs that
 * interpreter, with that line's options, before a byte of the pinned file matters. So the `#!`
 * line is judged as an mcp.json command would be: a known script interpreter, by name (through
 * `env`, or at a system path), with nothing else on the line. `#!/usr/bin/env -S npx -y pkg`,
 * `#!/usr/bin/env -S node --import=URL` or `#!/tmp/interp` run code the plugin does not pin.
 * A file without a `#!` line (a binary, or a script a shell would run) is what it is: pinned.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * Interpreters that run their first argument as the script, when nothing comes before it.
 * Any option before the script may load other code (`node --import URL`, `python -m mod`,
 * `sh -c "…"`, `ruby -r lib`, `perl -M…`), so none is accepted.
 */
export const SCRIPT_INTERPRETERS: ReadonlySet<string> = new Set([
  'node', 'nodejs', 'bun', 'python', 'python2', 'python3', 'pypy', 'pypy3', 'ruby', 'perl', 'php', 'lua',
  'sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh',
]);

export function isScriptInterpreter(name: string): boolean {
  const n = name.toLowerCase().replace(/\.exe$/, '');
  return SCRIPT_INTERPRETERS.has(n) || /^python3\.[0-9]{1,2}$/.test(n);
}

/** Folders an interpreter named by absolute path may live in (not a writable temp folder). */
const SYSTEM_BIN = new Set(['/bin', '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin']);
const MAX_LINE = 512;

/** Why the `#!` line of a file makes it run more than itself (undefined: nothing but a plain interpreter, or no `#!` line). */
export function shebangReason(head: Buffer): string | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const end = head.indexOf(0x0a);
  if (end < 0 && head.length >= MAX_LINE) return `its #! line is over ${MAX_LINE} bytes`;
  const line = head.subarray(2, end < 0 ? head.length : end).toString('utf8').replace(/\r$/, '').trim();
  const shown = JSON.stringify(`#!${line}`.slice(0, 200));
  const words = line.split(/[ \t]+/).filter(Boolean);
  const first = words[0] ?? '';
  if (!first.startsWith('/') || !SYSTEM_BIN.has(posix.dirname(first))) return `its #! line ${shown} runs a program outside the system folders`;
  let rest = words.slice(1);
  let interpreter = posix.basename(first);
  if (interpreter === 'env') {
    if (rest[0] === '-S') rest = rest.slice(1);
    interpreter = rest[0] ?? '';
    rest = rest.slice(1);
    if (interpreter.startsWith('-') || interpreter.includes('=') || interpreter.includes('/')) return `its #! line ${shown} gives env options or variables`;
  }
  if (!isScriptInterpreter(interpreter)) return `its #! line ${shown} runs ${JSON.stringify(interpreter)}, not a script interpreter`;
  if (rest.length) return `its #! line ${shown} passes options to ${interpreter} before the script (they may load other code)`;
  return undefined;
}

/** Read a file's head and judge its `#!` line. An unreadable file pins nothing. */
export async function entryFileReason(abs: string): Promise<string | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(abs, 'r');
    const buf = Buffer.alloc(MAX_LINE);
    const { bytesRead } = await fh.read(buf, 0, MAX_LINE, 0);
    return shebangReason(buf.subarray(0, bytesRead));
  } catch (err) {
    return `it cannot be read: ${(err as Error).message}`;
  } finally {
    await fh?.close();
  }
}
