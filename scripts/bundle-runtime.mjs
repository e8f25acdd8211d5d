// Bundles the start-up check — `aibom/runtime` and `aibom/register`, compiled by tsc into
// dist/src/runtime/ — with what verification needs (@sigstore/verify, @sigstore/core,
// @sigstore/bundle, @sigstore/protobuf-specs, @noble/curves and aibom's verification code)
// into dist/runtime/, the files package.json `exports` names. One module file instead of ~110
// halves the import cost an agent pays at every start (module resolution and loading dominate
// it). What loads only on demand stays out of the main chunk: the policy loader and the
// manifest reader are split chunks; yaml, smol-toml, picomatch and ajv stay external packages;
// TUF and the signing code are external and never imported by the runtime.
// Run by scripts/build.mjs after tsc.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist', 'src', 'runtime');
const outdir = join(root, 'dist', 'runtime');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(from, 'index.js'), join(from, 'register.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['yaml', 'smol-toml', 'picomatch', 'ajv', '@sigstore/tuf', '@sigstore/sign', 'sigstore'],
  // CommonJS dependencies inside an ES module bundle call require() for Node built-ins.
  banner: { js: "import { createRequire as __aibomCreateRequire } from 'node:module'; const require = __aibomCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
// Fail closed: the bundle must load and export the API (in a fresh process, as an agent loads it).
const check = `const m = await import(${JSON.stringify(pathToFileURL(join(outdir, 'index.js')).href)});
for (const k of ['verifyPlugins', 'assertPlugins', 'formatReport', 'PluginsRefusedError']) if (typeof m[k] !== 'function') throw new Error('aibom/runtime bundle lacks ' + k);`;
execFileSync(process.execPath, ['--input-type=module', '-e', check], { stdio: 'inherit' });
console.log(`bundled aibom/runtime and aibom/register into ${outdir}`);
