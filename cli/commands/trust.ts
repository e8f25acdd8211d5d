import type { Command } from 'commander';
import { action, printInfo, printJson } from '../io.js';

export function registerTrust(program: Command): void {
  const trust = program
    .command('trust')
    .summary('show or refresh the Sigstore trusted root aibom verifies with')
    .description(
      'The trusted root says which certificate authorities, transparency logs and\n' +
        'timestamp authorities aibom trusts. Verification is offline: it uses\n' +
        '--trusted-root FILE, else the root cached by `aibom trust update`, else the\n' +
        'Sigstore public-good root shipped inside the installed @sigstore/tuf package.\n' +
        'The cache lives in $AIBOM_CACHE_DIR, else $XDG_CACHE_HOME/aibom, else\n' +
        '~/.cache/aibom. It is never trusted as found: every load verifies its TUF chain\n' +
        'again from the public-good root inside @sigstore/tuf (for a private instance,\n' +
        'from the root.json AIBOM_TUF_ROOT names) and uses the verified trusted_root.json\n' +
        'target; a cache that does not verify, or that others can write, is refused.',
    );

  trust
    .command('show')
    .description('print the trusted root in effect: where it comes from and what it trusts, with validity windows')
    .option('--trusted-root <file>', 'show this trusted root instead of the default one')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExit codes: 0 ok, 1 the trusted root is invalid (it would be refused), 2 usage or input error.')
    .action(
      action(async (flags: { trustedRoot?: string; json?: boolean }) => {
        const { loadTrustedRoot, summarizeTrustedRoot } = await import('../../src/verification/trusted-root.js');
        const loaded = await loadTrustedRoot(flags.trustedRoot);
        const entries = summarizeTrustedRoot(loaded.root);
        if (flags.json) {
          printJson({ source: loaded.source, location: loaded.location, mediaType: loaded.root.mediaType, entries });
          return 0;
        }
        const label = { tlog: 'transparency log', ctlog: 'CT log', ca: 'certificate authority', tsa: 'timestamp authority' } as const;
        process.stdout.write(`trusted root: ${loaded.source} (${loaded.location})\n`);
        for (const e of entries) {
          const window = `${e.validFrom ?? '…'} → ${e.validUntil ?? 'no end'}`;
          process.stdout.write(`  ${label[e.kind].padEnd(21)} ${e.name}  ${window}${e.current ? '' : '  (not current)'}\n`);
        }
        return 0;
      }),
    );

  trust
    .command('update')
    .description('refresh the cached trusted root from the Sigstore TUF repository (needs the network)')
    .option('--mirror-url <url>', 'TUF repository to update from (default: the Sigstore public-good repository)')
    .option('--tuf-root <file>', "initial root.json of that repository (a private Sigstore instance's TUF root)")
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExit codes: 0 updated, 1 the new trusted root is invalid, 2 the update failed (network, TUF).')
    .action(
      action(async (flags: { mirrorUrl?: string; tufRoot?: string; json?: boolean }) => {
        const { updateTrustedRoot, summarizeTrustedRoot } = await import('../../src/verification/trusted-root.js');
        const { root, location } = await updateTrustedRoot({
          ...(flags.mirrorUrl ? { mirrorUrl: flags.mirrorUrl } : {}),
          ...(flags.tufRoot ? { tufRoot: flags.tufRoot } : {}),
        });
        const entries = summarizeTrustedRoot(root);
        if (flags.json) printJson({ updated: true, location, entries });
        else printInfo(`trusted root updated: ${location} (${entries.length} trusted keys and authorities)`);
        return 0;
      }),
    );
}
