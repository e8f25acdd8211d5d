// esbuild plugins shared by the two bundles of aibom's sources: the CLI (scripts/bundle-cli.mjs)
// and the GitHub Action (scripts/build-action.mjs).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * aibom's sources load CommonJS packages through a module-local
 * `const require = createRequire(import.meta.url);` (unbundled, that is how an ES module
 * requires). In a bundle that line goes, so each `require('pkg')` is esbuild's own: the package
 * is bundled and still loaded on first call (src/util/lazy.ts). Requires of computed paths fall
 * back to the bundle's banner `require`, which resolves from the bundle's folder. Lines are
 * kept (the replacement is a comment), so source maps still point at the right lines.
 */
export function bundleCreateRequire(filter, loader) {
  return {
    name: 'bundle-create-require',
    setup(b) {
      b.onLoad({ filter }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replace(
          /^const require = createRequire\(import\.meta\.url\);$/gm,
          '/* bundled: esbuild resolves require() */',
        ),
        loader,
      }));
    },
  };
}

/**
 * aibom reads GGUF itself and takes only the quantization-name tables from @huggingface/gguf;
 * those live in @huggingface/tasks' gguf module. Bundling the whole package would pull in the
 * Hub's app catalogue (docs URLs, docker command lines) for nothing.
 */
export function ggufTablesOnly(root) {
  return {
    name: 'gguf-tables-only',
    setup(b) {
      b.onResolve({ filter: /^@huggingface\/gguf$/ }, () => ({
        path: join(root, 'node_modules', '@huggingface', 'tasks', 'dist', 'esm', 'gguf.js'),
      }));
    },
  };
}

/**
 * Bundle these packages from their `module` entry: their `main` is a UMD wrapper whose
 * requires a bundler cannot follow (jsonc-parser's `require('./impl/format')`).
 */
export function preferModuleEntry(names) {
  return {
    name: 'prefer-module-entry',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (!names.includes(args.path)) return undefined;
        const manifest = createRequire(join(args.resolveDir, 'x.js')).resolve(`${args.path}/package.json`);
        const { module } = JSON.parse(readFileSync(manifest, 'utf8'));
        if (typeof module !== 'string') throw new Error(`${args.path}: no "module" entry to bundle`);
        return { path: join(dirname(manifest), module) };
      });
    },
  };
}

/**
 * Optional packages that bundled code tries to load, which aibom does not install: the
 * CycloneDX library's XML plug-ins (aibom writes JSON only) and Kerberos proxy authentication.
 * Left to Node, such a `require` searches every node_modules folder up the tree and NODE_PATH,
 * where someone else's package could answer; in the bundle each is a module that throws, as a
 * missing package would, so the code that tries it goes on without it.
 */
export const ABSENT = ['xmlbuilder2', 'libxmljs2', 'kerberos'];
export function absentPackages(names = ABSENT) {
  return {
    name: 'absent-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (names.includes(args.path) ? { path: args.path, namespace: 'aibom-absent' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'aibom-absent' }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find package '${args.path}' (not part of aibom)`)}), { code: 'MODULE_NOT_FOUND' });`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Fail the build if a bundle still loads, at run time, a package that is neither a Node
 * built-in nor one aibom installs (package.json `dependencies`): that name would be looked up
 * through folders aibom does not control. `text` is the bundle's code.
 */
export function assertOnlyKnownRuntimeLoads(text, file, dependencies, builtins) {
  const loads = text.matchAll(/(?:__require(?:\.resolve)?\(|\bimport\(|^\s*import\s[^;]*?\sfrom\s|^\s*export\s[^;]*?\sfrom\s)\s*"([^".][^"]*)"/gm);
  for (const [, spec] of loads) {
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (spec.startsWith('node:') || builtins.includes(name) || dependencies.includes(name)) continue;
    throw new Error(`${file}: loads "${spec}" at run time, which aibom does not install (bundle it, or list it in absentPackages)`);
  }
}
