/**
 * `aibom verify TARGET [--bundle FILE] [--key PEM] [--json]` in the test process, for tests of
 * what verification decides and why: the same library calls as cli/commands/verify.ts
 * (VerifySession.verify; the exit code from `verified` and the VSA verdict; stdout as the CLI
 * prints it, the result as JSON or the verdict line), without starting a process per case.
 * Exit codes, usage errors and messages of the command itself stay tested through the CLI as a
 * process (runCli).
 *
 * An error the CLI would report with exit 2 is thrown: it fails the calling test, as an
 * unexpected exit code did.
 */
import { verdictLine } from '../../src/verification/result.js';
import { VerifySession } from '../../src/verification/run.js';
import { vsaLine, vsaPassed } from '../../src/verification/vsa-result.js';

export interface InProcessResult {
  code: number;
  stdout: string;
}

/** The flags these tests use; any other is refused so a test cannot silently lose one. */
function parse(args: string[]): { target: string; bundle?: string; key?: string; json: boolean } {
  let target: string | undefined;
  let bundle: string | undefined;
  let key: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '--bundle' || a === '--key') && args[i + 1] !== undefined) {
      if (a === '--bundle') bundle = args[++i];
      else key = args[++i];
    } else if (a === '--json') json = true;
    else if (!a.startsWith('-') && target === undefined) target = a;
    else throw new Error(`verify-in-process: argument ${a} is not supported here; run the CLI (runCli) for it`);
  }
  if (target === undefined) throw new Error('verify-in-process: no target');
  return { target, ...(bundle !== undefined ? { bundle } : {}), ...(key !== undefined ? { key } : {}), json };
}

/** `env` as runCli takes it: merged over process.env, an undefined value removes the variable. */
export async function verifyInProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<InProcessResult> {
  const { target, bundle, key, json } = parse(args);
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const session = new VerifySession(merged);
  const result = await session.verify({
    target,
    ignoreGitPaths: true,
    ...(bundle !== undefined ? { bundle } : {}),
    ...(key !== undefined ? { key } : {}),
  });
  const stdout = json
    ? `${JSON.stringify(result, null, 2)}\n`
    : `${verdictLine(result)}\n${result.vsa ? `${vsaLine(result)}\n` : ''}`;
  return { code: result.verified && vsaPassed(result) ? 0 : 1, stdout };
}
