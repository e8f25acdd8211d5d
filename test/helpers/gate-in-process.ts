/**
 * `aibom gate [--root DIR] [--bom FILE] [--policy FILE] [--json]` in the test process, for tests of
 * what the gate decides (rules, components, fixes, exceptions): the same library calls as
 * cli/commands/gate.ts (runGate; the exit code from `passed`; stdout as the CLI prints it, the
 * result as JSON or the text report a pipe gets), without starting a process per case.
 * Usage errors, hostile policy files (exit 2 and the message), the other formats, signatures and
 * release artifacts stay tested through the CLI as a process (runCli).
 *
 * An error the CLI would report with exit 2 is thrown: it fails the calling test, as an
 * unexpected exit code did.
 */
import { runGate } from '../../src/gate/gate.js';
import { renderGateText } from '../../src/report/text.js';

/** The flags these tests use; any other is refused so a test cannot silently lose one. */
const VALUE_FLAGS = new Set(['--root', '--bom', '--policy']);

export async function gateInProcess(args: string[]): Promise<{ code: number; stdout: string }> {
  const opts: { root?: string; bom?: string; policy?: string } = {};
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_FLAGS.has(a) && args[i + 1] !== undefined) opts[a.slice(2) as 'root' | 'bom' | 'policy'] = args[++i]!;
    else if (a === '--json') json = true;
    else throw new Error(`gate-in-process: argument ${a} is not supported here; run the CLI (runCli) for it`);
  }
  const res = await runGate({ ...opts, root: opts.root ?? '.' });
  const stdout = json ? `${JSON.stringify(res, null, 2)}\n` : renderGateText(res, { color: false, width: 80 });
  return { code: res.passed ? 0 : 1, stdout };
}
