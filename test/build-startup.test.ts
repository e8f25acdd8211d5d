import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from './helpers/cli.js';

/**
 * `aibom build` starts every discoverer and lockfile parser, and most find nothing to do:
 * their heavy dependencies must load on first use (src/util/lazy.ts), or each build pays for
 * them (yaml ~25 ms, Sigstore ~20 ms, the CycloneDX library's index with its own ajv
 * validators ~50 ms, ...). This checks which npm code a build of a plain npm project runs,
 * not how long it takes.
 *
 * The CLI is bundled (scripts/bundle-cli.mjs), most packages into its chunks, so a package
 * runs when:
 * - it is loaded from node_modules (a module-load hook logs every URL), or
 * - its code in a loaded chunk ran: esbuild wraps a module that is required on first use in a
 *   function named after its path (`"node_modules/yaml/dist/index.js"(exports, module) {…}`),
 *   and V8's coverage (NODE_V8_COVERAGE) counts the calls of each function; a module that is
 *   not wrapped runs when its chunk loads (chunks/contents.json lists what each chunk holds).
 */
const HOOK = pathToFileURL(join(REPO, 'test', 'helpers', 'module-log.mjs')).href;
const CHUNKS = join(REPO, 'dist', 'cli', 'chunks');

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

/** The package of a path or URL: the name after its last node_modules/. */
const pkg = (path: string): string | undefined => /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(path)?.[1];

/** Files of npm packages that ran, as `node_modules/<package>/<file>` paths or URLs. */
async function npmCodeRun(args: string[]): Promise<{ files: string[]; chunksLoaded: number }> {
  const t = await tempDir();
  try {
    const log = join(t.dir, 'modules.txt');
    const coverage = join(t.dir, 'coverage');
    const r = await runCli(args, {
      env: { NODE_OPTIONS: `--import ${JSON.stringify(HOOK)}`, AIBOM_MODULE_LOG: log, NODE_V8_COVERAGE: coverage },
    });
    expect(r.code, r.stderr).toBe(0);
    const urls = (await readFile(log, 'utf8')).split('\n');
    const files = urls.filter((u) => pkg(u));
    const contents = JSON.parse(await readFile(join(CHUNKS, 'contents.json'), 'utf8')) as Record<string, Record<string, string[]>>;
    // The entry (dist/cli/aibom.js) and its chunks.
    const cli = pathToFileURL(join(REPO, 'dist', 'cli')).href;
    const chunks = urls.filter((u) => u === `${cli}/aibom.js` || u.startsWith(`${cli}/chunks/`));
    for (const url of chunks) {
      const text = await readFile(fileURLToPath(url), 'utf8');
      for (const [nameAtVersion, list] of Object.entries(contents[url.slice(cli.length + 1)] ?? {})) {
        const name = nameAtVersion.slice(0, nameAtVersion.lastIndexOf('@'));
        for (const f of list) {
          const path = `node_modules/${name}/${f}`;
          if (!text.includes(`${path}"(`)) files.push(path); // not wrapped: ran as its chunk loaded
        }
      }
    }
    for (const f of await readdir(coverage)) {
      const { result } = JSON.parse(await readFile(join(coverage, f), 'utf8')) as Coverage;
      for (const script of result) {
        if (!chunks.includes(script.url)) continue;
        for (const fn of script.functions) {
          if (pkg(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0) files.push(fn.functionName);
        }
      }
    }
    return { files, chunksLoaded: chunks.length - 1 };
  } finally {
    await t.cleanup();
  }
}

describe('aibom build runs only the npm code the input needs', () => {
  it('an npm project: no YAML, Sigstore, model-format or schema-compiler code', async () => {
    const { files, chunksLoaded } = await npmCodeRun(['build', join(REPO, 'bench', 'fixtures', 'small'), '--reproducible']);
    expect(chunksLoaded).toBeGreaterThan(0);
    const packages = new Set(files.map(pkg));
    // What the build does need is there (the log and the coverage work).
    expect(packages).toContain('@cyclonedx/cyclonedx-library');
    expect(packages).toContain('commander');
    for (const heavy of ['yaml', 'semver', '@huggingface/gguf', '@huggingface/tasks', '@sigstore/verify', '@sigstore/core', '@noble/curves', '@yarnpkg/parsers']) {
      expect(packages, `${heavy} runs in a plain npm build`).not.toContain(heavy);
    }
    // The CycloneDX library through its sub-paths, never its index (which brings its own
    // validators and XML serializers); ajv's compiler is for schemas, not for BOMs (the
    // precompiled validators need only its run-time helpers).
    const cdx = files.filter((f) => pkg(f) === '@cyclonedx/cyclonedx-library');
    expect(cdx.some((f) => /\/dist\.node\/models\//.test(f))).toBe(true);
    expect(cdx.filter((f) => /\/dist\.node\/(index\.node\.js|validation\/)/.test(f))).toEqual([]);
    expect(files.filter((f) => /node_modules\/ajv\/dist\/(ajv|core)\.js$/.test(f))).toEqual([]);
  });

  it('a package runs when the input needs it: a pnpm project runs yaml, a yarn project @yarnpkg/parsers', async () => {
    const pnpm = await npmCodeRun(['build', join(REPO, 'test', 'fixtures', 'lockfiles', 'pnpm', 'v9-features'), '--reproducible']);
    expect(new Set(pnpm.files.map(pkg))).toContain('yaml');
    const yarn = await npmCodeRun(['build', join(REPO, 'test', 'fixtures', 'lockfiles', 'yarn-classic', 'basic'), '--reproducible']);
    expect(new Set(yarn.files.map(pkg))).toContain('@yarnpkg/parsers');
  });
});

describe('the bundled CLI says what it holds', () => {
  it('every npm package in its chunks is listed with its licence text', async () => {
    const contents = JSON.parse(await readFile(join(CHUNKS, 'contents.json'), 'utf8')) as Record<string, Record<string, string[]>>;
    const bundled = new Set(Object.values(contents).flatMap((p) => Object.keys(p)));
    expect(bundled).toContain(`commander@${JSON.parse(await readFile(join(REPO, 'node_modules', 'commander', 'package.json'), 'utf8')).version}`);
    const notices = await readFile(join(CHUNKS, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    const listed = new Set([...notices.matchAll(/^(\S+@[^@\s]+) \(.*\)\n-{72}$/gm)].map((m) => m[1]));
    expect([...listed].sort()).toEqual([...bundled].sort());
    // A licence text, not only a name: commander's MIT grant.
    expect(notices).toMatch(/^commander@\S+ \(MIT\)\n-{72}\n[\s\S]*?Permission is hereby granted/m);
  });
});
