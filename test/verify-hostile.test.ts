/**
 * Hostile bundles and trusted roots for `aibom verify`, with material the tests make: bundles
 * signed through the loopback Sigstore stack and its own trusted root, then broken (the same
 * checks the conformance suite makes with the public-good cases, test/conformance/verify-cli).
 */
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';
import { verifyEnv } from './helpers/verify.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
let artifact: string;
let bundle: string;
let statement: string;
let dsse: string;

const SUB = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.2.0';
const env = () => cleanEnv(verifyEnv(cache));
const who = (root = stack.trustedRootPath) => ['--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', root];
const verify = (args: string[]) => runCli(['verify', ...args], { env: env() });

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-verify-hostile-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
  artifact = join(tmp.dir, 'agent-1.2.0.tgz');
  await writeFile(artifact, 'release\n');
  const sign = (args: string[]) => runCli(['sign', ...args, '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath], { env: env() });
  const s = await sign([artifact]);
  expect(s.code, s.stderr).toBe(0);
  bundle = `${artifact}.sigstore.json`;
  statement = join(tmp.dir, 'statement.json');
  const { createHash } = await import('node:crypto');
  await writeFile(
    statement,
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'agent-1.2.0.tgz', digest: { sha256: createHash('sha256').update('release\n').digest('hex') } }],
      predicateType: 'https://example.test/predicate/v1',
      predicate: {},
    }),
  );
  dsse = join(tmp.dir, 'statement.sigstore.json');
  const d = await sign([statement, '--in-toto', '--bundle', dsse]);
  expect(d.code, d.stderr).toBe(0);
  // The fixtures are right: both verify as made.
  expect((await verify([artifact, ...who()])).code).toBe(0);
  expect((await verify([artifact, '--bundle', dsse, ...who()])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

async function variant(name: string, from: string, change: (b: any) => void): Promise<string> {
  const b = JSON.parse(await readFile(from, 'utf8'));
  change(b);
  const f = join(tmp.dir, name);
  await writeFile(f, JSON.stringify(b));
  return f;
}

describe('hostile bundles', () => {
  it('an unknown bundle version is refused as malformed', async () => {
    const f = await variant('v99.json', bundle, (b) => {
      b.mediaType = 'application/vnd.dev.sigstore.bundle.v99.9+json';
    });
    const r = await verify([artifact, '--bundle', f, ...who(), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('malformed');
  });

  it('malformed JSON: refused with the position, no stack trace', async () => {
    const f = join(tmp.dir, 'cut.json');
    const text = await readFile(bundle, 'utf8');
    await writeFile(f, text.slice(0, Math.floor(text.length / 2)));
    const r = await verify([artifact, '--bundle', f, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/malformed: bundle is not valid JSON: .*line \d+, column \d+/);
    expect(r.stderr).not.toMatch(/\bat \S+ \(/);
  });

  it('a 50 MB bundle is refused without reading it', async () => {
    const f = join(tmp.dir, 'huge.sigstore.json');
    await writeFile(f, '');
    await truncate(f, 50 * 1024 * 1024);
    const r = await verify([artifact, '--bundle', f, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('bundle is too large: over the 16 MiB limit');
  });

  it('a deeply nested bundle, and a DSSE envelope with junk base64', async () => {
    const deep = join(tmp.dir, 'deep.json');
    await writeFile(deep, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const r = await verify([artifact, '--bundle', deep, ...who()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('malformed');
    const junk = await variant('junk.json', dsse, (b) => {
      b.dsseEnvelope.payload = `${b.dsseEnvelope.payload.slice(0, 20)}!!${b.dsseEnvelope.payload.slice(20)}`;
    });
    const j = await verify([artifact, '--bundle', junk, ...who()]);
    expect(j.code).toBe(1);
    expect(j.stdout).toContain('DSSE payload is not valid base64');
  });
});

describe('hostile trusted roots', () => {
  const root = (name: string, change: (r: any) => void) => variant(name, stack.trustedRootPath, change);

  it('a log key without validFor.start is refused, naming it', async () => {
    const f = await root('no-start.json', (r) => {
      delete r.tlogs[0].publicKey.validFor.start;
    });
    const r = await verify([artifact, ...who(f), '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('untrusted');
    expect(j.error).toContain('tlogs[0]');
    expect(j.error).toContain('validFor.start');
  });

  it('a certificate authority whose window ended before the signature fails as expired', async () => {
    const f = await root('ca-expired.json', (r) => {
      r.certificateAuthorities[0].validFor = { start: '2000-01-01T00:00:00Z', end: '2001-01-01T00:00:00Z' };
    });
    const r = await verify([artifact, ...who(f), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('expired');
    expect(JSON.parse(r.stdout).error).toMatch(/the certificate authority that issued the signing certificate was not valid/);
  });

  it('a trusted root that is not JSON, or has an unknown media type, is refused', async () => {
    const notJson = join(tmp.dir, 'root-bad.json');
    await writeFile(notJson, '{"mediaType": ');
    const a = await verify([artifact, ...who(notJson)]);
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('trusted root is not valid JSON');
    const b = await verify([artifact, ...who(await root('media.json', (r) => (r.mediaType = 'application/json')))]);
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('unsupported mediaType');
  });
});
