/**
 * `aibom sign DIR`: a model or plugin folder signed in the OpenSSF model_signing v1.0 format, so
 * that model_signing verifies what aibom signs. The manifest (one SHA-256 per file, sorted,
 * folder digest over them) comes from src/digest/digest.ts; the statement from
 * src/attestation/model-signing.ts; it is signed in a DSSE envelope (payloadType
 * application/vnd.in-toto+json) inside a Sigstore bundle, written by default to DIR/model.sig.
 *
 * What is left out, as model_signing leaves it out: the signature file itself, `--ignore-paths`
 * (relative to the folder, or to the working directory when they land inside the folder), and
 * the git paths (.git, .gitattributes, .github, .gitignore) unless `--no-ignore-git-paths`.
 * Like model_signing ≥ 1.1, the statement records the left-out paths (serialization.ignore_paths)
 * so that a verifier leaves out the same ones.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE } from '../attestation/dsse.js';
import { isSafeResourceName, modelSigningStatement } from '../attestation/model-signing.js';
import { statementBytes } from '../attestation/statement.js';
import { AibomError } from '../errors.js';
import { compareCodePoints, folderManifest, GIT_PATHS } from '../digest/digest.js';
import { createBundle, type SigningIdentity } from './bundle-builder.js';
import { keyOf } from './sign-file.js';
import { type SignOutcome, summarizeBundle } from './summary.js';
import { trimTrailing } from '../util/text.js';

export interface FolderSignOptions {
  /** Where the bundle will be written (left out of the manifest when inside the folder). */
  bundlePath: string;
  ignorePaths?: string[];
  /** Default true, as model_signing. */
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
}

export async function signFolder(dir: string, identity: SigningIdentity, options: FolderSignOptions): Promise<SignOutcome> {
  if (identity.mode === 'key' && identity.key.kind === 'ed25519') {
    // model_signing's verifier refuses them ("Only elliptic curve keys are supported"): a folder
    // signature nobody else can verify is not written.
    throw new AibomError(
      'USAGE',
      'model_signing verifies folder signatures made with elliptic-curve keys only (its key method refuses Ed25519): ' +
        'sign the folder with an ECDSA P-256 or P-384 key, or keyless; Ed25519 keys sign --in-toto statements and attestations',
      { file: identity.keyFile },
    );
  }
  const root = resolve(dir);
  const ignoreGitPaths = options.ignoreGitPaths ?? true;
  const userIgnores = options.ignorePaths ?? [];
  const manifest = await folderManifest(dir, {
    ignorePaths: [...userIgnores, resolve(options.bundlePath)],
    ignoreGitPaths,
    allowSymlinks: !!options.allowSymlinks,
    concurrency: 4,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (manifest.resources.length === 0) {
    throw new AibomError('INPUT', 'the folder has no files to sign (after ignored paths)', { file: dir });
  }
  const recorded = recordedIgnores(root, userIgnores, options.bundlePath, ignoreGitPaths);
  const statement = modelSigningStatement(manifest, { allowSymlinks: !!options.allowSymlinks, ignorePaths: recorded });
  const bundle = await createBundle({ kind: 'dsse', payload: statementBytes(statement), payloadType: IN_TOTO_PAYLOAD_TYPE }, identity);
  return {
    kind: 'folder',
    target: dir,
    sha256: manifest.digest,
    subjects: statement.subject.map((s) => ({ name: s.name ?? manifest.name, digest: s.digest })),
    predicateType: statement.predicateType,
    files: manifest.resources.length,
    bytes: manifest.totalBytes,
    ignoredPaths: recorded,
    bundle,
    summary: summarizeBundle(bundle, keyOf(identity)),
  };
}

/**
 * The left-out paths as the statement records them: POSIX paths relative to the folder, only
 * those inside it. Each `--ignore-paths` entry counts under both readings the manifest applies
 * (relative to the working directory when that lands inside the folder, and relative to the
 * folder), so a verifier that honours the record leaves out exactly what was left out here.
 */
export function recordedIgnores(root: string, ignorePaths: string[], bundlePath: string, ignoreGitPaths: boolean): string[] {
  const out = new Set<string>();
  const inside = (abs: string): string | undefined => {
    const rel = relative(root, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return rel.split(sep).join('/');
  };
  for (const p of ignorePaths) {
    const viaCwd = inside(resolve(p));
    if (viaCwd) out.add(viaCwd);
    // The folder-relative reading, spelled exactly as the manifest matches it.
    const literal = trimTrailing(p.split(sep).join('/').replace(/^\.\//, ''), '/');
    if (literal !== '.' && isSafeResourceName(literal)) out.add(literal);
  }
  // The bundle is a real path (relative to the working directory): only that reading.
  const bundle = inside(resolve(bundlePath));
  if (bundle) out.add(bundle);
  if (ignoreGitPaths) for (const g of GIT_PATHS) out.add(g);
  return [...out].sort(compareCodePoints);
}
