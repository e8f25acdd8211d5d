/**
 * README.md as an executable spec: every ```sh and ```js block runs as written in one terminal
 * session, twice: in a fresh clone (what `git clone` + `npm ci` give) and in a consumer project
 * that installed the packed tarball (`npm pack`, then `npm install ./aibom-<version>.tgz`), so
 * `npx aibom` and `node --import aibom/register` resolve exactly as they do for users. The rules
 * for README blocks and the runner are in test/helpers/readme-session.ts. Both sessions share one
 * aibom cache, as one user's machine would: the second is served from the first's provenance cache.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';
import { cloneFiles, JS_END, session, useReadmeSession } from './helpers/readme-session.js';

describe('README.md shell and library blocks run as written', () => {
  const readme = useReadmeSession();

  it('README has shell blocks, and the session script keeps their text verbatim', () => {
    expect(readme.get().blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThan(3);
    expect(readme.get().blocks.some((b) => b.lang === 'js')).toBe(true);
    for (const b of readme.get().blocks) expect(b.text, `README.md:${b.line}`).not.toContain(JS_END);
    for (const b of readme.get().blocks) expect(session(readme.get().blocks)).toContain(`${b.text}\n`);
  });

  it('in a fresh clone of the repository', async () => {
    const clone = join(readme.get().dir, 'clone');
    for (const f of cloneFiles()) {
      await mkdir(dirname(join(clone, f)), { recursive: true });
      await cp(join(REPO, f), join(clone, f), { verbatimSymlinks: true });
    }
    // What `npm ci` leaves in a clone: the installed packages and the build.
    for (const d of ['node_modules', 'dist', 'generated']) await symlink(join(REPO, d), join(clone, d));
    await readme.get().run('fresh clone', clone);
  }, 300_000);

  it('in a consumer project that installed the packed tarball', async () => {
    const packs = join(readme.get().dir, 'packs');
    await mkdir(packs);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs], { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } }),
    ) as Array<{ filename: string }>;
    const tgz = join(packs, packed[0]!.filename);
    const project = join(readme.get().dir, 'my-agent');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'my-agent', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz], { cwd: project, env: process.env, stdio: 'pipe' });
    // The user's own agent: the example, as their project would hold it.
    await cp(join(REPO, 'examples'), join(project, 'examples'), { recursive: true });
    await readme.get().run('consumer project', project);
  }, 300_000);
});
