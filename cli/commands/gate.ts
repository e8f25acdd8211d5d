import type { Command } from 'commander';
import type { GateOptions } from '../../src/policy/gate.js';
import { addClaimFlags } from '../claim-flags.js';
import { addLockFlags, type LockFlags, lockOptions } from '../lock-flags.js';
import { addVsaFlags, type VsaFlags, vsaOptions } from '../vsa-flags.js';
import { action, collect, EXIT_CHECK_FAILED, EXIT_USAGE, printError, printInfo, writeOutput } from '../io.js';

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
        'the component, the rule and how to fix it. Without --bom, a BOM is built from the current ' +
        'folder. Without --policy, the default policy applies: models and datasets hashed, models ' +
        'signed, no pickle models, plugins and MCP servers pinned, plugins signed by trusted ' +
        'publishers, packages hashed and pinned, the BOM signed (with --bundle), every release ' +
        'artifact attested (with --artifacts). See schemas/aibom-policy.schema.json.',
    )
    .option('--bom <file>', 'the BOM to check (default: build one from --root)')
    .option('--bundle <file>', "the BOM's Sigstore bundle (repeatable); its signer must match policy.release or the identity flags", collect, [])
    .option('--policy <file>', 'policy file (YAML or JSON)')
    .option('--root <dir>', 'folder the BOM describes (models and plugins are re-verified there)', '.')
    .option('--artifacts <glob>', 'release artifacts that must each have a verified attestation (repeatable)', collect, [])
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
        '  $ aibom gate --bom aibom.cdx.json --policy examples/agent/aibom-policy.yaml --root examples/agent\n' +
        '  $ aibom gate --root examples/agent --format sarif -o gate.sarif\n' +
        '  $ aibom gate --bom aibom.cdx.json --bundle aibom.cdx.json.sigstore.json \\\n' +
        '      --certificate-identity-regexp "https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v.*" \\\n' +
        '      --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n' +
        '      --artifacts "dist/*.tgz" --attestations attestations.jsonl \\\n' +
        '      --source-repository https://github.com/acme/agent --lock aibom.lock.json --vsa aibom.vsa.sigstore.json\n' +
        '  $ aibom gate --bom aibom.cdx.json --lock aibom.lock.json --accept-drift calculator   # record a reviewed change\n' +
        '\nExit codes: 0 every rule passed, 1 a rule failed, 2 usage or input error.',
    )
    .action(
      action(async (opts: GateFlags) => {
        const format = opts.json ? 'json' : opts.format;
        if (!(FORMATS as readonly string[]).includes(format)) {
          printError(`unknown --format "${format}"; choose one of ${FORMATS.join(', ')}`);
          return EXIT_USAGE;
        }
        if (opts.artifacts.length && !opts.attestations) {
          printError('--artifacts needs --attestations (the Sigstore bundles to check them against)');
          return EXIT_USAGE;
        }
        const { runGate } = await import('../../src/policy/gate.js');
        const vsa = await vsaOptions(opts);
        const lock = lockOptions(opts);
        const res = await runGate({ ...opts, vsa, lock });
        let out: string;
        if (format === 'json') out = `${JSON.stringify(res, null, 2)}\n`;
        else if (format === 'sarif') {
          const { gateToSarif } = await import('../../src/report/sarif.js');
          out = `${JSON.stringify(gateToSarif(res, opts.bom ?? '.'), null, 2)}\n`;
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
          const what = [l.added.length ? `${l.added.length} added` : '', l.accepted.length ? `${l.accepted.length} accepted drift` : '', l.drifted.length ? `${l.drifted.length} drifted` : '']
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
