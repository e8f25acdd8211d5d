/**
 * The OpenSSF model_signing v1.0 interoperability vectors (written by model_signing itself)
 * verify through `aibom verify` with the public key and with the certificate chain, and
 * fail after any change to the model folder: a changed, added or removed file, a symlink,
 * with the differences reported. Folder options as model_signing has them: --ignore-paths,
 * --ignore-git-paths (default on), --allow-symlinks (default off).
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from '../helpers/cli.js';
import { MODEL_SIGNING, requireConformanceData, verifyEnv } from '../helpers/verify.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
const KEY = join(MODEL_SIGNING, 'keys', 'signing-key-pub.pem');
const CA = join(MODEL_SIGNING, 'keys', 'ca-cert.pem');
const CERT_MODEL = join(MODEL_SIGNING, 'v1.0.0-certificate');
const KEY_MODEL = join(MODEL_SIGNING, 'v1.0.0-elliptic-key');

beforeAll(async () => {
  requireConformanceData();
  tmp = await tempDir('aibom-verify-ms-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
});
afterAll(async () => {
  await tmp?.cleanup();
});

const verify = (args: string[]) => runCli(['verify', ...args], { env: verifyEnv(cache) });

/** A writable copy of a vector folder (the shared data is read-only). */
async function copyModel(src: string, name: string): Promise<string> {
  const dst = join(tmp.dir, name, src.split('/').pop()!);
  await mkdir(join(tmp.dir, name), { recursive: true });
  await cp(src, dst, { recursive: true });
  for (const f of await readdir(dst)) await chmod(join(dst, f), 0o644);
  await chmod(dst, 0o755);
  return dst;
}

describe('model_signing vectors verify', () => {
  it('certificate vector: with the public key (model.sig found in the folder)', async () => {
    const r = await verify([CERT_MODEL, '--key', KEY, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(true);
    expect(j.target).toMatchObject({ kind: 'folder', files: 2, sha256: '61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226' });
    expect(j.statement.predicateType).toBe('https://model_signing/signature/v1.0');
  });

  it('certificate vector: with the CA chain (model_signing certificate method)', async () => {
    const r = await verify([CERT_MODEL, '--certificate-chain', CA]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK .*v1\.0\.0-certificate \(2 files\): signed by CN=intermediate-ca/);
  });

  it('certificate vector: a CA that did not issue the chain fails as untrusted', async () => {
    const other = join(tmp.dir, 'other-ca.pem');
    // The signing certificate itself is no CA of its own chain.
    await cp(join(MODEL_SIGNING, 'keys', 'signing-key-cert.pem'), other);
    const r = await verify([CERT_MODEL, '--certificate-chain', other, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('untrusted');
  });

  it('elliptic-key vector: the single-file model verifies (resource ".")', async () => {
    const r = await verify([join(KEY_MODEL, 'signme-1'), '--bundle', join(KEY_MODEL, 'model.sig'), '--key', KEY]);
    expect(r.code).toBe(0);
    // Given the folder instead, aibom says the signature covers a single file.
    const d = await verify([KEY_MODEL, '--key', KEY]);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('covers a single file (signme-1)');
  });

  it('verifies by the model digest (the statement subject)', async () => {
    const r = await verify(['sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226', '--bundle', join(CERT_MODEL, 'model.sig'), '--key', KEY]);
    expect(r.code).toBe(0);
    const bad = await verify(['sha256:' + '0'.repeat(64), '--bundle', join(CERT_MODEL, 'model.sig'), '--key', KEY]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('digest-mismatch');
  });

  it('a key that did not sign fails', async () => {
    const pub = join(tmp.dir, 'p384.pub');
    await writeFile(pub, generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await verify([CERT_MODEL, '--key', pub, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('signature');
  });
});

describe('model_signing vectors fail after any change to the folder', () => {
  it('a changed file', async () => {
    const m = await copyModel(CERT_MODEL, 'changed');
    expect((await verify([m, '--key', KEY])).code).toBe(0);
    await writeFile(join(m, 'signme-2'), 'changed\n');
    const r = await verify([m, '--key', KEY, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('digest-mismatch');
    expect(j.differences).toEqual({ changed: ['signme-2'], added: [], missing: [] });
    const line = await verify([m, '--key', KEY]);
    expect(line.stdout).toMatch(/^FAILED .*the folder does not match its signature \(changed 1: signme-2\)/);
  });

  it('an added file, also in a subfolder', async () => {
    const m = await copyModel(CERT_MODEL, 'added');
    await mkdir(join(m, 'sub'));
    await writeFile(join(m, 'sub', 'extra.bin'), 'x');
    await writeFile(join(m, 'README'), 'x');
    const r = await verify([m, '--key', KEY, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).differences).toEqual({ changed: [], added: ['README', 'sub/extra.bin'], missing: [] });
  });

  it('a removed file', async () => {
    const m = await copyModel(CERT_MODEL, 'removed');
    await unlink(join(m, 'signme-1'));
    const r = await verify([m, '--certificate-chain', CA, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).differences).toEqual({ changed: [], added: [], missing: ['signme-1'] });
  });

  it('a changed single-file model', async () => {
    const m = await copyModel(KEY_MODEL, 'single');
    await writeFile(join(m, 'signme-1'), 'tampered');
    const r = await verify([join(m, 'signme-1'), '--bundle', join(m, 'model.sig'), '--key', KEY, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).differences.changed).toEqual(['.']);
  });

  it('a symlink fails by default; --allow-symlinks hashes its target', async () => {
    const m = await copyModel(CERT_MODEL, 'symlink');
    const outside = join(tmp.dir, 'outside-2');
    await writeFile(outside, await readFile(join(m, 'signme-2')));
    await unlink(join(m, 'signme-2'));
    await symlink(outside, join(m, 'signme-2'));
    const r = await verify([m, '--key', KEY]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('symbolic link');
    expect(r.stdout).toContain('--allow-symlinks');
    // Same bytes behind the link: with --allow-symlinks the manifest matches.
    expect((await verify([m, '--key', KEY, '--allow-symlinks'])).code).toBe(0);
  });
});

describe('batch over model folders', () => {
  it('dir entries, each with its own way to identify the signer, relative to the batch file', async () => {
    const m = await copyModel(CERT_MODEL, 'batch');
    const list = join(tmp.dir, 'batch', 'models.jsonl');
    await writeFile(
      list,
      [
        { dir: 'v1.0.0-certificate', key: KEY },
        { dir: 'v1.0.0-certificate', certificateChain: CA },
        { artifact: join(KEY_MODEL, 'signme-1'), bundle: join(KEY_MODEL, 'model.sig'), key: KEY },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const ok = await verify(['--batch', list]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('3 verified, 0 not verified');
    await writeFile(join(m, 'signme-1'), 'changed');
    const bad = await verify(['--batch', list, '--json']);
    expect(bad.code).toBe(1);
    const j = JSON.parse(bad.stdout);
    expect(j.results.map((r: { verified: boolean }) => r.verified)).toEqual([false, false, true]);
    expect(j.results[0].differences.changed).toEqual(['signme-1']);
  });
});

describe('folder options, as model_signing has them', () => {
  it('--ignore-paths relative to the folder or to the working directory', async () => {
    const m = await copyModel(CERT_MODEL, 'ignore');
    await mkdir(join(m, 'cache'));
    await writeFile(join(m, 'cache', 'tmp.bin'), 'x');
    await writeFile(join(m, 'notes.txt'), 'x');
    expect((await verify([m, '--key', KEY])).code).toBe(1);
    expect((await verify([m, '--key', KEY, '--ignore-paths', 'cache', 'notes.txt'])).code).toBe(0);
    // Relative to the working directory (the CLI runs in the repository here), and absolute.
    const fromCwd = relative(REPO, join(m, 'cache'));
    expect(fromCwd.startsWith('..')).toBe(true);
    const rel = await runCli(['verify', m, '--key', KEY, '--ignore-paths', fromCwd, join(m, 'notes.txt')], { cwd: REPO, env: verifyEnv(cache) });
    expect(rel.code).toBe(0);
  });

  it('git paths are left out by default, and hashed with --no-ignore-git-paths', async () => {
    const m = await copyModel(CERT_MODEL, 'git');
    await mkdir(join(m, '.git'));
    await writeFile(join(m, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(m, '.gitattributes'), '* binary\n');
    expect((await verify([m, '--key', KEY])).code).toBe(0);
    const r = await verify([m, '--key', KEY, '--no-ignore-git-paths', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).differences.added).toEqual(['.git/HEAD', '.gitattributes']);
  });

  it('the bundle inside the folder is never hashed, whatever its name', async () => {
    const m = await copyModel(CERT_MODEL, 'renamed');
    await cp(join(m, 'model.sig'), join(m, 'release.sig'));
    await rm(join(m, 'model.sig'));
    expect((await verify([m, '--bundle', join(m, 'release.sig'), '--key', KEY])).code).toBe(0);
  });
});
