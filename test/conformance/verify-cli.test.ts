/**
 * `aibom verify` as a user runs it (a subprocess), on real public-good bundles from the
 * Sigstore conformance data, offline: identities (exact, anchored regexp), issuers, tampered
 * artifacts and bundles, bundles for another artifact, keys, bundle versions, hostile bundles,
 * trusted roots that must be refused, usage errors, --json, and batch mode.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from '../helpers/cli.js';
import { BEACON_IDENTITY, BUNDLE_CASES, caseDir, GITHUB_ISSUER, requireConformanceData, verifyEnv } from '../helpers/verify.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
const A_TXT = join(BUNDLE_CASES, 'a.txt');
const V3 = join(caseDir('happy-path-v0.3'), 'bundle.sigstore.json');
const DSSE = join(caseDir('happy-path-intoto-in-dsse-v3'), 'bundle.sigstore.json');

beforeAll(async () => {
  requireConformanceData();
  tmp = await tempDir('aibom-verify-cli-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
});
afterAll(async () => {
  await tmp?.cleanup();
});

const keyless = ['--certificate-identity', BEACON_IDENTITY, '--certificate-oidc-issuer', GITHUB_ISSUER];
const verify = (args: string[]) => runCli(['verify', ...args], { env: verifyEnv(cache) });
const sha256 = async (f: string) => `sha256:${createHash('sha256').update(await readFile(f)).digest('hex')}`;

describe('aibom verify: keyless identities', () => {
  it('verifies a public-good bundle offline and says who signed, when, and which log vouched', async () => {
    const r = await verify([A_TXT, '--bundle', V3, ...keyless]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK .*a\.txt: signed by https:\/\/github\.com\/sigstore-conformance\/.*@refs\/heads\/main \(issuer https:\/\/token\.actions\.githubusercontent\.com\) at \d{4}-\d\d-\d\dT/);
    expect(r.stdout).toContain('transparency log https://rekor.sigstore.dev');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--json carries the signer, time, witnesses and bundle version', async () => {
    const r = await verify([A_TXT, '--bundle', V3, ...keyless, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(true);
    expect(j.bundleVersion).toBe('0.3');
    expect(j.content).toBe('message-signature');
    expect(j.signer).toMatchObject({ method: 'certificate', identity: BEACON_IDENTITY, issuer: GITHUB_ISSUER });
    // The real certificate's Fulcio claims (OIDs 1.3.6.1.4.1.57264.1.8–22).
    expect(j.signer.claims).toMatchObject({
      issuer: GITHUB_ISSUER,
      buildSignerURI: BEACON_IDENTITY,
      runnerEnvironment: 'github-hosted',
      sourceRepositoryURI: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon',
    });
    expect(j.witnesses[0]).toMatchObject({ kind: 'tlog', log: 'https://rekor.sigstore.dev' });
    expect(Date.parse(j.signedAt)).toBeGreaterThan(Date.parse('2023-01-01'));
    expect(j.target.sha256).toBe((await sha256(A_TXT)).slice(7));
  });

  it('a wrong identity fails with exit 1 and reason wrong-identity', async () => {
    const r = await verify([A_TXT, '--bundle', V3, '--certificate-identity', 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main', '--certificate-oidc-issuer', GITHUB_ISSUER, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(false);
    expect(j.reason).toBe('wrong-identity');
    expect(j.error).toContain(BEACON_IDENTITY);
  });

  it('anchors identity regexps: a pattern that only matches a substring fails, a full match verifies', async () => {
    // Unanchored (sigstore-js, cosign), this pattern would match the beacon identity.
    const partial = await verify([A_TXT, '--bundle', V3, '--certificate-identity-regexp', 'sigstore-conformance/extremely-dangerous', '--certificate-oidc-issuer', GITHUB_ISSUER]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/^FAILED .*wrong-identity/);
    const full = await verify([A_TXT, '--bundle', V3, '--certificate-identity-regexp', 'https://github\\.com/sigstore-conformance/.*@refs/heads/main', '--certificate-oidc-issuer-regexp', 'https://token\\.actions\\.githubusercontent\\.com']);
    expect(full.code).toBe(0);
    // An alternation stays inside the anchors.
    const alt = await verify([A_TXT, '--bundle', V3, '--certificate-identity-regexp', 'nobody|sigstore-conformance', '--certificate-oidc-issuer', GITHUB_ISSUER]);
    expect(alt.code).toBe(1);
  });

  it('a wrong issuer fails, exact or regexp (anchored)', async () => {
    const exact = await verify([A_TXT, '--bundle', V3, '--certificate-identity', BEACON_IDENTITY, '--certificate-oidc-issuer', 'https://accounts.google.com']);
    expect(exact.code).toBe(1);
    expect(exact.stdout).toContain('wrong-identity');
    const re = await verify([A_TXT, '--bundle', V3, '--certificate-identity', BEACON_IDENTITY, '--certificate-oidc-issuer-regexp', 'token\\.actions']);
    expect(re.code).toBe(1);
  });
});

describe('aibom verify: the artifact must be what was signed', () => {
  it('a tampered artifact fails with digest-mismatch (path and digest)', async () => {
    const f = join(tmp.dir, 'a-tampered.txt');
    await writeFile(f, `${await readFile(A_TXT, 'utf8')}x`);
    const r = await verify([f, '--bundle', V3, ...keyless, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('digest-mismatch');
    const d = await verify([await sha256(f), '--bundle', V3, ...keyless]);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('digest-mismatch');
  });

  it('verifies with only the sha256 digest (signature checked over the prehashed digest)', async () => {
    const r = await verify([await sha256(A_TXT), '--bundle', V3, ...keyless, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).target.kind).toBe('digest');
  });

  it('a bundle for another artifact fails', async () => {
    const bundleForOther = join(caseDir('intoto-with-custom-trust-root'), 'bundle.sigstore.json');
    // A DSSE statement whose subject is another file: a.txt is not a subject.
    const r = await verify([A_TXT, '--bundle', bundleForOther, ...keyless, '--trusted-root', join(caseDir('intoto-with-custom-trust-root'), 'trusted_root.json'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('digest-mismatch');
    // And the DSSE bundle whose subject is a.txt verifies a.txt, by path and by digest.
    expect((await verify([A_TXT, '--bundle', DSSE, ...keyless])).code).toBe(0);
    expect((await verify([await sha256(A_TXT), '--bundle', DSSE, ...keyless])).code).toBe(0);
    const f = join(tmp.dir, 'b.txt');
    await writeFile(f, 'another file\n');
    const dsse = await verify([f, '--bundle', DSSE, ...keyless, '--json']);
    expect(dsse.code).toBe(1);
    expect(JSON.parse(dsse.stdout).error).toMatch(/no subject of the statement/);
  });

  it('a tampered bundle (one bit of the signature flipped) fails', async () => {
    const b = JSON.parse(await readFile(V3, 'utf8'));
    const sig = Buffer.from(b.messageSignature.signature, 'base64');
    sig[sig.length - 5]! ^= 0x01;
    b.messageSignature.signature = sig.toString('base64');
    const f = join(tmp.dir, 'tampered.sigstore.json');
    await writeFile(f, JSON.stringify(b));
    const r = await verify([A_TXT, '--bundle', f, ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED /);
  });

  it('a tampered DSSE payload fails', async () => {
    const b = JSON.parse(await readFile(DSSE, 'utf8'));
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    st.predicate = { tampered: true };
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    const f = join(tmp.dir, 'tampered-dsse.json');
    await writeFile(f, JSON.stringify(b));
    const r = await verify([A_TXT, '--bundle', f, ...keyless]);
    expect(r.code).toBe(1);
  });
});

describe('aibom verify: keys', () => {
  const managed = caseDir('managed-key-happy-path');

  it('verifies with the right public key, fails with an unknown key', async () => {
    const ok = await verify([A_TXT, '--bundle', join(managed, 'bundle.sigstore.json'), '--key', join(managed, 'key.pub')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^OK .*signed by key sha256:[0-9a-f]{64}/);
    const pub = join(tmp.dir, 'unknown.pub');
    await writeFile(pub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    const bad = await verify([A_TXT, '--bundle', join(managed, 'bundle.sigstore.json'), '--key', pub, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).reason).toBe('signature');
  });

  it('a key-signed bundle checked for a certificate identity says to use --key', async () => {
    const r = await verify([A_TXT, '--bundle', join(managed, 'bundle.sigstore.json'), ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('--key');
  });

  it('a file that is not a key is a usage/input error (exit 2)', async () => {
    const r = await verify([A_TXT, '--bundle', join(managed, 'bundle.sigstore.json'), '--key', A_TXT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a PEM');
  });
});

describe('aibom verify: bundle versions and hostile bundles', () => {
  it('reads v0.1, v0.2, v0.3 and the new v0.3 media type', async () => {
    for (const c of ['happy-path-v0.1', 'happy-path-v0.2', 'happy-path-v0.3', 'happy-path-v0.3-new-mediaType']) {
      const r = await verify([A_TXT, '--bundle', join(caseDir(c), 'bundle.sigstore.json'), ...keyless, '--json']);
      expect(r.code, c).toBe(0);
      expect(JSON.parse(r.stdout).bundleVersion).toBe(c.includes('v0.1') ? '0.1' : c.includes('v0.2') ? '0.2' : '0.3');
    }
  });

  it('refuses an unknown bundle version', async () => {
    const r = await verify([A_TXT, '--bundle', join(caseDir('bundle-unknown-version_fail'), 'bundle.sigstore.json'), ...keyless, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('malformed');
    expect(j.error).toContain('version=99.9');
  });

  it('refuses malformed JSON with the position, and no stack trace', async () => {
    const r = await verify([A_TXT, '--bundle', join(caseDir('bundle-malformed-json_fail'), 'bundle.sigstore.json'), ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/malformed: bundle is not valid JSON: .*line \d+, column \d+/);
    expect(r.stderr).not.toMatch(/\bat \S+ \(/);
  });

  it('refuses a 50 MB bundle without reading it', async () => {
    const f = join(tmp.dir, 'huge.sigstore.json');
    await writeFile(f, '');
    await truncate(f, 50 * 1024 * 1024);
    const r = await verify([A_TXT, '--bundle', f, ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('bundle is too large: over the 16 MiB limit');
  });

  it('refuses a deeply nested bundle and a DSSE envelope with junk base64', async () => {
    const deep = join(tmp.dir, 'deep.json');
    await writeFile(deep, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const r = await verify([A_TXT, '--bundle', deep, ...keyless]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('malformed');
    const b = JSON.parse(await readFile(DSSE, 'utf8'));
    b.dsseEnvelope.payload = `${b.dsseEnvelope.payload.slice(0, 20)}!!${b.dsseEnvelope.payload.slice(20)}`;
    const junk = join(tmp.dir, 'junk.json');
    await writeFile(junk, JSON.stringify(b));
    const j = await verify([A_TXT, '--bundle', junk, ...keyless]);
    expect(j.code).toBe(1);
    expect(j.stdout).toContain('DSSE payload is not valid base64');
  });
});

describe('aibom verify: trusted roots', () => {
  const custom = caseDir('intoto-with-custom-trust-root');

  async function customRoot(edit: (root: any) => void): Promise<string> {
    const root = JSON.parse(await readFile(join(custom, 'trusted_root.json'), 'utf8'));
    edit(root);
    const f = join(tmp.dir, `root-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(f, JSON.stringify(root));
    return f;
  }
  const customArgs = (root: string) => [
    join(custom, 'artifact'),
    '--bundle',
    join(custom, 'bundle.sigstore.json'),
    ...keyless,
    '--trusted-root',
    root,
  ];

  it('verifies against a custom trusted root, and fails against the public-good one', async () => {
    expect((await verify(customArgs(join(custom, 'trusted_root.json')))).code).toBe(0);
    const r = await verify([join(custom, 'artifact'), '--bundle', join(custom, 'bundle.sigstore.json'), ...keyless, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('untrusted');
  });

  it('refuses a trusted root whose log key has no validFor.start', async () => {
    const root = await customRoot((r) => {
      delete r.tlogs[0].publicKey.validFor.start;
    });
    const r = await verify([...customArgs(root), '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('untrusted');
    expect(j.error).toContain('tlogs[0]');
    expect(j.error).toContain('validFor.start');
  });

  it('an expired key window: a log key whose validity ended before the entry fails', async () => {
    const root = await customRoot((r) => {
      r.tlogs[0].publicKey.validFor = { start: '2000-01-01T00:00:00Z', end: '2001-01-01T00:00:00Z' };
    });
    const r = await verify([...customArgs(root), '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('expired');
    expect(j.error).toMatch(/transparency log .* was not valid at the entry's time .*valid 2000-01-01T00:00:00\.000Z to 2001-01-01/);
  });

  it('an expired window of the certificate authority or the timestamp authority fails as expired', async () => {
    for (const [field, msg] of [
      ['certificateAuthorities', /the certificate authority that issued the signing certificate was not valid/],
      ['timestampAuthorities', /the timestamp authority that signed the timestamp was not valid/],
    ] as const) {
      const root = await customRoot((r) => {
        r[field][0].validFor = { start: '2000-01-01T00:00:00Z', end: '2001-01-01T00:00:00Z' };
      });
      const r = await verify([...customArgs(root), '--json']);
      expect(r.code, field).toBe(1);
      expect(JSON.parse(r.stdout).reason, field).toBe('expired');
      expect(JSON.parse(r.stdout).error, field).toMatch(msg);
    }
  });

  it('refuses a trusted root that is not JSON, or has an unknown media type', async () => {
    const notJson = join(tmp.dir, 'root-bad.json');
    await writeFile(notJson, '{"mediaType": ');
    const a = await verify(customArgs(notJson));
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('trusted root is not valid JSON');
    const b = await verify(customArgs(await customRoot((r) => (r.mediaType = 'application/json'))));
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('unsupported mediaType');
  });

  it('trust show prints the public-good root from the installed seeds, offline; and a custom one', async () => {
    const r = await runCli(['trust', 'show', '--json'], { env: verifyEnv(cache) });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.source).toBe('public-good seed');
    expect(j.location).toMatch(/seeds\.json$/);
    expect(j.entries.some((e: any) => e.kind === 'tlog' && e.name === 'https://rekor.sigstore.dev' && e.validFrom)).toBe(true);
    const t = await runCli(['trust', 'show', '--trusted-root', join(custom, 'trusted_root.json')], { env: verifyEnv(cache) });
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^trusted root: file /);
    expect(t.stdout).toContain('transparency log');
    const bad = await runCli(['trust', 'show', '--trusted-root', await customRoot((r) => delete r.tlogs[0].publicKey.validFor.start)], {
      env: verifyEnv(cache),
    });
    expect(bad.code).toBe(1);
  });

  it('a root planted in the cache without its TUF chain is refused, never used (a real trust update cache: verify-trust.test.ts)', async () => {
    const own = join(tmp.dir, 'cached');
    await mkdir(join(own, 'trust'), { recursive: true });
    await copyFile(join(custom, 'trusted_root.json'), join(own, 'trust', 'trusted_root.json'));
    const r = await runCli(['verify', join(custom, 'artifact'), '--bundle', join(custom, 'bundle.sigstore.json'), ...keyless], { env: verifyEnv(own) });
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/cached trusted root (came from|does not verify against the TUF metadata)/);
    // Given explicitly, the same root is the user's choice and verifies.
    const given = await runCli(['verify', join(custom, 'artifact'), '--bundle', join(custom, 'bundle.sigstore.json'), ...keyless, '--trusted-root', join(custom, 'trusted_root.json')], { env: verifyEnv(join(tmp.dir, 'empty-cache')) });
    expect(given.code, given.stdout + given.stderr).toBe(0);
  });
});

describe('aibom verify: usage', () => {
  it('exit 2 for missing or conflicting signer flags, bad regexps, bad digests, missing files', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[A_TXT, '--bundle', V3], /say who must have signed/],
      [[A_TXT, '--bundle', V3, '--certificate-identity', BEACON_IDENTITY], /needs --certificate-oidc-issuer/],
      [[A_TXT, '--bundle', V3, ...keyless, '--key', A_TXT], /one way to identify the signer/],
      [[A_TXT, '--bundle', V3, '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', GITHUB_ISSUER], /not a valid regular expression/],
      [['sha256:abcd', '--bundle', V3, ...keyless], /64 hex digits/],
      [[join(tmp.dir, 'missing.txt'), '--bundle', V3, ...keyless], /no such file or folder/],
      [[A_TXT, '--bundle', join(tmp.dir, 'missing.json'), ...keyless], /no such file/],
      [[await sha256(A_TXT), ...keyless], /needs --bundle/],
      [[...keyless], /missing the file, folder or sha256/],
    ];
    for (const [args, msg] of cases) {
      const r = await verify(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });

  it('verify-bundle accepts the conformance contract as is', async () => {
    const r = await runCli(['verify-bundle', '--bundle', V3, '--certificate-identity', BEACON_IDENTITY, '--certificate-oidc-issuer', GITHUB_ISSUER, A_TXT], {
      env: verifyEnv(cache),
    });
    expect(r.code).toBe(0);
  });

  it('a sha256: name that is an existing file is that file, not a digest', async () => {
    const name = await sha256(A_TXT);
    // The CLI runs in the folder holding the file, so the argument is exactly "sha256:<hex>".
    // (Inside the repository, so a source run still resolves its loader from node_modules.)
    const dir = join(REPO, 'node_modules', '.cache', `aibom-verify-test-${process.pid}`);
    await mkdir(dir, { recursive: true });
    try {
      await copyFile(A_TXT, join(dir, name));
      const r = await runCli(['verify', name, '--bundle', V3, ...keyless, '--json'], { cwd: dir, env: verifyEnv(cache) });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).target.kind).toBe('file');
      // A tampered file of that name fails: the name is not taken as the digest.
      await writeFile(join(dir, name), 'tampered\n');
      const t = await runCli(['verify', name, '--bundle', V3, ...keyless, '--json'], { cwd: dir, env: verifyEnv(cache) });
      expect(t.code).toBe(1);
      expect(JSON.parse(t.stdout).reason).toBe('digest-mismatch');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('aibom verify --batch', () => {
  it('verifies every line in one process, reports each, and exits 1 when any fails', async () => {
    const other = join(tmp.dir, 'other.txt');
    await writeFile(other, 'not signed\n');
    const lines = [
      { artifact: A_TXT, bundle: V3, identity: BEACON_IDENTITY, issuer: GITHUB_ISSUER },
      { digest: await sha256(A_TXT), bundle: DSSE },
      { artifact: 'other.txt', bundle: V3 },
      { artifact: A_TXT, bundle: join(caseDir('managed-key-happy-path'), 'bundle.sigstore.json'), key: join(caseDir('managed-key-happy-path'), 'key.pub') },
    ];
    const file = join(tmp.dir, 'checks.jsonl');
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n# a comment\n\nnot json\n{"artifact": "x", "bogus": 1}\n`);
    const r = await verify(['--batch', file, ...keyless]);
    expect(r.code).toBe(1);
    const out = r.stdout.trim().split('\n');
    expect(out).toHaveLength(7);
    expect(out[0]).toMatch(/^OK /);
    expect(out[1]).toMatch(/^OK sha256:/);
    expect(out[2]).toMatch(/^FAILED .*other\.txt: digest-mismatch/);
    expect(out[3]).toMatch(/^OK .*signed by key sha256:[0-9a-f]{64}/);
    expect(out[4]).toMatch(/^FAILED line 7: input: .*not valid JSON/);
    expect(out[5]).toMatch(/^FAILED line 8: input: unknown field "bogus"/);
    expect(out[6]).toBe('3 verified, 3 not verified');
  });

  it('--json gives every result with its line, and exit 0 when all verify', async () => {
    const file = join(tmp.dir, 'ok.jsonl');
    await writeFile(file, `${JSON.stringify({ artifact: A_TXT, bundle: V3 })}\n${JSON.stringify({ digest: await sha256(A_TXT), bundle: V3 })}\n`);
    const r = await verify(['--batch', file, ...keyless, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(2);
    expect(j.failed).toBe(0);
    expect(j.results.map((x: any) => x.line)).toEqual([1, 2]);
  });
});
