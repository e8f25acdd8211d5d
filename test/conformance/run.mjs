#!/usr/bin/env node
// `npm run test:conformance`: the Sigstore client conformance `bundle-verify` cases, each run
// through the aibom CLI as a separate process, twice: with the artifact's path and with its
// `sha256:<hex>` digest. A case whose name ends in `_fail` must fail (exit 1: not verified, or 2:
// input refused; never a crash); every other case must verify (exit 0). Prints `N passed, N failed` and exits non-zero on
// any miss.
//
// Data: $AIBOM_CONFORMANCE_DIR, else ../shared/conformance beside the repository.
// CLI: dist/cli/aibom.js when built (as CI runs it, after `npm test`), else the TypeScript
// sources through tsx; AIBOM_CONFORMANCE_SOURCE=1 forces the sources.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataRoot = process.env.AIBOM_CONFORMANCE_DIR
  ? resolve(process.env.AIBOM_CONFORMANCE_DIR)
  : resolve(repo, '..', 'shared', 'conformance');
const casesDir = join(dataRoot, 'sigstore-bundle-verify');
if (!existsSync(casesDir)) {
  console.error(
    `conformance: no data: ${casesDir} does not exist.\n` +
      'Set AIBOM_CONFORMANCE_DIR to the folder holding sigstore-bundle-verify/ (or place shared/conformance beside the repository).',
  );
  process.exit(2);
}

const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

// AIBOM_CONFORMANCE_CLI points at another build of the CLI.
const dist = process.env.AIBOM_CONFORMANCE_CLI ? resolve(process.env.AIBOM_CONFORMANCE_CLI) : join(repo, 'dist', 'cli', 'aibom.js');
const useSource = process.env.AIBOM_CONFORMANCE_SOURCE === '1' || !existsSync(dist);
const cliArgs = useSource ? ['--import', 'tsx', join(repo, 'cli', 'aibom.ts')] : [dist];

const only = process.argv.slice(2);
const cases = readdirSync(casesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(casesDir, d.name, 'bundle.sigstore.json')))
  .map((d) => d.name)
  .filter((n) => only.length === 0 || only.some((o) => n.includes(o)))
  .sort();
if (cases.length === 0) {
  console.error(`conformance: no cases found in ${casesDir}`);
  process.exit(2);
}

const read = (f) => readFileSync(f, 'utf8').trim();
const jobs = [];
for (const name of cases) {
  const dir = join(casesDir, name);
  const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(casesDir, 'a.txt');
  const signer = existsSync(join(dir, 'key.pub'))
    ? ['--key', join(dir, 'key.pub')]
    : [
        '--certificate-identity',
        existsSync(join(dir, 'identity')) ? read(join(dir, 'identity')) : DEFAULT_IDENTITY,
        '--certificate-oidc-issuer',
        existsSync(join(dir, 'issuer')) ? read(join(dir, 'issuer')) : DEFAULT_ISSUER,
      ];
  const root = existsSync(join(dir, 'trusted_root.json')) ? ['--trusted-root', join(dir, 'trusted_root.json')] : [];
  const digest = `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`;
  for (const [mode, target] of [
    ['path', artifact],
    ['digest', digest],
  ]) {
    // The conformance contract, in its order.
    const args = ['verify-bundle', '--bundle', join(dir, 'bundle.sigstore.json'), ...signer, ...root, target];
    jobs.push({ name, mode, args, mustFail: name.endsWith('_fail') });
  }
}

function run(job) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [...cliArgs, ...job.args], {
      cwd: repo,
      // An empty cache folder: a root cached by `aibom trust update` on this machine must not change the result.
      env: { ...process.env, NO_COLOR: '1', AIBOM_CACHE_DIR: join(repo, 'node_modules', '.cache', 'aibom-conformance-empty') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, out: out.trim() });
    });
  });
}

const started = Date.now();
let passed = 0;
let failed = 0;
const misses = [];
let next = 0;
const workers = Math.max(1, Math.min(4, availableParallelism()));
await Promise.all(
  Array.from({ length: workers }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const { code, out } = await run(job);
      // A _fail case must be refused: exit 1 (not verified) or 2 (unusable input, e.g. a key that
      // does not parse), never a crash.
      const crashed = /bug in aibom|^\s+at /m.test(out);
      const ok = !crashed && (job.mustFail ? code === 1 || code === 2 : code === 0);
      if (ok) passed++;
      else {
        failed++;
        misses.push(`${job.name} [${job.mode}]: expected ${job.mustFail ? 'failure (exit 1 or 2)' : 'success (exit 0)'}, got exit ${code}: ${out.split('\n').slice(0, 3).join(' | ')}`);
      }
    }
  }),
);
misses.sort();
for (const m of misses) console.log(`MISS ${m}`);
console.log(`conformance: ${cases.length} cases x 2 modes via ${useSource ? 'sources (tsx)' : 'dist'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
