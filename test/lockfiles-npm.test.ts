import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInProcess, expectValidInProcess } from './helpers/build-in-process.js';
import { type BomDoc, componentByPurl, dependsOn, FIXTURES, prop, runCli, tempDir } from './helpers/cli.js';

const NPM = join(FIXTURES, 'lockfiles', 'npm');

/** What the parsers put in the BOM: built in-process (test/helpers/build-in-process.ts); the CLI's exit codes and messages are tested below with runCli. */
async function build(dir: string, extra: string[] = []): Promise<{ bom: BomDoc; stderr: string }> {
  return buildInProcess(dir, extra);
}

/** The BOM validates against the official CycloneDX schema (the CLI's `validate` is tested in cli-basics). */
async function expectValid(dir: string): Promise<void> {
  await expectValidInProcess(dir);
}

const purls = (bom: BomDoc) => (bom.components ?? []).map((c) => c.purl as string).sort();
const hash = (c: Record<string, any> | undefined, alg: string) =>
  (c?.hashes as Array<{ alg: string; content: string }> | undefined)?.find((h) => h.alg === alg)?.content;
const sriHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
const LEFT_PAD_SHA = 'b5a7d7e1d5f4ab2e3c9e62b4b5d2a8e9f1c3d4e5';
const LEFT_PAD_GIT = `git+ssh://git@github.com/stevemao/left-pad.git#${LEFT_PAD_SHA}`;
const TINY = 'pkg:npm/aibom-fixture-tiny@1.0.0?download_url=file%3Aaibom-fixture-tiny-1.0.0.tgz';
const BUNDLER = 'pkg:npm/aibom-fixture-bundler@2.0.0?download_url=file%3Aaibom-fixture-bundler-2.0.0.tgz';

describe('npm package-lock.json v3 (aliases, local tarball and folder, bundled, peer, optional, dev, git, URL)', () => {
  let bom: BomDoc;
  let stderr: string;
  beforeAll(async () => {
    ({ bom, stderr } = await build(join(NPM, 'v3-features')));
  });

  it('the root component is the project from package.json, depending on every direct dependency', () => {
    expect(bom.metadata.component?.name).toBe('npm-features-app');
    expect(bom.metadata.component?.version).toBe('1.2.0');
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(root).toBe('pkg:npm/npm-features-app@1.2.0');
    expect(dependsOn(bom, root).sort()).toEqual(
      [
        'pkg:npm/%40isaacs/string-locale-compare@1.1.0',
        'pkg:npm/%40types/ms@0.7.34',
        BUNDLER,
        'pkg:npm/aibom-fixture-local@0.3.0',
        TINY,
        'pkg:npm/debug@2.6.9',
        'pkg:npm/is-number@6.0.0',
        'pkg:npm/is-odd@3.0.1',
        `pkg:npm/left-pad@1.3.0?vcs_url=${encodeURIComponent(LEFT_PAD_GIT)}`,
        `pkg:npm/moving-target@0.4.0?vcs_url=${encodeURIComponent('git+https://github.com/example-org/moving-target.git#main')}`,
        'pkg:npm/ms@2.1.2',
        'pkg:npm/react-dom@18.3.1',
        `pkg:npm/remote-tarball@0.1.0?download_url=${encodeURIComponent('https://files.example.test/downloads/remote-tarball-0.1.0.tgz')}`,
      ].sort(),
    );
    expect(stderr).not.toContain('warning');
  });

  it('one component per distinct package, scoped names as purl namespace and CycloneDX group', () => {
    expect(bom.components).toHaveLength(20);
    const scoped = componentByPurl(bom, 'pkg:npm/%40isaacs/string-locale-compare@1.1.0');
    expect(scoped?.group).toBe('@isaacs');
    expect(scoped?.name).toBe('string-locale-compare');
    expect(scoped?.type).toBe('library');
    // four versions of ms side by side: hoisted, nested under debug, aliased, bundled
    expect(purls(bom).filter((p) => p.startsWith('pkg:npm/ms@'))).toEqual([
      'pkg:npm/ms@2.0.0',
      'pkg:npm/ms@2.1.1',
      'pkg:npm/ms@2.1.2',
      'pkg:npm/ms@2.1.3',
    ]);
  });

  it('scopes: dev → excluded, optional and devOptional → optional, peers and the rest → required', () => {
    expect(componentByPurl(bom, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:npm/is-number@6.0.0')?.scope).toBe('optional'); // devOptional
    expect(componentByPurl(bom, 'pkg:npm/react@18.3.1')?.scope).toBe('required'); // an installed peer
    expect(componentByPurl(bom, 'pkg:npm/debug@2.6.9')?.scope).toBe('required');
  });

  it('hashes from integrity, as hex', () => {
    const ms = componentByPurl(bom, 'pkg:npm/ms@2.0.0');
    expect(ms?.hashes).toEqual([
      {
        alg: 'SHA-512',
        content: sriHex('Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=='),
      },
    ]);
    expect(hash(ms, 'SHA-512')).toMatch(/^4e9a7ad0fe885090/);
  });

  it('an alias is the real package, with the alias as a property', () => {
    const ms = componentByPurl(bom, 'pkg:npm/ms@2.1.2');
    expect(ms?.name).toBe('ms');
    expect(prop(ms, 'aibom:npm:alias')).toBe('my-ms');
    expect(bom.components?.some((c) => c.name === 'my-ms')).toBe(false);
  });

  it('a local tarball with integrity is a pinned file source with a download_url', () => {
    const tiny = componentByPurl(bom, TINY);
    expect(prop(tiny, 'aibom:source')).toBe('file');
    expect(prop(tiny, 'aibom:pinned')).toBe('true');
    expect(prop(tiny, 'aibom:source:url')).toBe('file:aibom-fixture-tiny-1.0.0.tgz');
    expect(hash(tiny, 'SHA-512')).toBeDefined();
  });

  it('a local folder is an unpinned directory source, with its version from the folder entry', () => {
    const local = componentByPurl(bom, 'pkg:npm/aibom-fixture-local@0.3.0');
    expect(local?.type).toBe('library');
    expect(prop(local, 'aibom:source')).toBe('directory');
    expect(prop(local, 'aibom:pinned')).toBe('false');
    expect(prop(local, 'aibom:unpinned-reason')).toMatch(/local folder/);
    expect(prop(local, 'aibom:workspace')).toBeUndefined();
    expect(dependsOn(bom, 'pkg:npm/aibom-fixture-local@0.3.0')).toEqual(['pkg:npm/js-tokens@4.0.0']);
  });

  it('bundled packages are marked and pinned through the package that ships them', () => {
    const bundled = componentByPurl(bom, 'pkg:npm/ms@2.1.1');
    expect(prop(bundled, 'aibom:bundled')).toBe('true');
    expect(prop(bundled, 'aibom:source')).toBe('file');
    expect(prop(bundled, 'aibom:pinned')).toBe('true');
    expect(bundled?.hashes ?? []).toEqual([]);
    expect(dependsOn(bom, BUNDLER).sort()).toEqual(['pkg:npm/%40isaacs/string-locale-compare@1.1.0', 'pkg:npm/ms@2.1.1']);
  });

  it('git: a commit is pinned, a branch is not; both carry vcs_url', () => {
    const pinned = bom.components?.find((c) => c.name === 'left-pad');
    expect(pinned?.purl).toBe(`pkg:npm/left-pad@1.3.0?vcs_url=${encodeURIComponent(LEFT_PAD_GIT)}`);
    expect(prop(pinned, 'aibom:source')).toBe('git');
    expect(prop(pinned, 'aibom:pinned')).toBe('true');
    expect(prop(pinned, 'aibom:source:url')).toBe(LEFT_PAD_GIT);
    const moving = bom.components?.find((c) => c.name === 'moving-target');
    expect(prop(moving, 'aibom:pinned')).toBe('false');
    expect(prop(moving, 'aibom:unpinned-reason')).toMatch(/"main".*not a commit/);
    expect(dependsOn(bom, moving?.['bom-ref'])).toEqual(['pkg:npm/ms@2.1.3']);
  });

  it('a URL tarball without integrity is unpinned, with a download_url', () => {
    const remote = bom.components?.find((c) => c.name === 'remote-tarball');
    expect(remote?.purl).toContain('download_url=https%3A%2F%2Ffiles.example.test%2Fdownloads%2Fremote-tarball-0.1.0.tgz');
    expect(prop(remote, 'aibom:source')).toBe('url');
    expect(prop(remote, 'aibom:pinned')).toBe('false');
    expect(prop(remote, 'aibom:unpinned-reason')).toMatch(/without an integrity/);
  });

  it('edges follow Node resolution: nested node_modules first, then hoisted', () => {
    expect(dependsOn(bom, 'pkg:npm/debug@2.6.9')).toEqual(['pkg:npm/ms@2.0.0']);
    expect(dependsOn(bom, TINY)).toEqual(['pkg:npm/ms@2.1.3']);
    expect(dependsOn(bom, 'pkg:npm/react-dom@18.3.1').sort()).toEqual([
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/react@18.3.1',
      'pkg:npm/scheduler@0.23.2',
    ]);
    expect(dependsOn(bom, 'pkg:npm/is-odd@3.0.1')).toEqual(['pkg:npm/is-number@6.0.0']);
    expect(dependsOn(bom, 'pkg:npm/ms@2.1.3')).toEqual([]);
  });

  it('evidence points at the lockfile line of each entry', async () => {
    const text = await readFile(join(NPM, 'v3-features', 'package-lock.json'), 'utf8');
    const lines = text.split('\n');
    const ms = componentByPurl(bom, 'pkg:npm/ms@2.0.0');
    const occ = ms?.evidence?.occurrences as Array<{ location: string; line: number }>;
    expect(occ).toHaveLength(1);
    expect(occ[0]?.location).toBe('package-lock.json');
    expect(lines[occ[0]!.line - 1]).toContain('"node_modules/debug/node_modules/ms": {');
  });

  it('is valid CycloneDX (aibom validate)', async () => {
    await expectValid(join(NPM, 'v3-features'));
  });
});

describe('npm workspaces (v3)', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(NPM, 'v3-workspaces')));
  });
  const APP = 'pkg:npm/%40mono/app@1.0.0';
  const LIB = 'pkg:npm/%40mono/lib@2.1.0';

  it('each workspace is an application component, marked as workspace, that the root depends on', () => {
    for (const ref of [APP, LIB]) {
      const ws = componentByPurl(bom, ref);
      expect(ws?.type).toBe('application');
      expect(prop(ws, 'aibom:workspace')).toBe('true');
      expect(prop(ws, 'aibom:source')).toBe('workspace');
      expect(prop(ws, 'aibom:pinned')).toBe('true');
    }
    expect(prop(componentByPurl(bom, APP), 'aibom:source:url')).toBe('packages/app');
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(root).toBe('pkg:npm/npm-monorepo@0.0.0');
    expect(dependsOn(bom, root).sort()).toEqual([APP, LIB, 'pkg:npm/%40types/debug@4.1.13', 'pkg:npm/debug@4.4.3'].sort());
  });

  it('workspace links resolve to the workspace; nested node_modules under a workspace win over hoisted ones', () => {
    expect(dependsOn(bom, APP).sort()).toEqual([LIB, 'pkg:npm/debug@2.6.9', 'pkg:npm/is-number@7.0.0'].sort());
    expect(dependsOn(bom, 'pkg:npm/debug@2.6.9')).toEqual(['pkg:npm/ms@2.0.0']);
    expect(dependsOn(bom, LIB).sort()).toEqual(['pkg:npm/debug@4.4.3', 'pkg:npm/ms@2.1.2']);
    expect(dependsOn(bom, 'pkg:npm/debug@4.4.3')).toEqual(['pkg:npm/ms@2.1.3']);
  });

  it("a workspace's devDependency is excluded; packages it shares with production stay required", () => {
    expect(componentByPurl(bom, 'pkg:npm/is-number@7.0.0')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/%40types/ms@2.1.0')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/ms@2.0.0')?.scope).toBe('required');
    expect(bom.components).toHaveLength(10);
  });

  it('is valid CycloneDX', async () => {
    await expectValid(join(NPM, 'v3-workspaces'));
  });
});

describe('npm: an alias beside the real package', () => {
  it('one component for string-width@4.2.3, still recording the alias', async () => {
    const { bom } = await build(join(NPM, 'v3-alias-beside-real'));
    const sw = bom.components?.filter((c) => c.name === 'string-width');
    expect(sw).toHaveLength(1);
    expect(sw?.[0]?.purl).toBe('pkg:npm/string-width@4.2.3');
    expect(prop(sw?.[0], 'aibom:npm:alias')).toBe('string-width-cjs');
    expect(sw?.[0]?.evidence?.occurrences).toHaveLength(2);
    const root = bom.metadata.component?.['bom-ref'] as string;
    expect(dependsOn(bom, root)).toEqual(['pkg:npm/string-width@4.2.3']);
    expect(dependsOn(bom, 'pkg:npm/string-width@4.2.3').sort()).toEqual([
      'pkg:npm/emoji-regex@8.0.0',
      'pkg:npm/is-fullwidth-code-point@3.0.0',
      'pkg:npm/strip-ansi@6.0.1',
    ]);
  });
});

describe('npm package-lock.json v2 with registry URLs', () => {
  it('reads the packages map: the same packages as v3, registry sources pinned, no legacy duplicates', async () => {
    const { bom: v2, stderr } = await build(join(NPM, 'v2-resolved'));
    const { bom: v3 } = await build(join(NPM, 'v3-features'));
    const handAdded = ['left-pad', 'moving-target', 'remote-tarball'];
    expect(purls(v2)).toEqual(purls(v3).filter((p) => !handAdded.some((n) => p.startsWith(`pkg:npm/${n}@`))));
    expect(stderr).not.toContain('warning');
    const scheduler = componentByPurl(v2, 'pkg:npm/scheduler@0.23.2');
    expect(prop(scheduler, 'aibom:source')).toBe('registry');
    expect(prop(scheduler, 'aibom:pinned')).toBe('true');
    // registry tarball URLs are the usual ones: not a download_url qualifier
    expect(scheduler?.purl).toBe('pkg:npm/scheduler@0.23.2');
    expect(componentByPurl(v2, 'pkg:npm/is-number@6.0.0')?.scope).toBe('optional');
    expect(componentByPurl(v2, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('excluded');
    expect(dependsOn(v2, 'pkg:npm/debug@2.6.9')).toEqual(['pkg:npm/ms@2.0.0']);
    await expectValid(join(NPM, 'v2-resolved'));
  });
});

describe('npm package-lock.json v1 (npm 6)', () => {
  let bom: BomDoc;
  let stderr: string;
  beforeAll(async () => {
    ({ bom, stderr } = await build(join(NPM, 'v1')));
  });

  it('reads the nested tree: versions, scopes, the nested ms under debug', () => {
    expect(stderr).not.toContain('warning');
    expect(componentByPurl(bom, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:npm/debug@2.6.9')?.scope).toBe('required');
    expect(dependsOn(bom, 'pkg:npm/debug@2.6.9')).toEqual(['pkg:npm/ms@2.0.0']);
    expect(dependsOn(bom, 'pkg:npm/react-dom@18.3.1').sort()).toEqual(['pkg:npm/loose-envify@1.4.0', 'pkg:npm/scheduler@0.23.2']);
    // npm 6 did not install peers
    expect(bom.components?.some((c) => c.name === 'react')).toBe(false);
  });

  it('every algorithm of a multi-hash integrity string', () => {
    const isarray = componentByPurl(bom, 'pkg:npm/isarray@0.0.1');
    // the registry's published shasum of isarray-0.0.1.tgz
    expect(hash(isarray, 'SHA-1')).toBe('8a18acfca9a8f4177e09abfc6038939b05d1eedf');
    expect(hash(isarray, 'SHA-512')).toHaveLength(128);
  });

  it('aliases ("version": "npm:ms@2.1.2"), bundled deps and git ("version": git URL)', () => {
    const alias = componentByPurl(bom, 'pkg:npm/ms@2.1.2');
    expect(prop(alias, 'aibom:npm:alias')).toBe('my-ms');
    expect(prop(alias, 'aibom:source')).toBe('registry');
    const bundled = componentByPurl(bom, 'pkg:npm/ms@2.1.1');
    expect(prop(bundled, 'aibom:bundled')).toBe('true');
    expect(prop(bundled, 'aibom:source')).toBe('file');
    const git = bom.components?.find((c) => c.name === 'left-pad');
    // v1 records the git URL where the version would be: no version is known
    expect(git?.version).toBeUndefined();
    expect(git?.purl).toBe(`pkg:npm/left-pad?vcs_url=${encodeURIComponent(LEFT_PAD_GIT)}`);
    expect(prop(git, 'aibom:pinned')).toBe('true');
  });

  it("local folder: its version from the folder's package.json; root edges from package.json", () => {
    const local = componentByPurl(bom, 'pkg:npm/aibom-fixture-local@0.3.0');
    expect(prop(local, 'aibom:source')).toBe('directory');
    expect(prop(local, 'aibom:pinned')).toBe('false');
    expect(dependsOn(bom, 'pkg:npm/aibom-fixture-local@0.3.0')).toEqual(['pkg:npm/js-tokens@4.0.0']);
    const tiny = bom.components?.find((c) => c.name === 'aibom-fixture-tiny');
    expect(tiny?.purl).toBe('pkg:npm/aibom-fixture-tiny?download_url=file%3Aaibom-fixture-tiny-1.0.0.tgz');
    expect(prop(tiny, 'aibom:pinned')).toBe('true');
    const root = bom.metadata.component?.['bom-ref'] as string;
    const direct = dependsOn(bom, root);
    expect(direct).toHaveLength(12);
    expect(direct).toContain('pkg:npm/%40types/ms@0.7.34');
    expect(direct).not.toContain('pkg:npm/ms@2.1.3'); // only transitive
  });

  it('is valid CycloneDX', async () => {
    await expectValid(join(NPM, 'v1'));
  });
});

describe('npm package-lock.json v1 written by npm 5 (registry tarball URLs as "version")', () => {
  it('versions come from the tarball names; two versions of one package stay two components', async () => {
    const dir = join(NPM, 'v1-tarball-versions');
    const { bom } = await build(dir);
    expect(purls(bom)).toEqual([
      'pkg:npm/%40types/node@7.0.5',
      'pkg:npm/acorn-jsx@3.0.1',
      'pkg:npm/acorn@3.3.0',
      'pkg:npm/acorn@4.0.4',
    ]);
    const acorn3 = componentByPurl(bom, 'pkg:npm/acorn@3.3.0');
    expect(hash(acorn3, 'SHA-1')).toBe(sriHex('ReN/s56No/JbruP/U2niu18iAXo='));
    expect(acorn3?.hashes).toHaveLength(1);
    expect(prop(acorn3, 'aibom:source')).toBe('registry');
    expect(dependsOn(bom, 'pkg:npm/acorn-jsx@3.0.1')).toEqual(['pkg:npm/acorn@3.3.0']);
    const types = componentByPurl(bom, 'pkg:npm/%40types/node@7.0.5');
    expect(types?.group).toBe('@types');
    expect(prop(types, 'aibom:pinned')).toBe('false');
    await expectValid(dir);
  });
});

describe('npm-shrinkwrap.json', () => {
  it('is read like a package-lock.json', async () => {
    const { bom } = await build(join(NPM, 'shrinkwrap'));
    expect(bom.metadata.component?.name).toBe('npm-shrinkwrapped-cli');
    expect(purls(bom)).toEqual([
      'pkg:npm/debug@4.3.4',
      'pkg:npm/has-flag@4.0.0',
      'pkg:npm/ms@2.1.2',
      'pkg:npm/supports-color@8.1.1',
    ]);
    expect(componentByPurl(bom, 'pkg:npm/supports-color@8.1.1')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:npm/has-flag@4.0.0')?.scope).toBe('optional');
    expect(dependsOn(bom, 'pkg:npm/supports-color@8.1.1')).toEqual(['pkg:npm/has-flag@4.0.0']);
    expect(dependsOn(bom, 'pkg:npm/debug@4.3.4')).toEqual(['pkg:npm/ms@2.1.2']);
    const occ = componentByPurl(bom, 'pkg:npm/ms@2.1.2')?.evidence?.occurrences;
    expect(occ?.[0]?.location).toBe('npm-shrinkwrap.json');
  });
});

describe('npm lockfiles: bad input', () => {
  async function withLock(text: string, fn: (dir: string) => Promise<void>, name = 'package-lock.json') {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, name), text);
      await fn(t.dir);
    } finally {
      await t.cleanup();
    }
  }

  it('a truncated lockfile: exit 2, the file named, no stack, no output', async () => {
    const full = await readFile(join(NPM, 'v3-features', 'package-lock.json'), 'utf8');
    const cut = full.lastIndexOf('\n', Math.floor(full.length / 2));
    await withLock(full.slice(0, cut), async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^aibom: package-lock\.json: not valid JSON: .* at line \d+, column \d+$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // --keep-going writes the rest (here: nothing but the project)
      const k = await runCli(['build', dir, '--reproducible', '--keep-going']);
      expect(k.code).toBe(0);
      expect((JSON.parse(k.stdout) as BomDoc).components ?? []).toEqual([]);
    });
  });

  it('malformed JSON names the line', async () => {
    await withLock('{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {},,\n  }\n}\n', async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/package-lock\.json: not valid JSON: .* line 4/);
    });
  });

  it('a lockfile committed mid-merge (conflict markers) is named as such, with the line', async () => {
    // Modelled on npm's own test fixture of a conflicted package-lock.json (npm/cli, arborist).
    const text = [
      '{',
      '  "name": "conflict-package-lock",',
      '  "lockfileVersion": 2,',
      '  "packages": {',
      '    "node_modules/abbrev": {',
      '<<<<<<< HEAD',
      '      "version": "1.1.1",',
      '=======',
      '      "version": "1.1.2",',
      '>>>>>>> conflict',
      '      "integrity": "sha512-nne9/IiQ/hzIhY6pdDnbBtz7DjPTKrY00P/zvPSm5pOFkl6xuGrGnXn/VtTNNfNtAfZ9/1RtehkszU9qcTii0Q=="',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n');
    await withLock(text, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^aibom: package-lock\.json: line 6: unresolved git merge conflict/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('not a lockfile: a top-level array, or v3 without a packages map', async () => {
    await withLock('[1, 2]', async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('package-lock.json: not an npm lockfile');
    });
    await withLock('{"name": "x", "lockfileVersion": 3}', async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('package-lock.json: lockfileVersion 3 without a "packages" map');
    });
  });

  it('JSON nested 10,000 levels deep is refused without a stack overflow', async () => {
    const deep = `{"lockfileVersion": 3, "packages": {"": ${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    await withLock(deep, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/package-lock\.json: JSON nests deeper than \d+ levels/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('an unknown lockfileVersion: a warning that says what was read, and a best effort', async () => {
    const doc = JSON.parse(await readFile(join(NPM, 'v3-workspaces', 'package-lock.json'), 'utf8'));
    doc.lockfileVersion = 4;
    const t = await tempDir();
    try {
      await cp(join(NPM, 'v3-workspaces'), t.dir, { recursive: true });
      await writeFile(join(t.dir, 'package-lock.json'), JSON.stringify(doc, null, 2));
      const r = await runCli(['build', t.dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/aibom: warning: package-lock\.json: unknown lockfileVersion 4 .*read its "packages" map as in version 3/);
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(bom.components).toHaveLength(10);
      expect(dependsOn(bom, 'pkg:npm/debug@2.6.9')).toEqual(['pkg:npm/ms@2.0.0']);
    } finally {
      await t.cleanup();
    }
  });

  it('an unknown version with only a dependencies tree is read as v1, with a warning', async () => {
    const v1 = JSON.parse(await readFile(join(NPM, 'v1', 'package-lock.json'), 'utf8'));
    v1.lockfileVersion = 0;
    await withLock(JSON.stringify(v1), async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/unknown lockfileVersion 0 .*read its "dependencies" tree as in version 1/);
      expect(componentByPurl(JSON.parse(r.stdout) as BomDoc, 'pkg:npm/debug@2.6.9')).toBeDefined();
    });
  });

  it('broken entries are skipped with warnings; missing dependencies are reported, capped', async () => {
    const packages: Record<string, unknown> = {
      '': { name: 'broken', dependencies: { a: '1' } },
      'node_modules/a': { version: '1.0.0', dependencies: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`gone-${i}`, '1'])) },
      'node_modules/b': 'not an object',
    };
    await withLock(JSON.stringify({ name: 'broken', lockfileVersion: 3, packages }), async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('skipped packages["node_modules/b"]: not an object');
      expect(r.stderr).toContain('node_modules/a: dependency "gone-0" is not in the lockfile');
      expect(r.stderr).toContain('20 more dependencies are not in the lockfile');
      expect(r.stderr.split('\n').filter((l) => l.includes('is not in the lockfile'))).toHaveLength(10);
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(purls(bom)).toEqual(['pkg:npm/a@1.0.0']);
      // no integrity: not pinned
      expect(prop(componentByPurl(bom, 'pkg:npm/a@1.0.0'), 'aibom:pinned')).toBe('false');
    });
  });

  it('an install path nested deeper than npm ever writes is skipped with a warning', async () => {
    const deepKey = Array.from({ length: 100 }, (_, i) => `node_modules/d${i}`).join('/');
    const packages = {
      '': { name: 'deep', dependencies: { d0: '1' } },
      'node_modules/d0': { version: '1.0.0', integrity: 'sha512-AAAA' },
      [deepKey]: { version: '1.0.0', dependencies: { x: '1' } },
    };
    await withLock(JSON.stringify({ name: 'deep', lockfileVersion: 3, packages }), async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('an install path nested deeper than npm ever writes');
      expect(purls(JSON.parse(r.stdout) as BomDoc)).toEqual(['pkg:npm/d0@1.0.0']);
    });
  });

  it('v1: a missing dependency is reported with its install path', async () => {
    const lock = {
      name: 'v1-missing',
      lockfileVersion: 1,
      requires: true,
      dependencies: { a: { version: '1.0.0', requires: { b: '^1' }, dependencies: { c: { version: '2.0.0', requires: { gone: '1' } } } } },
    };
    await withLock(JSON.stringify(lock), async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('node_modules/a: dependency "b" is not in the lockfile');
      expect(r.stderr).toContain('node_modules/a/node_modules/c: dependency "gone" is not in the lockfile');
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(purls(bom)).toEqual(['pkg:npm/a@1.0.0', 'pkg:npm/c@2.0.0']);
      // no package.json: the root depends on the top-level packages nothing requires
      expect(dependsOn(bom, bom.metadata.component?.['bom-ref'] as string)).toEqual(['pkg:npm/a@1.0.0']);
    });
  });

  it('a lockfile in a sub-folder next to others: all are read', async () => {
    const t = await tempDir();
    try {
      await mkdir(join(t.dir, 'svc'), { recursive: true });
      await cp(join(NPM, 'shrinkwrap'), join(t.dir, 'svc'), { recursive: true });
      await cp(join(NPM, 'v3-workspaces'), t.dir, { recursive: true });
      const { bom } = await build(t.dir);
      expect(componentByPurl(bom, 'pkg:npm/supports-color@8.1.1')).toBeDefined();
      expect(componentByPurl(bom, 'pkg:npm/%40mono/app@1.0.0')).toBeDefined();
    } finally {
      await t.cleanup();
    }
  });
});
