// `npm run build` (and `npm ci`, through prepare): compile TypeScript to dist/ and precompile
// the CycloneDX schema validators into generated/.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
chmodSync(join(root, 'dist', 'cli', 'aibom.js'), 0o755);
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-runtime.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'gen-validators.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [join(root, 'scripts', 'gen-schema-validators.mjs')], { stdio: 'inherit', cwd: root });
