#!/usr/bin/env node
/**
 * The aibom command line: a thin shell over the library in src/. Each command lives in
 * cli/commands/<name>.ts and registers itself here; heavy modules are imported lazily inside
 * each command's action so `aibom --help` and quick commands start fast.
 */
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../src/version.js';
import { registerAttest } from './commands/attest.js';
import { registerAudit } from './commands/audit.js';
import { registerBuild } from './commands/build.js';
import { registerDiff } from './commands/diff.js';
import { registerGate } from './commands/gate.js';
import { registerMcp } from './commands/mcp.js';
import { registerSign } from './commands/sign.js';
import { registerTrust } from './commands/trust.js';
import { registerValidate } from './commands/validate.js';
import { registerVerify } from './commands/verify.js';
import { registerVerifyPlugins } from './commands/verify-plugins.js';
import { EXIT_OK, EXIT_USAGE, isClosedPipe, reportError, setDebug, setJsonErrors } from './io.js';

export function makeProgram(): Command {
  const program = new Command();
  program
    .name('aibom')
    .description(
      'AI-BOM and supply-chain provenance for AI agents: build CycloneDX AI-BOMs of models, ' +
        'datasets, plugins, MCP servers and packages; sign and verify them with Sigstore; verify ' +
        'plugins at agent start-up; gate releases on missing provenance.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      outputError: (str, write) => write(str.replace(/^error: /, 'aibom: ')),
    })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom build examples/agent -o aibom.cdx.json\n' +
        '  $ aibom validate aibom.cdx.json\n' +
        '\nExit codes: 0 ok, 1 a check failed (policy, verification, invalid BOM), 2 usage or input error.',
    );
  program.hook('preAction', (cmd, actionCommand) => {
    setDebug(!!cmd.optsWithGlobals().debug);
    const opts = actionCommand.opts();
    // `--json`, or `--format json` (audit, diff, gate): the output is JSON, so are its errors.
    setJsonErrors(opts.json === true || opts.format === 'json');
  });

  registerBuild(program);
  registerValidate(program);
  registerAudit(program);
  registerDiff(program);
  registerGate(program);
  registerSign(program);
  registerAttest(program);
  registerVerify(program);
  registerVerifyPlugins(program);
  registerMcp(program);
  registerTrust(program);
  return program;
}

/**
 * Keep V8's compiled code of aibom's modules between runs (a CycloneDX schema validator alone
 * is ~1 MB of generated JavaScript), as tsc does: a faster start, the same results.
 * In the user's own cache folder, not the shared temp folder Node defaults to, since code
 * loaded from a cache others can write is code others can inject. NODE_COMPILE_CACHE and
 * NODE_DISABLE_COMPILE_CACHE keep their meaning.
 */
function enableCompileCache(): void {
  if (process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
    module.enableCompileCache?.(join(base, 'aibom', 'node-compile-cache'));
  } catch {
    // No cache: a slower start, nothing else.
  }
}

/** `--json`, `--format json` or `--format=json` among the arguments (for errors found before a command runs). */
function jsonRequested(args: string[]): boolean {
  return args.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && args[i + 1] === 'json'));
}

async function main(): Promise<void> {
  enableCompileCache();
  // `aibom build | head -1`: the reader closed the pipe; stop quietly, no stack trace.
  process.stdout.on('error', (err) => {
    if (!isClosedPipe(err)) throw err;
    process.exit(process.exitCode === undefined ? EXIT_OK : Number(process.exitCode));
  });
  const program = makeProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other parse error is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      // Commander has printed the text on stderr; under --json the error is also JSON on stdout.
      if (err.exitCode !== 0 && jsonRequested(process.argv.slice(2))) {
        const message = err.message.replace(/^error: /, '');
        process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message, exitCode: EXIT_USAGE } }, null, 2)}\n`);
      }
      return;
    }
    process.exitCode = reportError(err);
  }
}

await main();
