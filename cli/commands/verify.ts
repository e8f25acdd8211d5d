import type { Command } from 'commander';
import type { PolicyOptions } from '../../src/verification/identity-policy.js';
import { positionalsWithList } from '../args.js';
import { addClaimFlags, claimFlags } from '../claim-flags.js';
import { action, collect, EXIT_CHECK_FAILED, printJson, usageError } from '../io.js';

interface VerifyFlags extends PolicyOptions {
  bundle?: string;
  trustedRoot?: string;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  batch?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .alias('verify-bundle')
    .summary('verify a Sigstore bundle over a file, a digest or a model/plugin folder')
    .description(
      'Verify a Sigstore bundle (v0.1, v0.2, v0.3) over a file, a sha256:<hex> digest,\n' +
        'or a folder signed in the OpenSSF model_signing v1.0 format, offline, against\n' +
        'the Sigstore public-good trusted root (or --trusted-root). Say who must have\n' +
        'signed: a certificate identity and OIDC issuer (exact, or regular expressions,\n' +
        'which aibom ANCHORS: ^(?:RE)$), a public key (--key), or a CA certificate chain\n' +
        "(--certificate-chain, model_signing's certificate method). For DSSE bundles the\n" +
        'artifact must be a subject of the in-toto statement; a folder is re-hashed and\n' +
        'files changed, added or missing are reported. `verify-bundle` is the same\n' +
        "command (the Sigstore conformance suite's name).\n\n" +
        "A keyless signer's certificate claims (source repository, ref, digest, signer\n" +
        'workflow, runner, trigger) can be constrained too; by default a certificate from a\n' +
        'pull_request_target build or a self-hosted runner is refused. --json prints all claims.',
    )
    .argument('[target]', 'file, folder, or sha256:<64 hex> digest (a digest that is not an existing path)')
    .option('--bundle <file>', 'the Sigstore bundle (default: FILE.sigstore.json, or DIR/model.sig for a folder)')
    .option('--certificate-identity <id>', 'signer identity (certificate SAN), matched exactly')
    .option('--certificate-identity-regexp <re>', 'signer identity as a regular expression, anchored (^(?:RE)$)')
    .option('--certificate-oidc-issuer <url>', 'OIDC issuer of the signing certificate, matched exactly')
    .option('--certificate-oidc-issuer-regexp <re>', 'OIDC issuer as a regular expression, anchored')
    .option('--key <pem>', 'verify with this public key (PEM) instead of a certificate identity')
    .option('--certificate-chain <pem>', 'verify that the signing certificate chains to these CA certificates (PEM)')
    .option('--trusted-root <file>', 'Sigstore trusted root JSON (default: cached by `aibom trust update`, else the public-good root)');
  addClaimFlags(cmd)
    .option('--ignore-paths <path>', 'folder: a path to leave out, relative to the folder or to the working directory (repeatable; a shell-expanded list is taken whole)', collect, [])
    .allowExcessArguments()
    .option('--ignore-git-paths', 'folder: leave out .git, .gitattributes, .github, .gitignore (the default)')
    .option('--no-ignore-git-paths', 'folder: hash the git paths too')
    .option('--allow-symlinks', 'folder: hash the targets of symbolic links (by default a symlink fails)')
    .option('--batch <file.jsonl>', 'verify every entry of a JSON Lines file in one process (see README)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom verify dist/app.tgz --bundle app.tgz.sigstore.json \\\n' +
        '      --certificate-identity-regexp \'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*\' \\\n' +
        '      --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n' +
        '      --source-repository https://github.com/acme/app --source-ref-regexp \'refs/tags/v.*\'\n' +
        '  $ aibom verify models/llama --key signing-key.pub          # reads models/llama/model.sig\n' +
        '  $ aibom verify sha256:4f2a…e1 --bundle x.sigstore.json --key key.pub\n' +
        '  $ aibom verify --batch checks.jsonl --trusted-root trusted_root.json\n' +
        '\nA SLSA Verification Summary Attestation (`aibom gate --vsa`) is verified over the BOM or a\n' +
        'release artifact like any attestation, and its verdict is shown; one that says FAILED exits 1.\n' +
        '\nExit codes: 0 verified, 1 not verified (the reason is printed), 2 usage or input error.',
    )
    .action(
      action(async (_target: string | undefined, flags: VerifyFlags, cmd: Command) => {
        const { positionals, list } = positionalsWithList([cmd.name(), ...cmd.aliases()], '--ignore-paths', cmd.args, flags.ignorePaths ?? [], {
          targets: flags.batch ? 0 : 1,
          most: 1,
        });
        const target: string | undefined = positionals[0];
        if (list.length) flags.ignorePaths = list;
        else delete flags.ignorePaths;
        const { VerifySession } = await import('../../src/verification/run.js');
        const { verdictLine } = await import('../../src/verification/result.js');
        const { SIGNER_IDENTITY_KEYS } = await import('../../src/verification/identity-policy.js');
        const session = new VerifySession();
        const defaults = {
          ...pick(flags, [
            ...SIGNER_IDENTITY_KEYS,
            'certificateChain',
            'trustedRoot',
            'ignorePaths',
            'allowSymlinks',
          ]),
          ...claimFlags(flags),
          ignoreGitPaths: flags.ignoreGitPaths !== false,
        };
        if (flags.batch) {
          if (target !== undefined) throw usageError('give either a target or --batch FILE, not both');
          if (flags.bundle) throw usageError('--bundle goes in each line of the batch file');
          const { readBatch, runBatch } = await import('../../src/verification/batch.js');
          const entries = await readBatch(flags.batch, defaults);
          const results = await runBatch(session, entries, (r) => {
            if (!flags.json) process.stdout.write(`${verdictLine(r)}\n`);
          });
          const ok = results.filter((r) => r.verified).length;
          if (flags.json) printJson({ verified: ok, failed: results.length - ok, results });
          else process.stdout.write(`${ok} verified, ${results.length - ok} not verified\n`);
          return ok === results.length ? 0 : EXIT_CHECK_FAILED;
        }
        if (target === undefined) throw usageError('missing the file, folder or sha256: digest to verify (or --batch FILE)');
        const result = await session.verify({ ...defaults, target, ...(flags.bundle ? { bundle: flags.bundle } : {}) });
        const { vsaLine } = await import('../../src/verification/vsa-result.js');
        if (flags.json) printJson(result);
        else process.stdout.write(`${verdictLine(result)}\n${result.vsa ? `${vsaLine(result)}\n` : ''}`);
        return result.verified ? 0 : EXIT_CHECK_FAILED;
      }),
    );
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
