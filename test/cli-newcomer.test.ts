/**
 * What a newcomer tripped over, each as the user met it: through the CLI as a process (exit
 * codes, what is printed where, argv as the shell hands it over).
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, runCli, tempDir, USE_DIST } from './helpers/cli.js';
import { cleanEnv, readJson, statementOf } from './helpers/sign.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let priv: string;
let pub: string;
let derFingerprint: string;

beforeAll(async () => {
  tmp = await tempDir('aibom-newcomer-');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  priv = join(tmp.dir, 'release.pem');
  pub = join(tmp.dir, 'release.pub');
  await writeFile(priv, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
  derFingerprint = `sha256:${createHash('sha256').update(k.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
});
afterAll(() => tmp?.cleanup());

/** The CLI in a shell pipeline, as a user types it; the exit code is aibom's (pipefail). */
function pipeline(args: string[], rest: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const node = [process.execPath, ...(USE_DIST ? [] : ['--import', import.meta.resolve('tsx')]), CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${node} | ${rest}`], { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 128, stdout, stderr }));
  });
}

describe('output', () => {
  it('`aibom build … | head -1` stops quietly when the reader closes the pipe', async () => {
    const r = await pipeline(['build', 'examples/agent', '--reproducible'], 'head -1');
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.code).toBe(0);
  });

  it('with --json, an error is a JSON object on stdout as well as text on stderr', async () => {
    const missing = join(tmp.dir, 'missing.cdx.json');
    const input = await runCli(['validate', missing, '--json']);
    expect(input.code).toBe(2);
    expect(JSON.parse(input.stdout)).toMatchObject({ error: { code: expect.any(String), file: missing, exitCode: 2 } });
    expect(JSON.parse(input.stdout).error.message).toContain('missing.cdx.json');
    expect(input.stderr).toMatch(/^aibom: .*missing\.cdx\.json/);
    const usage = await runCli(['gate', 'examples/agent', '--json', '--no-such-flag']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { code: 'USAGE', message: "unknown option '--no-such-flag'", exitCode: 2 } });
    expect(usage.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('with --format json (audit, diff, gate), errors are JSON on stdout too', async () => {
    const missing = join(tmp.dir, 'missing.cdx.json');
    for (const args of [
      ['audit', missing, '--format', 'json'],
      ['diff', missing, missing, '--format=json'],
      ['gate', '--bom', missing, '--format', 'json'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), args.join(' ')).toMatchObject({ error: { file: missing, exitCode: 2 } });
      expect(r.stderr).toMatch(/^aibom: .*missing\.cdx\.json/);
    }
    const usage = await runCli(['audit', missing, '--format', 'json', '--no-such-flag']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { code: 'USAGE', message: "unknown option '--no-such-flag'", exitCode: 2 } });
  });

  it('`verify-plugins --help` is wrapped once: its lines come out as written', async () => {
    const r = await runCli(['verify-plugins', '--help']);
    expect(r.code).toBe(0);
    const description = r.stdout.slice(r.stdout.indexOf('\n\n') + 2, r.stdout.indexOf('\nOptions:'));
    expect(description).toContain(
      "  3. where the BOM pins a publisher, or the policy requires one (the\n     default), the plugin's own signature must verify and be by\n     that publisher;\n",
    );
    for (const line of description.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    // No line is a stray word left over by a second wrap.
    expect(description.split('\n').filter((l) => /^\S+$/.test(l.trim()) && l.trim().length < 12 && !/^\d\./.test(l.trim()))).toEqual([]);
  });

  it('says "1 service", and never "((default policy))"', async () => {
    const out = join(tmp.dir, 'one.cdx.json');
    const b = await runCli(['build', 'examples/agent', '-o', out]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/components, 1 service \(CycloneDX/);
    const g = await runCli(['gate', 'examples/agent']);
    expect(g.code).toBe(1);
    expect(g.stdout + g.stderr).not.toContain('((');
    expect(g.stdout).toContain('list its publisher in a policy file (--policy)');
  });
});

describe('arguments as the shell hands them over', () => {
  it('gate takes the folder as a positional argument, as build and audit do', async () => {
    const positional = await runCli(['gate', 'examples/agent', '--json']);
    const flag = await runCli(['gate', '--root', 'examples/agent', '--json']);
    expect(positional.code).toBe(1);
    expect(JSON.parse(positional.stdout).failures).toEqual(JSON.parse(flag.stdout).failures);
    const both = await runCli(['gate', 'examples/agent', '--root', 'examples']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give the folder once: DIR "examples/agent" or --root "examples"');
  });

  it('an unquoted --artifacts glob: the expanded list is taken whole (not "too many arguments"), the folder stays the folder, and says to quote the glob', async () => {
    const dist = join(tmp.dir, 'dist');
    await mkdir(dist);
    for (const f of ['a.tgz', 'b.tgz', 'c.tgz']) await writeFile(join(dist, f), f);
    const r = await runCli(['gate', '--artifacts', join(dist, 'a.tgz'), join(dist, 'b.tgz'), join(dist, 'c.tgz'), 'examples/agent']);
    expect(r.stderr).not.toContain('too many arguments');
    expect(r.stderr).toContain("--artifacts got 3 paths that the shell expanded from a glob; all are checked, but quote the glob (--artifacts 'dist/*.tgz')");
    // What follows is the gate's own check: artifacts need attestations.
    expect(r.stderr).toContain('--artifacts needs --attestations');
    expect(r.code).toBe(2);
    const extra = await runCli(['gate', 'examples/agent', 'examples']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('too many arguments: "examples"');
  });

  it('--ignore-paths never swallows the folder: repeated, or a shell-expanded list before or after it', async () => {
    const ignoredOf = async (args: string[], dir: string) => {
      const r = await runCli(['sign', ...args, '--key', priv], { env: cleanEnv() });
      expect(r.code, r.stderr).toBe(0);
      return statementOf(await readJson(join(dir, 'model.sig'))).predicate.serialization.ignore_paths as string[];
    };
    const makeDir = async (name: string) => {
      const dir = join(tmp.dir, name);
      await mkdir(dir);
      for (const f of ['w.bin', 'a.tmp', 'b.tmp']) await writeFile(join(dir, f), f);
      return dir;
    };
    const one = await makeDir('m1');
    expect(await ignoredOf(['--ignore-paths', join(one, 'a.tmp'), join(one, 'b.tmp'), one], one)).toEqual(expect.arrayContaining(['a.tmp', 'b.tmp']));
    const two = await makeDir('m2');
    expect(await ignoredOf([two, '--ignore-paths', join(two, 'a.tmp'), join(two, 'b.tmp')], two)).toEqual(expect.arrayContaining(['a.tmp', 'b.tmp']));
    const three = await makeDir('m3');
    expect(await ignoredOf(['--ignore-paths', join(three, 'a.tmp'), '--ignore-paths', join(three, 'b.tmp'), three], three)).toEqual(
      expect.arrayContaining(['a.tmp', 'b.tmp']),
    );
    // verify: the target after the list is the target.
    const v = await runCli(['verify', '--ignore-paths', join(three, 'a.tmp'), join(three, 'b.tmp'), three, '--key', pub, '--json'], { env: cleanEnv() });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).target).toMatchObject({ kind: 'folder', name: three });
  });
});

describe('policy exceptions', () => {
  it('an exception that names no component is warned (stale or misspelled), the verdict unchanged', async () => {
    const example = join(REPO, 'examples', 'agent');
    const text = (await readFile(join(example, 'aibom-policy.yaml'), 'utf8')).replace(/keys\/([a-z-]+\.pub)/g, (_, key: string) => join(example, 'keys', key));
    const policy = join(tmp.dir, 'policy.yaml');
    await writeFile(policy, `${text}  - component: calculatr\n    rules: [plugin-signed]\n    reason: typo of calculator\n    expires: "2027-12-31"\n`);
    const line = text.split('\n').length;
    const r = await runCli(['gate', 'examples/agent', '--policy', policy]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`aibom: warning: ${policy}:${line}: the exception for "calculatr" matches no component of the BOM (stale or misspelled?)`);
    const clean = await runCli(['gate', 'examples/agent', '--policy', 'examples/agent/aibom-policy.yaml']);
    expect(clean.code).toBe(0);
    expect(clean.stderr).not.toContain('matches no component');
  });
});

describe('SARIF', () => {
  it('locations are relative to the repository root, wherever aibom ran from', async () => {
    const uris = async (args: string[], cwd: string) => {
      const r = await runCli(args, { cwd });
      expect(r.code, r.stderr).toBe(1);
      const log = JSON.parse(r.stdout) as { runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> };
      return log.runs[0]!.results.map((x) => `${x.ruleId} ${x.locations[0]!.physicalLocation.artifactLocation.uri}`);
    };
    const fromRoot = await uris(['gate', 'examples/agent', '--format', 'sarif'], REPO);
    expect(fromRoot).toContain('aibom/mcp-pinned examples/agent/.mcp.json');
    expect(fromRoot).toContain('aibom/pickle-model examples/agent/models/intent-head.pt');
    expect(await uris(['gate', 'agent', '--format', 'sarif'], join(REPO, 'examples'))).toEqual(fromRoot);
    const audit = await runCli(['audit', 'examples/agent', '--format', 'sarif']);
    expect(audit.code, audit.stderr).toBe(0);
    const auditUris = JSON.parse(audit.stdout).runs[0].results.map((x: any) => x.locations[0].physicalLocation.artifactLocation.uri as string);
    expect(auditUris).toContain('examples/agent/.mcp.json');
    expect(auditUris.every((u: string) => u.startsWith('examples/agent/'))).toBe(true);
  });
});

describe('keys', () => {
  it('one fingerprint everywhere: sign and verify name the key by the SHA-256 of its DER SubjectPublicKeyInfo; verify --json names the signer', async () => {
    const file = join(tmp.dir, 'artifact.txt');
    await writeFile(file, 'release\n');
    const s = await runCli(['sign', file, '--key', priv, '--no-tlog-upload'], { env: cleanEnv() });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout + s.stderr).toContain(`key ${derFingerprint.slice(0, 'sha256:'.length + 16)}…`);
    const sj = await runCli(['sign', file, '--key', priv, '--no-tlog-upload', '--json'], { env: cleanEnv() });
    expect(JSON.parse(sj.stdout).signer.keyFingerprint).toBe(derFingerprint);
    const v = await runCli(['verify', file, '--key', pub, '--json'], { env: cleanEnv() });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).signer).toEqual({ method: 'public-key', keyFingerprint: derFingerprint, keyFile: pub });
    const text = await runCli(['verify', file, '--key', pub], { env: cleanEnv() });
    expect(text.stdout).toContain(`signed by key ${derFingerprint}`);
  });

  it('sign, the BOM and verify-plugins name a publisher key by the same fingerprint', async () => {
    const agent = join(tmp.dir, 'agent');
    const plugin = join(agent, 'plugins', 'tool');
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, 'package.json'), JSON.stringify({ name: 'tool', version: '1.0.0', type: 'module', main: 'index.js' }));
    await writeFile(join(plugin, 'index.js'), 'export const tool = { name: "t" };\n');
    const s = await runCli(['sign', plugin, '--key', priv, '--json'], { env: cleanEnv() });
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).signer.keyFingerprint).toBe(derFingerprint);
    const bom = join(agent, 'aibom.cdx.json');
    const b = await runCli(['build', agent, '--publisher-key', pub, '-o', bom]);
    expect(b.code, b.stderr).toBe(0);
    const doc = JSON.parse(await readFile(bom, 'utf8')) as { components: Array<{ name: string; properties?: Array<{ name: string; value: string }> }> };
    const pinned = doc.components.find((c) => c.name === 'tool')?.properties?.find((p) => p.name === 'aibom:publisher:key-fingerprint')?.value;
    expect(pinned).toBe(derFingerprint);
    await runCli(['sign', bom, '--key', priv, '--no-tlog-upload'], { env: cleanEnv() });
    const v = await runCli(['verify-plugins', '--root', agent, '--bom', bom, '--key', pub, '--json'], { env: cleanEnv() });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const tool = (JSON.parse(v.stdout).plugins as Array<{ name: string; signer?: { keyFingerprint?: string } }>).find((p) => p.name === 'tool');
    expect(tool?.signer?.keyFingerprint).toBe(derFingerprint);
  });

  it('an unquoted --publisher-key glob: the expanded keys are all taken, the folder after them stays the folder', async () => {
    const agent = join(tmp.dir, 'agent-glob');
    const plugin = join(agent, 'plugins', 'tool');
    await mkdir(plugin, { recursive: true });
    await writeFile(join(plugin, 'package.json'), JSON.stringify({ name: 'tool', version: '1.0.0', type: 'module', main: 'index.js' }));
    await writeFile(join(plugin, 'index.js'), 'export const tool = { name: "t" };\n');
    expect((await runCli(['sign', plugin, '--key', priv], { env: cleanEnv() })).code).toBe(0);
    const other = join(tmp.dir, 'a-other.pub');
    await writeFile(other, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    const bom = join(tmp.dir, 'glob.cdx.json');
    // What the shell hands over for `--publisher-key keys/*.pub DIR`: two keys, then the folder.
    const b = await runCli(['build', '--publisher-key', other, pub, agent, '-o', bom]);
    expect(b.code, b.stderr).toBe(0);
    const doc = JSON.parse(await readFile(bom, 'utf8')) as { components: Array<{ name: string; properties?: Array<{ name: string; value: string }> }> };
    expect(doc.components.find((c) => c.name === 'tool')?.properties?.find((p) => p.name === 'aibom:publisher:key-fingerprint')?.value).toBe(derFingerprint);
    // Two folders are still too many.
    const two = await runCli(['build', agent, agent, '-o', bom]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/too many arguments/);
  });

  it('verify --key refuses a private key (exit 2), whatever it could derive from it', async () => {
    const file = join(tmp.dir, 'artifact.txt');
    const r = await runCli(['verify', file, '--key', priv], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`aibom: ${priv}: this is a private key: --key takes the public key`);
    expect(await readFile(priv, 'utf8')).toContain('PRIVATE KEY');
  });
});
