// `npm run build` (and `npm ci`, through prepare): compile TypeScript to dist/ and precompile
// the CycloneDX schema validators into generated/.
//
// Skipped when nothing it reads has changed since the last build (`npm ci` builds, then
// `npm test` would build the same bytes again): node_modules/.cache/aibom/build-stamp.json
// (outside dist/, which npm packs) records a SHA-256 of every input (src/, cli/, scripts/,
// schemas/, the tsconfigs, package.json, package-lock.json) and of every file
// the build wrote. Both must match for a skip, so an edited, added or deleted output rebuilds as
// surely as a changed input; `npm ci` starts without node_modules/, so without a stamp.
// `node scripts/build.mjs --force` (or AIBOM_BUILD_FORCE=1) always builds.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const STAMP = join(root, 'node_modules', '.cache', 'aibom', 'build-stamp.json');
const INPUT_DIRS = ['src', 'cli', 'scripts', 'schemas'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const OUTPUT_DIRS = ['dist', 'generated'];

/** Every file under `dir` (relative to root, sorted). */
function filesUnder(dir) {
  const out = [];
  const walk = (abs) => {
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** SHA-256 over names and contents: a file moved, added, removed or changed changes it. */
function treeDigest(files) {
  const h = createHash('sha256');
  for (const f of files) {
    const abs = join(root, f);
    h.update(`${f}\0`);
    h.update(existsSync(abs) ? createHash('sha256').update(readFileSync(abs)).digest('hex') : '-');
    h.update('\n');
  }
  return h.digest('hex');
}

// Not the Node version: what tsc, esbuild and ajv write does not depend on the Node that runs them
// (`node scripts/build.mjs` with the system's Node and `npm run build` with the one npm ci brings agree).
const inputs = () => treeDigest([...INPUT_DIRS.flatMap(filesUnder), ...INPUT_FILES]);
const outputs = () => treeDigest(OUTPUT_DIRS.flatMap(filesUnder));

const force = process.argv.includes('--force') || process.env.AIBOM_BUILD_FORCE === '1';
if (!force && existsSync(STAMP)) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    stamp = undefined;
  }
  if (stamp?.inputs === inputs() && stamp?.outputs === outputs()) {
    console.log('aibom build: dist/ and generated/ are up to date (node scripts/build.mjs --force rebuilds)');
    process.exit(0);
  }
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
chmodSync(join(root, 'dist', 'cli', 'aibom.js'), 0o755);
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-runtime.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'gen-validators.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'gen-schema-validators.mjs')], { stdio: 'inherit', cwd: root });
// Last, after every step succeeded: a failed build leaves no stamp, so the next one runs in full.
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, `${JSON.stringify({ inputs: inputs(), outputs: outputs() }, null, 2)}\n`);
