// Bundles the command line — dist/cli/aibom.js, compiled by tsc — into one entry module plus
// split chunks, written over dist/cli/aibom.js (package.json `bin`) with the chunks in
// dist/cli/chunks/. `aibom build` otherwise resolves and loads ~110 of aibom's own modules at
// every start; bundled, it loads a handful (about 40 ms less CPU per run, measured with
// bench/). Each command's heavy code stays a lazy chunk, loaded only when that command runs;
// every npm package stays external (loaded from node_modules, on demand where the code says
// so: src/util/lazy.ts). The library (package.json `exports`) stays tsc's output.
// Run by scripts/build.mjs after tsc.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist', 'cli');
const entry = join(cliDir, 'aibom.js');
const tmp = join(root, 'dist', '.cli-bundle');
rmSync(tmp, { recursive: true, force: true });
await build({
  entryPoints: [entry],
  outdir: tmp,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  sourcemap: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
// The entry replaces tsc's aibom.js; chunk imports are relative (./chunks/...), so the layout
// moves as a whole.
rmSync(join(cliDir, 'chunks'), { recursive: true, force: true });
renameSync(join(tmp, 'chunks'), join(cliDir, 'chunks'));
renameSync(join(tmp, 'aibom.js'), entry);
if (existsSync(join(tmp, 'aibom.js.map'))) renameSync(join(tmp, 'aibom.js.map'), `${entry}.map`);
rmSync(tmp, { recursive: true, force: true });
chmodSync(entry, 0o755);
// Fail closed: the bundled CLI must start and know its commands (in a fresh process).
const help = execFileSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
for (const cmd of ['build', 'validate']) {
  if (!new RegExp(`^\\s+${cmd}\\b`, 'm').test(help)) throw new Error(`bundled CLI: "${cmd}" missing from --help`);
}
console.log(`bundled the aibom CLI into ${entry} (+ chunks/)`);
