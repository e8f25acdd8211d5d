/**
 * An independent re-statement, for tests, of what OpenSSF model_signing (≥ 1.1) checks when it
 * verifies a folder signed with an elliptic-curve key (`model_signing verify key`), written from
 * its documented behaviour rather than from aibom's code, so a test can say "model_signing would
 * accept this bundle" without Python:
 *  - the bundle is v0.3; a public-key hint, if present, is the hex SHA-256 of the key's SPKI PEM;
 *  - the DSSE signature verifies over PAE("application/vnd.in-toto+json", payload) with ECDSA and
 *    the curve's hash (P-256 SHA-256, P-384 SHA-384);
 *  - the payload is an in-toto Statement v1 with predicateType https://model_signing/signature/v1.0,
 *    one subject, whose sha256 is the SHA-256 of the resource digests in the order listed;
 *  - the folder, re-hashed (one SHA-256 per regular file, paths relative and POSIX), leaving out the
 *    signature's serialization.ignore_paths, the given ignore paths and, by default, the top-level
 *    git paths, has exactly the signed resources.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ModelSigningCheck {
  ok: boolean;
  problems: string[];
}

export async function modelSigningVerifyKey(
  folder: string,
  bundle: any,
  publicKeyPem: string,
  options: { ignorePaths?: string[]; ignoreGitPaths?: boolean } = {},
): Promise<ModelSigningCheck> {
  const problems: string[] = [];
  if (bundle.mediaType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') problems.push(`media type ${bundle.mediaType}`);
  const hint = bundle.verificationMaterial?.publicKey?.hint;
  if (hint && hint !== createHash('sha256').update(publicKeyPem).digest('hex')) problems.push('key hint does not match the key');
  const env = bundle.dsseEnvelope;
  const payload = Buffer.from(env.payload, 'base64');
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const key = createPublicKey(publicKeyPem);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  if (!cryptoVerify(hash, pae, key, Buffer.from(env.signatures[0].sig, 'base64'))) problems.push('signature does not verify');
  if (env.payloadType !== type) problems.push(`payload type ${env.payloadType}`);
  const st = JSON.parse(payload.toString('utf8'));
  if (st._type !== 'https://in-toto.io/Statement/v1') problems.push(`_type ${st._type}`);
  if (st.predicateType !== 'https://model_signing/signature/v1.0') problems.push(`predicateType ${st.predicateType}`);
  if (st.subject?.length !== 1) problems.push('not exactly one subject');
  const h = createHash('sha256');
  for (const r of st.predicate.resources) h.update(Buffer.from(r.digest, 'hex'));
  if (h.digest('hex') !== st.subject?.[0]?.digest?.sha256) problems.push('subject digest is not the digest of the resources');
  const ser = st.predicate.serialization;
  if (ser.method !== 'files' || ser.hash_type !== 'sha256') problems.push(`serialization ${JSON.stringify(ser)}`);
  const ignores = [...(ser.ignore_paths ?? []), ...(options.ignorePaths ?? [])];
  if (options.ignoreGitPaths ?? true) ignores.push('.git', '.gitattributes', '.github', '.gitignore');
  const actual = await hashFolder(folder, ignores, !!ser.allow_symlinks);
  const signed = new Map<string, string>(st.predicate.resources.map((r: any) => [r.name, r.digest]));
  for (const [name, digest] of actual) {
    if (!signed.has(name)) problems.push(`extra file ${name}`);
    else if (signed.get(name) !== digest) problems.push(`changed file ${name}`);
  }
  for (const name of signed.keys()) if (!actual.has(name)) problems.push(`missing file ${name}`);
  return { ok: problems.length === 0, problems };
}

/** name → sha256 of every regular file under dir, leaving out paths under any ignore (prefix match on path segments). */
export async function hashFolder(dir: string, ignores: string[], allowSymlinks: boolean): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ignored = (rel: string) => ignores.some((i) => rel === i || rel.startsWith(`${i}/`));
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (ignored(r)) continue;
      const p = join(dir, r);
      if (e.isSymbolicLink() && !allowSymlinks) throw new Error(`symlink ${r}`);
      const st = e.isSymbolicLink() ? await stat(p) : null;
      if (e.isDirectory() || st?.isDirectory()) await walk(r);
      else out.set(r, createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk('');
  return out;
}
