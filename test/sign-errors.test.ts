/**
 * Signing failures a user meets: unreachable or refusing services, bad tokens, no identity,
 * bad signing configs and service URLs. Each is a clear one-line error with the right exit
 * code, no stack trace, no token in the output, and never a bundle file (partial or not).
 */
import { createServer } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { cleanEnv, filesContaining } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let file: string;
let closedPort: string;

/** A loopback URL nothing listens on (a port we bound, then released). */
async function deadUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-sign-errors-');
  file = join(tmp.dir, 'artifact.txt');
  await writeFile(file, 'artifact\n');
  closedPort = await deadUrl();
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

async function noBundleWritten(): Promise<void> {
  const names = await readdir(tmp.dir);
  expect(names.filter((n) => n.includes('sigstore') || n.endsWith('.tmp'))).toEqual([]);
}

function expectClean(r: { stdout: string; stderr: string }, secrets: string[] = []) {
  expect(r.stderr).toMatch(/^aibom: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('looks like a bug');
  for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
}

describe('signing service failures', () => {
  it('an unreachable Fulcio: exit 2 naming Fulcio and its address; no bundle; token not shown', async () => {
    const token = stack.mintToken();
    const r = await runCli(['sign', file, '--identity-token', token, '--fulcio-url', closedPort, '--rekor-url', stack.urls.rekor], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Fulcio at ${closedPort} could not issue a signing certificate: connection refused`);
    expectClean(r, [token]);
    await noBundleWritten();
  });

  it('an unreachable Rekor or TSA: exit 2 naming the service; no bundle', async () => {
    const r1 = await runCli(['sign', file, '--identity-token', stack.mintToken(), '--fulcio-url', stack.urls.fulcio, '--rekor-url', closedPort], {
      env: cleanEnv(),
    });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`Rekor at ${closedPort} could not record the signature in the transparency log: connection refused`);
    const r2 = await runCli(
      ['sign', file, '--identity-token', stack.mintToken(), '--fulcio-url', stack.urls.fulcio, '--rekor-url', stack.urls.rekor, '--tsa-url', closedPort],
      { env: cleanEnv() },
    );
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`the timestamp authority at ${closedPort} could not timestamp the signature: connection refused`);
    expectClean(r1);
    expectClean(r2);
    await noBundleWritten();
  });

  it('Fulcio refusing a token (forged signature): exit 2 with the HTTP status and a hint, never the token', async () => {
    const good = stack.mintToken({ sub: 'forged@example.com' });
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}`;
    const r = await runCli(['sign', file, '--identity-token', forged, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Fulcio at .* could not issue a signing certificate: HTTP 401.*identity token was refused/);
    expectClean(r, [forged, `${h}.${p}`]);
    // Not even with --debug (stack traces on).
    const debug = await runCli(['--debug', 'sign', file, '--identity-token', forged, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(debug.code).toBe(2);
    expect(debug.stdout + debug.stderr).not.toContain(`${h}.${p}`);
    await noBundleWritten();
    expect(await filesContaining(tmp.dir, p!)).toEqual([]);
  });

  it('a token that is not a JWT, or has expired, is refused before any service is asked', async () => {
    const before = stack.requests.fulcio;
    const notJwt = 'this-is-not-a-jwt-at-all-but-a-secret';
    const r1 = await runCli(['sign', file, '--identity-token', notJwt, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--identity-token is not an identity token');
    expectClean(r1, [notJwt]);
    const expired = stack.mintToken({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const r2 = await runCli(['sign', file, '--identity-token', expired, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--identity-token expired at \d{4}-/);
    expectClean(r2, [expired]);
    expect(stack.requests.fulcio).toBe(before);
    await noBundleWritten();
  });

  it('no identity at all: a usage error that lists the ways to get one', async () => {
    const r = await runCli(['sign', file, '--signing-config', stack.signingConfigPath], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no signing identity: pass --identity-token .*SIGSTORE_ID_TOKEN.*id-token: write.*--key/);
    expectClean(r);
  });

  it('SIGSTORE_ID_TOKEN is used when set (and never echoed)', async () => {
    const token = stack.mintToken({ sub: 'env-token@example.com' });
    const r = await runCli(['sign', file, '--json', '--signing-config', stack.signingConfigPath], { env: cleanEnv({ SIGSTORE_ID_TOKEN: token }) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).signer.identity).toBe('env-token@example.com');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(await filesContaining(tmp.dir, token)).toEqual([]);
    await readFile(`${file}.sigstore.json`);
    const { rm } = await import('node:fs/promises');
    await rm(`${file}.sigstore.json`);
  });
});

describe('signing configuration errors (exit 2, nothing contacted)', () => {
  it('refuses bad signing configs and unsafe service URLs with messages naming the problem', async () => {
    const cfg = (name: string, body: unknown) => {
      const p = join(tmp.dir, name);
      return writeFile(p, typeof body === 'string' ? body : JSON.stringify(body)).then(() => p);
    };
    const wrongType = await cfg('wrong-type.json', { mediaType: 'application/vnd.dev.sigstore.signingconfig.v9+json' });
    const notJson = await cfg('not-json.json', '{"mediaType": ');
    const noCa = await cfg('no-ca.json', {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [],
      rekorTlogUrls: [{ url: stack.urls.rekor, majorApiVersion: 1 }],
      rekorTlogConfig: { selector: 'ANY' },
    });
    const expiredCa = await cfg('expired-ca.json', {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [{ url: stack.urls.fulcio, majorApiVersion: 1, validFor: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }],
      rekorTlogUrls: [{ url: stack.urls.rekor, majorApiVersion: 1 }],
    });
    const httpRemote = await cfg('http-remote.json', {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [{ url: 'http://fulcio.example.com', majorApiVersion: 1 }],
    });
    const tooMany = await cfg('exact.json', {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [{ url: stack.urls.fulcio, majorApiVersion: 1 }],
      rekorTlogUrls: [{ url: stack.urls.rekor, majorApiVersion: 1 }],
      rekorTlogConfig: { selector: 'EXACT', count: 2 },
    });
    const before = { ...stack.requests };
    const cases: Array<[string[], RegExp]> = [
      [['--signing-config', wrongType], /wrong-type\.json: signing config has mediaType .*v9/],
      [['--signing-config', notJson], /not-json\.json: not valid JSON/],
      [['--signing-config', noCa], /no-ca\.json: the signing config names no usable certificate authority/],
      [['--signing-config', expiredCa], /expired-ca\.json: the signing config names no usable certificate authority/],
      [['--signing-config', httpRemote], /http-remote\.json: caUrls\[0\]\.url: http:\/\/fulcio\.example\.com must use https/],
      [['--signing-config', tooMany], /exact\.json: rekorTlogUrls: the selector asks for 2 services but only 1/],
      [['--signing-config', join(tmp.dir, 'absent.json')], /absent\.json: no such file/],
      [['--fulcio-url', 'http://fulcio.example.com'], /--fulcio-url: http:\/\/fulcio\.example\.com must use https/],
      [['--fulcio-url', 'https://user:secret@fulcio.example.com'], /--fulcio-url: URLs with credentials are not accepted/],
      [['--rekor-url', 'not a url'], /--rekor-url: not a URL/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['sign', file, '--identity-token', stack.mintToken(), ...flags], { env: cleanEnv() });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toMatch(message);
      expect(r.stderr).not.toContain('secret');
      expectClean(r);
    }
    expect(stack.requests).toEqual(before);
    await noBundleWritten();
  });

  it('a missing artifact, or --bundle naming the artifact itself, is a clear error', async () => {
    const r1 = await runCli(['sign', join(tmp.dir, 'missing.bin'), '--identity-token', stack.mintToken()], { env: cleanEnv() });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/missing\.bin: no such file or folder/);
    const r2 = await runCli(['sign', file, '--bundle', file, '--identity-token', stack.mintToken()], { env: cleanEnv() });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--bundle names the file being signed');
    expect(await readFile(file, 'utf8')).toBe('artifact\n');
  });
});
