/**
 * Sign → verify round trips through the CLI against the loopback Sigstore stack (real
 * sockets, Fulcio/Rekor v1 and v2/TSA): files, folders (model_signing), attestations with
 * many subjects, Rekor v2, keys; and what must fail: another identity, another issuer, a
 * changed file or folder, a bundle checked against the public-good root instead of the
 * stack's. No network beyond 127.0.0.1. The first round trip verifies through the CLI (exit
 * codes, the printed verdict); the others check the verdict in-process
 * (test/helpers/verify-in-process.ts), signing still through the CLI.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';
import { verifyEnv } from './helpers/verify.js';
import { verifyInProcess } from './helpers/verify-in-process.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-verify-keyless-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

const SUB = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0';
const env = () => cleanEnv(verifyEnv(cache));
const sign = (args: string[], sub = SUB) =>
  runCli(['sign', ...args, '--identity-token', stack.mintToken({ sub }), '--signing-config', stack.signingConfigPath], { env: env() });
const verify = (args: string[]) => runCli(['verify', ...args], { env: env() });
/** The same check in-process (test/helpers/verify-in-process.ts): the verdict and its reason, without a process. */
const verifyLib = (args: string[]) => verifyInProcess(args, env());
const who = () => ['--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath];

async function file(name: string, content = `${name}\n`): Promise<string> {
  const p = join(tmp.dir, name);
  await writeFile(p, content);
  return p;
}

describe('keyless: sign FILE → verify', () => {
  it('verifies by path and by digest, naming the signer, the log and the TSA', async () => {
    const f = await file('agent-1.2.0.tgz');
    const s = await sign([f]);
    expect(s.code, s.stderr).toBe(0);
    const r = await verify([f, ...who(), '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.signer).toEqual({ method: 'certificate', identity: SUB, issuer: stack.urls.oidc, claims: { issuer: stack.urls.oidc } });
    expect(j.witnesses.map((w: { kind: string }) => w.kind).sort()).toEqual(['tlog', 'tsa']);
    expect(j.witnesses.find((w: { kind: string }) => w.kind === 'tlog').log).toBe(stack.urls.rekor);
    const digest = `sha256:${createHash('sha256').update(await readFile(f)).digest('hex')}`;
    const d = await verify([digest, '--bundle', `${f}.sigstore.json`, ...who()]);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toMatch(/^OK sha256:[0-9a-f]{64}: signed by https:\/\/github\.com\/acme\/agent\/.*vouched for by transparency log .*timestamp authority/);
  });

  it('fails for another identity, an identity regexp matching only a part, another issuer, a changed file', async () => {
    const f = await file('agent-2.tgz');
    expect((await sign([f])).code).toBe(0);
    const base = ['--trusted-root', stack.trustedRootPath];
    const other = await verifyLib([f, '--certificate-identity', SUB.replace('acme', 'evil'), '--certificate-oidc-issuer', stack.urls.oidc, ...base]);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('wrong-identity');
    const partial = await verifyLib([f, '--certificate-identity-regexp', 'acme/agent', '--certificate-oidc-issuer', stack.urls.oidc, ...base]);
    expect(partial.code).toBe(1);
    const issuer = await verifyLib([f, '--certificate-identity', SUB, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', ...base]);
    expect(issuer.code).toBe(1);
    await writeFile(f, 'changed\n');
    const changed = await verifyLib([f, ...who(), '--json']);
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.stdout).reason).toBe('digest-mismatch');
  });

  it('a bundle from the local stack does not verify against the public-good root', async () => {
    const f = await file('agent-3.tgz');
    expect((await sign([f])).code).toBe(0);
    const r = await verifyLib([f, '--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('untrusted');
  });

  it('Rekor v2 (signing config with majorApiVersion 2)', async () => {
    const f = await file('agent-v2.tgz');
    const s = await runCli(['sign', f, '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigRekorV2Path], { env: env() });
    expect(s.code, s.stderr).toBe(0);
    const r = await verifyLib([f, ...who()]);
    expect(r.code, r.stdout).toBe(0);
  });
});

describe('keyless: sign DIR (model_signing) → verify', () => {
  it('verifies the folder, then reports each change', async () => {
    const dir = join(tmp.dir, 'model');
    await mkdir(join(dir, 'weights'), { recursive: true });
    await writeFile(join(dir, 'config.json'), '{"layers": 2}\n');
    await writeFile(join(dir, 'weights', 'part-1.bin'), Buffer.alloc(4096, 1));
    await writeFile(join(dir, 'weights', 'part-2.bin'), Buffer.alloc(4096, 2));
    const s = await sign([dir]);
    expect(s.code, s.stderr).toBe(0);
    const ok = await verifyLib([dir, ...who(), '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).target).toMatchObject({ kind: 'folder', files: 3 });
    await writeFile(join(dir, 'weights', 'part-2.bin'), Buffer.alloc(4096, 3));
    await writeFile(join(dir, 'extra.py'), 'print(1)\n');
    const bad = await verifyLib([dir, ...who(), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).differences).toEqual({ changed: ['weights/part-2.bin'], added: ['extra.py'], missing: [] });
  });
});

describe('keyless: attest → verify each subject', () => {
  it('every release artifact is a subject; a file that is not fails', async () => {
    const a = await file('app-linux.tgz', 'linux build\n');
    const b = await file('app-darwin.tgz', 'darwin build\n');
    const bom = await file(
      'bom.cdx.json',
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { type: 'application', name: 'app' } } }),
    );
    const out = join(tmp.dir, 'release.intoto.sigstore.json');
    const s = await runCli(['attest', '--predicate', bom, '--bundle', out, '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath, a, b], {
      env: env(),
    });
    expect(s.code, s.stderr).toBe(0);
    for (const f of [a, b]) {
      const r = await verifyLib([f, '--bundle', out, ...who(), '--json']);
      expect(r.code, r.stdout).toBe(0);
      expect(JSON.parse(r.stdout).statement.predicateType).toBe('https://cyclonedx.org/bom');
    }
    const c = await file('app-windows.zip', 'not attested\n');
    const r = await verifyLib([c, '--bundle', out, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no subject of the statement');
  });
});

describe('key: sign → verify --key', () => {
  it('P-256 and P-384 message signatures, and a P-384 folder signature (model_signing); Ed25519 folders are refused', async () => {
    for (const [name, curve, target] of [
      ['p256', 'P-256', await file('k1.bin')],
      ['p384', 'P-384', await file('k2.bin')],
      ['p384-folder', 'P-384', join(tmp.dir, 'ec-model')],
    ] as const) {
      if (name === 'p384-folder') {
        await mkdir(target, { recursive: true });
        await writeFile(join(target, 'w.bin'), 'weights');
      }
      const pair = generateKeyPairSync('ec', { namedCurve: curve });
      const priv = join(tmp.dir, `${name}.pem`);
      const pub = join(tmp.dir, `${name}.pub`);
      await writeFile(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
      const s = await runCli(['sign', target, '--key', priv, '--no-tlog-upload'], { env: env() });
      expect(s.code, `${name}: ${s.stderr}`).toBe(0);
      const r = await verifyLib([target, '--key', pub]);
      expect(r.code, `${name}: ${r.stdout}`).toBe(0);
      const other = join(tmp.dir, `${name}-other.pub`);
      await writeFile(other, generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }));
      expect((await verifyLib([target, '--key', other])).code, name).toBe(1);
    }
    // model_signing verifies elliptic-curve keys only: an Ed25519 folder signature is refused before anything is hashed.
    const ed = join(tmp.dir, 'ed-model');
    await mkdir(ed, { recursive: true });
    await writeFile(join(ed, 'w.bin'), 'weights');
    const edKey = join(tmp.dir, 'ed25519.pem');
    await writeFile(edKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const refused = await runCli(['sign', ed, '--key', edKey, '--no-tlog-upload'], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ed25519\.pem: model_signing verifies folder signatures made with elliptic-curve keys only .*ECDSA P-256 or P-384/);
    await expect(stat(join(ed, 'model.sig'))).rejects.toThrow();
  });
});

describe('batch over keyless bundles', () => {
  it('one process, one trust load, many bundles', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) {
      const f = await file(`batch-${i}.txt`);
      expect((await sign([f])).code).toBe(0);
      lines.push(JSON.stringify({ artifact: f, bundle: `${f}.sigstore.json` }));
    }
    const list = join(tmp.dir, 'batch.jsonl');
    await writeFile(list, `${lines.join('\n')}\n`);
    const r = await verify(['--batch', list, ...who()]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('5 verified, 0 not verified');
  });
});
