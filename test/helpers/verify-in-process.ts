/**
 * `aibom verify TARGET [--bundle FILE] [--key PEM | identity flags] [claim flags] [--json]` in
 * the test process, for tests of what verification decides and why: the same library calls as
 * cli/commands/verify.ts (VerifySession.verify; the exit code from `verified` and the VSA
 * verdict; stdout as the CLI prints it, the result as JSON or the verdict line), without
 * starting a process per case.
 * Exit codes, usage errors and messages of the command itself stay tested through the CLI as a
 * process (runCli).
 *
 * An error the CLI would report with exit 2 is thrown: it fails the calling test, as an
 * unexpected exit code did.
 */
import { verdictLine } from '../../src/verification/result.js';
import { type VerifyRequest, VerifySession } from '../../src/verification/run.js';
import { vsaLine } from '../../src/verification/vsa-result.js';

export interface InProcessResult {
  code: number;
  stdout: string;
}

/** `aibom verify`'s flags that take one value (camelCased as cli/commands/verify.ts reads them). */
const VALUE_FLAGS = [
  'bundle',
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
  'key',
  'certificate-chain',
  'trusted-root',
  'source-repository',
  'source-repository-regexp',
  'source-ref',
  'source-ref-regexp',
  'source-digest',
  'signer-workflow',
  'signer-workflow-regexp',
  'runner-environment',
];
/** Repeatable flags: each use adds one value. */
const LIST_FLAGS = ['deny-trigger', 'allow-trigger'];

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The flags these tests use; any other is refused so a test cannot silently lose one. */
function parse(args: string[]): { target: string; options: Record<string, unknown>; json: boolean } {
  let target: string | undefined;
  let json = false;
  const options: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && (VALUE_FLAGS.includes(name) || LIST_FLAGS.includes(name)) && args[i + 1] !== undefined) {
      const value = args[++i]!;
      if (LIST_FLAGS.includes(name)) options[camel(name)] = [...((options[camel(name)] as string[] | undefined) ?? []), value];
      else options[camel(name)] = value;
    } else if (a === '--json') json = true;
    else if (!a.startsWith('-') && target === undefined) target = a;
    else throw new Error(`verify-in-process: argument ${a} is not supported here; run the CLI (runCli) for it`);
  }
  if (target === undefined) throw new Error('verify-in-process: no target');
  return { target, options, json };
}

/** `env` as runCli takes it: merged over process.env, an undefined value removes the variable. */
export async function verifyInProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<InProcessResult> {
  const { target, options, json } = parse(args);
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const session = new VerifySession(merged);
  const result = await session.verify({ ...options, ignoreGitPaths: true, target } as VerifyRequest);
  const stdout = json
    ? `${JSON.stringify(result, null, 2)}\n`
    : `${verdictLine(result)}\n${result.vsa ? `${vsaLine(result)}\n` : ''}`;
  // A VSA whose verdict is not PASSED exits 1 (where the verifier core does not already refuse it).
  const vsaFailed = result.vsa !== undefined && result.vsa.verificationResult !== 'PASSED';
  return { code: result.verified && !vsaFailed ? 0 : 1, stdout };
}
