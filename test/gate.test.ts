/**
 * aibom gate: every default rule failing and passing, exceptions (live and expired), the BOM's
 * own signature, release artifacts and their attestations, output formats and hostile policy
 * files. The default policy's verdicts are checked in-process (test/helpers/gate-in-process.ts:
 * the CLI's library calls, exit code and stdout) with one text report through the CLI; the
 * signature, artifact, format and policy-file cases run `aibom gate` as a process.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { gateInProcess } from './helpers/gate-in-process.js';
import { osSystemPickle, safetensorsBytes, stateDictPickle } from './helpers/model-files.js';
import { cleanEnv } from './helpers/sign.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

const require = createRequire(import.meta.url);
let tmp: { dir: string; cleanup: () => Promise<void> };
let priv: string;
let pub: string;
let otherPub: string;

const sri = (seed: string) => `sha512-${Buffer.from(seed.repeat(64).slice(0, 64)).toString('base64')}`;

async function write(path: string, data: string | Buffer) {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
}

/** A project with packages, an MCP config, plugins and models, shaped by `opts`. */
async function project(name: string, opts: { bad?: boolean } = {}): Promise<string> {
  const dir = join(tmp.dir, name);
  const packages: Record<string, unknown> = {
    '': { name, version: '1.0.0', dependencies: { good: '1.0.0', ...(opts.bad ? { gitdep: 'x', nohash: '1.0.0' } : {}) } },
    'node_modules/good': { version: '1.0.0', integrity: sri('g') },
  };
  if (opts.bad) {
    packages['node_modules/gitdep'] = { version: '2.0.0', resolved: 'git+ssh://git@example.test/o/r.git#main' };
    packages['node_modules/nohash'] = { version: '1.0.0' };
  }
  await write(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
  await write(join(dir, 'package-lock.json'), JSON.stringify({ name, version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  const servers: Record<string, unknown> = { fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', './data'] } };
  if (opts.bad) servers.mem = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] };
  await write(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: servers }, null, 2));
  await write(join(dir, 'plugins', 'tools', 'package.json'), JSON.stringify({ name: 'tools', version: '1.0.0' }));
  await write(join(dir, 'plugins', 'tools', 'index.js'), 'export const tool = () => 42;\n');
  await write(
    join(dir, 'models', 'tiny', 'model.safetensors'),
    safetensorsBytes({ w: { dtype: 'F32', shape: [2, 2] } }),
  );
  await write(join(dir, 'models', 'tiny', 'config.json'), JSON.stringify({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }));
  if (opts.bad) {
    await write(join(dir, 'models', 'legacy.pt'), stateDictPickle());
    await write(join(dir, 'models', 'evil.pkl'), osSystemPickle());
  }
  return dir;
}

async function signFolder(dir: string) {
  const r = await runCli(['sign', dir, '--key', priv], { env: cleanEnv() });
  expect(r.code, r.stderr).toBe(0);
}

async function policy(name: string, text: string): Promise<string> {
  const p = join(tmp.dir, name);
  await writeFile(p, text);
  return p;
}

const trusting = (extra = '') => `version: 1
publishers:
  - match: "*"
    key: ${pub}
${extra}`;

beforeAll(async () => {
  tmp = await tempDir('aibom-gate-');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  priv = join(tmp.dir, 'publisher.pem');
  pub = join(tmp.dir, 'publisher.pub');
  await writeFile(priv, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
  otherPub = join(tmp.dir, 'other.pub');
  await writeFile(otherPub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(() => tmp?.cleanup());

describe('aibom gate: the default policy', () => {
  it('fails a project missing provenance and names every rule, component and fix', async () => {
    const dir = await project('bad', { bad: true });
    const r = await gateInProcess(['--root', dir, '--json']);
    expect(r.code, r.stdout).toBe(1);
    const res = JSON.parse(r.stdout) as { passed: boolean; failures: Array<{ rule: string; name: string; fix: string; location?: { file: string; line?: number } }> };
    expect(res.passed).toBe(false);
    const rules = (name: string) => res.failures.filter((f) => f.name.startsWith(name)).map((f) => f.rule);
    expect(rules('gitdep')).toContain('package-pinned');
    expect(rules('nohash')).toContain('package-hashed');
    expect(rules('@modelcontextprotocol/server-memory')).toContain('mcp-pinned');
    expect(rules('tools')).toContain('plugin-signed');
    expect(res.failures.map((f) => f.rule)).toEqual(expect.arrayContaining(['pickle-model', 'pickle-risky-import', 'model-signed']));
    for (const f of res.failures) expect(f.fix.length).toBeGreaterThan(10);
    const mcp = res.failures.find((f) => f.rule === 'mcp-pinned');
    expect(mcp?.location).toEqual({ file: '.mcp.json', line: expect.any(Number) });
    const text = await runCli(['gate', '--root', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/FAILED — \d+ failures/);
    expect(text.stdout).toContain('[mcp-pinned] @modelcontextprotocol/server-memory');
    expect(text.stdout).toContain('fix: ');
  });

  it('passes a project whose plugins and models are signed by a trusted publisher', async () => {
    const dir = await project('good');
    await signFolder(join(dir, 'plugins', 'tools'));
    await signFolder(join(dir, 'models', 'tiny'));
    const p = await policy('trust.yaml', trusting());
    const r = await gateInProcess(['--root', dir, '--policy', p]);
    expect(r.stdout).toContain('PASSED');
    expect(r.code).toBe(0);
  });

  it('refuses a plugin signed by a key the policy does not trust, and one changed after signing', async () => {
    const dir = await project('untrusted');
    await signFolder(join(dir, 'plugins', 'tools'));
    await signFolder(join(dir, 'models', 'tiny'));
    const other = await policy('other.yaml', `version: 1\npublishers:\n  - match: "*"\n    key: ${otherPub}\n`);
    const r = await gateInProcess(['--root', dir, '--policy', other, '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; message: string }> };
    expect(res.failures.find((f) => f.rule === 'plugin-signed')?.message).toMatch(/does not verify/);
    await writeFile(join(dir, 'plugins', 'tools', 'index.js'), 'export const tool = () => process.exit(1);\n');
    const changed = await gateInProcess(['--root', dir, '--policy', await policy('t2.yaml', trusting()), '--json']);
    expect(changed.code).toBe(1);
    const res2 = JSON.parse(changed.stdout) as { failures: Array<{ rule: string; message: string }> };
    expect(res2.failures.find((f) => f.rule === 'plugin-signed')?.message).toMatch(/digest|changed/);
  });

  it('a live exception passes the release and is reported; an expired one fails it', async () => {
    const dir = await project('excepted', { bad: true });
    await signFolder(join(dir, 'plugins', 'tools'));
    await signFolder(join(dir, 'models', 'tiny'));
    const live = await policy(
      'live.yaml',
      trusting(`exceptions:
  - component: "gitdep"
    reason: vendored fork until upstream merges the fix
    expires: "2999-12-31"
  - component: "nohash"
    reason: internal package published without integrity
    expires: "2999-12-31"
  - component: "@modelcontextprotocol/server-memory"
    rules: [mcp-pinned]
    reason: tracked in INC-42
    expires: "2999-12-31"
  - component: "legacy*"
    reason: legacy checkpoint being converted to safetensors
    expires: "2999-12-31"
  - component: "evil*"
    reason: quarantined sample for detection tests
    expires: "2999-12-31"
`),
    );
    const ok = await gateInProcess(['--root', dir, '--policy', live, '--json']);
    const okRes = JSON.parse(ok.stdout) as { passed: boolean; failures: unknown[]; excepted: Array<{ rule: string }> };
    expect(okRes.failures).toEqual([]);
    expect(ok.code).toBe(0);
    expect(okRes.excepted.map((e) => e.rule)).toEqual(expect.arrayContaining(['package-pinned', 'mcp-pinned', 'pickle-model']));
    const expired = await policy('expired.yaml', (await readFile(live, 'utf8')).replace('2999-12-31', '2020-01-31'));
    const bad = await gateInProcess(['--root', dir, '--policy', expired, '--json']);
    expect(bad.code).toBe(1);
    const badRes = JSON.parse(bad.stdout) as { failures: Array<{ rule: string; message: string; location?: { file: string; line?: number } }> };
    const exp = badRes.failures.find((f) => f.rule === 'exception-expired');
    expect(exp?.message).toContain('expired on 2020-01-31');
    expect(exp?.location?.file).toBe(expired);
    expect(badRes.failures.some((f) => f.rule === 'package-pinned')).toBe(true);
  });

  it('rules can be turned off, and license allow/deny lists apply', async () => {
    const dir = await project('licensed');
    await write(join(dir, 'plugins', 'tools', 'package.json'), JSON.stringify({ name: 'tools', version: '1.0.0', license: 'GPL-3.0-only' }));
    const p = await policy('lic.yaml', 'version: 1\nrules:\n  plugin-signed: false\n  model-signed: false\nlicenses:\n  deny: [GPL-3.0-only]\n');
    const r = await gateInProcess(['--root', dir, '--policy', p, '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string; name: string }> };
    expect(res.failures.map((f) => f.rule)).toEqual(['license-allowed']);
    const off = await policy('off.yaml', 'version: 1\nrules:\n  plugin-signed: false\n  model-signed: false\n');
    expect((await gateInProcess(['--root', dir, '--policy', off])).code).toBe(0);
  });

  it('a BOM missing model hashes fails model-hashed (BOMs from other tools are checked too)', async () => {
    const bom = join(tmp.dir, 'foreign.json');
    await writeFile(
      bom,
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        version: 1,
        components: [{ type: 'machine-learning-model', name: 'mystery-model', 'bom-ref': 'm1' }],
      }),
    );
    const r = await gateInProcess(['--bom', bom, '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as { failures: Array<{ rule: string }> };
    expect(res.failures.map((f) => f.rule).sort()).toEqual(['model-hashed', 'model-signed']);
  });
});

describe('aibom gate: the BOM signature and release artifacts', () => {
  let stack: SigstoreStack;
  let dir: string;
  let bom: string;
  beforeAll(async () => {
    stack = await startSigstoreStack();
    dir = await project('release');
    await signFolder(join(dir, 'plugins', 'tools'));
    await signFolder(join(dir, 'models', 'tiny'));
    bom = join(tmp.dir, 'release.cdx.json');
    expect((await runCli(['build', dir, '-o', bom])).code).toBe(0);
  });
  afterAll(() => stack?.close());
  const ID = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.0.0';

  it('checks the BOM bundle against the release identity, anchored', async () => {
    const bundle = `${bom}.sigstore.json`;
    const s = await runCli(['sign', bom, '--identity-token', stack.mintToken({ sub: ID }), '--signing-config', stack.signingConfigPath], {
      env: cleanEnv(),
    });
    expect(s.code, s.stderr).toBe(0);
    const p = await policy('rel.yaml', trusting());
    const base = ['gate', '--bom', bom, '--root', dir, '--policy', p, '--bundle', bundle, '--trusted-root', stack.trustedRootPath, '--certificate-oidc-issuer', stack.urls.oidc];
    const ok = await runCli([...base, '--certificate-identity-regexp', 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v.*']);
    expect(ok.stderr + ok.stdout).toContain('PASSED');
    expect(ok.code).toBe(0);
    // Unanchored, this pattern would match the real identity as a substring.
    const sub = await runCli([...base, '--certificate-identity-regexp', 'github.com/acme/agent', '--json']);
    expect(sub.code).toBe(1);
    expect((JSON.parse(sub.stdout) as { failures: Array<{ rule: string }> }).failures[0]?.rule).toBe('bom-signed');
    // The BOM changed after signing.
    const tampered = join(tmp.dir, 'tampered.cdx.json');
    await writeFile(tampered, (await readFile(bom, 'utf8')).replace('"1.0.0"', '"1.0.1"'));
    const t = await runCli(['gate', '--bom', tampered, '--root', dir, '--policy', p, '--bundle', bundle, '--trusted-root', stack.trustedRootPath, '--certificate-identity', ID, '--certificate-oidc-issuer', stack.urls.oidc]);
    expect(t.code).toBe(1);
    expect(t.stdout).toContain('bom-signed');
  });

  it('every release artifact needs a verified attestation whose subject matches it', async () => {
    const dist = join(tmp.dir, 'dist');
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'agent-1.0.0.tgz'), 'release tarball bytes');
    await writeFile(join(dist, 'agent-1.0.0.zip'), 'release zip bytes');
    const att = join(tmp.dir, 'attestations.jsonl');
    const a = await runCli(
      ['attest', '--predicate', bom, '--bundle', join(tmp.dir, 'att.json'), '--identity-token', stack.mintToken({ sub: ID }), '--signing-config', stack.signingConfigPath, join(dist, 'agent-1.0.0.tgz')],
      { env: cleanEnv() },
    );
    expect(a.code, a.stderr).toBe(0);
    // As `gh attestation download` writes it: one {"bundle": ...} per line.
    await writeFile(att, `${JSON.stringify({ bundle: JSON.parse(await readFile(join(tmp.dir, 'att.json'), 'utf8')), repository_id: 1 })}\n`);
    const p = await policy('rel2.yaml', trusting(`release:\n  identity: "${ID}"\n  issuer: "${stack.urls.oidc}"\n`));
    const base = ['gate', '--bom', bom, '--root', dir, '--policy', p, '--trusted-root', stack.trustedRootPath, '--attestations', att];
    const one = await runCli([...base, '--artifacts', join(dist, '*.tgz')]);
    expect(one.stdout).toContain('PASSED');
    expect(one.code).toBe(0);
    const both = await runCli([...base, '--artifacts', join(dist, '*'), '--json']);
    expect(both.code).toBe(1);
    const res = JSON.parse(both.stdout) as { failures: Array<{ rule: string; subject: string }> };
    expect(res.failures).toEqual([expect.objectContaining({ rule: 'artifact-attested', subject: join(dist, 'agent-1.0.0.zip') })]);
    // Signed by someone else: not provenance of this release.
    const wrong = await policy('rel3.yaml', trusting(`release:\n  identity: "https://github.com/evil/agent/.github/workflows/release.yml@refs/tags/v1.0.0"\n  issuer: "${stack.urls.oidc}"\n`));
    const w = await runCli(['gate', '--bom', bom, '--root', dir, '--policy', wrong, '--trusted-root', stack.trustedRootPath, '--attestations', att, '--artifacts', join(dist, '*.tgz')]);
    expect(w.code).toBe(1);
    expect(w.stdout).toContain('artifact-attested');
  });

  it('--artifacts without --attestations is a usage error', async () => {
    const r = await runCli(['gate', '--bom', bom, '--artifacts', '*.tgz']);
    expect(r.code).toBe(2);
  });

  it('a release identity is checked as given even with no signature to check: a bad regexp, a half identity', async () => {
    const bad = await runCli(['gate', '--bom', bom, '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', 'https://issuer.example']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--certificate-identity-regexp is not a valid regular expression/);
    const half = await runCli(['gate', '--bom', bom, '--certificate-identity', 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1']);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--certificate-identity needs --certificate-oidc-issuer/);
  });
});

describe('aibom gate: formats', () => {
  it('writes SARIF that validates, Markdown and JSON', async () => {
    const dir = await project('formats', { bad: true });
    const sarif = await runCli(['gate', '--root', dir, '--format', 'sarif']);
    expect(sarif.code).toBe(1);
    const log = JSON.parse(sarif.stdout);
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    delete schema.$schema;
    schema.$id = schema.id;
    delete schema.id;
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    expect(ajv.validate(schema, log), JSON.stringify(ajv.errors)).toBe(true);
    const results = log.runs[0].results as Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }> }>;
    const mcp = results.find((x) => x.ruleId === 'aibom/mcp-pinned');
    expect(mcp?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('.mcp.json');
    expect(mcp?.locations[0]?.physicalLocation.region?.startLine).toBeGreaterThan(1);
    const md = await runCli(['gate', '--root', dir, '--format', 'markdown']);
    expect(md.stdout).toContain('| rule | component | problem | fix | where |');
    expect(md.stdout).toContain('`mcp-pinned`');
  });
});

describe('aibom gate: hostile policy files', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown-key.yaml', 'version: 1\nrulez:\n  pickle-model: false\n', /line 2: \(top level\): unknown key "rulez"/],
    ['wrong-type.yaml', 'version: 1\nrules:\n  pickle-model: "no"\n', /line 3: rules\.pickle-model: must be boolean/],
    ['bad-regexp.yaml', 'version: 1\nrelease:\n  identityRegexp: "(unclosed"\n  issuer: x\n', /line 3: release\.identityRegexp: not a valid regular expression/],
    ['not-yaml.yaml', 'version: 1\nrules: [\n', /not valid YAML\/JSON/],
    ['no-version.json', '{"rules": {}}', /must have required property 'version'/],
    ['bad-date.yaml', 'version: 1\nexceptions:\n  - component: x\n    reason: because\n    expires: "2026-02-30"\n', /line 5: exceptions\.0\.expires: not a real date/],
    ['half-signer.yaml', 'version: 1\npublishers:\n  - match: "*"\n    identity: someone\n', /publishers\.0\.issuer: a signer needs identity/],
    ['unknown-rule.yaml', 'version: 1\nrules:\n  everything-fine: true\n', /unknown key "everything-fine"/],
  ];
  for (const [name, text, re] of cases) {
    it(`${name}: an error naming the file and the problem, exit 2`, async () => {
      const p = await policy(name, text);
      const r = await runCli(['gate', '--root', 'examples/agent', '--policy', p]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`aibom: ${p}: `);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
