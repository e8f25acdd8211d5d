import type { Command } from 'commander';
import type { SignerIdentityOptions } from '../../src/verification/identity-policy.js';
import { addClaimFlags, claimFlags } from '../claim-flags.js';
import { action, EXIT_CHECK_FAILED, printJson, usageError } from '../io.js';

interface VerifyPluginsFlags extends SignerIdentityOptions {
  bom?: string;
  bundle?: string;
  root?: string;
  policy?: string;
  trustedRoot?: string;
  pluginPath: string[];
  failOnMissing?: boolean;
  acceptBom?: string;
  cache?: boolean | string;
  json?: boolean;
}

export function registerVerifyPlugins(program: Command): void {
  const cmd = program
    .command('verify-plugins')
    .summary("verify an agent's installed plugins against its signed AI-BOM (start-up check)")
    .description(
      // Lines of at most 80 columns: commander wraps each line at the terminal width (80 when not a TTY).
      'The start-up check for agents in any language (Node agents can use\n' +
        '`aibom/runtime` or `node --import aibom/register`).\n' +
        'The signed AI-BOM is the lock:\n' +
        "  1. the BOM's bundle must verify against the release identity\n" +
        '     (anchored; offline);\n' +
        '  2. each plugin folder must have the pinned folder digest and\n' +
        '     manifest version;\n' +
        '  3. where the BOM pins a publisher, or the policy requires one (the\n' +
        "     default), the plugin's own signature must verify and be by\n" +
        '     that publisher;\n' +
        '  4. a folder in a plugin folder that the BOM does not list is refused;\n' +
        '  5. a plugin the BOM lists but that is not on disk is reported.\n' +
        'Policy exceptions (reason + expiry) can cover a plugin; expired ones refuse.',
    )
    .requiredOption('--bom <file>', 'the signed AI-BOM (CycloneDX JSON)')
    .option('--bundle <file>', "the BOM's Sigstore bundle (default: BOM.sigstore.json)")
    .option('--root <dir>', 'the agent root the BOM was built from (default: the current folder)')
    .option('--policy <file>', 'policy file (YAML/JSON): release identity, publishers, exceptions')
    .option('--certificate-identity <id>', 'release signer identity (certificate SAN), matched exactly')
    .option('--certificate-identity-regexp <re>', 'release signer identity as a regular expression, anchored (^(?:RE)$)')
    .option('--certificate-oidc-issuer <url>', 'OIDC issuer of the release signing certificate, matched exactly')
    .option('--certificate-oidc-issuer-regexp <re>', 'OIDC issuer as a regular expression, anchored')
    .option('--key <pem>', 'the release public key (PEM), when releases are key-signed')
    .option('--trusted-root <file>', 'Sigstore trusted root JSON (default: cached by `aibom trust update`, else the public-good root)');
  addClaimFlags(cmd)
    .option('--plugin-path <dir>', 'another plugin folder to refuse unlisted plugins in (relative to --root; repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--fail-on-missing', 'refuse (not only report) plugins the BOM lists that are not on disk')
    .option(
      '--accept-bom <sha256:hex>',
      'start this exact BOM although it cannot be proven newer than the release that already started here (a re-issue with the same version); the refusal prints the digest',
    )
    .option('--cache [dir]', 'reuse digests of unchanged files (device, inode, size, mtime, ctime); off by default, see README')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom verify-plugins --bom aibom.cdx.json --bundle aibom.cdx.json.sigstore.json \\\n' +
        "      --certificate-identity-regexp 'https://github\\.com/acme/agent/\\.github/workflows/release\\.yml@refs/tags/v.*' \\\n" +
        '      --certificate-oidc-issuer https://token.actions.githubusercontent.com\n' +
        '  $ aibom verify-plugins --bom aibom.cdx.json --key release.pub --policy aibom-policy.yaml --json\n' +
        '\nAn older release than one that already passed for this --root and release identity is refused\n' +
        '(bom-rollback); the high-water marks live in $AIBOM_STATE_DIR, else $XDG_STATE_HOME/aibom, else\n' +
        '~/.local/state/aibom. The policy\'s release.minVersion / release.notBefore hold on a fresh machine.\n' +
        '\nExit codes: 0 every plugin verified (or excepted), 1 the BOM or a plugin was refused, 2 usage or input error.',
    )
    .action(
      action(async (flags: VerifyPluginsFlags) => {
        if (!flags.bom) throw usageError('--bom FILE is required');
        const { verifyPlugins, formatReport } = await import('../../src/runtime/index.js');
        const { SIGNER_IDENTITY_KEYS } = await import('../../src/verification/identity-policy.js');
        const opts: Parameters<typeof verifyPlugins>[0] = { bom: flags.bom, pluginPaths: flags.pluginPath, failOnMissing: !!flags.failOnMissing };
        for (const k of ['bundle', 'root', 'policy', ...SIGNER_IDENTITY_KEYS, 'trustedRoot', 'acceptBom'] as const) {
          if (flags[k] !== undefined) opts[k] = flags[k];
        }
        Object.assign(opts, claimFlags(flags));
        if (flags.cache !== undefined) opts.cache = flags.cache;
        const result = await verifyPlugins(opts);
        if (flags.json) printJson(result);
        else process.stdout.write(formatReport(result));
        return result.ok ? 0 : EXIT_CHECK_FAILED;
      }),
    );
}
