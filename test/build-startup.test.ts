import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, tempDir } from './helpers/cli.js';

/**
 * `aibom build` starts every discoverer and lockfile parser, and most find nothing to do:
 * their heavy dependencies must load on first use (src/util/lazy.ts), or each build pays for
 * them (yaml ~25 ms, Sigstore ~20 ms, the CycloneDX library's index with its own ajv
 * validators ~50 ms, ...). This checks which modules a build of a plain npm project loads,
 * not how long it takes.
 */
const HOOK = pathToFileURL(join(REPO, 'test', 'helpers', 'module-log.mjs')).href;

async function modulesLoaded(args: string[]): Promise<string[]> {
  const t = await tempDir();
  try {
    const log = join(t.dir, 'modules.txt');
    const r = await runCli(args, {
      env: { NODE_OPTIONS: `--import ${JSON.stringify(HOOK)}`, AIBOM_MODULE_LOG: log },
    });
    expect(r.code, r.stderr).toBe(0);
    return (await readFile(log, 'utf8')).split('\n');
  } finally {
    await t.cleanup();
  }
}

const pkg = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe('aibom build loads only what the input needs', () => {
  it('an npm project: no YAML, Sigstore, model-format or schema-compiler code', async () => {
    const urls = await modulesLoaded(['build', join(REPO, 'bench', 'fixtures', 'small'), '--reproducible']);
    const packages = new Set(urls.map(pkg).filter(Boolean));
    // What the build does need is there (the log works).
    expect(packages).toContain('@cyclonedx/cyclonedx-library');
    expect(urls.some((u) => u.includes('/validators/bom-1.6.cjs'))).toBe(true);
    for (const heavy of ['yaml', 'semver', '@huggingface/gguf', '@huggingface/tasks', '@sigstore/verify', '@sigstore/core', '@noble/curves']) {
      expect(packages, `${heavy} is loaded by a plain npm build`).not.toContain(heavy);
    }
    // The CycloneDX library through its sub-paths, never its index (which brings its own
    // validators and XML serializers); ajv's compiler is for schemas, not for BOMs.
    const cdx = urls.filter((u) => pkg(u) === '@cyclonedx/cyclonedx-library');
    expect(cdx.some((u) => /\/dist\.node\/(index\.node|validation\/)/.test(u))).toBe(false);
    expect(urls.some((u) => /\/node_modules\/ajv\/dist\/(ajv|core)\.js$/.test(u))).toBe(false);
  });

  it('the loader is seen when the input needs it: a pnpm project loads yaml', async () => {
    const urls = await modulesLoaded(['build', join(REPO, 'test', 'fixtures', 'lockfiles', 'pnpm', 'v9-features'), '--reproducible']);
    expect(new Set(urls.map(pkg))).toContain('yaml');
  });
});
