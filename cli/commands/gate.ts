import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { GateOptions } from '../../src/gate/gate.js';
import { positionalsWithList } from '../args.js';
import { addClaimFlags } from '../claim-flags.js';
import { action, collect, EXIT_CHECK_FAILED, EXIT_USAGE, plural, printError, printInfo, printWarning, usageError, writeOutput } from '../io.js';
import { addLockFlags, type LockFlags, lockOptions } from '../lock-flags.js';
import { addVsaFlags, type VsaFlags, vsaOptions } from '../vsa-flags.js';

const FORMATS = ['text', 'json', 'sarif', 'markdown'] as const;

/** The command's flags: the library's gate options plus how to print the result. */
export type GateFlags = Omit<GateOptions, 'bundle' | 'artifacts' | 'vsa' | 'lock'> &
  VsaFlags &
  LockFlags & {
  bundle: string[];
  artifacts: string[];
  format: string;
  json?: boolean;
  output?: string;
};

export function registerGate(program: Command): void {
  const cmd = program
    .command('gate')
    .summary('fail a release whose BOM lacks provenance')
    .description(
      'Evaluate a BOM against a policy and exit 1 when any rule fails, listing every failure with ' +
        'the component, the rule and how to fix it. Without --bom, a BOM is built from DIR (default: ' +
        'the current folder), as `aibom build DIR` does. Without --policy, the default policy applies: models and datasets hashed, models ' +
        'signed, no pickle models, plugins and MCP servers pinned, plugins signed by trusted ' +
        'publishers, packages hashed and pinned, the BOM signed (with --bundle), every release ' +
        'artifact attested (with --artifacts). See schemas/aibom-policy.schema.json.',
    )
    .argument('[dir]', 'folder the BOM describes: built from it without --bom; models and plugins are re-verified there (default: .)')
    .allowExcessArguments()
    .option('--bom <file>', 'the BOM to check (default: build one from DIR)')
    .option('--bundle <file>', "the BOM's Sigstore bundle (repeatable); its signer must match policy.release or the identity flags", collect, [])
    .option('--policy <file>', 'policy file (YAML or JSON)')
    .option('--root <dir>', 'same as DIR')
    .option('--artifacts <glob>', 'release artifacts that must each have a verified attestation (repeatable; quote the glob)', collect, [])
    .option('--attestations <path>', 'Sigstore bundles: a file, a JSON Lines file, or a folder of *.json / *.jsonl')
    .option('--certificate-identity <id>', 'expected release signer (exact)')
    .option('--certificate-identity-regexp <re>', 'expected release signer (regexp, anchored)')
    .option('--certificate-oidc-issuer <url>', 'expected OIDC issuer (exact)')
    .option('--certificate-oidc-issuer-regexp <re>', 'expected OIDC issuer (regexp, anchored)')
    .option('--key <pem>', 'release signing public key, instead of a certificate identity')
    .option('--trusted-root <file>', 'Sigstore trusted root (default: the public-good root shipped offline)');
  addLockFlags(addVsaFlags(addClaimFlags(cmd)))
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('--json', 'same as --format json')
    .option('-o, --output <file>', 'write the report to FILE (the verdict still goes to stderr)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom gate examples/agent --bom aibom.cdx.json --policy examples/agent/aibom-policy.yaml\n' +
        '  $ aibom gate examples/agent --format sarif -o gate.sarif\n' +
        '  $ aibom gate --bom aibom.cdx.json --bundle aibom.cdx.json.sigstore.json \\\n' +
        '      --certificate-identity-regexp "https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v.*" \\\n' +
        '      --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n' +
        '      --artifacts "dist/*.tgz" --attestations attestations.jsonl \\\n' +
        '      --source-repository https://github.com/acme/agent --lock aibom.lock.json --vsa aibom.vsa.sigstore.json\n' +
        '  $ aibom gate --bom aibom.cdx.json --lock aibom.lock.json --accept-drift calculator   # record a reviewed change\n' +
        '\nExit codes: 0 every rule passed, 1 a rule failed, 2 usage or input error.',
    )
    .action(
      action(async (_dir: string | undefined, opts: GateFlags, cmd: Command) => {
        // `--artifacts dist/*.tgz` unquoted: the shell's list is taken whole, never the folder.
        const { positionals, list, expanded } = positionalsWithList(['gate'], '--artifacts', cmd.args, opts.artifacts, {
          targets: 0,
          most: 1,
          isTarget: (w) => statSync(w, { throwIfNoEntry: false })?.isDirectory() === true,
        });
        if (expanded.length) {
          printWarning(
            `--artifacts got ${plural(expanded.length + 1, 'path')} that the shell expanded from a glob; all are checked, but quote the glob ` +
              `(--artifacts 'dist/*.tgz') so aibom matches it itself`,
          );
        }
        opts.artifacts = list;
        const dir = positionals[0];
        if (dir !== undefined && opts.root !== undefined && dir !== opts.root) throw usageError(`give the folder once: DIR "${dir}" or --root "${opts.root}"`);
        opts.root = dir ?? opts.root ?? '.';
        const format = opts.json ? 'json' : opts.format;
        if (!(FORMATS as readonly string[]).includes(format)) {
          printError(`unknown --format "${format}"; choose one of ${FORMATS.join(', ')}`);
          return EXIT_USAGE;
        }
        if (opts.artifacts.length && !opts.attestations) {
          printError('--artifacts needs --attestations (the Sigstore bundles to check them against)');
          return EXIT_USAGE;
        }
        const { runGate, GATE_OPTION_KEYS } = await import('../../src/gate/gate.js');
        const vsa = await vsaOptions(opts);
        const lock = lockOptions(opts);
        // The library takes only its own options (it refuses any other key); the flags hold more (format, output, signing).
        const gateOpts = Object.fromEntries(Object.entries(opts).filter(([k]) => (GATE_OPTION_KEYS as readonly string[]).includes(k)));
        const res = await runGate({ ...gateOpts, vsa, lock });
        for (const e of res.unusedExceptions ?? []) {
          printWarning(`${res.policy}${e.line ? `:${e.line}` : ''}: the exception for "${e.component}" matches no component of the BOM (stale or misspelled?)`);
        }
        let out: string;
        if (format === 'json') out = `${JSON.stringify(res, null, 2)}\n`;
        else if (format === 'sarif') {
          const { findRepoRoot, gateToSarif } = await import('../../src/report/sarif.js');
          const scanRoot = opts.root ?? '.';
          out = `${JSON.stringify(gateToSarif(res, opts.bom ?? scanRoot, { scanRoot, repoRoot: findRepoRoot(scanRoot) }), null, 2)}\n`;
        } else if (format === 'markdown') {
          const { renderGateMarkdown } = await import('../../src/report/markdown.js');
          out = renderGateMarkdown(res);
        } else {
          const { renderGateText } = await import('../../src/report/text.js');
          const tty = !opts.output && process.stdout.isTTY === true;
          out = renderGateText(res, { color: tty && !process.env.NO_COLOR, width: tty ? (process.stdout.columns ?? 80) : 80 });
        }
        await writeOutput(opts.output, out);
        if (res.lock) {
          const l = res.lock;
          const what = [l.added.length ? `${l.added.length} added` : '', l.accepted.length ? `${l.accepted.length} accepted drift` : '', l.drifted.length ? `${l.drifted.length} drifted` : '', l.removed.length ? `${l.removed.length} removed (${l.removed.join(', ')})` : '']
            .filter(Boolean)
            .join(', ');
          printInfo(`aibom gate: provenance lock ${l.file}: ${what || 'no changes'}${l.written ? ' (written)' : ''}`);
        }
        if (res.vsa) printInfo(`aibom gate: wrote the verdict (${res.vsa.verificationResult}) as a signed SLSA VSA to ${res.vsa.file}`);
        if (opts.output || format !== 'text') {
          printInfo(res.passed ? 'aibom gate: PASSED' : `aibom gate: FAILED (${res.failures.length} failures)`);
        }
        return res.passed ? 0 : EXIT_CHECK_FAILED;
      }),
    );
}
