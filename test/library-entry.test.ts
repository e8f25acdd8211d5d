/**
 * The library entry `aibom` (package.json "exports": "."), used the way a JS consumer would: a
 * separate Node process importing the package by name, building and validating a BOM of the
 * example agent and gating it. Under `npm test` this is the compiled dist/; run alone, the
 * TypeScript sources through tsx.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO, runCli, tempDir, USE_DIST } from './helpers/cli.js';

/**
 * Run an ES module snippet in a fresh Node process at the repository root. `'aibom'` is the
 * package itself; `'aibom/src/X.ts'` names an internal module (dist/src/X.js under npm test).
 */
function runNode(code: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const internal = (_m: string, path: string) => (USE_DIST ? `'./dist/src/${path}.js'` : `'./src/${path}.ts'`);
  const src = code.replace(/'aibom\/src\/([\w/-]+)\.ts'/g, internal).replaceAll("'aibom'", USE_DIST ? "'aibom'" : "'./src/index.ts'");
  const args = USE_DIST ? ['--input-type=module', '-e', src] : ['--import', 'tsx', '--input-type=module', '-e', src];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, stdout: out, stderr: err }));
  });
}

describe("import … from 'aibom'", () => {
  it('builds, validates, audits and gates the example agent through the public API', async () => {
    const r = await runNode(`
      const aibom = await import('aibom');
      const inv = await aibom.buildInventory('examples/agent');
      const bom = await aibom.buildBom(inv, { reproducible: true });
      const errors = await aibom.validateBomJson(bom);
      const rep = aibom.inventoryFromBom(bom);
      const gate = await aibom.runGate({ root: 'examples/agent', policy: 'examples/agent/aibom-policy.yaml' });
      console.log(JSON.stringify({
        spec: bom.specVersion, errors: errors.length, kinds: rep.summary.byKind,
        passed: gate.passed, isError: new aibom.AibomError('INPUT', 'x') instanceof Error,
      }));
    `);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { spec: string; errors: number; kinds: Record<string, number>; passed: boolean; isError: boolean };
    expect(res.spec).toBe('1.6');
    expect(res.errors).toBe(0);
    expect(res.kinds.model).toBeGreaterThanOrEqual(2);
    expect(res.kinds.plugin).toBe(3);
    expect(res.kinds['mcp-server']).toBe(4);
    expect(res.passed).toBe(true);
    expect(res.isError).toBe(true);
  });
});

/** The GitHub Action's bundle, started with the runner's variables for a push to a branch (no signing, no upload). */
async function runActionBundle(inputs: Record<string, string>, runnerDir: string): Promise<{ code: number; out: string }> {
  const meta = parseYaml(await readFile(join(REPO, 'action.yml'), 'utf8'), { strict: true, uniqueKeys: true }) as {
    inputs: Record<string, { default?: string }>;
  };
  const summary = join(runnerDir, 'summary.md');
  const output = join(runnerDir, 'output');
  const event = join(runnerDir, 'event.json');
  await writeFile(summary, '');
  await writeFile(output, '');
  await writeFile(event, JSON.stringify({ ref: 'refs/heads/main' }));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'acme/agent',
    GITHUB_WORKSPACE: REPO,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: runnerDir,
  };
  for (const [name, decl] of Object.entries(meta.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = (inputs[name] ?? String(decl.default ?? '')).replace('${{ github.token }}', 'ghs_unused');
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'action', 'dist', 'index.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('one build path: the CLI, the library and the Action build the same BOM', () => {
  it('examples/agent built all three ways with --reproducible (and the policy pinning publishers) gives the same bytes', async () => {
    const { dir, cleanup } = await tempDir('aibom-three-ways-');
    try {
      const policy = 'examples/agent/aibom-policy.yaml';
      const cliOut = join(dir, 'cli.cdx.json');
      const cli = await runCli(['build', 'examples/agent', '--reproducible', '--policy', policy, '-o', cliOut]);
      expect(cli.code, cli.stderr).toBe(0);
      const lib = await runNode(
        `
        import { writeFileSync } from 'node:fs';
        const aibom = await import('aibom');
        const built = await aibom.buildAibom('examples/agent', { reproducible: true, policy: ${JSON.stringify(policy)} });
        writeFileSync(process.env.OUT_LIB, built.text);
        const { loadOrBuildBom } = await import('aibom/src/build/load.ts');
        const loaded = await loadOrBuildBom('examples/agent', { policy: ${JSON.stringify(policy)} });
        writeFileSync(process.env.OUT_REPORT, aibom.serializeBom(loaded.bom));
      `,
        { OUT_LIB: join(dir, 'lib.cdx.json'), OUT_REPORT: join(dir, 'report.cdx.json') },
      );
      expect(lib.code, lib.stderr).toBe(0);
      const runnerDir = join(dir, 'runner');
      await mkdir(runnerDir);
      const act = await runActionBundle({ path: 'examples/agent', output: join(dir, 'action.cdx.json'), reproducible: 'true', policy }, runnerDir);
      expect(act.code, act.out).toBe(0);

      const cliBytes = await readFile(cliOut);
      for (const f of ['lib.cdx.json', 'report.cdx.json', 'action.cdx.json']) {
        expect((await readFile(join(dir, f))).equals(cliBytes), `${f} differs from the CLI's BOM`).toBe(true);
      }
      // And it is the BOM the start-up check needs: plugin paths and the pinned publisher.
      const bom = JSON.parse(cliBytes.toString()) as { metadata: { component: { properties: Array<{ name: string; value: string }> } }; components: Array<{ properties?: Array<{ name: string }> }> };
      expect(bom.metadata.component.properties).toContainEqual({ name: 'aibom:plugin-path', value: 'plugins' });
      expect(bom.components.some((c) => c.properties?.some((p) => p.name === 'aibom:publisher:key-fingerprint'))).toBe(true);
    } finally {
      await cleanup();
    }
  });

  it('an unreadable lockfile fails the library build and a report built from the folder (no 0-component BOM)', async () => {
    const { dir, cleanup } = await tempDir('aibom-bad-lock-');
    try {
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'agent', version: '1.0.0' }));
      await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion": 3, "packages": {');
      const r = await runNode(
        `
        const aibom = await import('aibom');
        const { loadOrBuildBom } = await import('aibom/src/build/load.ts');
        const out = {};
        for (const [name, fn] of [['buildAibom', () => aibom.buildAibom(process.env.DIR)], ['loadOrBuildBom', () => loadOrBuildBom(process.env.DIR)]]) {
          try { await fn(); out[name] = 'built'; }
          catch (e) { out[name] = { name: e.name, code: e.code, message: e.message, files: (e.findings ?? []).map((f) => f.location?.file) }; }
        }
        const kept = await aibom.buildAibom(process.env.DIR, { keepGoing: true });
        out.keepGoing = kept.findings.filter((f) => f.fatal).length;
        console.log(JSON.stringify(out));
      `,
        { DIR: dir },
      );
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      for (const name of ['buildAibom', 'loadOrBuildBom']) {
        expect(res[name]).toMatchObject({ name: 'IncompleteInventoryError', code: 'INPUT', files: ['package-lock.json'] });
        expect(res[name].message).toMatch(/^no BOM built: 1 input could not be read: package-lock\.json: /);
      }
      expect(res.keepGoing).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('the library and the CLI import neither @actions/core nor octokit (only the bundled Action uses them)', async () => {
    const offenders: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(join(REPO, d), { withFileTypes: true })) {
        const rel = `${d}/${e.name}`;
        if (e.isDirectory()) await walk(rel);
        else if (/\.(ts|mts|js|mjs)$/.test(e.name)) {
          const text = await readFile(join(REPO, rel), 'utf8');
          if (/(?:from\s*|import\(\s*|require\(\s*)['"](?:@actions\/|octokit|@octokit\/)/.test(text)) offenders.push(rel);
        }
      }
    };
    for (const d of ['src', 'cli']) await walk(d);
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const dep of ['@actions/core', 'octokit']) {
      expect(pkg.dependencies[dep], dep).toBeUndefined();
      expect(pkg.devDependencies[dep], dep).toBeDefined();
    }
  });
});
