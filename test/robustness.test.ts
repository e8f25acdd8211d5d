/**
 * Robustness: every input aibom parses is hostile until checked. Each fixture (lockfiles of
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
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specVersionOf, validateBomJson } from '../src/bom/validate.js';
import { parseJsonText } from '../src/util/json.js';
import { type CliResult, runCli, tempDir } from './helpers/cli.js';
import {
  EXAMPLE_AGENT,
  fixtureFolders,
  folderFileMutants,
  isHashedOnly,
  listFiles,
  modelSeeds,
  type SeedFolder,
  writeMutantCopy,
} from './helpers/fuzz-corpus.js';
import { kindOf, type Mutant, mutate } from './helpers/mutate.js';

/** A run that takes longer than this is a hang (the CLI is killed and the test fails). */
const RUN_TIMEOUT_MS = 90_000;

let tmp: { dir: string; cleanup: () => Promise<void> };
/** Mutants fed to the CLI, by kind of input: printed at the end. */
const counts = new Map<string, number>();

function count(kind: string, n: number): void {
  counts.set(kind, (counts.get(kind) ?? 0) + n);
}

beforeAll(async () => {
  tmp = await tempDir('aibom-robust-');
});
afterAll(async () => {
  const lines = [...counts].map(([k, n]) => `  ${k.padEnd(34)} ${n}`);
  process.stdout.write(`robustness: mutants per input kind\n${lines.join('\n')}\n`);
  await tmp?.cleanup();
});

/** No stack trace, no "bug" message, not killed by the timeout. */
function expectClean(r: CliResult, what: string): void {
  expect(r.code, `${what}: killed (a hang?)\n${r.stderr.slice(-2000)}`).not.toBe(128);
  expect(r.stderr, `${what}: stack trace\n${r.stderr.slice(0, 4000)}`).not.toMatch(/\n\s+at /);
  expect(r.stderr, `${what}: reported as a bug\n${r.stderr.slice(0, 4000)}`).not.toContain('this looks like a bug');
}

/** The `aibom: <path>: ...` error lines (not warnings, not the closing summary). */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('aibom: ') && !l.startsWith('aibom: warning: ') && !l.startsWith('aibom: no BOM written'));
}

/** The path an error line names, which must exist (relative to `base` unless absolute). */
function namedPath(line: string, base: string): string {
  const m = /^aibom: (.+?): /.exec(line);
  expect(m, `error line names no file: ${line}`).not.toBeNull();
  const p = m![1]!;
  const abs = isAbsolute(p) ? p : join(base, p);
  expect(existsSync(abs), `error line names a file that does not exist: ${line}`).toBe(true);
  return p;
}

/** Files left in a folder whose names look like temp files of an atomic write. */
async function tempLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
}

/** The BOM a build wrote is schema-valid CycloneDX, as `aibom validate` checks it (in-process: the validate command's own exit codes are tested in cli-basics). */
async function expectValid(file: string): Promise<void> {
  const data = parseJsonText(await readFile(file, 'utf8'), file);
  const errors = await validateBomJson(data, specVersionOf(data));
  expect(errors, `${basename(file)}: ${JSON.stringify(errors.slice(0, 5))}`).toEqual([]);
}

interface BuildOutcome {
  /** Files the strict build named as unreadable (relative to the scanned folder). */
  fatal: Set<string>;
  findings: Array<{ code: string; fatal?: boolean; location?: { file: string } }>;
}

/**
 * `aibom build DIR -o FILE` strictly (1.6), then with --keep-going (1.7): the strict run
 * writes a valid BOM or exits 2 naming each unreadable file and writes nothing; the lenient run
 * always writes a valid BOM and leaves out exactly the files the strict run named.
 */
async function checkBuild(dir: string, label: string, extra: string[] = []): Promise<BuildOutcome> {
  const outDir = join(tmp.dir, 'out', label);
  await mkdir(outDir, { recursive: true });
  const strictOut = join(outDir, 'strict.cdx.json');
  const lenientOut = join(outDir, 'lenient.cdx.json');
  // The two builds are independent: side by side on the two cores.
  const [strict, lenient] = await Promise.all([
    runCli(['build', dir, '-o', strictOut, '--reproducible', ...extra], { timeoutMs: RUN_TIMEOUT_MS }),
    runCli(['build', dir, '-o', lenientOut, '--keep-going', '--json', '--spec-version', '1.7', ...extra], { timeoutMs: RUN_TIMEOUT_MS }),
  ]);
  expectClean(strict, `${label}: build`);
  expect([0, 2], `${label}: exit ${strict.code}\n${strict.stderr.slice(0, 3000)}`).toContain(strict.code);
  const fatal = new Set<string>();
  if (strict.code === 0) {
    await expectValid(strictOut);
  } else {
    expect(existsSync(strictOut), `${label}: an output file after a failed build`).toBe(false);
    const errors = errorLines(strict.stderr);
    expect(errors.length, strict.stderr.slice(0, 2000)).toBeGreaterThan(0);
    for (const l of errors) fatal.add(namedPath(l, dir));
  }
  expect(await tempLeftovers(outDir)).toEqual([]);

  expectClean(lenient, `${label}: build --keep-going`);
  expect(lenient.code, `${label}: --keep-going\n${lenient.stderr.slice(0, 3000)}`).toBe(0);
  await expectValid(lenientOut);
  const summary = JSON.parse(lenient.stdout) as BuildOutcome;
  const leftOut = new Set(summary.findings.filter((f) => f.fatal).map((f) => f.location?.file ?? '?'));
  expect([...leftOut].sort()).toEqual([...fatal].sort());
  return { fatal, findings: summary.findings };
}

/** Lockfiles (and the requirements files they include), as opposed to the manifests beside them. */
function isLockfile(rel: string): boolean {
  const base = basename(rel);
  return /^(package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|yarn\.lock|poetry\.lock|uv\.lock|Pipfile\.lock)$/.test(base) || base.endsWith('.txt');
}

/** The files of the example agent a mutant of `rel` is read with. */
function agentUnit(rel: string): string[] {
  const parts = rel.split('/');
  if (parts[0] === 'plugins') return [`plugins/${parts[1]}`];
  if (parts[0] === 'models') return parts.length > 2 ? [`models/${parts[1]}`] : [rel];
  if (rel === 'package.json' || rel === 'package-lock.json') return ['package.json', 'package-lock.json'];
  return [rel];
}

/** `npm/v3-features` + `package-lock.json` + `trunc-120` → a short folder name. */
function slug(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '_')).join('--');
}

/** One mutant per mutation family (the part of the name before its number), in order. */
function onePerFamily(mutants: Mutant[], max: number): Mutant[] {
  const seen = new Set<string>();
  const out: Mutant[] = [];
  for (const m of mutants) {
    const family = m.name.replace(/-\d+$/, '').replace(/^(value)-.*$/, '$1');
    if (seen.has(family)) continue;
    seen.add(family);
    out.push(m);
  }
  // Spread over the list when there are more families than runs.
  if (out.length <= max) return out;
  return Array.from({ length: max }, (_, i) => out[Math.floor((i * out.length) / max)]!);
}

/** Run async jobs two at a time (the CI machine has two cores). */
async function inPairs<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all([worker(), worker()]);
}

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
      const root = join(tmp.dir, `lock-${group}`);
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

describe('aibom build on the mutated example agent and model files', () => {
  /** Read only at the scanned root or when named on the command line: one mutant per run, below. */
  const skipped = new Set(['aibom.config.yaml', 'aibom-policy.yaml', 'keys/web-search-publisher.pub', 'keys/reports-publisher.pub']);

  it('example agent: models, model card, dataset, plugins (signed one verified), MCP config, lockfile', async () => {
    const agent: SeedFolder = { name: 'agent', abs: EXAMPLE_AGENT, files: await listFiles(EXAMPLE_AGENT) };
    const root = join(tmp.dir, 'agent-batch');
    const plugins: string[] = [];
    const datasets: string[] = [];
    let n = 0;
    for (const rel of agent.files.filter((f) => !skipped.has(f))) {
      for (const m of await folderFileMutants(agent, rel)) {
        // Each mutant with what its reader needs beside it (its model folder, its plugin, the
        // lockfile's package.json), not the whole agent: hashing 500 copies of it is no test.
        const name = slug(rel, m.name);
        await writeMutantCopy(agent, rel, m, join(root, name), agentUnit(rel));
        if (rel.startsWith('plugins/')) plugins.push(`${name}/plugins`);
        if (rel.startsWith('data/')) datasets.push(`${name}/${rel}`);
        count(`example agent: ${kindOf(rel)}`, 1);
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
    // The batch's own config makes each copy's plugins and dataset count, as the agent's does
    // for its own; the policy pins the web-search publisher, so every copy's model.sig is verified.
    const config = {
      plugins: { paths: [...new Set(plugins)] },
      datasets: datasets.map((path, i) => ({ path, name: `faq-${i}` })),
    };
    await writeFile(join(root, 'aibom.config.json'), JSON.stringify(config, null, 1));
    await cp(join(EXAMPLE_AGENT, 'aibom-policy.yaml'), join(root, 'aibom-policy.yaml'));
    await cp(join(EXAMPLE_AGENT, 'keys'), join(root, 'keys'), { recursive: true });
    const { findings } = await checkBuild(root, 'agent', ['--policy', join(root, 'aibom-policy.yaml')]);
    // The mutants reached the readers: broken model files, manifests and MCP configs are findings.
    const codes = new Set(findings.map((f) => f.code));
    for (const code of ['mcp-config-invalid', 'plugin-manifest-invalid']) expect(codes, [...codes].join(', ')).toContain(code);
    // ~650 mutants (the Agent Plugins package among them) in two builds: more than the default minute on a busy machine.
  }, 180_000);

  it('generated model files of every format, with huge length and count fields', async () => {
    const root = join(tmp.dir, 'models-batch');
    let n = 0;
    for (const seed of modelSeeds()) {
      const mutants = mutate(seed.name, seed.data, seed.options);
      expect(mutants.length, seed.name).toBeGreaterThanOrEqual(15);
      const ext = extname(seed.name);
      for (const m of mutants) {
        // Loose files under models/, and each also as the weights of a Hugging Face folder.
        await mkdir(join(root, 'models'), { recursive: true });
        await writeFile(join(root, 'models', `${basename(seed.name, ext)}--${m.name}${ext}`), m.data);
        const hf = join(root, 'hf', slug(seed.name, m.name));
        await mkdir(hf, { recursive: true });
        await writeFile(join(hf, seed.name), m.data);
        await writeFile(join(hf, 'config.json'), JSON.stringify({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }));
        count(`model files: ${ext.slice(1)}`, 1);
        n++;
      }
    }
    const { findings } = await checkBuild(root, 'models');
    expect(findings.filter((f) => f.code.startsWith('pickle-')).length, `${n} model mutants`).toBeGreaterThan(0);
  });
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
      const dir = join(tmp.dir, 'config', slug(file, m.name));
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
    const root = join(tmp.dir, 'policy-root');
    await cp(EXAMPLE_AGENT, root, { recursive: true });
    const bom = join(tmp.dir, 'policy-bom.cdx.json');
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
      const out = join(tmp.dir, 'policy-out', `${slug(file, m.name)}.txt`);
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
    const agentBom = join(tmp.dir, 'bom-seed.cdx.json');
    const built = await runCli(['build', EXAMPLE_AGENT, '-o', agentBom, '--spec-version', '1.7']);
    expect(built.code, built.stderr).toBe(0);
    const seed = await readFile(agentBom);
    const mutants = mutate('aibom.cdx.json', seed, { kind: 'json', structural: 12 });
    count('CycloneDX BOM (json)', mutants.length);
    const dir = join(tmp.dir, 'boms');
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
    const dir = join(tmp.dir, 'bundles');
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
    const root = join(tmp.dir, 'fifos');
    await mkdir(join(root, 'plugins', 'tool'), { recursive: true });
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'plugins', 'tool', 'index.js'), 'export {};\n');
    // Opening any of these for reading would wait forever for a writer.
    for (const f of ['package.json', 'sub/package-lock.json', 'sub/poetry.lock', '.mcp.json', 'plugins/tool/package.json', 'policy.yaml']) {
      execFileSync('mkfifo', [join(root, ...f.split('/'))]);
    }
    const out = join(tmp.dir, 'fifos.cdx.json');
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

/** What a signature covers in a bundle: the DSSE envelope or the message signature. */
function signedPart(bundle: any): unknown {
  // A message signature is over the artifact itself; messageDigest.algorithm is informative.
  // DSSE signs the payload and its type (PAE); a signature's keyid is an unauthenticated hint.
  const m = bundle?.messageSignature;
  const d = bundle?.dsseEnvelope;
  return {
    dsse: d && { payload: d.payload, payloadType: d.payloadType, sigs: Array.isArray(d.signatures) ? d.signatures.map((x: any) => x?.sig) : d.signatures },
    message: m && { signature: m.signature, digest: m.messageDigest?.digest },
  };
}

function parsedSignedPart(data: Buffer): unknown {
  try {
    const text = data.toString('utf8').replace(/^\uFEFF/, '');
    return signedPart(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
