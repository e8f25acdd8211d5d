/**
 * README.md as an executable spec, in a fresh clone: every ```sh and ```js block runs as written
 * in one terminal session, in what `git clone` + `npm ci` give. The rules for README blocks and
 * the runner are in test/helpers/readme-session.ts; test/readme-consumer.test.ts plays the same
 * session in a project that installed the packed tarball.
 */
import { cp, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';
import { cloneFiles, JS_END, useReadmeSession, session } from './helpers/readme-session.js';

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
});
