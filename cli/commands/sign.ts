import type { Command } from 'commander';
import type { SignOutcome } from '../../src/signature/summary.js';
import { positionalsWithList } from '../args.js';
import { action, collect, printInfo, printJson, Progress } from '../io.js';

/** Signing identity and service flags shared by `sign`, `attest`. */
export interface IdentityFlags {
  identityToken?: string;
  key?: string;
  signingConfig?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  staging?: boolean;
  trustedRoot?: string;
  json?: boolean;
  /** Commander's --no-tlog-upload: false when given. */
  tlogUpload?: boolean;
}

export function addIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--identity-token <token>', 'OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN or the GitHub Actions token)')
    .option('--key <pem>', 'sign with this private key (ECDSA P-256/P-384; Ed25519 for DSSE) instead of keyless')
    .option('--signing-config <file>', 'Sigstore SigningConfig JSON (v0.1 or v0.2) naming Fulcio, Rekor and TSA')
    .option('--fulcio-url <url>', 'Fulcio to get the signing certificate from (keyless)')
    .option('--rekor-url <url>', 'Rekor (v1 API) to record the signature in (default: the signing config\'s, else public-good)')
    .option(
      '--no-tlog-upload',
      'key signing, air-gapped: record no transparency log entry (verifiers must then be given the key and accept a bundle without one)',
    )
    .option('--tsa-url <url>', 'RFC 3161 timestamp authority to timestamp the signature')
    .option('--staging', 'use the Sigstore public-good staging instance (test signatures)')
    .option('--trusted-root <file>', 'check what the services returned against this trusted root before writing')
    .option('--json', 'print what was signed as JSON on stdout');
}

/** Resolve the identity from flags (imports lazily: `aibom --help` stays fast). */
export async function identityFromFlags(opts: IdentityFlags, folder = false) {
  const { resolveSigningIdentity } = await import('../../src/signature/identity.js');
  return resolveSigningIdentity({
    ...(opts.identityToken !== undefined ? { identityToken: opts.identityToken } : {}),
    ...(opts.key !== undefined ? { key: opts.key } : {}),
    ...(opts.signingConfig !== undefined ? { signingConfig: opts.signingConfig } : {}),
    ...(opts.fulcioUrl !== undefined ? { fulcioUrl: opts.fulcioUrl } : {}),
    ...(opts.rekorUrl !== undefined ? { rekorUrl: opts.rekorUrl } : {}),
    ...(opts.tsaUrl !== undefined ? { tsaUrl: opts.tsaUrl } : {}),
    ...(opts.staging ? { staging: true } : {}),
    ...(opts.tlogUpload === false ? { tlogUpload: false } : {}),
    ...(folder ? { folder: true } : {}),
  });
}

interface SignFlags extends IdentityFlags {
  bundle?: string;
  inToto?: boolean;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
}

const SIGN_EXIT_CODES =
  '\nExit codes: 0 signed, 1 the services returned material the --trusted-root\n' +
  'does not trust, 2 usage error, unreadable input, or a signing service failed\n' +
  '(nothing is written then).';

export function registerSign(program: Command): void {
  const sign = program
    .command('sign')
    .summary('sign a file or a model/plugin folder with Sigstore (keyless or with a key)')
    .description(
      'Sign FILE: a Sigstore bundle (v0.3 JSON) with a message signature over the\n' +
        'file, written to FILE.sigstore.json. With --in-toto, FILE is an in-toto\n' +
        'statement, signed unchanged in a DSSE envelope.\n' +
        'Sign DIR: the folder in the OpenSSF model_signing v1.0 format (an in-toto\n' +
        'statement listing a SHA-256 per file, in DSSE), written to DIR/model.sig\n' +
        '(never itself hashed), or for an Agent Plugins 1.0 package to\n' +
        'DIR/dev.aibom/model.sig, aibom\'s extension folder; keyless or with an ECDSA key\n' +
        '(model_signing verifies elliptic-curve keys only; Ed25519 folder signatures are refused).\n\n' +
        'Keyless signing gets a short-lived Fulcio certificate for an OIDC identity\n' +
        '(--identity-token, $SIGSTORE_ID_TOKEN, or the ambient GitHub Actions token\n' +
        'with `id-token: write`) and records the signature in Rekor. Services come from\n' +
        '--signing-config or the --*-url flags, else the Sigstore public-good instance.\n' +
        'The token is never written anywhere. Key signing (--key PEM) writes a bundle\n' +
        'naming the key by its fingerprint, records the signature in Rekor (as\n' +
        '`cosign sign-blob --key` does; a folder only when a log is named) and asks the\n' +
        'TSA the signing config names for a timestamp; --no-tlog-upload for air-gapped use.',
    )
    .argument('<path>', 'the file or folder to sign')
    .option('--bundle <file>', 'where to write the bundle (default: FILE.sigstore.json, or DIR/model.sig)')
    .option('--in-toto', 'FILE is an in-toto statement: sign it as is in a DSSE envelope')
    .option('--ignore-paths <path>', 'folder: leave this path out, relative to DIR or to the working directory (repeatable; a shell-expanded list is taken whole)', collect, [])
    .allowExcessArguments()
    .option('--ignore-git-paths', 'folder: leave out .git, .gitattributes, .github, .gitignore (the default)')
    .option('--no-ignore-git-paths', 'folder: hash the git paths too')
    .option('--allow-symlinks', 'folder: hash the targets of symbolic links instead of refusing them');
  addIdentityOptions(sign)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom sign dist/agent-1.2.0.tgz                       # keyless (in CI: GitHub OIDC)\n' +
        '  $ aibom sign models/classifier --key signing-key.pem    # model_signing format, DIR/model.sig\n' +
        '  $ aibom sign statement.json --in-toto --bundle statement.sigstore.json\n' +
        '  $ aibom sign bom.json --signing-config signing_config.json --identity-token "$TOKEN" --json\n' +
        SIGN_EXIT_CODES,
    )
    .action(
      action(async (_path: string, opts: SignFlags, cmd: Command) => {
        const { positionals, list } = positionalsWithList(['sign'], '--ignore-paths', cmd.args, opts.ignorePaths ?? [], { targets: 1, most: 1 });
        return runSign(positionals[0]!, { ...opts, ignorePaths: list });
      }),
    );

  // The Sigstore conformance suite's signing contract, accepted as is.
  program
    .command('sign-bundle')
    .summary('sign FILE into a Sigstore bundle (the Sigstore conformance signing contract)')
    .description(
      'The Sigstore client conformance contract for signing:\n' +
        '  sign-bundle [--staging] [--in-toto] --identity-token TOKEN --bundle FILE\n' +
        '    [--trusted-root FILE] [--signing-config FILE] FILE\n' +
        'Same as `aibom sign` with those flags.',
    )
    .argument('<file>', 'the file to sign')
    .option('--staging', 'use the Sigstore public-good staging instance')
    .option('--in-toto', 'FILE is an in-toto statement: sign it as is in a DSSE envelope')
    .requiredOption('--identity-token <token>', 'OIDC identity token')
    .requiredOption('--bundle <file>', 'where to write the bundle')
    .option('--trusted-root <file>', 'check what the services returned against this trusted root before writing')
    .option('--signing-config <file>', 'Sigstore SigningConfig JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ aibom sign-bundle --identity-token "$TOKEN" --bundle a.txt.sigstore.json a.txt\n' + SIGN_EXIT_CODES,
    )
    .action(
      action(async (file: string, opts: SignFlags) => runSign(file, opts)),
    );
}

async function runSign(path: string, opts: SignFlags): Promise<number> {
  const { AibomError } = await import('../../src/errors.js');
  const { pathKind, writeFileAtomic } = await import('../../src/util/fs.js');
  const { dirname, resolve } = await import('node:path');
  const kind = await pathKind(path);
  if (kind === 'missing') throw new AibomError('INPUT', 'no such file or folder', { file: path });
  if (kind === 'other') throw new AibomError('INPUT', 'not a regular file or folder', { file: path });
  const folder = kind === 'dir';
  if (folder && opts.inToto) throw new AibomError('USAGE', '--in-toto signs a statement file, not a folder', { file: path });
  const ignorePaths = opts.ignorePaths ?? [];
  if (!folder && (ignorePaths.length > 0 || opts.allowSymlinks || opts.ignoreGitPaths === false)) {
    throw new AibomError('USAGE', '--ignore-paths, --allow-symlinks and --no-ignore-git-paths are for signing folders', { file: path });
  }
  // An Agent Plugins package keeps its signature in aibom's extension folder, dev.aibom/.
  const { defaultFolderBundle } = await import('../../src/inventory/agent-plugins/signature.js');
  const bundlePath = opts.bundle ?? (folder ? defaultFolderBundle(path) : `${path}.sigstore.json`);
  if (!folder && resolve(bundlePath) === resolve(path)) {
    throw new AibomError('USAGE', '--bundle names the file being signed; choose another output', { file: path });
  }
  if (opts.bundle !== undefined && (await pathKind(opts.bundle)) === 'dir') {
    throw new AibomError('USAGE', '--bundle names a folder; give a file name', { file: opts.bundle });
  }

  // Everything local is checked before any service is asked for anything.
  const selfCheck = await import('../../src/signature/self-check.js');
  const root = opts.trustedRoot ? await selfCheck.readTrustedRoot(opts.trustedRoot) : undefined;
  const identity = await identityFromFlags(opts, folder);
  const check = root
    ? (b: Parameters<typeof selfCheck.checkAgainstTrustedRoot>[0], artifact?: Buffer) =>
        selfCheck.checkAgainstTrustedRoot(b, root, opts.trustedRoot!, artifact, identity.mode === 'key' ? identity.key.publicKey : undefined)
    : undefined;

  let outcome: SignOutcome;
  if (folder) {
    const { signFolder } = await import('../../src/signature/sign-folder.js');
    const { formatBytes } = await import('../../src/util/fs.js');
    const progress = new Progress(!opts.json);
    outcome = await signFolder(path, identity, {
      bundlePath,
      ignorePaths,
      ignoreGitPaths: opts.ignoreGitPaths !== false,
      allowSymlinks: !!opts.allowSymlinks,
      onProgress: (done, total) => progress.update(`aibom: hashing ${formatBytes(done)} of ${formatBytes(total)}`),
    });
    progress.done();
    check?.(outcome.bundle);
  } else {
    const { signFile } = await import('../../src/signature/sign-file.js');
    outcome = await signFile(path, identity, { inToto: !!opts.inToto, ...(check ? { check } : {}) });
  }
  if (opts.bundle === undefined && folder) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dirname(bundlePath), { recursive: true });
  }
  await writeFileAtomic(bundlePath, `${JSON.stringify(outcome.bundle)}\n`);
  await report(outcome, bundlePath, !!opts.json);
  if (!opts.json) warnUnlogged(outcome);
  return 0;
}

/** A key-signed bundle without a log entry verifies only where the verifier is told to accept that: say so. */
export function warnUnlogged(outcome: SignOutcome): void {
  const s = outcome.summary;
  // A model folder is model_signing's format, whose key method records no log entry: nothing to add.
  if (s.signer.method !== 'key' || s.tlogEntries.length > 0 || outcome.kind === 'folder') return;
  printInfo(
    `aibom: note: this key-signed bundle has no transparency log entry${s.timestamps ? '' : ' and no timestamp'}: ` +
      'a verifier must be given the public key and must accept a bundle without a log entry ' +
      '(aibom verify --key, model_signing verify key, cosign verify-blob --insecure-ignore-tlog); ' +
      "sigstore-js's verify() and cosign's defaults refuse it",
  );
}

/** Print what was signed: one line on stderr, or JSON on stdout. */
export async function report(outcome: SignOutcome, bundlePath: string, json: boolean): Promise<void> {
  const { describeSigner } = await import('../../src/signature/summary.js');
  const s = outcome.summary;
  if (json) {
    printJson({
      signed: outcome.target,
      kind: outcome.kind,
      sha256: outcome.sha256,
      bundle: bundlePath,
      mediaType: s.mediaType,
      content: s.content,
      signer: s.signer,
      tlogEntries: s.tlogEntries,
      timestamps: s.timestamps,
      ...(outcome.predicateType ? { predicateType: outcome.predicateType } : {}),
      ...(outcome.subjects ? { subjects: outcome.subjects } : {}),
      ...(outcome.files !== undefined ? { files: outcome.files, bytes: outcome.bytes } : {}),
      ...(outcome.ignoredPaths ? { ignoredPaths: outcome.ignoredPaths } : {}),
    });
    return;
  }
  const what =
    outcome.kind === 'folder'
      ? `folder ${outcome.target} (${outcome.files} files, model_signing digest sha256:${outcome.sha256.slice(0, 16)}…)`
      : outcome.kind === 'attestation'
        ? `${outcome.predicateType} attestation over ${outcome.subjects?.length ?? 0} subject${outcome.subjects?.length === 1 ? '' : 's'}`
        : `${outcome.target} (sha256:${outcome.sha256.slice(0, 16)}…${outcome.kind === 'in-toto' ? ', in-toto statement' : ''})`;
  const logs = s.tlogEntries.map((e) => `Rekor log index ${e.logIndex}`).join(', ');
  const witnesses = [logs, s.timestamps ? `${s.timestamps} signed timestamp${s.timestamps > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
  printInfo(`aibom: signed ${what} ${describeSigner(s.signer)}${witnesses ? `; ${witnesses}` : ''}; bundle: ${bundlePath}`);
}
