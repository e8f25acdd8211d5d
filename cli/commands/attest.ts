import type { Command } from 'commander';
import { action } from '../io.js';
import { addIdentityOptions, type IdentityFlags, identityFromFlags, report, warnUnlogged } from './sign.js';

interface AttestFlags extends IdentityFlags {
  predicate: string;
  type?: string;
  bundle: string;
}

export function registerAttest(program: Command): void {
  const cmd = program
    .command('attest')
    .summary('sign an in-toto attestation: a BOM (or other predicate) about release artifacts')
    .description(
      'Make an in-toto Statement v1 whose subjects are the given files (name +\n' +
        'sha256) and whose predicate is the BOM, and sign it (DSSE in a Sigstore bundle\n' +
        'v0.3). The default predicate type is CycloneDX (https://cyclonedx.org/bom; the\n' +
        'BOM is schema-validated first); others by name (spdx, slsaprovenance, openvex,\n' +
        'link) or by URI. One statement covers every subject. Identity flags as for\n' +
        '`aibom sign` (keyless, or --key).',
    )
    .argument('<subject...>', 'release artifacts the predicate is about')
    .requiredOption('--predicate <file>', 'the predicate: a CycloneDX BOM, or any JSON object with --type')
    .option('--type <type>', 'predicate type: cyclonedx (default), spdx, slsaprovenance, openvex, link, or a URI')
    .requiredOption('--bundle <file>', 'where to write the bundle');
  addIdentityOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom attest --predicate aibom.cdx.json --bundle release.intoto.sigstore.json dist/*\n' +
        '  $ aibom attest --predicate provenance.json --type slsaprovenance --key release.pem --bundle p.json app.tgz\n' +
        '\nExit codes: 0 signed, 1 the BOM is not valid CycloneDX (nothing signed) or the\n' +
        'services returned material the --trusted-root does not trust, 2 usage error,\n' +
        'unreadable input, or a signing service failed.',
    )
    .action(
      action(async (subjects: string[], opts: AttestFlags) => {
        const { AibomError } = await import('../../src/errors.js');
        const { pathKind, writeFileAtomic } = await import('../../src/util/fs.js');
        const { attest } = await import('../../src/signature/attest.js');
        if ((await pathKind(opts.bundle)) === 'dir') {
          throw new AibomError('USAGE', '--bundle names a folder; give a file name', { file: opts.bundle });
        }
        const selfCheck = await import('../../src/signature/self-check.js');
        const root = opts.trustedRoot ? await selfCheck.readTrustedRoot(opts.trustedRoot) : undefined;
        const identity = await identityFromFlags(opts);
        const outcome = await attest(subjects, identity, { predicate: opts.predicate, ...(opts.type ? { type: opts.type } : {}) });
        if (root) selfCheck.checkAgainstTrustedRoot(outcome.bundle, root, opts.trustedRoot!, undefined, identity.mode === 'key' ? identity.key.publicKey : undefined);
        await writeFileAtomic(opts.bundle, `${JSON.stringify(outcome.bundle)}\n`);
        await report(outcome, opts.bundle, !!opts.json);
        if (!opts.json) warnUnlogged(outcome);
        return 0;
      }),
    );
}
