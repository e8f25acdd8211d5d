import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInProcess, expectValidInProcess } from './helpers/build-in-process.js';
import { type BomDoc, componentByPurl, dependsOn, FIXTURES, prop, runCli, tempDir } from './helpers/cli.js';

const CLASSIC = join(FIXTURES, 'lockfiles', 'yarn-classic');
const BERRY = join(FIXTURES, 'lockfiles', 'yarn-berry');

/** What the parsers put in the BOM: built in-process (test/helpers/build-in-process.ts); the CLI's exit codes and messages are tested below with runCli. */
async function build(dir: string, extra: string[] = []): Promise<{ bom: BomDoc; stderr: string }> {
  return buildInProcess(dir, extra);
}

/** The BOM validates against the official CycloneDX schema (the CLI's `validate` is tested in cli-basics). */
async function expectValid(dir: string): Promise<void> {
  await expectValidInProcess(dir);
}

/** A copy of a fixture, changed by `edit`, in a temp folder. */
async function withCopy(
  fixture: string,
  edit: (dir: string) => Promise<void>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const t = await tempDir();
  try {
    await cp(fixture, t.dir, { recursive: true });
    await edit(t.dir);
    await fn(t.dir);
  } finally {
    await t.cleanup();
  }
}

async function withLock(text: string, fn: (dir: string) => Promise<void>, files: Record<string, string> = {}) {
  const t = await tempDir();
  try {
    await writeFile(join(t.dir, 'yarn.lock'), text);
    for (const [name, content] of Object.entries(files)) await writeFile(join(t.dir, name), content);
    await fn(t.dir);
  } finally {
    await t.cleanup();
  }
}

async function editFile(path: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  const next = text.replace(from, to);
  expect(next, `edit of ${path} changed nothing`).not.toBe(text);
  await writeFile(path, next);
}

const purls = (bom: BomDoc) => (bom.components ?? []).map((c) => c.purl as string).sort();
const hash = (c: Record<string, any> | undefined, alg: string) =>
  (c?.hashes as Array<{ alg: string; content: string }> | undefined)?.find((h) => h.alg === alg)?.content;
const props = (c: Record<string, any> | undefined, name: string) =>
  ((c?.properties as Array<{ name: string; value: string }> | undefined) ?? []).filter((p) => p.name === name).map((p) => p.value);
const byName = (bom: BomDoc, name: string, version: string) =>
  bom.components?.find((c) => (c.group ? `${c.group}/${c.name}` : c.name) === name && c.version === version);

/** The lines of a lockfile entry, starting at its key line. */
async function entryOf(lockfile: string, keyLine: string): Promise<{ line: number; body: string }> {
  const lines = (await readFile(lockfile, 'utf8')).split('\n');
  const i = lines.indexOf(keyLine);
  expect(i, `${keyLine} in ${lockfile}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', i);
  return { line: i + 1, body: lines.slice(i, end).join('\n') };
}

const TINY_COMMIT = '5bef4e0b43ca92907d4c2ea7696df438bc887635';

describe('yarn classic v1: basic (multi-range entries, alias, dev, optional, URL, file, folder, link, git)', () => {
  const dir = join(CLASSIC, 'basic');
  const lock = join(dir, 'yarn.lock');
  let bom: BomDoc;
  let stderr: string;
  beforeAll(async () => {
    ({ bom, stderr } = await build(dir));
  });

  it('the root is the project from package.json, depending on each direct dependency, with no warning', () => {
    expect(bom.metadata.component?.name).toBe('classic-app');
    expect(bom.metadata.component?.version).toBe('1.2.0');
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(dependsOn(bom, root).sort()).toEqual(
      [
        'pkg:npm/chalk@4.1.2',
        'pkg:npm/debug@4.4.3',
        `pkg:npm/is-buffer@2.0.5?download_url=${encodeURIComponent('https://registry.example.test/is-buffer/-/is-buffer-2.0.5.tgz')}`,
        'pkg:npm/is-even@1.0.0',
        'pkg:npm/is-odd@3.0.1',
        'pkg:npm/local-dir@2.0.0',
        'pkg:npm/local-link@0.1.0',
        `pkg:npm/local-tar@1.0.0?download_url=${encodeURIComponent('./vendor/local-tar-1.0.0.tgz')}`,
        'pkg:npm/ms@2.0.0',
        'pkg:npm/ms@2.1.3',
        'pkg:npm/supports-color@7.2.0',
        `pkg:npm/tiny-git@0.3.1?vcs_url=${encodeURIComponent(`git://git.example.test/acme/tiny-git.git#${TINY_COMMIT}`)}`,
      ].sort(),
    );
    expect(stderr).not.toContain('warning');
  });

  it('one component per entry block: ranges that share an entry are one package', () => {
    expect(bom.components).toHaveLength(22);
    expect(purls(bom).filter((p) => p.startsWith('pkg:npm/ms@'))).toEqual(['pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3']);
    expect(purls(bom).filter((p) => p.startsWith('pkg:npm/is-number@'))).toEqual([
      'pkg:npm/is-number@3.0.0',
      'pkg:npm/is-number@6.0.0',
      'pkg:npm/is-number@7.0.0',
    ]);
    for (const c of bom.components ?? []) expect(prop(c, 'aibom:package-manager')).toBe('yarn-classic');
  });

  it('hashes: SHA-512 from integrity and SHA-1 from the resolved URL fragment', async () => {
    const { line, body } = await entryOf(lock, 'chalk@^4.1.2:');
    const sha1 = /#([0-9a-f]{40})"/.exec(body)![1];
    const sri = /integrity sha512-(\S+)/.exec(body)![1]!;
    const chalk = componentByPurl(bom, 'pkg:npm/chalk@4.1.2');
    expect(hash(chalk, 'SHA-512')).toBe(Buffer.from(sri, 'base64').toString('hex'));
    expect(hash(chalk, 'SHA-1')).toBe(sha1);
    expect(chalk?.evidence?.occurrences).toEqual([{ location: 'yarn.lock', line }]);
    expect(prop(chalk, 'aibom:source')).toBe('registry');
    expect(prop(chalk, 'aibom:pinned')).toBe('true');
  });

  it('scopes from package.json: dev-only → excluded, optional chain → optional, dev ∩ prod → required', () => {
    const scope = (purl: string) => componentByPurl(bom, purl)?.scope;
    // devDependencies is-odd@3 and what only it brings
    expect(scope('pkg:npm/is-odd@3.0.1')).toBe('excluded');
    expect(scope('pkg:npm/is-number@6.0.0')).toBe('excluded');
    // a devDependency that chalk (production) also needs stays required, with its deps
    expect(scope('pkg:npm/supports-color@7.2.0')).toBe('required');
    expect(scope('pkg:npm/has-flag@4.0.0')).toBe('required');
    // optionalDependencies is-even → is-odd@0.1 → is-number@3 → kind-of → is-buffer@1
    for (const p of ['is-even@1.0.0', 'is-odd@0.1.2', 'is-number@3.0.0', 'kind-of@3.2.2', 'is-buffer@1.1.6']) {
      expect(scope(`pkg:npm/${p}`), p).toBe('optional');
    }
    expect(scope('pkg:npm/chalk@4.1.2')).toBe('required');
    expect(scope('pkg:npm/is-number@7.0.0')).toBe('required');
  });

  it('provenance: alias, URL tarball, local tarball, local folder, git commit', () => {
    const old = componentByPurl(bom, 'pkg:npm/ms@2.0.0');
    expect(prop(old, 'aibom:npm:alias')).toBe('old-ms');
    const url = bom.components?.find((c) => c.name === 'is-buffer' && c.version === '2.0.5');
    expect(prop(url, 'aibom:source')).toBe('url');
    expect(prop(url, 'aibom:pinned')).toBe('true');
    expect(url?.hashes).toEqual([{ alg: 'SHA-1', content: 'ebc252e400d22ff8d77fa09888821a24a658c191' }]);
    const tar = byName(bom, 'local-tar', '1.0.0');
    expect(prop(tar, 'aibom:source')).toBe('file');
    expect(prop(tar, 'aibom:source:url')).toBe('./vendor/local-tar-1.0.0.tgz');
    expect(prop(tar, 'aibom:pinned')).toBe('true');
    expect(hash(tar, 'SHA-1')).toBe('14a9371b1eb1b8cec545388759cefc49fcf34d1a');
    const folder = componentByPurl(bom, 'pkg:npm/local-dir@2.0.0');
    expect(prop(folder, 'aibom:source')).toBe('directory');
    expect(prop(folder, 'aibom:pinned')).toBe('false');
    expect(prop(folder, 'aibom:unpinned-reason')).toMatch(/local folder/);
    // link: entries say version "0.0.0"; the linked folder's package.json has the real one
    const link = componentByPurl(bom, 'pkg:npm/local-link@0.1.0');
    expect(prop(link, 'aibom:source')).toBe('directory');
    expect(prop(link, 'aibom:source:url')).toBe('./local-link');
    expect(prop(link, 'aibom:pinned')).toBe('false');
    const git = byName(bom, 'tiny-git', '0.3.1');
    expect(prop(git, 'aibom:source')).toBe('git');
    expect(prop(git, 'aibom:pinned')).toBe('true');
    expect(prop(git, 'aibom:source:url')).toBe(`git://git.example.test/acme/tiny-git.git#${TINY_COMMIT}`);
    // the git fragment is a commit, never taken for a tarball hash
    expect(git?.hashes ?? []).toEqual([]);
  });

  it('edges mirror the lockfile', () => {
    expect(dependsOn(bom, 'pkg:npm/debug@4.4.3')).toEqual(['pkg:npm/ms@2.1.3']);
    expect(dependsOn(bom, 'pkg:npm/chalk@4.1.2').sort()).toEqual(['pkg:npm/ansi-styles@4.3.0', 'pkg:npm/supports-color@7.2.0']);
    expect(dependsOn(bom, 'pkg:npm/kind-of@3.2.2')).toEqual(['pkg:npm/is-buffer@1.1.6']);
    const tar = byName(bom, 'local-tar', '1.0.0')?.['bom-ref'] as string;
    expect(dependsOn(bom, tar)).toEqual(['pkg:npm/is-number@7.0.0']);
    const git = byName(bom, 'tiny-git', '0.3.1')?.['bom-ref'] as string;
    expect(dependsOn(bom, git)).toEqual(['pkg:npm/ms@2.1.3']);
  });

  it('the BOM validates', async () => {
    await expectValid(dir);
  });

  it('a git dependency on a branch without a commit, and a registry entry without any hash, are unpinned', async () => {
    await withCopy(
      dir,
      async (d) => {
        await editFile(join(d, 'yarn.lock'), `tiny-git.git#${TINY_COMMIT}"`, 'tiny-git.git#main"');
        await editFile(
          join(d, 'yarn.lock'),
          /(ansi-styles-4\.3\.0\.tgz)#[0-9a-f]{40}"\n {2}integrity \S+\n/,
          '$1"\n',
        );
      },
      async (d) => {
        const { bom: b } = await build(d);
        const git = byName(b, 'tiny-git', '0.3.1');
        expect(prop(git, 'aibom:pinned')).toBe('false');
        expect(prop(git, 'aibom:unpinned-reason')).toMatch(/"main", a branch or tag that can move/);
        const ansi = componentByPurl(b, 'pkg:npm/ansi-styles@4.3.0');
        expect(ansi?.hashes ?? []).toEqual([]);
        expect(prop(ansi, 'aibom:pinned')).toBe('false');
        expect(prop(ansi, 'aibom:unpinned-reason')).toMatch(/without an integrity hash/);
      },
    );
  });

  it('without package.json: a warning, every package required, roots from the lockfile graph', async () => {
    await withCopy(
      dir,
      (d) => rm(join(d, 'package.json')),
      async (d) => {
        const { bom: b, stderr: err } = await build(d);
        expect(err).toMatch(/warning: yarn\.lock: no package\.json beside yarn\.lock: .*development-only packages cannot be told apart/);
        expect(b.components).toHaveLength(22);
        expect(componentByPurl(b, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('required');
        const root = b.metadata.component?.['bom-ref'] as string;
        expect(dependsOn(b, root)).toContain('pkg:npm/chalk@4.1.2');
        expect(dependsOn(b, root)).not.toContain('pkg:npm/ms@2.1.3'); // debug and tiny-git need it
      },
    );
  });
});

describe('yarn classic v1: workspaces (members from package.json globs)', () => {
  const dir = join(CLASSIC, 'workspaces');
  let bom: BomDoc;
  let stderr: string;
  beforeAll(async () => {
    ({ bom, stderr } = await build(dir));
  });

  it('workspace members are application components the root depends on', () => {
    expect(stderr).not.toContain('warning');
    const a = componentByPurl(bom, 'pkg:npm/%40acme/a@1.0.0');
    const b = componentByPurl(bom, 'pkg:npm/%40acme/b@1.0.0');
    for (const w of [a, b]) {
      expect(w?.type).toBe('application');
      expect(prop(w, 'aibom:workspace')).toBe('true');
      expect(prop(w, 'aibom:source')).toBe('workspace');
      expect(w?.scope).toBe('required');
    }
    expect(prop(a, 'aibom:source:url')).toBe('packages/a');
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(bom.metadata.component?.name).toBe('classic-mono');
    expect(dependsOn(bom, root).sort()).toEqual(
      ['pkg:npm/%40acme/a@1.0.0', 'pkg:npm/%40acme/b@1.0.0', 'pkg:npm/is-number@7.0.0'].sort(),
    );
    expect(dependsOn(bom, 'pkg:npm/%40acme/a@1.0.0').sort()).toEqual(['pkg:npm/%40acme/b@1.0.0', 'pkg:npm/chokidar@3.6.0']);
    expect(dependsOn(bom, 'pkg:npm/%40acme/b@1.0.0').sort()).toEqual(
      ['pkg:npm/%40types/ms@0.7.34', 'pkg:npm/is-odd@3.0.1', 'pkg:npm/ms@2.1.3'].sort(),
    );
  });

  it("each workspace's own manifest decides dev / optional; entry optionalDependencies are optional", () => {
    const scope = (purl: string) => componentByPurl(bom, purl)?.scope;
    expect(scope('pkg:npm/%40types/ms@0.7.34')).toBe('excluded'); // b's devDependency
    expect(scope('pkg:npm/is-odd@3.0.1')).toBe('optional'); // b's optionalDependency
    expect(scope('pkg:npm/is-number@6.0.0')).toBe('optional');
    expect(scope('pkg:npm/fsevents@2.3.3')).toBe('optional'); // chokidar's optionalDependencies
    expect(scope('pkg:npm/is-number@7.0.0')).toBe('required'); // root devDependency, but chokidar needs it
    expect(scope('pkg:npm/chokidar@3.6.0')).toBe('required');
    expect(dependsOn(bom, 'pkg:npm/chokidar@3.6.0')).toContain('pkg:npm/fsevents@2.3.3');
    expect(dependsOn(bom, 'pkg:npm/to-regex-range@5.0.1')).toEqual(['pkg:npm/is-number@7.0.0']);
  });

  it('the BOM validates', async () => {
    await expectValid(dir);
  });

  it('an excluded workspace folder is left out; what only it needed is reported as unreachable', async () => {
    const { bom: b, stderr: err } = await build(dir, ['--exclude', 'packages/b']);
    expect(componentByPurl(b, 'pkg:npm/%40acme/b@1.0.0')).toBeUndefined();
    expect(err).toMatch(/lockfile entries are not reachable from package\.json \(a stale lockfile\?\); kept as required/);
    expect(componentByPurl(b, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('required');
  });
});

describe('yarn berry (v10, yarn 4): monorepo with workspaces, patches, peers and every protocol', () => {
  const dir = join(BERRY, 'monorepo');
  const lock = join(dir, 'yarn.lock');
  let bom: BomDoc;
  let stderr: string;
  beforeAll(async () => {
    ({ bom, stderr } = await build(dir));
  });

  it('the root workspace is the project; it depends on its dependencies and on every member', () => {
    expect(stderr).not.toContain('warning');
    expect(bom.metadata.component?.name).toBe('berry-mono');
    expect(bom.metadata.component?.version).toBe('3.0.0');
    const root = bom.metadata.component?.['bom-ref'] as string;
    const direct = dependsOn(bom, root);
    expect(direct).toHaveLength(17);
    for (const p of [
      'pkg:npm/%40acme/a@1.0.0',
      'pkg:npm/%40acme/b@1.0.0',
      'pkg:npm/debug@4.4.3',
      'pkg:npm/is-number@7.0.0',
      'pkg:npm/resolve@1.22.14',
      'pkg:npm/local-link@0.1.0',
      'pkg:npm/local-portal@0.2.0',
      'pkg:npm/ms@2.0.0',
    ]) {
      expect(direct).toContain(p);
    }
    expect(bom.components?.find((c) => c.name === 'berry-mono')).toBeUndefined();
  });

  it('components: one per resolved package; a patched package is its underlying package', () => {
    expect(bom.components).toHaveLength(37);
    expect(purls(bom).filter((p) => p.startsWith('pkg:npm/is-number@'))).toEqual([
      'pkg:npm/is-number@3.0.0',
      'pkg:npm/is-number@6.0.0',
      'pkg:npm/is-number@7.0.0',
    ]);
    for (const c of bom.components ?? []) expect(prop(c, 'aibom:package-manager')).toBe('yarn-berry');
  });

  it('checksum is a property, never a component hash (it hashes yarn’s cache zip, not the package)', async () => {
    const { line, body } = await entryOf(lock, '"debug@npm:^4.3.4":');
    const checksum = /checksum: (\S+)/.exec(body)![1];
    const debug = componentByPurl(bom, 'pkg:npm/debug@4.4.3');
    expect(props(debug, 'aibom:yarn:checksum')).toEqual([checksum]);
    expect(debug?.hashes ?? []).toEqual([]);
    expect(prop(debug, 'aibom:pinned')).toBe('true');
    expect(debug?.evidence?.occurrences).toEqual([{ location: 'yarn.lock', line }]);
    for (const c of bom.components ?? []) expect(c.hashes ?? []).toEqual([]);
  });

  it('patches are recorded on the package they wrap: a user patch file and yarn’s built-in compat patch', async () => {
    const isNumber = componentByPurl(bom, 'pkg:npm/is-number@7.0.0');
    expect(props(isNumber, 'aibom:yarn:patch')).toEqual(['./patches/is-number.patch']);
    const patched = await entryOf(lock, '"is-number@patch:is-number@npm%3A7.0.0#./patches/is-number.patch::locator=berry-mono%40workspace%3A.":');
    const plain = await entryOf(lock, '"is-number@npm:7.0.0, is-number@npm:^7.0.0":');
    expect(props(isNumber, 'aibom:yarn:patch-checksum')).toEqual([/checksum: (\S+)/.exec(patched.body)![1]]);
    expect(props(isNumber, 'aibom:yarn:checksum')).toEqual([/checksum: (\S+)/.exec(plain.body)![1]]);
    expect(isNumber?.evidence?.occurrences).toEqual([{ location: 'yarn.lock', line: plain.line }]);
    const resolve = componentByPurl(bom, 'pkg:npm/resolve@1.22.14');
    expect(props(resolve, 'aibom:yarn:patch')).toEqual(['optional!builtin<compat/resolve>']);
    expect(dependsOn(bom, 'pkg:npm/resolve@1.22.14').sort()).toEqual(
      [
        'pkg:npm/es-errors@1.3.0',
        'pkg:npm/is-core-module@2.18.0',
        'pkg:npm/path-parse@1.0.7',
        'pkg:npm/supports-preserve-symlinks-flag@1.0.0',
      ].sort(),
    );
  });

  it('workspace members: versions from their package.json, edges between them', () => {
    const a = componentByPurl(bom, 'pkg:npm/%40acme/a@1.0.0');
    expect(a?.type).toBe('application');
    expect(prop(a, 'aibom:workspace')).toBe('true');
    expect(prop(a, 'aibom:source:url')).toBe('packages/a');
    expect(dependsOn(bom, 'pkg:npm/%40acme/a@1.0.0').sort()).toEqual(['pkg:npm/%40acme/b@1.0.0', 'pkg:npm/ms@2.1.3']);
    // b's peer `debug` is not provided by a, its only dependent: no edge
    expect(dependsOn(bom, 'pkg:npm/%40acme/b@1.0.0')).toEqual(['pkg:npm/chalk@4.1.2']);
  });

  it('peers resolve through the dependent; an optional peer nobody provides gets no edge', () => {
    expect(dependsOn(bom, 'pkg:npm/use-sync-external-store@1.7.0')).toEqual(['pkg:npm/react@18.3.1']);
    expect(dependsOn(bom, 'pkg:npm/debug@4.4.3')).toEqual(['pkg:npm/ms@2.1.3']);
  });

  it('scopes: lockfile dependencies of a workspace split by its package.json', () => {
    const scope = (purl: string) => componentByPurl(bom, purl)?.scope;
    for (const p of ['@types/ms@0.7.34', 'is-odd@3.0.1', 'is-number@6.0.0']) {
      expect(scope(`pkg:npm/${p.replace('@types', '%40types')}`), p).toBe('excluded'); // root devDependencies
    }
    for (const p of ['chalk@4.1.2', 'ansi-styles@4.3.0', 'supports-color@7.2.0', 'has-flag@4.0.0']) {
      expect(scope(`pkg:npm/${p}`), p).toBe('excluded'); // @acme/b's devDependencies
    }
    for (const p of ['is-even@1.0.0', 'is-odd@0.1.2', 'is-number@3.0.0', 'kind-of@3.2.2', 'is-buffer@1.1.6']) {
      expect(scope(`pkg:npm/${p}`), p).toBe('optional');
    }
    for (const p of ['react@18.3.1', 'loose-envify@1.4.0', 'debug@4.4.3', 'ms@2.1.3', 'is-number@7.0.0']) {
      expect(scope(`pkg:npm/${p}`), p).toBe('required');
    }
  });

  it('provenance of each protocol', () => {
    const git = byName(bom, 'tiny-git', '0.3.1');
    expect(prop(git, 'aibom:source')).toBe('git');
    expect(prop(git, 'aibom:pinned')).toBe('true');
    expect(prop(git, 'aibom:source:url')).toBe(`git://git.example.test/acme/tiny-git.git#commit=${TINY_COMMIT}`);
    expect(git?.purl).toBe(
      `pkg:npm/tiny-git@0.3.1?vcs_url=${encodeURIComponent(`git://git.example.test/acme/tiny-git.git#commit=${TINY_COMMIT}`)}`,
    );
    const url = byName(bom, 'is-buffer', '2.0.5');
    expect(prop(url, 'aibom:source')).toBe('url');
    expect(prop(url, 'aibom:pinned')).toBe('true');
    const tar = byName(bom, 'local-tar', '1.0.0');
    expect(prop(tar, 'aibom:source')).toBe('file');
    expect(prop(tar, 'aibom:source:url')).toBe('./vendor/local-tar-1.0.0.tgz');
    expect(prop(tar, 'aibom:pinned')).toBe('true');
    expect(dependsOn(bom, tar?.['bom-ref'] as string)).toEqual(['pkg:npm/is-number@7.0.0']);
    for (const [name, version, reason] of [
      ['local-dir', '2.0.0', /local folder dependency/],
      ['local-link', '0.1.0', /^link: dependency on a local folder/],
      ['local-portal', '0.2.0', /^portal: dependency on a local folder/],
    ] as const) {
      const c = byName(bom, name, version);
      expect(prop(c, 'aibom:source'), name).toBe('directory');
      expect(prop(c, 'aibom:pinned'), name).toBe('false');
      expect(prop(c, 'aibom:unpinned-reason'), name).toMatch(reason);
    }
    expect(dependsOn(bom, 'pkg:npm/local-portal@0.2.0')).toEqual(['pkg:npm/ms@2.1.3']);
    expect(prop(componentByPurl(bom, 'pkg:npm/ms@2.0.0'), 'aibom:npm:alias')).toBe('old-ms');
  });

  it('the BOM validates, in CycloneDX 1.6 and 1.7', async () => {
    await expectValid(dir);
    const r = await runCli(['build', dir, '--reproducible', '--spec-version', '1.7']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a git dependency locked to a branch head, not a commit, is unpinned', async () => {
    await withCopy(
      dir,
      (d) =>
        editFile(
          join(d, 'yarn.lock'),
          `resolution: "tiny-git@git://git.example.test/acme/tiny-git.git#commit=${TINY_COMMIT}"`,
          'resolution: "tiny-git@git://git.example.test/acme/tiny-git.git#head=main"',
        ),
      async (d) => {
        const { bom: b } = await build(d);
        const git = byName(b, 'tiny-git', '0.3.1');
        expect(prop(git, 'aibom:source')).toBe('git');
        expect(prop(git, 'aibom:pinned')).toBe('false');
        expect(prop(git, 'aibom:unpinned-reason')).toBe('git dependency pinned to head "main", which can move, not a commit');
      },
    );
  });

  it('an unknown __metadata.version: a warning and a best effort', async () => {
    await withCopy(
      dir,
      (d) => editFile(join(d, 'yarn.lock'), '  version: 10\n', '  version: 99\n'),
      async (d) => {
        const { bom: b, stderr: err } = await build(d);
        expect(err).toMatch(/warning: yarn\.lock: unknown yarn\.lock __metadata\.version "99"; read as version 8 on a best effort/);
        expect(b.components).toHaveLength(37);
        expect(componentByPurl(b, 'pkg:npm/chalk@4.1.2')?.scope).toBe('excluded');
      },
    );
  });

  it("without the root package.json: a warning; the root's devDependencies are then required", async () => {
    await withCopy(
      dir,
      (d) => rm(join(d, 'package.json')),
      async (d) => {
        const { bom: b, stderr: err } = await build(d);
        expect(err).toMatch(/warning: yarn\.lock: no package\.json beside yarn\.lock .*marked required/);
        expect(componentByPurl(b, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('required');
        expect(componentByPurl(b, 'pkg:npm/is-even@1.0.0')?.scope).toBe('optional'); // dependenciesMeta
        expect(componentByPurl(b, 'pkg:npm/chalk@4.1.2')?.scope).toBe('excluded'); // @acme/b's manifest is still there
      },
    );
  });
});

describe('yarn berry (v6, yarn 3): ranges without npm:, ~builtin patches, unprefixed checksums', () => {
  const dir = join(BERRY, 'yarn3');
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(dir));
  });

  it('reads the older shape: edges, alias, patch, dev scope', async () => {
    expect(bom.metadata.component?.name).toBe('berry3-app');
    expect(bom.components).toHaveLength(12);
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(dependsOn(bom, root).sort()).toEqual(
      ['pkg:npm/debug@4.4.3', 'pkg:npm/is-odd@3.0.1', 'pkg:npm/left-pad@1.3.0', 'pkg:npm/resolve@1.22.14'].sort(),
    );
    expect(dependsOn(bom, 'pkg:npm/debug@4.4.3')).toEqual(['pkg:npm/ms@2.1.3']);
    expect(prop(componentByPurl(bom, 'pkg:npm/left-pad@1.3.0'), 'aibom:npm:alias')).toBe('left-pad-alias');
    const resolve = componentByPurl(bom, 'pkg:npm/resolve@1.22.14');
    expect(props(resolve, 'aibom:yarn:patch')).toEqual(['~builtin<compat/resolve>']);
    expect(props(resolve, 'aibom:yarn:checksum')[0]).toMatch(/^[0-9a-f]{128}$/);
    expect(componentByPurl(bom, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/is-number@6.0.0')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/ms@2.1.3')?.scope).toBe('required');
    await expectValid(dir);
  });
});

describe('yarn.lock: bad input', () => {
  const classicText = () => readFile(join(CLASSIC, 'basic', 'yarn.lock'), 'utf8');
  const berryText = () => readFile(join(BERRY, 'monorepo', 'yarn.lock'), 'utf8');

  async function expectInputError(text: string, message: RegExp): Promise<void> {
    await withLock(text, async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('no BOM written');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a classic lockfile cut mid-line: the file and line are named, no BOM', async () => {
    const full = await classicText();
    const cut = full.slice(0, full.indexOf('integrity', full.length / 2) + 20);
    const line = cut.split('\n').length;
    await expectInputError(cut, new RegExp(`^aibom: yarn\\.lock: line ${line}: the file ends mid-line.*truncated$`, 'm'));
  });

  it('a classic lockfile cut after an entry key: the entry and line are named', async () => {
    const full = await classicText();
    const cut = full.slice(0, full.indexOf('chalk@^4.1.2:\n') + 'chalk@^4.1.2:\n'.length);
    await expectInputError(cut, /yarn\.lock: line 12: entry "chalk@\^4\.1\.2" has no version: the file is truncated or damaged/);
  });

  it('classic syntax errors (a merge conflict) name the line', async () => {
    await expectInputError(
      '# yarn lockfile v1\n\n\nfoo@^1:\n  version "1.0.0"\n<<<<<<< HEAD\n',
      /^aibom: yarn\.lock: line 6: not a valid yarn\.lock: /m,
    );
  });

  it('an entry twice (the second from another source, without a hash) is refused, not read last-wins', async () => {
    await expectInputError(
      '# yarn lockfile v1\n\n\nlodash@^4.17.0:\n  version "4.17.21"\n  resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz#1"\n  integrity sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==\n\n' +
        '"lodash@^4.17.0", other@^1:\n  version "4.17.20"\n  resolved "https://evil.example/lodash-4.17.20.tgz"\n',
      /^aibom: yarn\.lock: line 9: entry "lodash@\^4\.17\.0" appears twice \(first on line 4\): not a lockfile yarn wrote$/m,
    );
    await expectInputError(
      '__metadata:\n  version: 8\n\n"a@npm:1":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n\n"b@npm:2, a@npm:1":\n  version: 1.0.1\n  resolution: "a@npm:1.0.1"\n',
      /yarn\.lock: line 8: entry "a@npm:1" appears twice \(first on line 4\)/,
    );
  });

  it('a berry lockfile cut inside an entry: named as truncated, with the line', async () => {
    const full = await berryText();
    const at = full.indexOf('"chalk@npm:^4.1.2":\n');
    const line = full.slice(0, at).split('\n').length;
    const cut = full.slice(0, at) + '"chalk@npm:^4.1.2":\n  version: 4.1.2\n';
    await expectInputError(
      cut,
      new RegExp(`yarn\\.lock: line ${line}: entry "chalk@npm:\\^4\\.1\\.2" has no valid "resolution": the file is truncated`),
    );
  });

  it('berry YAML errors name the line; an entry that is not a mapping is refused', async () => {
    await expectInputError('__metadata:\n  version: 8\n\n"a@npm:1":\n  version: 1\n   resolution: x\n', /yarn\.lock: line 6: not a valid yarn\.lock: /);
    await expectInputError('__metadata:\n  version: 8\n\n"a@npm:1": hello\n', /yarn\.lock: line 4: entry "a@npm:1" is not a mapping/);
  });

  it('deep nesting is refused before the parser recurses', async () => {
    const flow = `__metadata:\n  version: 8\n\n"a@npm:1":\n  resolution: "a@npm:1.0.0"\n  dependencies: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    await expectInputError(flow, /yarn\.lock: line 6: nests deeper than a yarn\.lock ever does/);
    const indented = `# yarn lockfile v1\n\n${Array.from({ length: 30 }, (_, i) => `${'  '.repeat(i)}k${i}:\n`).join('')}`;
    await expectInputError(indented, /yarn\.lock: line \d+: indented deeper than a yarn\.lock ever is/);
  });

  it('YAML aliases cannot turn a small file into quadratic work', async () => {
    const names = Array.from({ length: 500 }, (_, i) => `    d${i}: "npm:^1.0.0"`).join('\n');
    let text = `__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"first@npm:1":\n  version: 1.0.0\n  resolution: "first@npm:1.0.0"\n  dependencies: &all\n${names}\n  languageName: node\n  linkType: hard\n\n`;
    for (let i = 0; i < 1000; i++) {
      text += `"p${i}@npm:1":\n  version: 1.0.0\n  resolution: "p${i}@npm:1.0.0"\n  dependencies: *all\n  languageName: node\n  linkType: hard\n\n`;
    }
    // 500,000 edges from a file of a few thousand lines
    await expectInputError(
      text,
      /yarn\.lock: more than 100,000 dependency edges to resolve for a file of [\d,]+ lines \(YAML aliases repeating a dependency map\?\)/,
    );
  });

  it('a yarn.lock without the classic header is read as classic, with a warning', async () => {
    const full = await classicText();
    const body = full.slice(full.indexOf('\n\n') + 1);
    const pkg = await readFile(join(CLASSIC, 'basic', 'package.json'), 'utf8');
    await withLock(
      body,
      async (dir) => {
        const { bom, stderr } = await build(dir);
        expect(stderr).toContain('no "# yarn lockfile v1" header; read as a classic yarn.lock on a best effort');
        expect(componentByPurl(bom, 'pkg:npm/chalk@4.1.2')?.scope).toBe('required');
        expect(componentByPurl(bom, 'pkg:npm/chalk@4.1.2')?.evidence?.occurrences?.[0]?.line).toBe(
          body.split('\n').indexOf('chalk@^4.1.2:') + 1,
        );
      },
      { 'package.json': pkg },
    );
  });

  it('dangling dependencies are warned about, capped', async () => {
    const deps = Array.from({ length: 40 }, (_, i) => `    gone-${i} "^1.0.0"`).join('\n');
    await withLock(`# yarn lockfile v1\n\n\na@^1:\n  version "1.0.0"\n  dependencies:\n${deps}\n`, async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).toContain('a@^1: dependency "gone-0@^1.0.0" is not in the lockfile');
      expect(stderr).toContain('… and 30 more dependencies that are not in the lockfile');
      expect(stderr).not.toContain('gone-39');
      expect(bom.components).toHaveLength(1);
    });
  });

  it('an empty yarn.lock is a warning, not a failure', async () => {
    await withLock('', async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).toContain('empty yarn.lock: nothing is locked');
      expect(bom.components ?? []).toEqual([]);
    });
  });

  it('a workspace path that leaves the project is skipped, not read', async () => {
    const text =
      '__metadata:\n  version: 8\n  cacheKey: 10c0\n\n' +
      '"app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "app@workspace:."\n  languageName: unknown\n  linkType: soft\n\n' +
      '"evil@workspace:../../etc":\n  version: 0.0.0-use.local\n  resolution: "evil@workspace:../../etc"\n  languageName: unknown\n  linkType: soft\n';
    await withLock(text, async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).toContain('skipped workspace "evil@workspace:../../etc": its folder is outside the project');
      expect(bom.components ?? []).toEqual([]);
    });
  });
});

describe('yarn.lock as found in repositories (shapes yarn does not write itself)', () => {
  const REAL = join(FIXTURES, 'lockfiles', 'yarn-real-world');

  it('a classic file that lost its final newline, ending on a whole integrity line, builds', async () => {
    const dir = join(REAL, 'classic-no-final-newline');
    expect((await readFile(join(dir, 'yarn.lock'), 'utf8')).endsWith('\n')).toBe(false);
    const { bom } = await build(dir);
    expect(bom.components?.map((c) => c.purl).sort()).toEqual(['pkg:npm/%40babel/helper-regex@7.4.4', 'pkg:npm/lodash@4.17.11']);
    const lodash = componentByPurl(bom, 'pkg:npm/lodash@4.17.11');
    expect(lodash?.hashes?.map((h: { alg: string }) => h.alg)).toContain('SHA-512');
    expect(dependsOn(bom, componentByPurl(bom, 'pkg:npm/%40babel/helper-regex@7.4.4')?.['bom-ref'])).toEqual([lodash?.['bom-ref']]);
    await expectValid(dir);
  });

  it('a berry file ending on `linkType: soft` without a newline builds', async () => {
    const dir = join(REAL, 'berry-no-final-newline');
    const { bom } = await build(dir);
    expect(bom.components?.map((c) => c.purl).sort()).toEqual(['pkg:npm/is-number@6.0.0', 'pkg:npm/is-odd@3.0.1']);
    await expectValid(dir);
  });

  it('without the final newline, a last line yarn could not have written whole is still named as truncated', async () => {
    const classic = await readFile(join(REAL, 'classic-no-final-newline', 'yarn.lock'), 'utf8');
    const cutResolved = classic.slice(0, classic.lastIndexOf('resolved') + 30);
    await withLock(cutResolved, async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/yarn\.lock: line 13: the file ends mid-line.*truncated/);
    });
    const berry = await readFile(join(REAL, 'berry-no-final-newline', 'yarn.lock'), 'utf8');
    const cutChecksum = berry.slice(0, berry.indexOf('checksum') + 40);
    await withLock(cutChecksum, async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/yarn\.lock: line 11: the file ends mid-line.*truncated/);
    });
    await withLock('bogus yarn.lock', async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^aibom: yarn\.lock: not a yarn\.lock/m);
    });
  });

  it('berry: `resolutions` in package.json lead a dependency to the forced entry', async () => {
    const dir = join(REAL, 'berry-resolutions');
    const { bom, stderr } = await build(dir);
    expect(stderr).not.toContain('is not in the lockfile');
    const core = componentByPurl(bom, 'pkg:npm/%40babel/core@7.27.7');
    expect(dependsOn(bom, core?.['bom-ref']).sort()).toEqual(['pkg:npm/%40babel/helpers@7.27.1', 'pkg:npm/%40babel/parser@7.27.3']);
    expect(componentByPurl(bom, 'pkg:npm/%40babel/helpers@7.27.1')?.scope).toBe('excluded');
    await expectValid(dir);
  });

  it('berry: catalog: ranges through .yarnrc.yml, link: resolutions bound to the root, a remapped single entry', async () => {
    const dir = join(REAL, 'berry-catalogs');
    const { bom, stderr } = await build(dir);
    expect(stderr).not.toContain('is not in the lockfile');
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(dependsOn(bom, root).sort()).toEqual([
      'pkg:npm/%40jridgewell/sourcemap-codec@1.6.0-beta.0',
      'pkg:npm/%40yarnpkg/libui@3.0.0',
      'pkg:npm/babel-jest@30.4.1',
      'pkg:npm/verkit@0.3.2',
    ]);
    expect(componentByPurl(bom, 'pkg:npm/verkit@0.3.2')?.scope).toBe('required');
    expect(componentByPurl(bom, 'pkg:npm/%40jridgewell/sourcemap-codec@1.6.0-beta.0')?.scope).toBe('excluded');
    expect(dependsOn(bom, 'pkg:npm/babel-jest@30.4.1')).toEqual(['pkg:npm/%40types/babel__core']);
    expect(dependsOn(bom, 'pkg:npm/%40yarnpkg/libui@3.0.0')).toEqual(['pkg:npm/ink@3.0.8']);
    await expectValid(dir);
  });

  it('a yarn.lock written by npm (no header, every key quoted) is read as classic', async () => {
    const dir = join(REAL, 'npm-written');
    const { bom, stderr } = await build(dir);
    expect(stderr).toContain('no "# yarn lockfile v1" header');
    const jquery = componentByPurl(bom, 'pkg:npm/jquery@3.6.0');
    expect(jquery?.scope).toBe('required');
    expect(jquery?.hashes?.map((h: { alg: string }) => h.alg)).toEqual(['SHA-512']);
    await expectValid(dir);
  });
});

describe('yarn.lock at scale', () => {
  it('20,000 berry entries and 20,000 classic entries build (linear work, no blow-up)', async () => {
    const n = 20_000;
    const b: string[] = ['__metadata:\n  version: 8\n  cacheKey: 10c0\n\n'];
    const c: string[] = ['# yarn lockfile v1\n\n\n'];
    const sri = 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==';
    b.push('"big@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "big@workspace:."\n  dependencies:\n    p0: "npm:^1.0.0"\n  languageName: unknown\n  linkType: soft\n\n');
    for (let i = 0; i < n; i++) {
      const kids = [2 * i + 1, 2 * i + 2].filter((k) => k < n);
      b.push(
        `"p${i}@npm:^1.0.0":\n  version: 1.0.${i}\n  resolution: "p${i}@npm:1.0.${i}"\n` +
          (kids.length ? `  dependencies:\n${kids.map((k) => `    p${k}: "npm:^1.0.0"\n`).join('')}` : '') +
          '  checksum: 10c0/00\n  languageName: node\n  linkType: hard\n\n',
      );
      c.push(
        `p${i}@^1.0.0:\n  version "1.0.${i}"\n  resolved "https://registry.example.test/p${i}/-/p${i}-1.0.${i}.tgz"\n  integrity ${sri}\n` +
          (kids.length ? `  dependencies:\n${kids.map((k) => `    p${k} "^1.0.0"\n`).join('')}` : '') +
          '\n',
      );
    }
    const pkg = JSON.stringify({ name: 'big', version: '1.0.0', devDependencies: { p0: '^1.0.0' } });
    for (const text of [b.join(''), c.join('')]) {
      await withLock(
        text,
        async (dir) => {
          const r = await runCli(['build', dir, '--reproducible'], { timeoutMs: 300_000 });
          expect(r.code, r.stderr).toBe(0);
          const bom = JSON.parse(r.stdout) as BomDoc;
          expect(bom.components).toHaveLength(n);
          expect(componentByPurl(bom, `pkg:npm/p${n - 1}@1.0.${n - 1}`)?.scope).toBe('excluded');
        },
        { 'package.json': pkg },
      );
    }
  }, 600_000);
});
