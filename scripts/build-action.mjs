// Bundles the GitHub Action into action/dist/ (committed: the Actions runner does not run
// `npm ci`). `npm run build:action` writes it; `node scripts/build-action.mjs --out DIR` writes
// elsewhere (the freshness test builds into a temp folder and compares).
//
// - action/src/main.ts and everything it imports → action/dist/index.js (ESM, Node 24).
// - Our sources load some CommonJS packages with createRequire(import.meta.url); in the bundle
//   those requires are bundled too (scripts/esbuild-plugins.mjs).
// - The precompiled CycloneDX validators → action/dist/generated/validators/ (self-contained).
// - No trusted root is bundled (the public-good root is read from an installed @sigstore/tuf,
//   never copied into the repository): the Action takes a `trusted-root` input when it must
//   verify keyless signatures; key signatures need none.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { absentPackages, assertOnlyKnownRuntimeLoads, bundleCreateRequire, ggufTablesOnly } from './esbuild-plugins.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argOut = process.argv.indexOf('--out');
const out = argOut > 0 ? resolve(process.argv[argOut + 1]) : join(root, 'action', 'dist');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: ['action/src/main.ts'],
  outfile: join(out, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  legalComments: 'none',
  logLevel: 'warning',
  // Runtime requires left in the bundle (computed paths) resolve from the bundle's folder.
  banner: {
    js: [
      "import { createRequire as __aibomCreateRequire } from 'node:module';",
      "import { fileURLToPath as __aibomFileURLToPath } from 'node:url';",
      "import { dirname as __aibomDirname } from 'node:path';",
      'const require = __aibomCreateRequire(import.meta.url);',
      'const __filename = __aibomFileURLToPath(import.meta.url);',
      'const __dirname = __aibomDirname(__filename);',
    ].join('\n'),
  },
  plugins: [bundleCreateRequire(/[\\/](src|action[\\/]src)[\\/].*\.ts$/, 'ts'), ggufTablesOnly(root), absentPackages()],
  // Prefer ES module builds: some packages' "main" is a UMD wrapper whose requires esbuild cannot follow.
  mainFields: ['module', 'main'],
});

// Fail closed: the runner installs nothing, so the bundle loads nothing but Node's built-ins.
assertOnlyKnownRuntimeLoads(readFileSync(join(out, 'index.js'), 'utf8'), 'action/dist/index.js', [], builtinModules);

for (const v of ['1.6', '1.7']) {
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'generated', 'validators', `bom-${v}.cjs`)],
    outfile: join(out, 'generated', 'validators', `bom-${v}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

console.log(`bundled the Action into ${out}`);
