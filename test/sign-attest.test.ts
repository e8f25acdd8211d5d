/**
 * `aibom attest`: one in-toto Statement v1 over many release artifacts with the BOM as the
 * predicate, signed keyless against the loopback stack; verified with @sigstore/verify and with
 * `aibom verify` (an artifact that is a subject passes, one that is not fails).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from './helpers/cli.js';
import { cleanEnv, readJson, statementOf, verifyKeyless } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: { dir: string; cleanup: () => Promise<void> };
let bomPath: string;
const SUB = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v2.0.0';

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir('aibom-attest-');
  // A BOM as users make it: `aibom build`.
  bomPath = join(tmp.dir, 'aibom.cdx.json');
  const b = await runCli(['build', join(REPO, 'test', 'fixtures', 'lockfiles', 'npm', 'v1'), '-o', bomPath], { env: cleanEnv() });
  if (b.code !== 0) throw new Error(`aibom build failed: ${b.stderr}`);
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

describe('aibom attest', () => {
  it('one statement over 40 release files: subjects name + sha256, predicate = the BOM; verifies', async () => {
    const dist = join(tmp.dir, 'dist');
    await mkdir(dist);
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      const f = join(dist, `agent-${i}.tgz`);
      await writeFile(f, `release artifact ${i}\n`.repeat(i + 1));
      files.push(f);
    }
    const out = join(tmp.dir, 'release.intoto.sigstore.json');
    const r = await runCli(
      ['attest', '--predicate', bomPath, '--bundle', out, '--json', '--identity-token', stack.mintToken({ sub: SUB }), '--signing-config', stack.signingConfigPath, ...files],
      { env: cleanEnv() },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bundle = await readJson(out);
    const st = statementOf(bundle);
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://cyclonedx.org/bom');
    expect(st.predicate).toEqual(await readJson(bomPath));
    expect(st.subject).toHaveLength(40);
    for (const [i, f] of files.entries()) {
      // Outside the working directory: named by base name (no machine paths in the attestation).
      expect(st.subject[i]).toEqual({ name: `agent-${i}.tgz`, digest: { sha256: createHash('sha256').update(await readFile(f)).digest('hex') } });
    }
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kind: 'attestation', predicateType: 'https://cyclonedx.org/bom', content: 'dsseEnvelope' });
    expect(j.subjects).toHaveLength(40);
    await verifyKeyless(stack, out, undefined, { subjectAlternativeName: SUB });

    const verifyArgs = ['--bundle', out, '--certificate-identity', SUB, '--certificate-oidc-issuer', stack.urls.oidc, '--trusted-root', stack.trustedRootPath];
    const ok = await runCli(['verify', files[17]!, ...verifyArgs], { env: cleanEnv() });
    expect(ok.code).toBe(0);
    const stranger = join(tmp.dir, 'not-released.tgz');
    await writeFile(stranger, 'not in the release');
    const bad = await runCli(['verify', stranger, ...verifyArgs], { env: cleanEnv() });
    expect(bad.code).toBe(1);
  });

  it('subjects inside the working directory are named by their relative path; the same file twice is one subject', async () => {
    await writeFile(join(tmp.dir, 'a.tgz'), 'a');
    const out = join(tmp.dir, 'rel.sigstore.json');
    const r = await runCli(
      ['attest', '--predicate', bomPath, '--bundle', out, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath, './a.tgz', 'a.tgz', join(tmp.dir, 'dist', 'agent-0.tgz')],
      { cwd: tmp.dir, env: cleanEnv() },
    );
    expect(r.code).toBe(0);
    expect(statementOf(await readJson(out)).subject.map((s: any) => s.name)).toEqual(['a.tgz', 'dist/agent-0.tgz']);
  });

  it('other predicate types by name or URI; any JSON object predicate', async () => {
    const art = join(tmp.dir, 'prov.tgz');
    await writeFile(art, 'prov');
    const pred = join(tmp.dir, 'provenance.json');
    await writeFile(pred, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build/v1' }, runDetails: {} }));
    for (const [type, uri] of [
      ['slsaprovenance', 'https://slsa.dev/provenance/v1'],
      ['https://example.com/attestation/custom/v3', 'https://example.com/attestation/custom/v3'],
    ] as const) {
      const out = join(tmp.dir, `typed-${uri.length}.json`);
      const r = await runCli(
        ['attest', '--predicate', pred, '--type', type, '--bundle', out, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath, art],
        { env: cleanEnv() },
      );
      expect(r.code, type).toBe(0);
      expect(statementOf(await readJson(out)).predicateType).toBe(uri);
    }
  });

  it('an invalid CycloneDX BOM is refused before anything is signed (exit 1, no bundle, Fulcio not asked)', async () => {
    const art = join(tmp.dir, 'x.tgz');
    await writeFile(art, 'x');
    const badBom = join(tmp.dir, 'bad.cdx.json');
    await writeFile(badBom, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 'one', components: [{ name: 'no-type' }] }));
    const out = join(tmp.dir, 'bad.sigstore.json');
    const before = stack.requests.fulcio;
    const r = await runCli(
      ['attest', '--predicate', badBom, '--bundle', out, '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath, art],
      { env: cleanEnv() },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.cdx\.json: not a valid CycloneDX 1\.6 BOM .* nothing signed/);
    expect(stack.requests.fulcio).toBe(before);
    await expect(readFile(out)).rejects.toThrow();
  });

  it('usage and input errors (exit 2): a folder as subject, a missing subject, an unknown --type, a predicate that is not an object', async () => {
    const art = join(tmp.dir, 'y.tgz');
    await writeFile(art, 'y');
    const arr = join(tmp.dir, 'array.json');
    await writeFile(arr, '[1,2,3]');
    const common = ['--bundle', join(tmp.dir, 'never.json'), '--identity-token', stack.mintToken(), '--signing-config', stack.signingConfigPath];
    const cases: Array<[string[], RegExp]> = [
      [['--predicate', bomPath, ...common, tmp.dir], /is a folder; subjects are files/],
      [['--predicate', bomPath, ...common, join(tmp.dir, 'nope.tgz')], /nope\.tgz: no such file/],
      [['--predicate', bomPath, '--type', 'bogus', ...common, art], /--type "bogus" is neither/],
      [['--predicate', arr, '--type', 'spdx', ...common, art], /array\.json: the predicate must be a JSON object/],
      [['--predicate', join(tmp.dir, 'missing.json'), ...common, art], /missing\.json: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['attest', ...args], { env: cleanEnv() });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    await expect(readFile(join(tmp.dir, 'never.json'))).rejects.toThrow();
  });
});
