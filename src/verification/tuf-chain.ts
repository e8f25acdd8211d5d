/**
 * The cached trusted root is trusted only through the TUF chain anchored in a root that is not
 * in the cache: the Sigstore public-good root carried in the installed @sigstore/tuf package
 * (seeds.json), or, for a private Sigstore instance, the initial root.json named by
 * AIBOM_TUF_ROOT. At every load: each root version from the anchor to the cached root.json is
 * signed by a threshold of the previous version's root keys and of its own; timestamp,
 * snapshot and targets are signed by the keys that root names and chain by version and hash;
 * the trusted_root.json target's bytes have the length and hashes targets.json gives. The
 * trusted root used is those target bytes. A cache that does not verify is refused, never
 * used (a planted trusted_root.json lets a forged keyless bundle pass).
 *
 * Expiry of the TUF metadata is not enforced here: verification is offline, and an agent must
 * not stop starting because nobody ran `aibom trust update` for a week. Rollback of the chain
 * below the anchor is refused; freshness is what `trust update` is for.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VerifyFailure } from './result.js';

export const PUBLIC_GOOD_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
const MAX_META_BYTES = 8 * 1024 * 1024;
const MAX_CHAIN = 1000;

interface TufMeta {
  signed: { version: number; type: string } & Record<string, unknown>;
  verifyDelegate(role: string, meta: TufMeta): void;
}
interface TufModels {
  Metadata: { fromJSON(kind: string, json: unknown): TufMeta };
  MetadataKind: { Root: string; Timestamp: string; Snapshot: string; Targets: string };
}

/** @tufjs/models, as @sigstore/tuf's own tuf-js loads it (loaded only when a cache is verified). */
function models(): TufModels {
  const req = createRequire(import.meta.url);
  const tufJs = createRequire(req.resolve('@sigstore/tuf')).resolve('tuf-js');
  return createRequire(tufJs)('@tufjs/models') as TufModels;
}

/** Where `aibom trust update` keeps a mirror's TUF metadata (the layout of @sigstore/tuf's cache). */
export function tufRepoDir(trustDir: string, mirrorURL: string): string {
  const url = new URL(mirrorURL);
  return join(trustDir, 'tuf', encodeURIComponent(url.host + url.pathname.replace(/\/$/, '')));
}

/** The mirror the cache came from (written by `trust update`; only locates files, trusts nothing). */
export function cachedMirror(trustDir: string): string {
  try {
    const doc = JSON.parse(readFileSync(join(trustDir, 'source.json'), 'utf8')) as { mirrorURL?: unknown };
    if (typeof doc.mirrorURL === 'string') return doc.mirrorURL;
  } catch {
    // an older cache: the public-good mirror
  }
  return PUBLIC_GOOD_MIRROR;
}

/** The anchor root.json bytes: AIBOM_TUF_ROOT, else the public-good seed (only for the public-good mirror). */
export function anchorRoot(mirrorURL: string, env: NodeJS.ProcessEnv, display: string): Buffer {
  if (env.AIBOM_TUF_ROOT) return readBounded(env.AIBOM_TUF_ROOT, env.AIBOM_TUF_ROOT);
  if (mirrorURL !== PUBLIC_GOOD_MIRROR) {
    throw new VerifyFailure('untrusted', `the cached trusted root came from ${mirrorURL}, whose TUF root is not built in: set AIBOM_TUF_ROOT to that repository's initial root.json, or pass --trusted-root`, display);
  }
  const req = createRequire(import.meta.url);
  const seeds = JSON.parse(readFileSync(join(req.resolve('@sigstore/tuf/package.json'), '..', 'seeds.json'), 'utf8')) as Record<string, { 'root.json'?: string }>;
  const b64 = seeds[PUBLIC_GOOD_MIRROR]?.['root.json'];
  if (typeof b64 !== 'string') throw new VerifyFailure('untrusted', 'the installed @sigstore/tuf carries no public-good root.json to anchor the cache in', display);
  return Buffer.from(b64, 'base64');
}

function readBounded(file: string, display: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new VerifyFailure('untrusted', `cannot read ${display}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, display);
  }
  if (buf.length > MAX_META_BYTES) throw new VerifyFailure('untrusted', `${display} is over ${MAX_META_BYTES} bytes`, display);
  return buf;
}

/**
 * Verify the cache in `trustDir` and return the trusted root JSON from the verified target
 * bytes. Throws VerifyFailure('untrusted') naming what does not verify.
 */
export function verifyCachedTrustedRoot(trustDir: string, env: NodeJS.ProcessEnv, display: string, tufDir: string = join(trustDir, 'tuf'), mirrorURL?: string): unknown {
  const mirror = mirrorURL ?? cachedMirror(trustDir);
  const repo = tufRepoDir(trustDir, mirror).replace(join(trustDir, 'tuf'), tufDir);
  const { Metadata, MetadataKind } = models();
  const fail = (msg: string): never => {
    throw new VerifyFailure('untrusted', `the cached trusted root does not verify against the TUF metadata anchored in ${env.AIBOM_TUF_ROOT ? 'AIBOM_TUF_ROOT' : 'the built-in Sigstore root'}: ${msg} (run \`aibom trust update\` again, or pass --trusted-root)`, display);
  };
  const parse = (kind: string, bytes: Buffer, name: string): TufMeta => {
    try {
      return Metadata.fromJSON(kind, JSON.parse(bytes.toString('utf8')));
    } catch (err) {
      return fail(`${name} does not parse: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const verify = (by: TufMeta, role: string, meta: TufMeta, name: string) => {
    try {
      by.verifyDelegate(role, meta);
    } catch (err) {
      fail(`${name} is not signed by the ${role} keys of root version ${by.signed.version}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const read = (rel: string) => {
    try {
      return readBounded(join(repo, rel), rel);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
  };

  let trusted = parse(MetadataKind.Root, anchorRoot(mirror, env, display), 'the anchor root.json');
  const latest = parse(MetadataKind.Root, read('root.json'), 'root.json');
  if (latest.signed.version < trusted.signed.version) fail(`root.json is version ${latest.signed.version}, older than the anchor (version ${trusted.signed.version})`);
  if (latest.signed.version - trusted.signed.version > MAX_CHAIN) fail('the root chain is too long');
  while (trusted.signed.version < latest.signed.version) {
    const v = trusted.signed.version + 1;
    const next = v === latest.signed.version ? latest : parse(MetadataKind.Root, readBounded(join(trustDir, 'chain', `${v}.root.json`), `chain/${v}.root.json`), `root version ${v}`);
    if (next.signed.version !== v) fail(`root version ${v} says it is version ${next.signed.version}`);
    verify(trusted, 'root', next, `root version ${v}`);
    verify(next, 'root', next, `root version ${v}`);
    trusted = next;
  }
  if (trusted !== latest) verify(trusted, 'root', latest, 'root.json');

  const tsBytes = read('timestamp.json');
  const ts = parse(MetadataKind.Timestamp, tsBytes, 'timestamp.json');
  verify(trusted, 'timestamp', ts, 'timestamp.json');
  const snapBytes = read('snapshot.json');
  const snap = parse(MetadataKind.Snapshot, snapBytes, 'snapshot.json');
  const snapMeta = ts.signed.snapshotMeta as { version: number; verify(b: Buffer): void };
  try {
    snapMeta.verify(snapBytes);
  } catch (err) {
    fail(`snapshot.json is not the one timestamp.json names: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (snap.signed.version !== snapMeta.version) fail(`snapshot.json is version ${snap.signed.version}, timestamp.json names version ${snapMeta.version}`);
  verify(trusted, 'snapshot', snap, 'snapshot.json');
  const targetsBytes = read('targets.json');
  const targets = parse(MetadataKind.Targets, targetsBytes, 'targets.json');
  const targetsMeta = (snap.signed.meta as Record<string, { version: number; verify(b: Buffer): void }>)['targets.json'];
  if (!targetsMeta) fail('snapshot.json names no targets.json');
  try {
    targetsMeta!.verify(targetsBytes);
  } catch (err) {
    fail(`targets.json is not the one snapshot.json names: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (targets.signed.version !== targetsMeta!.version) fail(`targets.json is version ${targets.signed.version}, snapshot.json names version ${targetsMeta!.version}`);
  verify(trusted, 'targets', targets, 'targets.json');

  const target = (targets.signed.targets as Record<string, { length: number; hashes: Record<string, string> }>)['trusted_root.json'];
  if (!target) fail('targets.json names no trusted_root.json');
  const bytes = read(join('targets', encodeURIComponent('trusted_root.json')));
  if (bytes.length !== target!.length) fail(`the trusted_root.json target is ${bytes.length} bytes, targets.json says ${target!.length}`);
  const hashes = Object.entries(target!.hashes ?? {});
  if (!hashes.some(([alg]) => alg === 'sha256' || alg === 'sha512')) fail('targets.json gives no SHA-256 or SHA-512 of trusted_root.json');
  for (const [alg, hex] of hashes) {
    if (alg !== 'sha256' && alg !== 'sha512') continue;
    if (createHash(alg).update(bytes).digest('hex') !== hex) fail(`the trusted_root.json target's ${alg} is not the one targets.json gives`);
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail('the trusted_root.json target is not JSON');
  }
}
