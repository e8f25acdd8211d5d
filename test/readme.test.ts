/**
 * README.md as an executable spec: every ```sh block runs as written, twice — in a fresh copy of
 * the repository (what `git clone` gives, after `npm ci`) and in a consumer project that installed
 * the packed tarball (`npm pack`, then `npm install ./aibom-<version>.tgz`), so `npx aibom` and
 * `node --import aibom/register` resolve exactly as they do for users.
 *
 * THE RULES for README shell blocks (follow them when you add a section):
 *  1. ```sh blocks run in bash; ```js blocks (library snippets) run as ES modules
 *     (`node --input-type=module`, `import … from 'aibom'` resolving as for users) at their place
 *     in the session. Command references with placeholders, sample output, workflow YAML and
 *     anything that needs the loopback Sigstore stack or a real CI identity go in ```text (or
 *     ```yaml) blocks. Sample output inside a block is a comment. A js block reads the session's
 *     variables through process.env, so export those it needs (`export KEYS=…`).
 *  2. The blocks are one terminal session: they run in README order in ONE `bash -euo pipefail`
 *     process, so a variable set or a `cd` done in one block holds in the next. Start from the
 *     project root (the clone, or the consumer project); `examples/agent` is there in both.
 *  3. Every command must succeed. A command that is meant to fail shows it:
 *     `npx aibom gate examples/agent || echo "exit $?"` (the runner checks the text it prints
 *     when the block's own comments say `# exit N`: see rule 6).
 *  4. Keys and other secrets go to a temporary folder (`KEYS=$(mktemp -d)`), never into the
 *     repository: the runner fails when a new file holding a private key appears in the working
 *     copy. Undo what a demo changes (restore a tampered file from a copy in the temp folder).
 *  5. The project's own development loop is not re-entered: `npm ci` (already done: the runner
 *     provides the installed node_modules/, dist/ and generated/ in the clone, and the consumer
 *     project has installed the tarball), `npm test` (this suite) and `npm run <script>` (lint,
 *     typecheck, bench…: .ci/run runs them) are checked to exist and not run again. Every other
 *     command, `npx aibom …` included, runs for real; no network but the npm registry.
 *  6. `# exit N` in a comment of a block means some command in the block printed `exit N`
 *     (rule 3's idiom): the runner checks it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers/cli.js';

interface Block {
  line: number;
  text: string;
  lang: 'sh' | 'js';
}

/** The ```sh and ```js blocks of a Markdown text, with the line each starts on. */
function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i]!.trim();
    if (fence !== '```sh' && fence !== '```js') continue;
    const lang = fence === '```sh' ? 'sh' : 'js';
    const start = i + 1;
    let j = start;
    while (j < lines.length && lines[j]!.trim() !== '```') j++;
    if (j === lines.length) throw new Error(`README.md:${i + 1}: unterminated sh block`);
    blocks.push({ line: i + 1, text: lines.slice(start, j).join('\n'), lang });
    i = j;
  }
  return blocks;
}

const MARK = '@@readme-block@@';

const JS_END = 'AIBOM_README_JS_BLOCK_END';

/** One bash script for the whole session; a marker before each block names it on failure. */
function session(blocks: Block[]): string {
  return blocks
    .map((b) => {
      const body = b.lang === 'sh' ? b.text : `node --input-type=module <<'${JS_END}'\n${b.text}\n${JS_END}`;
      return `echo '${MARK} ${b.line}' >&2\necho '${MARK} ${b.line}'\n${body}\n`;
    })
    .join('\n');
}

/** `npm` for the session: the development loop (rule 5) is checked, not re-entered. */
function npmShim(realNpm: string, pkgJson: string): string {
  return `#!/usr/bin/env bash
set -euo pipefail
case "\${1:-}" in
  ci|clean-install|install-clean) echo "(readme runner: npm ci already done for this session)"; exit 0 ;;
  test|t) echo "(readme runner: npm test is the suite running this block)"; exit 0 ;;
  run|run-script)
    script="\${2:-}"
    if node -e 'const p=require(process.argv[1]); process.exit(p.scripts && Object.hasOwn(p.scripts, process.argv[2]) ? 0 : 1)' '${pkgJson}' "$script"; then
      echo "(readme runner: npm run $script is run by .ci/run)"; exit 0
    fi
    echo "readme runner: package.json has no script '$script'" >&2; exit 1 ;;
esac
exec '${realNpm}' "$@"
`;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The README line of the block that was running when the output ended. */
function lastBlock(text: string): string {
  const marks = [...text.matchAll(new RegExp(`${MARK} (\\d+)`, 'g'))];
  return marks.length ? `README.md:${marks[marks.length - 1]![1]}` : 'before the first block';
}

/** Files under dir (not node_modules/, dist/, generated/ links) that hold a private key. */
async function privateKeys(dir: string, base = dir): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink() || e.name === 'node_modules' || e.name === '.git') continue;
    if (e.isDirectory()) found.push(...(await privateKeys(p, base)));
    else if (e.isFile() && (await readFile(p, 'latin1')).includes('PRIVATE KEY-----')) found.push(relative(base, p));
  }
  return found;
}

/** Files the clone has: those git tracks (with their working-tree content) and new ones not ignored. */
function cloneFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' });
  return out.split('\0').filter((f) => f && existsSync(join(REPO, f)));
}

const README = join(REPO, 'README.md');

describe('README.md shell and library blocks run as written', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let blocks: Block[];
  let env: NodeJS.ProcessEnv;
  let trackedKeys: Set<string>;

  beforeAll(async () => {
    if (!existsSync(join(REPO, 'dist', 'cli', 'aibom.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    blocks = shellBlocks(await readFile(README, 'utf8'));
    tmp = await tempDir('aibom-readme-');
    const bin = join(tmp.dir, 'bin');
    await mkdir(bin);
    const realNpm = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    await writeFile(join(bin, 'npm'), npmShim(realNpm, join(REPO, 'package.json')));
    await chmod(join(bin, 'npm'), 0o755);
    const tmpdir = join(tmp.dir, 'tmp');
    await mkdir(tmpdir);
    env = {
      ...process.env,
      PATH: [bin, ...(process.env.PATH ?? '').split(delimiter)].join(delimiter),
      TMPDIR: tmpdir,
      NO_COLOR: '1',
      AIBOM_CACHE_DIR: join(tmp.dir, 'cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    trackedKeys = new Set(await privateKeys(REPO).catch(() => []));
  }, 120_000);
  afterAll(() => tmp?.cleanup());

  it('README has shell blocks, and the session script keeps their text verbatim', () => {
    expect(blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThan(3);
    expect(blocks.some((b) => b.lang === 'js')).toBe(true);
    for (const b of blocks) expect(b.text, `README.md:${b.line}`).not.toContain(JS_END);
    for (const b of blocks) expect(session(blocks)).toContain(`${b.text}\n`);
  });

  async function runSession(where: string, cwd: string): Promise<void> {
    const r = await bash(session(blocks), cwd, env);
    const failedAt = lastBlock(r.stderr);
    expect(r.code, `${where}: ${failedAt} failed (exit ${r.code})\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(r.stderr, `${where}: a stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    // Rule 6: `# exit N` in a block's comments is what some command of that block printed.
    for (const b of blocks) {
      for (const m of b.text.matchAll(/#.*\bexit (\d+)\b/g)) {
        const section = r.stdout.split(`${MARK} ${b.line}`)[1]?.split(MARK)[0] ?? '';
        expect(section, `${where}: README.md:${b.line} says "exit ${m[1]}"`).toMatch(new RegExp(`(^|\\n)exit ${m[1]}\\n`));
      }
    }
    // Rule 4: no private key written into the working copy.
    const keys = (await privateKeys(cwd)).filter((k) => !trackedKeys.has(k));
    expect(keys, `${where}: private keys written into the project`).toEqual([]);
  }

  it('in a fresh clone of the repository', async () => {
    const clone = join(tmp.dir, 'clone');
    for (const f of cloneFiles()) {
      await mkdir(dirname(join(clone, f)), { recursive: true });
      await cp(join(REPO, f), join(clone, f), { verbatimSymlinks: true });
    }
    // What `npm ci` leaves in a clone: the installed packages and the build.
    for (const d of ['node_modules', 'dist', 'generated']) await symlink(join(REPO, d), join(clone, d));
    await runSession('fresh clone', clone);
  }, 300_000);

  it('in a consumer project that installed the packed tarball', async () => {
    const packs = join(tmp.dir, 'packs');
    await mkdir(packs);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs], { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } }),
    ) as Array<{ filename: string }>;
    const tgz = join(packs, packed[0]!.filename);
    const project = join(tmp.dir, 'my-agent');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'my-agent', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz], { cwd: project, env: process.env, stdio: 'pipe' });
    // The user's own agent: the example, as their project would hold it.
    await cp(join(REPO, 'examples'), join(project, 'examples'), { recursive: true });
    await runSession('consumer project', project);
  }, 300_000);
});
