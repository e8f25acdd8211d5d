import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInProcess, expectValidInProcess } from './helpers/build-in-process.js';
import { type BomDoc, componentByPurl, dependsOn, FIXTURES, prop, runCli, tempDir } from './helpers/cli.js';

const PNPM = join(FIXTURES, 'lockfiles', 'pnpm');

/** What the parsers put in the BOM: built in-process (test/helpers/build-in-process.ts); the CLI's exit codes and messages are tested below with runCli. */
async function build(dir: string): Promise<{ bom: BomDoc; stderr: string }> {
  return buildInProcess(dir);
}

/** The BOM validates against the official CycloneDX schema (the CLI's `validate` is tested in cli-basics). */
async function expectValid(dir: string): Promise<void> {
  await expectValidInProcess(dir);
}

/** A copy of a fixture folder with its lockfile replaced. */
async function withLockfile(fixture: string | undefined, text: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const t = await tempDir();
  try {
    if (fixture) await cp(join(PNPM, fixture), t.dir, { recursive: true });
    await writeFile(join(t.dir, 'pnpm-lock.yaml'), text);
    await fn(t.dir);
  } finally {
    await t.cleanup();
  }
}

const purls = (bom: BomDoc) => (bom.components ?? []).map((c) => c.purl as string).sort();
const byName = (bom: BomDoc, name: string) => bom.components?.find((c) => c.name === name);
const SHA = 'b5a7d7e1d5f4ab2e3c9e62b4b5d2a8e9f1c3d4e5';
const SHA2 = '3f1c9a7e2b8d4f60a5c7e9b1d3f5a7c9e1b3d5f7';
const TINY = 'pkg:npm/aibom-fixture-tiny@1.0.0?download_url=file%3Aaibom-fixture-tiny-1.0.0.tgz';
const BUNDLER = 'pkg:npm/aibom-fixture-bundler@2.0.0?download_url=file%3Aaibom-fixture-bundler-2.0.0.tgz';
const REGISTRY_PURLS = [
  'pkg:npm/%40isaacs/string-locale-compare@1.1.0',
  'pkg:npm/%40types/ms@0.7.34',
  'pkg:npm/debug@2.6.9',
  'pkg:npm/is-number@6.0.0',
  'pkg:npm/is-odd@3.0.1',
  'pkg:npm/js-tokens@4.0.0',
  'pkg:npm/loose-envify@1.4.0',
  'pkg:npm/ms@2.0.0',
  'pkg:npm/ms@2.1.2',
  'pkg:npm/react-dom@18.3.1',
  'pkg:npm/react@18.3.1',
  'pkg:npm/scheduler@0.23.2',
];

for (const v of ['v9', 'v6'] as const) {
  describe(`pnpm-lock.yaml ${v === 'v9' ? "'9.0'" : "'6.0'"}: a single project`, () => {
    let bom: BomDoc;
    let stderr: string;
    beforeAll(async () => {
      ({ bom, stderr } = await build(join(PNPM, `${v}-features`)));
    });

    it('every package once, with purls; the root from package.json depends on the direct ones', () => {
      expect(stderr).not.toContain('warning');
      const all = purls(bom);
      for (const p of [...REGISTRY_PURLS, TINY, BUNDLER, 'pkg:npm/aibom-fixture-local@0.3.0']) expect(all).toContain(p);
      expect(all).toHaveLength(v === 'v9' ? 19 : 18); // v6 has no moving-target; bundled deps are not locked
      const root = bom.metadata.component?.['bom-ref'] as string;
      expect(root).toBe('pkg:npm/pnpm-features-app@1.2.0');
      const direct = dependsOn(bom, root);
      expect(direct).toContain('pkg:npm/%40types/ms@0.7.34');
      expect(direct).toContain('pkg:npm/is-odd@3.0.1');
      expect(direct).toContain('pkg:npm/ms@2.1.2');
      expect(direct).not.toContain('pkg:npm/react@18.3.1'); // an auto-installed peer, not direct
      expect(direct).toHaveLength(v === 'v9' ? 14 : 13);
    });

    it('scopes: dev → excluded, optional (also below an optional dep) → optional', () => {
      expect(componentByPurl(bom, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('excluded');
      expect(componentByPurl(bom, 'pkg:npm/is-odd@3.0.1')?.scope).toBe('optional');
      // dev directly, and under the optional is-odd in production: optional, as npm's devOptional
      expect(componentByPurl(bom, 'pkg:npm/is-number@6.0.0')?.scope).toBe('optional');
      expect(componentByPurl(bom, 'pkg:npm/react@18.3.1')?.scope).toBe('required');
      expect(componentByPurl(bom, 'pkg:npm/ms@2.0.0')?.scope).toBe('required');
    });

    it('integrity → SHA-512 hex; peer-suffixed keys are the plain package', () => {
      const ms = componentByPurl(bom, 'pkg:npm/ms@2.0.0');
      expect(ms?.hashes).toEqual([
        {
          alg: 'SHA-512',
          content:
            '4e9a7ad0fe885090d3b8eabfe59f1c76c93326e8dfc2a7ce4e4af02308fb211212a679099d3e92c89e0f08f9c63281630bd75d85a979295218b40b7dee2c74e4',
        },
      ]);
      expect(dependsOn(bom, 'pkg:npm/react-dom@18.3.1').sort()).toEqual([
        'pkg:npm/loose-envify@1.4.0',
        'pkg:npm/react@18.3.1',
        'pkg:npm/scheduler@0.23.2',
      ]);
      expect(bom.components?.filter((c) => c.name === 'react-dom')).toHaveLength(1);
    });

    it('an alias is the real package with the alias recorded', () => {
      const ms = componentByPurl(bom, 'pkg:npm/ms@2.1.2');
      expect(prop(ms, 'aibom:npm:alias')).toBe('my-ms');
      expect(byName(bom, 'my-ms')).toBeUndefined();
    });

    it('local tarball: pinned file with download_url; local folder: unpinned directory with its version', () => {
      const tiny = componentByPurl(bom, TINY);
      expect(prop(tiny, 'aibom:source')).toBe('file');
      expect(prop(tiny, 'aibom:pinned')).toBe('true');
      expect(tiny?.hashes?.[0]?.alg).toBe('SHA-512');
      expect(dependsOn(bom, TINY)).toEqual(['pkg:npm/ms@2.1.2']);
      const local = componentByPurl(bom, 'pkg:npm/aibom-fixture-local@0.3.0');
      expect(prop(local, 'aibom:source')).toBe('directory');
      expect(prop(local, 'aibom:pinned')).toBe('false');
      expect(prop(local, 'aibom:source:url')).toBe('local-pkg');
      expect(dependsOn(bom, 'pkg:npm/aibom-fixture-local@0.3.0')).toEqual(['pkg:npm/js-tokens@4.0.0']);
    });

    it('git: a codeload tarball of a commit and a git resolution with a commit are pinned, with vcs_url', () => {
      const leftPad = byName(bom, 'left-pad');
      const url = `git+https://github.com/stevemao/left-pad.git#${SHA}`;
      expect(leftPad?.purl).toBe(`pkg:npm/left-pad@1.3.0?vcs_url=${encodeURIComponent(url)}`);
      expect(prop(leftPad, 'aibom:source')).toBe('git');
      expect(prop(leftPad, 'aibom:pinned')).toBe('true');
      const tool = byName(bom, 'private-tool');
      expect(tool?.version).toBe('2.0.0');
      expect(prop(tool, 'aibom:source:url')).toBe(`git+https://git.example.test/example-org/private-tool.git#${SHA2}`);
      expect(prop(tool, 'aibom:pinned')).toBe('true');
      expect(dependsOn(bom, tool?.['bom-ref'])).toEqual(['pkg:npm/debug@2.6.9']);
      if (v === 'v9') {
        const moving = byName(bom, 'moving-target');
        expect(prop(moving, 'aibom:pinned')).toBe('false');
        expect(prop(moving, 'aibom:unpinned-reason')).toMatch(/"main"/);
        expect(dependsOn(bom, moving?.['bom-ref'])).toEqual(['pkg:npm/ms@2.1.2']);
      }
    });

    it('a URL tarball without integrity is unpinned', () => {
      const remote = byName(bom, 'remote-tarball');
      expect(remote?.version).toBe('0.1.0');
      expect(remote?.purl).toContain('download_url=https%3A%2F%2Ffiles.example.test');
      expect(prop(remote, 'aibom:source')).toBe('url');
      expect(prop(remote, 'aibom:pinned')).toBe('false');
    });

    it('evidence: the line of the package entry', async () => {
      const lines = (await readFile(join(PNPM, `${v}-features`, 'pnpm-lock.yaml'), 'utf8')).split('\n');
      const occ = componentByPurl(bom, 'pkg:npm/debug@2.6.9')?.evidence?.occurrences as Array<{ location: string; line: number }>;
      expect(occ[0]?.location).toBe('pnpm-lock.yaml');
      expect(lines[occ[0]!.line - 1]).toBe(v === 'v9' ? '  debug@2.6.9:' : '  /debug@2.6.9:');
    });

    it('is valid CycloneDX', async () => {
      await expectValid(join(PNPM, `${v}-features`));
    });
  });

  describe(`pnpm-lock.yaml ${v === 'v9' ? "'9.0'" : "'6.0'"}: a workspace`, () => {
    let bom: BomDoc;
    beforeAll(async () => {
      ({ bom } = await build(join(PNPM, `${v}-workspaces`)));
    });
    const APP = 'pkg:npm/%40mono/app@1.0.0';
    const LIB = 'pkg:npm/%40mono/lib@2.1.0';

    it('each importer is a workspace component (name and version from its package.json)', () => {
      for (const ref of [APP, LIB]) {
        const ws = componentByPurl(bom, ref);
        expect(ws?.type).toBe('application');
        expect(prop(ws, 'aibom:workspace')).toBe('true');
        expect(prop(ws, 'aibom:source')).toBe('workspace');
      }
      const root = bom.metadata.component?.['bom-ref'] as string;
      expect(root).toBe('pkg:npm/pnpm-monorepo@0.0.0');
      expect(dependsOn(bom, root).sort()).toEqual([APP, LIB, 'pkg:npm/%40types/debug@4.1.13']);
    });

    it('importer edges: link: to another importer, to a local folder, and peer variants', () => {
      expect(dependsOn(bom, APP).sort()).toEqual(
        [
          LIB,
          'pkg:npm/debug@2.6.9',
          'pkg:npm/is-number@7.0.0',
          'pkg:npm/local-tools@0.1.0',
          'pkg:npm/react@18.3.1',
          'pkg:npm/use-sync-external-store@1.2.2',
        ].sort(),
      );
      expect(dependsOn(bom, LIB).sort()).toEqual([
        'pkg:npm/debug@4.4.3',
        'pkg:npm/react@17.0.2',
        'pkg:npm/use-sync-external-store@1.2.2',
      ]);
      // one package, two snapshots (one per peer react): edges to both
      expect(dependsOn(bom, 'pkg:npm/use-sync-external-store@1.2.2').sort()).toEqual(['pkg:npm/react@17.0.2', 'pkg:npm/react@18.3.1']);
      const tools = componentByPurl(bom, 'pkg:npm/local-tools@0.1.0');
      expect(prop(tools, 'aibom:source')).toBe('directory');
      expect(prop(tools, 'aibom:source:url')).toBe('tools/local-tools');
      expect(prop(tools, 'aibom:pinned')).toBe('false');
      expect(prop(tools, 'aibom:workspace')).toBeUndefined();
    });

    it("scopes across importers: an importer's devDependency is excluded", () => {
      expect(componentByPurl(bom, 'pkg:npm/is-number@7.0.0')?.scope).toBe('excluded');
      expect(componentByPurl(bom, 'pkg:npm/%40types/ms@2.1.0')?.scope).toBe('excluded');
      expect(componentByPurl(bom, 'pkg:npm/object-assign@4.1.1')?.scope).toBe('required');
      expect(bom.components).toHaveLength(16);
    });

    it('is valid CycloneDX', async () => {
      await expectValid(join(PNPM, `${v}-workspaces`));
    });
  });
}

describe('pnpm: other lockfile versions', () => {
  it('5.4 (pnpm 7; 5.x is what pnpm 3 to 7 wrote) is read without a warning', async () => {
    const { bom, stderr } = await build(join(PNPM, 'v5-best-effort'));
    expect(stderr).not.toMatch(/warning/);
    expect(purls(bom)).toContain('pkg:npm/react-dom@18.3.1');
    expect(dependsOn(bom, 'pkg:npm/react-dom@18.3.1')).toContain('pkg:npm/react@18.3.1');
    expect(prop(componentByPurl(bom, 'pkg:npm/ms@2.1.2'), 'aibom:npm:alias')).toBe('my-ms');
    expect(componentByPurl(bom, 'pkg:npm/%40types/ms@0.7.34')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/is-number@6.0.0')?.scope).toBe('optional');
    expect(bom.components).toHaveLength(12);
  });

  it("a '9.0' lockfile whose keys keep 6.0's leading slash: names without it, edges intact", async () => {
    const { bom, stderr } = await build(join(PNPM, 'v9-slashed-keys'));
    expect(stderr).toContain('keys with a leading "/" (the 6.0 form) in a lockfileVersion "9.0" file: read without it');
    expect(stderr).not.toContain('is not in the lockfile');
    expect(purls(bom)).toEqual([
      'pkg:npm/js-tokens@4.0.0',
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/react-dom@18.2.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/scheduler@0.23.0',
      'pkg:npm/typescript@5.4.2',
    ]);
    expect(dependsOn(bom, 'pkg:npm/react-dom@18.2.0').sort()).toEqual([
      'pkg:npm/loose-envify@1.4.0',
      'pkg:npm/react@18.2.0',
      'pkg:npm/scheduler@0.23.0',
    ]);
    expect(componentByPurl(bom, 'pkg:npm/typescript@5.4.2')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:npm/js-tokens@4.0.0')?.hashes?.[0]?.alg).toBe('SHA-512');
    expect(componentByPurl(bom, 'pkg:npm/react@18.2.0')?.evidence?.occurrences?.[0]?.line).toBe(36);
  });

  it('patchedDependencies: the patch hash and the patch file (from pnpm-workspace.yaml) are recorded on the package', async () => {
    const { bom, stderr } = await build(join(PNPM, 'v9-patches'));
    expect(stderr).not.toMatch(/warning/);
    const gfs = componentByPurl(bom, 'pkg:npm/graceful-fs@4.2.11');
    expect(prop(gfs, 'aibom:pnpm:patch')).toBe('__patches__/graceful-fs@4.2.11.patch');
    expect(prop(gfs, 'aibom:pnpm:patch-hash')).toBe('68ebc232025360cb3dcd3081f4067f4e9fc022ab6b6f71a3230e86c7a5b337d1');
    expect(gfs?.hashes?.[0]?.alg).toBe('SHA-512');
    expect(dependsOn(bom, bom.metadata.component?.['bom-ref'] as string)).toEqual(['pkg:npm/graceful-fs@4.2.11']);
    // without the workspace file the hash is still recorded, the path is not known
    const text = await readFile(join(PNPM, 'v9-patches', 'pnpm-lock.yaml'), 'utf8');
    await withLockfile(undefined, text, async (dir) => {
      const r = await build(dir);
      const c = componentByPurl(r.bom, 'pkg:npm/graceful-fs@4.2.11');
      expect(prop(c, 'aibom:pnpm:patch')).toBe('(path not recorded)');
      expect(prop(c, 'aibom:pnpm:patch-hash')).toBe('68ebc232025360cb3dcd3081f4067f4e9fc022ab6b6f71a3230e86c7a5b337d1');
    });
  });

  it('a key whose name part is no package name is skipped with a warning, never a purl', async () => {
    const text = "lockfileVersion: '9.0'\n\npackages:\n\n  a/b@1.0.0:\n    resolution: {integrity: sha512-AAAA}\n\nsnapshots:\n\n  a/b@1.0.0: {}\n";
    await withLockfile('v9-slashed-keys', text, async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).toContain('skipped "a/b@1.0.0": no package name in the key or the entry');
      expect(bom.components ?? []).toEqual([]);
    });
  });

  it("an unknown future version with v9's layout is read as '9.0', with a warning", async () => {
    const text = (await readFile(join(PNPM, 'v9-workspaces', 'pnpm-lock.yaml'), 'utf8')).replace("lockfileVersion: '9.0'", "lockfileVersion: '10.0'");
    await withLockfile('v9-workspaces', text, async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).toMatch(/unknown lockfileVersion "10\.0" .*read as '9\.0'/);
      expect(bom.components).toHaveLength(16);
    });
  });

  it("pnpm 11's two-document lockfile: the project document is read, pnpm's own is not", async () => {
    const env = [
      '---',
      "lockfileVersion: '9.0'",
      '',
      'importers:',
      '',
      '  .:',
      '    configDependencies: {}',
      '    packageManagerDependencies:',
      '      pnpm:',
      '        specifier: 11.0.0',
      '        version: 11.0.0',
      '',
      'packages:',
      '',
      '  pnpm@11.0.0:',
      '    resolution: {integrity: sha512-fwyeQSL8Jcsce8DCRvnLNCY1ILMxtaU6ZVkn3pGN41DaoRhcyjiwWnNR4tEOqd+aT4OZrmoHXv09Dx3ddhNO+A==}',
      '',
      'snapshots:',
      '',
      '  pnpm@11.0.0: {}',
      '',
      '---',
      '',
    ].join('\n');
    const project = await readFile(join(PNPM, 'v9-workspaces', 'pnpm-lock.yaml'), 'utf8');
    await withLockfile('v9-workspaces', env + project, async (dir) => {
      const { bom, stderr } = await build(dir);
      expect(stderr).not.toContain('warning');
      expect(byName(bom, 'pnpm')).toBeUndefined();
      expect(bom.components).toHaveLength(16);
      // lines still point into the right document
      const lines = (env + project).split('\n');
      const occ = componentByPurl(bom, 'pkg:npm/ms@2.0.0')?.evidence?.occurrences as Array<{ line: number }>;
      expect(lines[occ[0]!.line - 1]).toBe('  ms@2.0.0:');
    });
  });
});

describe('pnpm lockfiles: bad input', () => {
  it('malformed YAML: exit 2, the file and line named, no stack, no output', async () => {
    const text = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      debug: {specifier: ^2, version: 2.6.9\n";
    await withLockfile(undefined, text, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^aibom: pnpm-lock\.yaml: not valid YAML: .*line [78]/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('a lockfile truncated mid-entry is an error; truncated at a line end, missing packages are warned about', async () => {
    const full = await readFile(join(PNPM, 'v9-features', 'pnpm-lock.yaml'), 'utf8');
    const cut = full.indexOf('resolution: {integrity: sha512-RdJUflcE') + 40;
    await withLockfile('v9-features', full.slice(0, cut), async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/pnpm-lock\.yaml: not valid YAML: .*line \d+/);
    });
    const atLine = full.slice(0, full.indexOf('\nsnapshots:') + 1);
    await withLockfile('v9-features', atLine, async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('warning: pnpm-lock.yaml: no "snapshots" section: the dependency graph was read from "packages"');
      // the packages are all there, but without edges between them
      expect(dependsOn(JSON.parse(r.stdout) as BomDoc, 'pkg:npm/debug@2.6.9')).toEqual([]);
    });
    const half = full.slice(0, full.indexOf('\n  js-tokens@4.0.0:') + 1);
    await withLockfile('v9-features', half, async (dir) => {
      const r = await runCli(['build', dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: pnpm-lock\.yaml: \(root\): dependency "react-dom" \(18\.3\.1\(react@18\.3\.1\)\) is not in the lockfile/);
    });
  });

  it('YAML alias expansion ("billion laughs") is refused', async () => {
    const lol = [
      "lockfileVersion: '9.0'",
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
      'importers: {}',
      '',
    ].join('\n');
    await withLockfile(undefined, lol, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/pnpm-lock\.yaml: YAML aliases expand beyond \d+ nodes/);
    });
  });

  it('flow collections nested 10,000 deep are refused before parsing', async () => {
    const deep = `lockfileVersion: '9.0'\nimporters: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    await withLockfile(undefined, deep, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/pnpm-lock\.yaml: YAML flow collections nest deeper than \d+ levels/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('an empty file, a YAML scalar, a wrong section type: clear errors', async () => {
    for (const [text, msg] of [
      ['', 'pnpm-lock.yaml: not a pnpm lockfile: the file is empty'],
      ['just a string\n', 'pnpm-lock.yaml: not a pnpm lockfile: the top level is not a mapping'],
      ["lockfileVersion: '9.0'\npackages: [a, b]\n", 'pnpm-lock.yaml: "packages" is not a mapping'],
      ['name: not-a-lockfile\n', 'pnpm-lock.yaml: not a pnpm lockfile: no "lockfileVersion"'],
    ] as const) {
      await withLockfile(undefined, text, async (dir) => {
        const r = await runCli(['build', dir]);
        expect(r.code, text).toBe(2);
        expect(r.stderr, text).toContain(msg);
      });
    }
  });

  it('duplicate keys are refused with their line', async () => {
    const text = "lockfileVersion: '9.0'\npackages:\n  ms@2.0.0:\n    resolution: {integrity: sha512-x}\n  ms@2.0.0:\n    resolution: {integrity: sha512-y}\n";
    await withLockfile(undefined, text, async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('pnpm-lock.yaml: not valid YAML: duplicate key "ms@2.0.0" at line 5');
    });
  });

  it('a mapping or list used as a key is refused with its line, without a warning from the YAML reader', async () => {
    await withLockfile(undefined, "lockfileVersion: '9.0'\npackages:\n  { ms }: {}\n", async (dir) => {
      const r = await runCli(['build', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('pnpm-lock.yaml: not valid: a mapping key that is not a plain value at line 3');
      expect(r.stderr).not.toContain('Warning');
    });
  });
});
