/**
 * Robustness (lockfiles and single-file inputs; the example agent and model files are in
 * test/robustness-agent.test.ts): every input aibom parses is hostile until checked. Each fixture (lockfiles of
 * every kind, the example agent's files) and generated model files of every format are turned
 * into bounded, deterministic mutants (test/helpers/mutate.ts: truncated, bytes flipped, lines
 * duplicated or removed, huge numbers and length fields, deep nesting, invalid UTF-8, NUL
 * bytes, CRLF / CR, byte-order marks, very long lines, empty, values of the wrong type) and fed
 * to the CLI as a user runs it. For every run: exit 0, or 2 with `aibom: <path>: ` naming the
 * offending file (1 where a check legitimately fails); no stack trace, no "looks like a bug";
 * the process finishes; a BOM written on exit 0 validates (checked in-process against the
 * CycloneDX schema, as `aibom validate` does); no output file after a failure.
 *
 * Many mutants share one folder, so one `aibom build` reads hundreds of them: the build names
 * every input it could not read, and `--keep-going` must then write a valid BOM of the rest.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli, } from './helpers/cli.js';
import {
  EXAMPLE_AGENT,
  fixtureFolders,
  folderFileMutants,
  isHashedOnly,
  writeMutantCopy,
} from './helpers/fuzz-corpus.js';
import { kindOf, mutate } from './helpers/mutate.js';
import {
  expectClean,
  errorLines,
  namedPath,
  expectValid,
  inPairs,
  isLockfile,
  useMutantRun,
  onePerFamily,
  parsedSignedPart,
  reEscape,
  RUN_TIMEOUT_MS,
  signedPart,
  slug,
  type BuildOutcome,
} from './helpers/robustness.js';

const run = useMutantRun();
const { count, checkBuild } = run;

describe('aibom build on mutated lockfile fixtures', () => {
  const groups: Array<[string, RegExp]> = [
    ['npm', /^npm\//],
    ['pnpm', /^pnpm\//],
    ['yarn', /^yarn-/],
    ['python', /^python\//],
  ];
  for (const [group, match] of groups) {
    it(`${group}: every file of every fixture, mutated; one build reads them all`, async () => {
      const folders = (await fixtureFolders()).filter((f) => match.test(f.name));
      expect(folders.length).toBeGreaterThan(0);
      const root = join(run.dir, `lock-${group}`);
      let n = 0;
      for (const folder of folders) {
        for (const rel of folder.files) {
          const all = await folderFileMutants(folder, rel);
          if (!isHashedOnly(rel)) expect(all.length, `${folder.name}/${rel}`).toBeGreaterThanOrEqual(15);
          // Every mutant of the lockfiles themselves; of their companions (package.json,
          // pyproject.toml, workspace manifests), one per kind of mutation.
          const mutants = isLockfile(rel) ? all : onePerFamily(all, 10);
          for (const m of mutants) {
            await writeMutantCopy(folder, rel, m, join(root, slug(folder.name, rel, m.name)));
            count(`lockfile fixtures: ${kindOf(rel)} (${group})`, 1);
            n++;
          }
        }
      }
      const { fatal } = await checkBuild(root, `lock-${group}`);
      // Truncated and emptied lockfiles must be among the refused ones: the test reads what it wrote.
      expect(fatal.size, `${group}: ${n} mutants, none refused`).toBeGreaterThan(0);
    });
  }
});

describe('single-file inputs: aibom.config, policies, BOMs, Sigstore bundles', () => {
  it('aibom.config.yaml mutants: exit 0, or 2 naming the config file', async () => {
    const text = await readFile(join(EXAMPLE_AGENT, 'aibom.config.yaml'));
    const json = Buffer.from(JSON.stringify(parseYaml(text.toString('utf8')), null, 2));
    const picks = [
      ...onePerFamily(mutate('aibom.config.yaml', text, { kind: 'yaml' }), 9).map((m) => ({ m, file: 'aibom.config.yaml' })),
      ...onePerFamily(mutate('aibom.config.json', json, { kind: 'json' }), 5).map((m) => ({ m, file: 'aibom.config.json' })),
    ];
    count('aibom.config (yaml, json)', picks.length);
    await inPairs(picks, async ({ m, file }) => {
      const dir = join(run.dir, 'config', slug(file, m.name));
      await cp(join(EXAMPLE_AGENT, 'data'), join(dir, 'data'), { recursive: true });
      await writeFile(join(dir, file), m.data);
      const out = join(dir, 'bom.json');
      const r = await runCli(['build', dir, '-o', out], { timeoutMs: RUN_TIMEOUT_MS });
      expectClean(r, `config ${m.name}`);
      expect([0, 2], `${file} ${m.name}: ${r.stderr}`).toContain(r.code);
      if (r.code === 0) await expectValid(out);
      else {
        expect(existsSync(out)).toBe(false);
        expect(errorLines(r.stderr)[0], r.stderr).toMatch(new RegExp(`^aibom: ${reEscape(dir)}/${reEscape(file)}: `));
      }
    });
  });

  it('policy mutants (YAML and JSON) for aibom gate: exit 0 or 1 with the verdict, or 2 naming the policy', async () => {
    const root = join(run.dir, 'policy-root');
    await cp(EXAMPLE_AGENT, root, { recursive: true });
    const bom = join(run.dir, 'policy-bom.cdx.json');
    const built = await runCli(['build', root, '-o', bom]);
    expect(built.code, built.stderr).toBe(0);
    const text = await readFile(join(EXAMPLE_AGENT, 'aibom-policy.yaml'));
    const json = Buffer.from(JSON.stringify(parseYaml(text.toString('utf8')), null, 2));
    const picks = [
      ...onePerFamily(mutate('aibom-policy.yaml', text, { kind: 'yaml' }), 9).map((m) => ({ m, file: 'policy.yaml' })),
      ...onePerFamily(mutate('aibom-policy.json', json, { kind: 'json' }), 5).map((m) => ({ m, file: 'policy.json' })),
    ];
    count('policy (yaml, json)', picks.length);
    await inPairs(picks, async ({ m, file }) => {
      // Beside the agent's keys/: the policy names its publisher key relative to itself.
      const policy = join(root, `${slug(m.name)}.${file}`);
      await writeFile(policy, m.data);
      const out = join(run.dir, 'policy-out', `${slug(file, m.name)}.txt`);
      await mkdir(dirname(out), { recursive: true });
      const r = await runCli(['gate', '--bom', bom, '--root', root, '--policy', policy, '-o', out], { timeoutMs: RUN_TIMEOUT_MS });
      expectClean(r, `policy ${m.name}`);
      expect([0, 1, 2], `${file} ${m.name}: ${r.stderr}`).toContain(r.code);
      if (r.code === 2) {
        expect(existsSync(out)).toBe(false);
        expect(errorLines(r.stderr)[0], r.stderr).toMatch(/^aibom: \S.*?: /);
        namedPath(errorLines(r.stderr)[0]!, root);
      } else expect(r.stderr).toMatch(/aibom gate: (PASSED|FAILED)/);
    });
  });

  it('CycloneDX BOM mutants for aibom validate, audit and diff', async () => {
    const agentBom = join(run.dir, 'bom-seed.cdx.json');
    const built = await runCli(['build', EXAMPLE_AGENT, '-o', agentBom, '--spec-version', '1.7']);
    expect(built.code, built.stderr).toBe(0);
    const seed = await readFile(agentBom);
    const mutants = mutate('aibom.cdx.json', seed, { kind: 'json', structural: 12 });
    count('CycloneDX BOM (json)', mutants.length);
    const dir = join(run.dir, 'boms');
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const m of mutants) {
      const f = join(dir, `${slug(m.name)}.cdx.json`);
      await writeFile(f, m.data);
      files.push(f);
    }
    const structural = files.filter((f) => basename(f).startsWith('value-'));
    const syntactic = onePerFamily(
      mutants.filter((m) => !m.name.startsWith('value-')),
      6,
    ).map((m) => join(dir, `${slug(m.name)}.cdx.json`));
    const jobs: Array<{ args: string[]; file: string; ok: number[] }> = [
      // validate: 0 valid, 1 invalid (every error listed), 2 unreadable.
      ...[...syntactic.slice(0, 3), ...structural.slice(0, 4)].map((f) => ({ args: ['validate', f], file: f, ok: [0, 1, 2] })),
      // audit reads any BOM file (no schema check first): it must cope with wrong types.
      ...[...syntactic.slice(3), ...structural.slice(4, 9)].map((f) => ({ args: ['audit', f, '--format', 'sarif', '-o', `${f}.sarif`], file: f, ok: [0, 2] })),
      // diff: mutants against the seed, both ways.
      ...structural.slice(9, 12).map((f, i) => ({ args: ['diff', i % 2 ? agentBom : f, i % 2 ? f : agentBom, '--json'], file: f, ok: [0, 2] })),
      ...syntactic.slice(0, 1).map((f) => ({ args: ['diff', agentBom, f], file: f, ok: [0, 2] })),
    ];
    await inPairs(jobs, async (job) => {
      const r = await runCli(job.args, { timeoutMs: RUN_TIMEOUT_MS });
      const what = `${job.args[0]} ${basename(job.file)}`;
      expectClean(r, what);
      expect(job.ok, `${what}: exit ${r.code}\n${r.stderr}`).toContain(r.code);
      if (r.code === 2) expect(errorLines(r.stderr)[0], r.stderr).toMatch(new RegExp(`^aibom: ${reEscape(job.file)}: `));
      const out = job.args[job.args.indexOf('-o') + 1];
      if (job.args.includes('-o') && r.code !== 0) expect(existsSync(out!)).toBe(false);
    });
  });

  it('Sigstore bundle mutants for aibom verify --key: a tampered bundle never verifies, nothing crashes', async () => {
    const dir = join(run.dir, 'bundles');
    await mkdir(join(dir, 'plugin'), { recursive: true });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'key.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'key.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'release.tar.gz'), 'release artifact\n');
    await writeFile(join(dir, 'plugin', 'index.js'), 'export const x = 1;\n');
    await writeFile(join(dir, 'plugin', 'package.json'), '{"name":"p","version":"1.0.0"}\n');
    const signedFile = await runCli(['sign', join(dir, 'release.tar.gz'), '--key', join(dir, 'key.pem'), '--no-tlog-upload', '--bundle', join(dir, 'file.sigstore.json')]);
    expect(signedFile.code, signedFile.stderr).toBe(0);
    const signedDir = await runCli(['sign', join(dir, 'plugin'), '--key', join(dir, 'key.pem'), '--bundle', join(dir, 'folder.sig')]);
    expect(signedDir.code, signedDir.stderr).toBe(0);

    const lines: string[] = [];
    const expected: Array<{ file: string; signed: unknown; original: unknown }> = [];
    for (const [seedName, target, kindKey] of [
      ['file.sigstore.json', 'release.tar.gz', 'artifact'],
      ['folder.sig', 'plugin', 'dir'],
    ] as const) {
      const seed = await readFile(join(dir, seedName));
      const original = signedPart(JSON.parse(seed.toString('utf8')));
      for (const m of mutate(seedName, seed, { kind: 'json', structural: 16 })) {
        const f = `m-${slug(seedName, m.name)}.json`;
        await writeFile(join(dir, f), m.data);
        lines.push(JSON.stringify({ [kindKey]: target, bundle: f }));
        expected.push({ file: f, signed: parsedSignedPart(m.data), original });
        count(`Sigstore bundle (${seedName === 'folder.sig' ? 'DSSE, folder' : 'message signature'})`, 1);
      }
    }
    await writeFile(join(dir, 'batch.jsonl'), `${lines.join('\n')}\n`);
    const r = await runCli(['verify', '--batch', join(dir, 'batch.jsonl'), '--key', join(dir, 'key.pub'), '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    expectClean(r, 'verify --batch');
    expect([0, 1], r.stderr).toContain(r.code);
    const res = JSON.parse(r.stdout) as { results: Array<{ verified: boolean; reason?: string; bundle?: string }> };
    expect(res.results.length).toBe(expected.length);
    res.results.forEach((result, i) => {
      const e = expected[i]!;
      if (result.verified) {
        // Only a mutant that left the signed content as it was may verify (CRLF, a BOM, a hint...).
        expect(e.signed, `${e.file} verified though its signed content changed`).toEqual(e.original);
      } else expect(result.reason, `${e.file}: not verified, no reason`).toMatch(/\S/);
    });
    expect(res.results.filter((x) => !x.verified).length).toBeGreaterThan(expected.length / 2);

    // A few mutants one process each, as a user runs `aibom verify`: 1 with the reason, or 2 naming the bundle.
    const singles = expected.filter((e) => /(empty|trunc-1|value-null|deep-arrays|utf16-bom)/.test(e.file)).slice(0, 4);
    expect(singles.length).toBeGreaterThan(0);
    await inPairs(singles, async (e) => {
      const target = e.file.includes('folder.sig') ? join(dir, 'plugin') : join(dir, 'release.tar.gz');
      const one = await runCli(['verify', target, '--bundle', join(dir, e.file), '--key', join(dir, 'key.pub')], { timeoutMs: RUN_TIMEOUT_MS });
      expectClean(one, `verify ${e.file}`);
      expect([1, 2], `${e.file}: ${one.stdout}${one.stderr}`).toContain(one.code);
      if (one.code === 1) expect(one.stdout + one.stderr).toMatch(/not verified|fail|invalid|mismatch|malformed/i);
      else expect(errorLines(one.stderr)[0], one.stderr).toMatch(/^aibom: \S.*?: /);
    });
  });
});

describe('named pipes where inputs are expected', () => {
  it('a FIFO named like a lockfile, a manifest, a plugin manifest or a policy: never opened for reading, never a hang', async () => {
    const root = join(run.dir, 'fifos');
    await mkdir(join(root, 'plugins', 'tool'), { recursive: true });
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'plugins', 'tool', 'index.js'), 'export {};\n');
    // Opening any of these for reading would wait forever for a writer.
    for (const f of ['package.json', 'sub/package-lock.json', 'sub/poetry.lock', '.mcp.json', 'plugins/tool/package.json', 'policy.yaml']) {
      execFileSync('mkfifo', [join(root, ...f.split('/'))]);
    }
    const out = join(run.dir, 'fifos.cdx.json');
    // A lockfile that cannot be read fails the build (its packages would silently be missing)...
    const refused = await runCli(['build', root, '-o', out, '--json'], { timeoutMs: 30_000 });
    expectClean(refused, 'build with FIFO lockfiles');
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('aibom: sub/package-lock.json: cannot read the lockfile: not a regular file');
    expect(refused.stderr).toContain('aibom: sub/poetry.lock: cannot read the lockfile: not a regular file');
    expect(existsSync(out)).toBe(false);
    // ...and --keep-going writes the rest.
    const r = await runCli(['build', root, '-o', out, '--json', '--keep-going'], { timeoutMs: 30_000 });
    expectClean(r, 'build with FIFOs');
    expect(r.code, r.stderr).toBe(0);
    await expectValid(out);
    const findings = (JSON.parse(r.stdout) as BuildOutcome).findings;
    const special = findings.filter((f) => f.code === 'special-file').map((f) => f.location?.file).sort();
    expect(special).toEqual(['.mcp.json', 'package.json', 'plugins/tool/package.json', 'policy.yaml', 'sub/package-lock.json', 'sub/poetry.lock']);
    // Read because of their names: the project's package.json and the plugin's manifest are refused, unread.
    expect(r.stderr).toContain('aibom: warning: package.json: not a regular file');
    expect(r.stderr).toContain('aibom: warning: plugins/tool/package.json: cannot read plugin manifest: not a regular file');
    const g = await runCli(['gate', '--bom', out, '--policy', join(root, 'policy.yaml')], { timeoutMs: 30_000 });
    expectClean(g, 'gate with a FIFO policy');
    expect(g.code).toBe(2);
    expect(g.stderr).toContain(`aibom: ${join(root, 'policy.yaml')}: not a regular file`);
  });
});
