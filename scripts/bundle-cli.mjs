// Bundles the command line — dist/cli/aibom.js, compiled by tsc — into one entry module plus
// split chunks, written over dist/cli/aibom.js (package.json `bin`) with the chunks in
// dist/cli/chunks/. Unbundled, `aibom build` resolves and loads some 400 modules at every
// start (~110 of aibom's own, the rest from node_modules); bundled, a handful of chunks. Each
// command's heavy code stays a lazy chunk, loaded only when that command runs, and packages
// the code loads on first use (src/util/lazy.ts) still load on first use. chunks/contents.json
// lists the npm packages (name@version, files) each chunk holds. The library (package.json
// `exports`) stays tsc's output and loads its dependencies from node_modules.
// Run by scripts/build.mjs after tsc.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { absentPackages, assertOnlyKnownRuntimeLoads, bundleCreateRequire, ggufTablesOnly, preferModuleEntry } from './esbuild-plugins.mjs';
import { builtinModules } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist', 'cli');
const entry = join(cliDir, 'aibom.js');
const tmp = join(root, 'dist', '.cli-bundle');
/**
 * Every npm package is bundled. A package left external would load its own dependencies from
 * node_modules at run time, and their optional requires (debug's `supports-color`) search every
 * folder up the tree and NODE_PATH. src/verification/tuf-chain.ts still reads the installed
 * @tufjs/models by path, to check a cached trusted root against the TUF chain.
 */
const EXTERNAL = [];
rmSync(tmp, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: [entry],
  outdir: tmp,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // npm packages are bundled too: a command loads a few chunks instead of resolving some 300
  // modules through node_modules at each start.
  external: EXTERNAL,
  plugins: [
    bundleCreateRequire(/[\\/]dist[\\/](src|cli)[\\/].*\.js$/, 'js'),
    ggufTablesOnly(root),
    preferModuleEntry(['jsonc-parser']),
    absentPackages(),
  ],
  // Bundled CommonJS packages require Node's built-ins; ES modules have no `require`.
  banner: { js: "import { createRequire as __aibomCreateRequire } from 'node:module'; const require = __aibomCreateRequire(import.meta.url);" },
  metafile: true,
  sourcemap: true,
  // Maps point at the files (dist/ and node_modules/); their text is there already.
  sourcesContent: false,
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
// What each file holds from npm (chunks/contents.json): per output file, each bundled package
// as name@version with its files; their licences in chunks/THIRD-PARTY-LICENSES.txt. Bundled code is third-party code shipped in aibom's tarball:
// this says which, and lets a test see which packages a command loads although they no longer
// load from node_modules.
const contents = {};
const licenses = new Map();
for (const [out, { inputs }] of Object.entries(metafile.outputs)) {
  if (!out.endsWith('.js')) continue;
  const packages = {};
  for (const input of Object.keys(inputs).sort()) {
    const at = input.lastIndexOf('node_modules/');
    const m = at < 0 ? null : /^node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(input.slice(at));
    if (!m) continue;
    const dir = join(root, input.slice(0, at), 'node_modules', m[1]);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    (packages[`${m[1]}@${version}`] ??= []).push(m[2]);
    licenses.set(`${m[1]}@${version}`, { dir, license });
  }
  if (Object.keys(packages).length > 0) contents[relative(tmp, join(root, out)).split('\\').join('/')] = packages;
}
writeFileSync(join(cliDir, 'chunks', 'contents.json'), `${JSON.stringify(contents, null, 2)}\n`);
// Their licence texts, as each package ships them (chunks/THIRD-PARTY-LICENSES.txt).
const notices = [...licenses].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, { dir, license }]) => {
  const files = readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
  const texts = files.map((f) => readFileSync(join(dir, f), 'utf8').trim());
  const body = texts.length > 0 ? texts.join('\n\n') : `(no licence file in the package; package.json says: ${license ?? 'nothing'})`;
  return `${id} (${typeof license === 'string' ? license : 'see below'})\n${'-'.repeat(72)}\n${body}\n`;
});
writeFileSync(
  join(cliDir, 'chunks', 'THIRD-PARTY-LICENSES.txt'),
  `npm packages bundled into aibom's command line (dist/cli/), with their licences.\n\n${notices.join('\n')}`,
);
// Fail closed: nothing the bundle loads at run time is looked up outside aibom's own install.
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const out of Object.keys(metafile.outputs).filter((o) => o.endsWith('.js'))) {
  const file = join(cliDir, relative(tmp, join(root, out)));
  assertOnlyKnownRuntimeLoads(readFileSync(file, 'utf8'), relative(root, file), Object.keys(dependencies), builtinModules);
}
// Fail closed: the bundled CLI must start and know its commands (in a fresh process).
const help = execFileSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
for (const cmd of ['build', 'validate']) {
  if (!new RegExp(`^\\s+${cmd}\\b`, 'm').test(help)) throw new Error(`bundled CLI: "${cmd}" missing from --help`);
}
console.log(`bundled the aibom CLI into ${entry} (+ chunks/)`);
