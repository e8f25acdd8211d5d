import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, open, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BomDoc, type CliResult, FIXTURES, runCli, tempDir } from './helpers/cli.js';

/**
 * Hostile and broken lockfiles, every format, through the CLI as a user runs it: truncated,
 * malformed, nested 10,000 levels deep, 200 MB, unknown format versions, the wrong text
 * encoding, unreadable files and folders, broken and looping symlinks; what the output file
 * looks like after a failed build, --keep-going, and exit codes.
 *
 * Every format lives in its own sub-folder of one tree, so one CLI run checks them all (and
 * that several lockfiles in one tree are reported one by one).
 */

const LOCKS = join(FIXTURES, 'lockfiles');

interface Format {
  /** Sub-folder of the test tree. */
  dir: string;
  /** The lockfile's name. */
  file: string;
  /** A real lockfile of this format (the test fixtures of its parser). */
  fixture: string;
  /** Line-oriented with no structure that shows a cut (requirements.txt). */
  lineOriented?: boolean;
  /** A document nested 10,000 levels deep in this format's own syntax. */
  deep?: string;
  /** The same lockfile, with a format version aibom does not know. */
  unknownVersion?: (text: string) => string;
  /** Broken syntax, and the line it is on. */
  malformed: { text: string; line: number };
}

const DEEP_JSON = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
const bumpJson = (field: (d: Record<string, any>) => void) => (text: string) => {
  const d = JSON.parse(text) as Record<string, any>;
  field(d);
  return JSON.stringify(d, null, 2);
};
const replaceOnce = (re: RegExp, by: string) => (text: string) => {
  expect(text).toMatch(re);
  return text.replace(re, by);
};

const FORMATS: Format[] = [
  {
    dir: 'npm',
    file: 'package-lock.json',
    fixture: 'npm/v3-features/package-lock.json',
    deep: `{"lockfileVersion": 3, "packages": {"": {}, "node_modules/a": {"version": "1.0.0", "x": ${DEEP_JSON}}}}`,
    unknownVersion: bumpJson((d) => (d.lockfileVersion = 7)),
    malformed: { text: '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {},,\n  }\n}\n', line: 4 },
  },
  {
    dir: 'shrinkwrap',
    file: 'npm-shrinkwrap.json',
    fixture: 'npm/shrinkwrap/npm-shrinkwrap.json',
    deep: `{"lockfileVersion": 3, "packages": {"": ${DEEP_JSON}}}`,
    unknownVersion: bumpJson((d) => (d.lockfileVersion = 7)),
    malformed: { text: '{\n  "lockfileVersion": 3\n  "packages": {}\n}\n', line: 3 },
  },
  {
    dir: 'pnpm',
    file: 'pnpm-lock.yaml',
    fixture: 'pnpm/v9-features/pnpm-lock.yaml',
    deep: `lockfileVersion: '9.0'\nimporters:\n  .: {}\npackages:\n  a@1.0.0:\n    resolution: ${DEEP_JSON}\n`,
    unknownVersion: replaceOnce(/^lockfileVersion: .*$/m, "lockfileVersion: '42.0'"),
    malformed: { text: "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies: {a: 1\n\npackages: {}\n", line: 7 },
  },
  {
    dir: 'yarn-classic',
    file: 'yarn.lock',
    fixture: 'yarn-classic/basic/yarn.lock',
    // Indentation is yarn classic's only nesting; 2,000 levels already take 4 MB.
    deep: `# yarn lockfile v1\n\n\n"a@^1":\n  version "1.0.0"\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(2 * (i + 2))}k${i}:`).join('\n')}\n`,
    unknownVersion: replaceOnce(/^# yarn lockfile v1$/m, '# yarn lockfile v7'),
    malformed: { text: '# yarn lockfile v1\n\n\n"a@^1":\n  version "1.0.0\n  resolved "x"\n', line: 5 },
  },
  {
    dir: 'yarn-berry',
    file: 'yarn.lock',
    fixture: 'yarn-berry/yarn3/yarn.lock',
    deep: `__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"a@npm:1":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n  x: ${DEEP_JSON}\n`,
    unknownVersion: replaceOnce(/^ {2}version: \d+$/m, '  version: 42'),
    malformed: {
      text: '__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"a@npm:1":\n  version: [1.0.0\n  resolution: "a@npm:1.0.0"\n',
      line: 7,
    },
  },
  {
    dir: 'requirements',
    file: 'requirements.txt',
    fixture: 'python/requirements-pip-compile/requirements.txt',
    lineOriented: true,
    malformed: { text: 'requests==2.31.0\nflask=>3\n', line: 2 },
  },
  {
    dir: 'poetry',
    file: 'poetry.lock',
    fixture: 'python/poetry-2.0/poetry.lock',
    deep: `[[package]]\nname = "a"\nversion = "1.0"\nfiles = ${DEEP_JSON}\n\n[metadata]\nlock-version = "2.1"\n`,
    unknownVersion: replaceOnce(/^lock-version = ".*"$/m, 'lock-version = "9.0"'),
    malformed: { text: '[[package]]\nname = "a"\nversion = 1.0.0\n', line: 3 },
  },
  {
    dir: 'uv',
    file: 'uv.lock',
    fixture: 'python/uv-project/uv.lock',
    deep: `version = 1\n\n[[package]]\nname = "a"\nversion = "1.0"\nx = ${DEEP_JSON}\n`,
    unknownVersion: replaceOnce(/^version = \d+$/m, 'version = 42'),
    malformed: { text: 'version = 1\n\n[[package]\nname = "a"\n', line: 3 },
  },
  {
    dir: 'pipenv',
    file: 'Pipfile.lock',
    fixture: 'python/pipenv-modern/Pipfile.lock',
    deep: `{"_meta": {"pipfile-spec": 6}, "default": {"a": {"version": "==1.0", "x": ${DEEP_JSON}}}}`,
    unknownVersion: bumpJson((d) => (d._meta['pipfile-spec'] = 42)),
    malformed: { text: '{"_meta": {"pipfile-spec": 6},\n "default": {"a": {"version": "==1.0",}}}\n', line: 2 },
  },
];

const rel = (f: Format) => `${f.dir}/${f.file}`;
const fixtureText = (f: Format) => readFile(join(LOCKS, f.fixture), 'utf8');
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A tree with one sub-folder per format; `content` gives each lockfile (undefined: none). */
async function formatTree(root: string, content: (f: Format) => Promise<string | Buffer | undefined> | string | Buffer | undefined) {
  for (const f of FORMATS) {
    const text = await content(f);
    if (text === undefined) continue;
    await mkdir(join(root, f.dir), { recursive: true });
    await writeFile(join(root, f.dir, f.file), text);
  }
}

/** Cut in the middle of the line that holds the file's midpoint: a write interrupted mid-line. */
function cutMidLine(text: string): string {
  const half = Math.floor(text.length / 2);
  const start = text.lastIndexOf('\n', half) + 1;
  let end = text.indexOf('\n', half);
  if (end < 0) end = text.length;
  return text.slice(0, start + Math.max(1, Math.floor((end - start) / 2)));
}

function expectNoStack(r: CliResult) {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('looks like a bug');
}

/** The CLI refused the build: exit 2, nothing on stdout, the reason for each file on stderr. */
function expectRefused(r: CliResult, count: number) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`no BOM written: ${count} input${count > 1 ? 's' : ''} could not be read`);
  expectNoStack(r);
}

/** The `aibom: <file>: <message>` error line for one file. */
function errorFor(r: CliResult, file: string): string {
  const line = r.stderr.split('\n').find((l) => l.startsWith(`aibom: ${file}: `));
  expect(line, `no error naming ${file} in:\n${r.stderr}`).toBeDefined();
  return line!;
}

let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir('aibom-bad-input-');
});
afterAll(async () => {
  await work.cleanup();
});
let n = 0;
const fresh = async () => {
  const d = join(work.dir, `t${n++}`);
  await mkdir(d);
  return d;
};

describe('bad lockfiles, every format', () => {
  it('truncated mid-write: each structured lockfile is refused naming the file; requirements.txt is read up to the cut', async () => {
    const root = await fresh();
    await formatTree(root, async (f) => cutMidLine(await fixtureText(f)));
    const r = await runCli(['build', root, '--reproducible']);
    const structured = FORMATS.filter((f) => !f.lineOriented);
    expectRefused(r, structured.length);
    for (const f of structured) {
      // Where the parser can tell, it says so; it always gives a line.
      expect(errorFor(r, rel(f))).toMatch(/line \d+|truncated|end of input/);
    }
    // requirements.txt has nothing that shows a cut: it is read on a best effort, and what
    // came before the cut is in the BOM (checked with --keep-going, which writes it).
    const k = await runCli(['build', root, '--reproducible', '--keep-going']);
    expect(k.code, k.stderr).toBe(0);
    const bom = JSON.parse(k.stdout) as BomDoc;
    const req = await fixtureText(FORMATS.find((f) => f.lineOriented)!);
    const first = /^([A-Za-z0-9][\w.-]*)==([\w.!+-]+)/m.exec(req)!;
    expect(bom.components?.map((c) => c.purl)).toContain(`pkg:pypi/${first[1]!.toLowerCase()}@${first[2]}`);
    for (const f of structured) expect(k.stderr).toContain(`aibom: warning: ${rel(f)}: `);
  });

  it('malformed: each is refused with the file and the line of the error; requirements.txt skips the line with a warning', async () => {
    const root = await fresh();
    await formatTree(root, (f) => f.malformed.text);
    const r = await runCli(['build', root, '--reproducible']);
    const structured = FORMATS.filter((f) => !f.lineOriented);
    expectRefused(r, structured.length);
    for (const f of structured) expect(errorFor(r, rel(f))).toMatch(new RegExp(`line ${f.malformed.line}\\b`));
    const req = FORMATS.find((f) => f.lineOriented)!;
    expect(r.stderr).toMatch(new RegExp(`aibom: warning: ${reEscape(rel(req))}: .*:${req.malformed.line}: .*line skipped`));
  });

  it('nested 10,000 levels deep: refused with a clear message, no stack overflow, no hang', async () => {
    const root = await fresh();
    await formatTree(root, (f) => f.deep);
    const r = await runCli(['build', root], { timeoutMs: 60_000 });
    const deep = FORMATS.filter((f) => f.deep);
    expectRefused(r, deep.length);
    for (const f of deep) expect(errorFor(r, rel(f))).toMatch(/nest|deeper|indented/i);
  });

  it('requirements.txt includes: a 1,000-file -r chain and an include cycle are cut short with warnings', async () => {
    const root = await fresh();
    await mkdir(join(root, 'inc'));
    await writeFile(join(root, 'requirements.txt'), 'requests==2.31.0\n-r inc/r0.txt\n-r requirements.txt\n');
    for (let i = 0; i < 1000; i++) await writeFile(join(root, 'inc', `r${i}.txt`), `pkg-${i}==1.0\n-r r${i + 1}.txt\n`);
    const r = await runCli(['build', root, '--reproducible'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/aibom: warning: requirements\.txt: .*includes nest deeper than \d+ files/);
    expect(r.stderr).toMatch(/aibom: warning: requirements\.txt: .*include cycle/);
    expectNoStack(r);
    const bom = JSON.parse(r.stdout) as BomDoc;
    expect(bom.components?.map((c) => c.purl)).toContain('pkg:pypi/requests@2.31.0');
  });

  it('a 200 MB lockfile of each kind is refused by its size, before it is read', async () => {
    const root = await fresh();
    // Sparse files: 200 MB each on paper, nothing on disk. Only the size may be looked at.
    await formatTree(root, () => '{');
    for (const f of FORMATS) {
      const fh = await open(join(root, f.dir, f.file), 'r+');
      await fh.truncate(200 * 1024 * 1024);
      await fh.close();
    }
    const r = await runCli(['build', root, '-o', join(root, 'bom.json')]);
    expectRefused(r, FORMATS.length);
    for (const f of FORMATS) expect(errorFor(r, rel(f))).toMatch(/200 MiB, over the 100 MiB limit/);
    await expect(stat(join(root, 'bom.json'))).rejects.toThrow();
  });

  it('--max-lockfile-size sets the bound, and must be a positive number', async () => {
    const root = await fresh();
    await formatTree(root, (f) => (f.dir === 'npm' ? fixtureText(f) : undefined));
    const r = await runCli(['build', root, '--max-lockfile-size', '0.001']);
    expectRefused(r, 1);
    expect(errorFor(r, 'npm/package-lock.json')).toContain('over the 1.0 KiB limit');
    for (const bad of ['0', '-5', 'lots']) {
      const u = await runCli(['build', root, '--max-lockfile-size', bad]);
      expect(u.code).toBe(2);
      expect(u.stderr).toContain('--max-lockfile-size must be a positive number');
    }
  });

  it('an unknown format version: a warning naming the file and how it was read, and a best-effort BOM', async () => {
    const root = await fresh();
    await formatTree(root, async (f) => (f.unknownVersion ? f.unknownVersion(await fixtureText(f)) : undefined));
    const r = await runCli(['build', root, '--reproducible']);
    expect(r.code, r.stderr).toBe(0);
    const bom = JSON.parse(r.stdout) as BomDoc;
    for (const f of FORMATS.filter((x) => x.unknownVersion)) {
      expect(r.stderr).toMatch(new RegExp(`aibom: warning: ${reEscape(rel(f))}: unknown .*(read|best effort)`));
      // Each sub-project is in the BOM with packages under it.
      const project = bom.components?.find((c) => c.type === 'application' && c.properties?.some((p: any) => p.value === rel(f)));
      expect(project, rel(f)).toBeDefined();
      const deps = bom.dependencies?.find((d) => d.ref === project!['bom-ref'])?.dependsOn ?? [];
      expect(deps.length, rel(f)).toBeGreaterThan(0);
    }
  });

  it('UTF-16 with a byte-order mark (PowerShell redirection) reads the same as UTF-8; without one it is refused', async () => {
    const utf8 = join(await fresh(), 'proj');
    const utf16 = join(await fresh(), 'proj');
    const bare = await fresh();
    await formatTree(utf8, fixtureText);
    await formatTree(utf16, async (f) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(await fixtureText(f), 'utf16le')]));
    await formatTree(bare, async (f) => Buffer.from(await fixtureText(f), 'utf16le'));
    const a = await runCli(['build', utf8, '--reproducible']);
    const b = await runCli(['build', utf16, '--reproducible']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect((JSON.parse(b.stdout) as BomDoc).components!.length).toBeGreaterThan(FORMATS.length * 2);
    const c = await runCli(['build', bare]);
    expectRefused(c, FORMATS.length);
    for (const f of FORMATS) expect(errorFor(c, rel(f))).toContain('UTF-16 without a byte-order mark');
  });

  it('bytes that are not UTF-8 are refused with where they are, never read as U+FFFD', async () => {
    const bad = await fresh();
    // After the first line: a lone 0xFF, which no UTF-8 text holds.
    await formatTree(bad, async (f) => {
      const text = Buffer.from(await fixtureText(f), 'utf8');
      const at = text.indexOf(0x0a) + 1;
      return Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at)]);
    });
    const r = await runCli(['build', bad]);
    expectRefused(r, FORMATS.length);
    for (const f of FORMATS) {
      const at = Buffer.from(await fixtureText(f), 'utf8').indexOf(0x0a) + 1;
      expect(errorFor(r, rel(f))).toContain(`not UTF-8 text: an invalid byte sequence at byte ${at}`);
    }
  });
});

describe('the output file after a failed build', () => {
  async function brokenProject() {
    const root = await fresh();
    await mkdir(join(root, 'proj'));
    await writeFile(join(root, 'proj', 'package-lock.json'), '{"lockfileVersion": 3, "packages": {');
    return root;
  }

  it('-o FILE is not created, and nothing else is left beside it', async () => {
    const root = await brokenProject();
    const out = join(root, 'out');
    await mkdir(out);
    const r = await runCli(['build', join(root, 'proj'), '-o', join(out, 'bom.json')]);
    expectRefused(r, 1);
    expect(await readdir(out)).toEqual([]);
  });

  it('an existing -o FILE is left untouched', async () => {
    const root = await brokenProject();
    const target = join(root, 'bom.json');
    await writeFile(target, 'the previous BOM\n');
    const r = await runCli(['build', join(root, 'proj'), '-o', target]);
    expectRefused(r, 1);
    expect(await readFile(target, 'utf8')).toBe('the previous BOM\n');
    expect((await readdir(root)).sort()).toEqual(['bom.json', 'proj']);
  });

  it('an output that cannot be written is an error naming it, with no temp file left', async () => {
    const root = await fresh();
    await cp(join(LOCKS, 'npm', 'v3-features'), join(root, 'proj'), { recursive: true });
    const missingDir = join(root, 'no', 'such', 'dir', 'bom.json');
    const r = await runCli(['build', join(root, 'proj'), '-o', missingDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`aibom: ${missingDir}: cannot write output`);
    expectNoStack(r);
    // A folder where the file should go: the write fails at the rename, the temp file goes.
    const asDir = join(root, 'taken');
    await mkdir(join(asDir, 'inside'), { recursive: true });
    const d = await runCli(['build', join(root, 'proj'), '-o', asDir]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(`aibom: ${asDir}: cannot write output`);
    expect((await readdir(root)).sort()).toEqual(['proj', 'taken']);
    expect(await readdir(asDir)).toEqual(['inside']);
  });
});

describe('--keep-going', () => {
  it('without it nothing is written; with it the readable lockfiles make the BOM, which records what was left out', async () => {
    const root = await fresh();
    await cp(join(LOCKS, 'npm', 'v3-features'), join(root, 'good'), { recursive: true });
    await mkdir(join(root, 'bad'));
    await writeFile(join(root, 'bad', 'poetry.lock'), '[[package]]\nname = "a"\nversion = 1.0.0\n');
    const out = join(root, 'bom.json');

    const r = await runCli(['build', root, '-o', out]);
    expectRefused(r, 1);
    expect(errorFor(r, 'bad/poetry.lock')).toContain('not valid TOML at line 3');
    await expect(stat(out)).rejects.toThrow();

    const k = await runCli(['build', root, '--reproducible', '--keep-going', '-o', out]);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stderr).toMatch(/aibom: warning: bad\/poetry\.lock: not valid TOML at line 3.*\(left out\)/);
    const bom = JSON.parse(await readFile(out, 'utf8')) as BomDoc;
    expect(bom.components?.some((c) => c.purl?.startsWith('pkg:npm/'))).toBe(true);
    expect(bom.components?.some((c) => c.purl?.startsWith('pkg:pypi/'))).toBe(false);
    // The BOM itself says an input is missing, so a reader of the file alone can tell.
    const props = JSON.stringify(bom.metadata);
    expect(props).toContain('lockfile-invalid');
    expect(props).toContain('bad/poetry.lock');
    const v = await runCli(['validate', out]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});

describe('unreadable paths and symlinks are reported, not fatal', () => {
  /**
   * Permission bits do not stop root. Running as root, the CLI runs as an unprivileged user
   * (nobody, 65534) so the bits apply; as any other user, as that user. When root cannot
   * hand the CLI to an unprivileged user (a checkout only root can read), the unreadable case
   * cannot happen at all: then the test checks what does happen, that root reads the file.
   */
  const asRoot = process.getuid?.() === 0;
  const nobody = { uid: 65534, gid: 65534 };
  let mode: 'self' | 'nobody' | 'root reads anyway' = 'self';
  let runAs: Parameters<typeof runCli>[1] = {};
  beforeAll(async () => {
    if (!asRoot) return;
    const probe = await runCli(['--version'], { ...nobody, env: { HOME: '/nonexistent' } }).catch(() => undefined);
    mode = probe?.code === 0 ? 'nobody' : 'root reads anyway';
    if (mode === 'nobody') runAs = { ...nobody, env: { HOME: '/nonexistent' } };
  });

  /** Let nobody into the tree, to find out what it cannot read there. */
  async function openUp(root: string) {
    if (mode === 'nobody') for (let d = root; d !== dirname(work.dir); d = dirname(d)) await chmod(d, 0o755);
  }

  it('an unreadable lockfile fails the build; with --keep-going, warnings name it and the unreadable folder, the rest is read', async () => {
    const root = await fresh();
    await cp(join(LOCKS, 'npm', 'v3-features'), join(root, 'readable'), { recursive: true });
    await cp(join(LOCKS, 'python', 'poetry-2.0'), join(root, 'locked-file'), { recursive: true });
    await cp(join(LOCKS, 'python', 'uv-project'), join(root, 'locked-dir'), { recursive: true });
    await chmod(join(root, 'locked-file', 'poetry.lock'), 0o000);
    await chmod(join(root, 'locked-dir'), 0o000);
    await openUp(root);
    try {
      if (mode !== 'root reads anyway') {
        const refused = await runCli(['build', root, '--reproducible'], runAs);
        expect(refused.code, refused.stderr).toBe(2);
        expect(refused.stderr).toContain('aibom: locked-file/poetry.lock: cannot read the lockfile (permission denied)');
        expect(refused.stdout).toBe('');
      }
      const r = await runCli(['build', root, '--reproducible', '--keep-going'], runAs);
      expect(r.code, r.stderr).toBe(0);
      expectNoStack(r);
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(bom.components?.some((c) => c.purl?.startsWith('pkg:npm/'))).toBe(true);
      if (mode === 'root reads anyway') {
        expect(r.stderr).not.toContain('permission denied');
        expect(bom.components?.some((c) => c.purl?.startsWith('pkg:pypi/'))).toBe(true);
        return;
      }
      expect(r.stderr).toContain('aibom: warning: locked-file/poetry.lock: cannot read the lockfile (permission denied)');
      expect(r.stderr).toContain('aibom: warning: locked-dir: cannot read folder: permission denied');
      expect(bom.components?.some((c) => c.purl?.startsWith('pkg:pypi/'))).toBe(false);
    } finally {
      await chmod(join(root, 'locked-dir'), 0o755);
      await chmod(join(root, 'locked-file', 'poetry.lock'), 0o644);
    }
  });

  it("the CLI's user really cannot read a mode-000 file, unless it is root", async () => {
    const root = await fresh();
    const file = join(root, 'secret');
    await writeFile(file, 'x');
    await chmod(file, 0o000);
    await openUp(root);
    const r = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(file)})`], {
      ...(mode === 'nobody' ? nobody : {}),
      encoding: 'utf8',
    });
    if (mode === 'root reads anyway') expect(r.status).toBe(0);
    else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('EACCES');
    }
  });

  it('a broken lockfile symlink, a symlink loop and a link out of the folder: the build fails; with --keep-going, reported', async () => {
    const root = await fresh();
    const proj = join(root, 'proj');
    await cp(join(LOCKS, 'npm', 'v3-features'), join(proj, 'app'), { recursive: true });
    await cp(join(LOCKS, 'python', 'poetry-2.0'), join(root, 'outside'), { recursive: true });
    await symlink('does-not-exist.json', join(proj, 'package-lock.json'));
    await symlink('loop-b', join(proj, 'loop-a'));
    await symlink('loop-a', join(proj, 'loop-b'));
    await mkdir(join(proj, 'py'));
    await symlink('../../outside/poetry.lock', join(proj, 'py', 'poetry.lock'));
    await symlink('..', join(proj, 'app', 'up')); // a folder loop, for --follow-symlinks

    for (const flags of [[], ['--follow-symlinks']]) {
      const refused = await runCli(['build', proj, '--reproducible', ...flags], { timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain('aibom: package-lock.json: cannot read the lockfile: broken symbolic link to does-not-exist.json');
      expect(refused.stderr).toContain('aibom: py/poetry.lock: cannot read the lockfile: symbolic link to ../../outside/poetry.lock, outside the scanned folder');
      expect(refused.stdout).toBe('');
      const r = await runCli(['build', proj, '--reproducible', '--keep-going', ...flags], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('aibom: warning: package-lock.json: broken symbolic link to does-not-exist.json');
      expect(r.stderr).toContain('aibom: warning: loop-a: symbolic link loop');
      expect(r.stderr).toContain('aibom: warning: loop-b: symbolic link loop');
      expect(r.stderr).toContain('aibom: warning: py/poetry.lock: symbolic link points outside the scanned folder');
      const bom = JSON.parse(r.stdout) as BomDoc;
      // app/package-lock.json once (not again through app/up), nothing from outside.
      const apps = bom.components?.filter((c) => c.type === 'application') ?? [];
      expect(apps).toHaveLength(1);
      expect(bom.components?.some((c) => c.purl?.startsWith('pkg:pypi/'))).toBe(false);
    }
  });
});

describe('exit codes', () => {
  it('0 written, 2 for usage errors and for inputs that cannot be used', async () => {
    const root = await fresh();
    await cp(join(LOCKS, 'npm', 'v3-features'), join(root, 'ok'), { recursive: true });
    await writeFile(join(root, 'a-file'), 'x');
    expect((await runCli(['build', join(root, 'ok'), '-o', join(root, 'bom.json')])).code).toBe(0);
    const cases: Array<[string[], RegExp]> = [
      [['build', join(root, 'missing')], /no such folder/],
      [['build', join(root, 'a-file')], /not a folder/],
      [['build', join(root, 'ok'), '--spec-version', '1.2'], /unsupported --spec-version/],
      [['build', join(root, 'ok'), '--no-such-flag'], /unknown option/],
      [['build', join(root, 'ok'), '--json'], /--json .* needs -o/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expectNoStack(r);
    }
  });
});
