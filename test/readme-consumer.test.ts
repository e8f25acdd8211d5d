/**
 * README.md as an executable spec, in a consumer project: the same terminal session as
 * test/readme-clone.test.ts, in a project that installed the packed tarball (`npm pack`, then
 * `npm install ./aibom-<version>.tgz`), so `npx aibom` and `node --import aibom/register`
 * resolve exactly as they do for users. The rules and the runner: test/helpers/readme-session.ts.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { REPO } from './helpers/cli.js';
import { useReadmeSession } from './helpers/readme-session.js';

describe('README.md shell and library blocks run as written', () => {
  const readme = useReadmeSession();

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
