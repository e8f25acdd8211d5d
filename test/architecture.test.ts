/**
 * The layers of src/ (ARCHITECTURE.md) are enforced by `npm run lint`, and the page stays true:
 * the configured Biome refuses an upward import and an import cycle on a scratch tree, and the
 * page, biome.json and the folders of src/ agree.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers/cli.js';

const require = createRequire(import.meta.url);
const BIOME = require.resolve('@biomejs/biome/bin/biome');

interface BiomeConfig {
  $schema?: string;
  vcs?: { enabled: boolean };
  files?: { includes?: string[] };
  overrides?: Array<{
    includes: string[];
    linter?: { rules?: { style?: { noRestrictedImports?: { options?: { patterns?: Array<{ group: string[]; message: string }> } } } } };
  }>;
}

const readConfig = async (): Promise<BiomeConfig> => JSON.parse(await readFile(join(REPO, 'biome.json'), 'utf8')) as BiomeConfig;

/** The layers as ARCHITECTURE.md's rule table lists them, lowest first. */
async function documentedLayers(): Promise<string[]> {
  const page = await readFile(join(REPO, 'ARCHITECTURE.md'), 'utf8');
  const rows = [...page.matchAll(/^\| (\d+) \| `([a-z-]+)\/` \|/gm)].map((m) => ({ n: Number(m[1]), folder: m[2]! }));
  expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i));
  return rows.map((r) => r.folder);
}

/** Folder → the folders its biome.json override forbids. */
function forbidden(config: BiomeConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of config.overrides ?? []) {
    const patterns = o.linter?.rules?.style?.noRestrictedImports?.options?.patterns;
    if (!patterns) continue;
    const folder = /^src\/([a-z-]+)\/\*\*$/.exec(o.includes[0]!)?.[1];
    if (!folder) continue;
    out.set(
      folder,
      patterns.map((p) => /^\.\/([a-z-]+)$/.exec(p.group[0]!)?.[1] ?? `unexpected pattern ${p.group[0]}`),
    );
  }
  return out;
}

function runBiome(cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIOME, 'lint', '--max-diagnostics=200', 'src'], { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('ARCHITECTURE.md stays true', () => {
  it('lists exactly the folders of src/, each with an index.ts (its public face)', async () => {
    const layers = await documentedLayers();
    const folders = (await readdir(join(REPO, 'src'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect([...layers].sort()).toEqual(folders.sort());
    for (const f of folders) expect((await readdir(join(REPO, 'src', f))).includes('index.ts'), `src/${f}/index.ts`).toBe(true);
  });

  it('biome.json forbids each folder exactly the folders above it, naming the rule', async () => {
    const layers = await documentedLayers();
    const rules = forbidden(await readConfig());
    for (const [i, folder] of layers.entries()) {
      if (i === layers.length - 1) expect(rules.has(folder), `${folder} is the top layer`).toBe(false);
      else expect(rules.get(folder), folder).toEqual(layers.slice(i + 1));
    }
    const config = await readConfig();
    const util = config.overrides!.find((o) => o.includes[0] === 'src/util/**')!;
    expect(util.includes).toEqual(['src/util/**', 'src/errors.ts', 'src/version.ts']);
    const messages = config.overrides!.flatMap((o) => o.linter?.rules?.style?.noRestrictedImports?.options?.patterns ?? []).map((p) => p.message);
    expect(messages).toContain('policy/ must not import report/ (a higher layer): see ARCHITECTURE.md');
  });

  it('the library entry imports each folder through its index.ts', async () => {
    const entry = await readFile(join(REPO, 'src', 'index.ts'), 'utf8');
    const specs = [...entry.matchAll(/from '(\.[^']+)'/g)].map((m) => m[1]!);
    expect(specs.length).toBeGreaterThan(10);
    for (const s of specs) expect(s, s).toMatch(/^\.\/(?:[a-z-]+\/index|errors)\.js$/);
  });
});

describe('npm run lint refuses what breaks the layers', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const files: Record<string, string> = {
    // Downward imports: allowed.
    'src/errors.ts': 'export class AibomError extends Error {}\n',
    'src/util/fs.ts': "import { AibomError } from '../errors.js';\nexport const fail = () => new AibomError();\n",
    'src/inventory/mcp/servers.ts': "import { fail } from '../../util/fs.js';\nexport const servers = [fail];\n",
    'src/report/text.ts': "import type { Rule } from '../policy/rules.js';\nexport const render = (r: Rule) => String(r);\n",
    // Upward: policy/ imports report/ (static, type-only, dynamic), inventory/mcp/ imports mcp-tools/, util/ imports bom/.
    'src/policy/rules.ts': "import { render } from '../report/text.js';\nexport type Rule = string;\nexport const show = render;\n",
    'src/policy/lazy.ts': "export const later = () => import('../report/text.js');\n",
    'src/inventory/mcp/pins.ts': "export type { Pin } from '../../mcp-tools/pin.js';\n",
    'src/mcp-tools/pin.ts': 'export type Pin = string;\n',
    'src/util/json.ts': "import { x } from '../bom/read.js';\nexport const y = x;\n",
    'src/bom/read.ts': 'export const x = 1;\n',
    // A cycle made of type imports only, inside one folder.
    'src/verification/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
    'src/verification/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
  };

  beforeAll(async () => {
    work = await tempDir('aibom-layers-');
    const config = await readConfig();
    // The project's configuration as it is, on a scratch tree (no VCS there, no schema file beside it).
    delete config.$schema;
    config.vcs = { enabled: false };
    config.files = { includes: ['src/**'] };
    await writeFile(join(work.dir, 'biome.json'), JSON.stringify(config));
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(work.dir, rel)), { recursive: true });
      await writeFile(join(work.dir, rel), text);
    }
  });
  afterAll(async () => work.cleanup());

  it('an upward import fails lint with a message naming the rule; downward imports pass', async () => {
    const { code, out } = await runBiome(work.dir);
    expect(code).not.toBe(0);
    const refused = (file: string, message: string) =>
      expect(out, `${file}: ${message}`).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+ lint/style/noRestrictedImports[^\\n]*\\n(?:[^\\n]*\\n){0,3}[^\\n]*${message.replace(/[/().]/g, '\\$&')}`));
    refused('src/policy/rules.ts', 'policy/ must not import report/ (a higher layer): see ARCHITECTURE.md');
    refused('src/policy/lazy.ts', 'policy/ must not import report/ (a higher layer): see ARCHITECTURE.md');
    refused('src/inventory/mcp/pins.ts', 'inventory/ must not import mcp-tools/ (a higher layer): see ARCHITECTURE.md');
    refused('src/util/json.ts', 'util/, errors.ts and version.ts must not import bom/ (a higher layer): see ARCHITECTURE.md');
    for (const ok of ['src/util/fs.ts', 'src/inventory/mcp/servers.ts', 'src/report/text.ts']) {
      expect(out).not.toMatch(new RegExp(`${ok.replace(/[.]/g, '\\.')}:\\d+:\\d+ lint/style/noRestrictedImports`));
    }
  });

  it('an import cycle fails lint, type imports included', async () => {
    const { out } = await runBiome(work.dir);
    expect(out).toMatch(/src\/verification\/a\.ts:\d+:\d+ lint\/suspicious\/noImportCycles/);
    expect(out).toMatch(/src\/verification\/b\.ts:\d+:\d+ lint\/suspicious\/noImportCycles/);
    // policy/rules.ts ↔ report/text.ts is a cycle as well as an upward import.
    expect(out).toMatch(/src\/policy\/rules\.ts:\d+:\d+ lint\/suspicious\/noImportCycles/);
  });
});

/**
 * The CLI is one bundle (scripts/bundle-cli.mjs). Node gives `import('cjs-package')` named
 * exports it finds by lexing the file; a bundler's split chunk gives only `default`
 * (module.exports). So an npm package imported with import() is read through `default`, the
 * shape both agree on (or required, on first use, through src/util/lazy.ts).
 */
describe('the sources stay bundle-safe', () => {
  async function sources(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(join(REPO, dir), { withFileTypes: true, recursive: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) out.push(join(e.parentPath, e.name));
    }
    return out;
  }
  const namedFromPackage = (text: string): string[] =>
    [...text.matchAll(/(?:const|let)\s+(\{[^}]*\}|\w+)\s*=\s*(\(?)await import\('([^'.][^']*)'\)/g)]
      .filter((m) => !m[3]!.startsWith('node:'))
      .filter((m) => !/^\{\s*default\s*:\s*\w+\s*\}$/.test(m[1]!))
      .map((m) => `${m[1]} = await import('${m[3]}')`);

  it("import() of an npm package destructures only `default`", async () => {
    const bad: string[] = [];
    for (const file of [...(await sources('src')), ...(await sources('cli'))]) {
      for (const b of namedFromPackage(await readFile(file, 'utf8'))) bad.push(`${file.slice(REPO.length + 1)}: ${b}`);
    }
    expect(bad).toEqual([]);
  });

  it('the check sees named and namespace imports of a package', () => {
    expect(namedFromPackage("const { LineCounter } = await import('yaml');\nconst mod = await import('@yarnpkg/parsers');")).toEqual([
      "{ LineCounter } = await import('yaml')",
      "mod = await import('@yarnpkg/parsers')",
    ]);
    expect(namedFromPackage("const { default: semver } = await import('semver');\nconst { resolve } = await import('node:path');\nconst { a } = await import('./a.js');")).toEqual([]);
  });
});
