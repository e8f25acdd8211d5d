import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BomDoc, componentByPurl, dependsOn, FIXTURES, prop, runCli, tempDir } from './helpers/cli.js';

const PY = join(FIXTURES, 'lockfiles', 'python');

async function build(dir: string, extra: string[] = []): Promise<{ bom: BomDoc; stderr: string }> {
  const r = await runCli(['build', dir, '--reproducible', ...extra]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(0);
  return { bom: JSON.parse(r.stdout) as BomDoc, stderr: r.stderr };
}

const purls = (bom: BomDoc) => (bom.components ?? []).map((c) => c.purl as string).sort();
const sha256s = (c: Record<string, any> | undefined) =>
  ((c?.hashes as Array<{ alg: string; content: string }> | undefined) ?? [])
    .filter((h) => h.alg === 'SHA-256')
    .map((h) => h.content)
    .sort();
const byName = (bom: BomDoc, name: string) => (bom.components ?? []).filter((c) => c.name === name);
const one = (bom: BomDoc, name: string) => {
  const list = byName(bom, name);
  expect(list, name).toHaveLength(1);
  return list[0]!;
};
const rootRef = (bom: BomDoc) => bom.metadata.component?.['bom-ref'] as string;
const occurrences = (c: Record<string, any> | undefined) =>
  (c?.evidence?.occurrences as Array<{ location: string; line?: number }> | undefined) ?? [];

describe('requirements.txt from pip-compile --generate-hashes (# via annotations)', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'requirements-pip-compile')));
  });

  it('lists every pinned package with its purl, version and every --hash', () => {
    expect(purls(bom)).toEqual([
      'pkg:pypi/astroid@2.9.3',
      'pkg:pypi/beautifulsoup4@4.10.0',
      'pkg:pypi/certifi@2021.10.8',
      'pkg:pypi/charset-normalizer@2.0.10',
      'pkg:pypi/idna@3.3',
      'pkg:pypi/isort@5.10.1',
      'pkg:pypi/lazy-object-proxy@1.7.1',
      'pkg:pypi/mccabe@0.6.1',
      'pkg:pypi/platformdirs@2.4.1',
      'pkg:pypi/pylint@2.12.2',
      'pkg:pypi/requests@2.27.1',
      'pkg:pypi/soupsieve@2.3.1',
      'pkg:pypi/toml@0.10.2',
      'pkg:pypi/typing-extensions@4.0.1',
      'pkg:pypi/urllib3@1.26.8',
      'pkg:pypi/wrapt@1.13.3',
    ]);
    const requests = componentByPurl(bom, 'pkg:pypi/requests@2.27.1');
    expect(requests?.version).toBe('2.27.1');
    expect(sha256s(requests)).toEqual([
      '68d7c56fd5a8999887728ef304a6d12edc7be74f1cfa47714fc8b414525c9a61',
      'f22fa1e554c9ddfd16e6e41ac79759e17be9e492b3587efa038054674760e72d',
    ]);
    expect(sha256s(componentByPurl(bom, 'pkg:pypi/lazy-object-proxy@1.7.1'))).toHaveLength(4);
    expect(prop(requests, 'aibom:package-manager')).toBe('requirements');
    expect(prop(requests, 'aibom:source')).toBe('registry');
    expect(prop(requests, 'aibom:pinned')).toBe('true');
    expect(occurrences(requests)).toEqual([{ location: 'requirements.txt', line: 23 }]);
  });

  it('# via lines become the dependency edges; "-r requirements.in" marks a direct dependency', () => {
    expect(dependsOn(bom, 'pkg:pypi/requests@2.27.1').sort()).toEqual([
      'pkg:pypi/certifi@2021.10.8',
      'pkg:pypi/charset-normalizer@2.0.10',
      'pkg:pypi/idna@3.3',
      'pkg:pypi/urllib3@1.26.8',
    ]);
    expect(dependsOn(bom, 'pkg:pypi/beautifulsoup4@4.10.0')).toEqual(['pkg:pypi/soupsieve@2.3.1']);
    // split-style "# via" followed by "#   astroid" / "#   pylint"
    expect(dependsOn(bom, 'pkg:pypi/astroid@2.9.3')).toContain('pkg:pypi/typing-extensions@4.0.1');
    expect(dependsOn(bom, 'pkg:pypi/pylint@2.12.2')).toContain('pkg:pypi/typing-extensions@4.0.1');
    expect(dependsOn(bom, rootRef(bom)).sort()).toEqual([
      'pkg:pypi/beautifulsoup4@4.10.0',
      'pkg:pypi/pylint@2.12.2',
      'pkg:pypi/requests@2.27.1',
    ]);
  });

  it('packages of requirements-dev.txt are development-only (scope excluded)', () => {
    expect(componentByPurl(bom, 'pkg:pypi/pylint@2.12.2')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/wrapt@1.13.3')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/idna@3.3')?.scope).toBe('required');
    expect(occurrences(componentByPurl(bom, 'pkg:pypi/pylint@2.12.2'))).toEqual([
      { location: 'requirements-dev.txt', line: 29 },
    ]);
  });
});

describe('requirements.txt: pip syntax, includes, constraints, URLs and VCS', () => {
  let bom: BomDoc;
  let stderr: string;
  let raw: string;
  beforeAll(async () => {
    const r = await runCli(['build', join(PY, 'requirements-features'), '--reproducible']);
    expect(r.code, r.stderr).toBe(0);
    raw = r.stdout;
    stderr = r.stderr;
    bom = JSON.parse(raw) as BomDoc;
  });

  it('exact pins are pinned; ranges, wildcards and bare names are not, with the reason', () => {
    const anthropic = componentByPurl(bom, 'pkg:pypi/anthropic@0.25.1');
    expect(prop(anthropic, 'aibom:pinned')).toBe('true');
    expect(sha256s(anthropic)).toHaveLength(2);
    // --hash on the same line, both "--hash=" and "--hash <value>" spellings
    expect(sha256s(componentByPurl(bom, 'pkg:pypi/httpx@0.27.0'))).toHaveLength(2);
    const pandas = componentByPurl(bom, 'pkg:pypi/pandas');
    expect(pandas?.version).toBeUndefined();
    expect(prop(pandas, 'aibom:pinned')).toBe('false');
    expect(prop(pandas, 'aibom:unpinned-reason')).toBe('version range "~=2.2.0" instead of an exact version');
    expect(prop(componentByPurl(bom, 'pkg:pypi/rich'), 'aibom:unpinned-reason')).toBe(
      'version range "==13.*" instead of an exact version',
    );
    expect(prop(componentByPurl(bom, 'pkg:pypi/jinja2'), 'aibom:unpinned-reason')).toBe(
      'version range ">= 3.1, != 3.1.0" instead of an exact version',
    );
    expect(prop(componentByPurl(bom, 'pkg:pypi/requests'), 'aibom:unpinned-reason')).toBe(
      'no version specified: any version may be installed',
    );
    // === arbitrary equality is an exact pin; names are PEP 503-normalized in purls
    expect(prop(componentByPurl(bom, 'pkg:pypi/legacy-pkg@1.0-custom'), 'aibom:pinned')).toBe('true');
    expect(one(bom, 'PyYAML').purl).toBe('pkg:pypi/pyyaml@6.0.1');
  });

  it('a constraints file (-c) pins what the requirement leaves open', () => {
    const numpy = componentByPurl(bom, 'pkg:pypi/numpy@1.26.4');
    expect(prop(numpy, 'aibom:pinned')).toBe('true');
    expect(prop(numpy, 'aibom:pypi:constrained-by')).toBe('constraints.txt');
    expect(sha256s(numpy)).toHaveLength(2);
    expect(prop(componentByPurl(bom, 'pkg:pypi/torch@2.3.0'), 'aibom:pypi:constrained-by')).toBe('constraints.txt');
    // constraints never add packages of their own
    expect(byName(bom, 'pandas')).toHaveLength(1);
  });

  it('markers and extras are recorded as properties', () => {
    const uvicorn = componentByPurl(bom, 'pkg:pypi/uvicorn@0.29.0');
    expect(prop(uvicorn, 'aibom:pypi:extras')).toBe('standard');
    expect(prop(uvicorn, 'aibom:pypi:markers')).toBe('python_version < "3.13"');
    expect(prop(componentByPurl(bom, 'pkg:pypi/tomli@2.0.1'), 'aibom:pypi:markers')).toBe('python_version < "3.11"');
    expect(prop(componentByPurl(bom, 'pkg:pypi/coverage@7.5.1'), 'aibom:pypi:extras')).toBe('toml');
  });

  it('-r includes are followed relative to the including file, with the included file as location', () => {
    const pydantic = componentByPurl(bom, 'pkg:pypi/pydantic@2.7.1');
    expect(occurrences(pydantic)).toEqual([{ location: 'requirements/base.txt', line: 2 }]);
    expect(occurrences(componentByPurl(bom, 'pkg:pypi/certifi@2024.2.2'))).toEqual([
      { location: 'requirements/common.txt', line: 1 },
    ]);
    expect(dependsOn(bom, rootRef(bom))).toContain('pkg:pypi/pydantic@2.7.1');
    // base.txt and common.txt include each other: reported once per build of a file, not followed again
    expect(stderr).toContain('include cycle requirements/base.txt → requirements/common.txt → requirements/base.txt');
  });

  it('VCS requirements are pinned only by a full commit; URLs only with a hash', () => {
    const sha = '5b2c3e8f9a1d4c7b6e0f2a3d4c5b6a7e8f9d0c1b';
    const promptKit = one(bom, 'prompt-kit');
    expect(promptKit.purl).toBe(
      `pkg:pypi/prompt-kit?vcs_url=${encodeURIComponent(`git+https://github.com/example-org/prompt-kit.git@${sha}`)}`,
    );
    expect(prop(promptKit, 'aibom:pinned')).toBe('true');
    expect(prop(promptKit, 'aibom:pypi:editable')).toBe('true');
    const toolRegistry = one(bom, 'tool-registry');
    expect(prop(toolRegistry, 'aibom:source')).toBe('git');
    expect(prop(toolRegistry, 'aibom:pinned')).toBe('false');
    expect(prop(toolRegistry, 'aibom:unpinned-reason')).toContain('"v1.2.0"');
    expect(prop(one(bom, 'eval-harness'), 'aibom:unpinned-reason')).toBe('git dependency without a commit');
    const weights = componentByPurl(
      bom,
      `pkg:pypi/weights-helper@1.2.0?download_url=${encodeURIComponent('https://files.example.test/wheels/weights_helper-1.2.0-py3-none-any.whl')}`,
    );
    expect(prop(weights, 'aibom:source')).toBe('url');
    expect(prop(weights, 'aibom:pinned')).toBe('true');
    expect(sha256s(weights)).toHaveLength(1);
    const tokenizer = one(bom, 'tokenizer');
    expect(tokenizer.version).toBe('0.9.1');
    expect(prop(tokenizer, 'aibom:unpinned-reason')).toBe('URL dependency without a hash');
    const vendored = one(bom, 'vendored-parser');
    expect(prop(vendored, 'aibom:source')).toBe('file');
    expect(vendored.version).toBe('2.0.1');
    const tools = one(bom, 'agent-tools');
    expect(prop(tools, 'aibom:source')).toBe('directory');
    expect(prop(tools, 'aibom:pinned')).toBe('false');
    expect(prop(tools, 'aibom:pypi:editable')).toBe('true');
  });

  it('`-e .` is the project itself (the root), not a component', () => {
    expect(bom.metadata.component?.purl).toBe('pkg:pypi/support-agent@2.1.0');
    expect(byName(bom, 'support-agent')).toHaveLength(0);
    expect(byName(bom, '.')).toHaveLength(0);
  });

  it('credentials in index URLs and VCS URLs never reach the BOM', () => {
    expect(raw).not.toContain('Sup3rS3cret');
    expect(raw).not.toContain('ghp_T0k3nV4lue');
    expect(raw).not.toContain('oauth2');
    expect(stderr).not.toContain('Sup3rS3cret');
  });

  it('requirements-dev.txt includes requirements.txt: its own packages are dev, the included ones stay required', () => {
    expect(componentByPurl(bom, 'pkg:pypi/pytest@8.2.0')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/anthropic@0.25.1')?.scope).toBe('required');
    expect(occurrences(componentByPurl(bom, 'pkg:pypi/anthropic@0.25.1'))).toEqual([
      { location: 'requirements.txt', line: 11 },
    ]);
  });
});

describe('requirements.txt: hostile and large input', () => {
  it('includes outside the scanned folder are refused, also through a symlink', async () => {
    const outside = await tempDir();
    const t = await tempDir();
    try {
      await writeFile(join(outside.dir, 'secret.txt'), 'leaked-secret-package==6.6.6\n');
      await symlink(join(outside.dir, 'secret.txt'), join(t.dir, 'linked.txt'));
      await writeFile(
        join(t.dir, 'requirements.txt'),
        ['-r ../secret.txt', `-r ${join(outside.dir, 'secret.txt')}`, '-r linked.txt', '-r missing.txt', 'six==1.16.0', ''].join('\n'),
      );
      const r = await runCli(['build', t.dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('leaked-secret-package');
      expect(r.stderr).toContain('"../secret.txt" is outside the scanned folder');
      expect(r.stderr).toContain('is outside the scanned folder; not read');
      expect(r.stderr).toContain('"linked.txt" not found');
      expect(r.stderr).toContain('"missing.txt" not found');
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(purls(bom)).toEqual(['pkg:pypi/six@1.16.0']);
    } finally {
      await t.cleanup();
      await outside.cleanup();
    }
  });

  it('include chains deeper than the bound stop with a warning', async () => {
    const t = await tempDir();
    try {
      await writeFile(join(t.dir, 'requirements.txt'), '-r chain/r1.txt\n');
      await mkdir(join(t.dir, 'chain'));
      for (let i = 1; i <= 30; i++) {
        await writeFile(join(t.dir, 'chain', `r${i}.txt`), `pkg${i}==1.0\n-r r${i + 1}.txt\n`);
      }
      const r = await runCli(['build', t.dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('includes nest deeper than 16 files');
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(bom.components?.length).toBe(16);
    } finally {
      await t.cleanup();
    }
  });

  it('lines pip cannot read are warnings, the rest is still read', async () => {
    const t = await tempDir();
    try {
      await writeFile(
        join(t.dir, 'requirements.txt'),
        ['ok-package==1.0', 'this is not a requirement', 'bad[extra==1', 'pkg >=> 2', '--no-such-option value', '\u0000\u0001binary', ''].join('\n'),
      );
      const r = await runCli(['build', t.dir, '--reproducible']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('requirements.txt:2:');
      expect(r.stderr).toContain('requirements.txt:3: unclosed extras');
      expect(r.stderr).toContain('requirements.txt:4: bad version specifier');
      expect(r.stderr).toContain('unknown option "--no-such-option" ignored');
      expect(purls(JSON.parse(r.stdout) as BomDoc)).toEqual(['pkg:pypi/ok-package@1.0']);
    } finally {
      await t.cleanup();
    }
  });

  it('a 10^5-line pip-compile file is read whole, with its graph', async () => {
    const t = await tempDir();
    try {
      const lines: string[] = [];
      const hex = (i: number, j: number) => (`${i.toString(16)}x${j.toString(16)}`.padEnd(64, 'a').replace('x', 'b'));
      for (let i = 0; i < 5000; i++) {
        lines.push(`pkg-${i}==1.${i % 7}.${i % 13} \\`);
        for (let j = 0; j < 18; j++) lines.push(`    --hash=sha256:${hex(i, j)}${j < 17 ? ' \\' : ''}`);
        lines.push(`    # via ${i % 50 === 0 ? '-r requirements.in' : `pkg-${Math.floor(i / 50) * 50}`}`);
      }
      expect(lines.length).toBe(100_000);
      await writeFile(join(t.dir, 'requirements.txt'), `${lines.join('\n')}\n`);
      const out = join(t.dir, 'bom.json');
      const r = await runCli(['build', t.dir, '--reproducible', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      const bom = JSON.parse(await readFile(out, 'utf8')) as BomDoc;
      expect(bom.components?.length).toBe(5000);
      expect(sha256s(componentByPurl(bom, 'pkg:pypi/pkg-4999@1.1.7'))).toHaveLength(18);
      expect(dependsOn(bom, 'pkg:pypi/pkg-4950@1.1.10')).toHaveLength(49);
      expect(dependsOn(bom, rootRef(bom))).toHaveLength(100);
    } finally {
      await t.cleanup();
    }
  });
});

describe('poetry.lock lock-version 1.1 (category, [metadata.files])', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'poetry-1.1-category')));
  });

  it('reads packages, hashes from [metadata.files] and dev-ness from category', () => {
    expect(bom.components).toHaveLength(22);
    expect(bom.metadata.component?.purl).toBe('pkg:pypi/mpdevil@1.6.0');
    const requests = componentByPurl(bom, 'pkg:pypi/requests@2.27.1');
    expect(requests?.scope).toBe('required');
    expect(sha256s(requests)).toEqual([
      '68d7c56fd5a8999887728ef304a6d12edc7be74f1cfa47714fc8b414525c9a61',
      'f22fa1e554c9ddfd16e6e41ac79759e17be9e492b3587efa038054674760e72d',
    ]);
    expect(prop(requests, 'aibom:package-manager')).toBe('poetry');
    expect(componentByPurl(bom, 'pkg:pypi/pylint@2.12.2')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/pygobject-stubs@0.0.7')?.scope).toBe('excluded');
    expect(occurrences(componentByPurl(bom, 'pkg:pypi/astroid@2.9.3'))).toEqual([{ location: 'poetry.lock', line: 2 }]);
  });

  it('[package.dependencies] are the edges; the pyproject.toml dependencies hang off the root', () => {
    expect(dependsOn(bom, 'pkg:pypi/requests@2.27.1').sort()).toEqual([
      'pkg:pypi/certifi@2021.10.8',
      'pkg:pypi/charset-normalizer@2.0.10',
      'pkg:pypi/idna@3.3',
      'pkg:pypi/urllib3@1.26.8',
    ]);
    // "PyGObject = '*'" in pygobject-stubs resolves by normalized name
    expect(dependsOn(bom, 'pkg:pypi/pygobject-stubs@0.0.7')).toEqual(['pkg:pypi/pygobject@3.42.0']);
    expect(dependsOn(bom, rootRef(bom)).sort()).toEqual([
      'pkg:pypi/beautifulsoup4@4.10.0',
      'pkg:pypi/pygobject-stubs@0.0.7',
      'pkg:pypi/pygobject@3.42.0',
      'pkg:pypi/pylint@2.12.2',
      'pkg:pypi/python-mpd2@3.0.5',
      'pkg:pypi/requests@2.27.1',
    ]);
  });
});

describe('poetry.lock lock-version 2.0 (no category: dev-ness from pyproject.toml and the graph)', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'poetry-2.0')));
  });

  it('only what the main dependencies reach is required', () => {
    expect(bom.components).toHaveLength(26);
    expect(componentByPurl(bom, 'pkg:pypi/typing-extensions@4.12.2')?.scope).toBe('required');
    for (const dev of ['mypy@1.12.0', 'pytest@8.3.3', 'virtualenv@20.26.6', 'markupsafe@3.0.1']) {
      expect(componentByPurl(bom, `pkg:pypi/${dev}`)?.scope, dev).toBe('excluded');
    }
    // mypy depends on typing-extensions too: an edge, but the package stays required
    expect(dependsOn(bom, 'pkg:pypi/mypy@1.12.0')).toContain('pkg:pypi/typing-extensions@4.12.2');
  });

  it('files hashes and activated extras', () => {
    expect(sha256s(componentByPurl(bom, 'pkg:pypi/ruff@0.6.9'))).toHaveLength(3);
    // pytest-cov asks for coverage[toml]
    expect(prop(componentByPurl(bom, 'pkg:pypi/coverage@7.6.3'), 'aibom:pypi:extras')).toBe('toml');
  });
});

describe('poetry.lock lock-version 2.1 (Poetry 2: groups and markers)', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'poetry-2.1-groups')));
  });

  it('groups decide dev-ness; a package in main and dev is required', () => {
    expect(bom.metadata.component?.purl).toBe('pkg:pypi/nipcbatt@2.0.0');
    expect(componentByPurl(bom, 'pkg:pypi/matplotlib@3.9.2')?.scope).toBe('required');
    expect(componentByPurl(bom, 'pkg:pypi/colorama@0.4.6')?.scope).toBe('required');
    expect(componentByPurl(bom, 'pkg:pypi/black@23.12.1')?.scope).toBe('excluded');
  });

  it('resolved markers are properties; a per-group markers table with an unmarked group means unconditional', () => {
    expect(prop(componentByPurl(bom, 'pkg:pypi/flake8@5.0.4'), 'aibom:pypi:markers')).toBe('python_version <= "3.11"');
    expect(prop(componentByPurl(bom, 'pkg:pypi/importlib-resources@6.4.5'), 'aibom:pypi:markers')).toBe(
      'python_version == "3.9"',
    );
    expect(prop(componentByPurl(bom, 'pkg:pypi/typing-extensions@4.12.2'), 'aibom:pypi:markers')).toBeUndefined();
  });

  it('one name locked at two versions: each dependent links to the version its constraint allows', () => {
    expect(byName(bom, 'flake8')).toHaveLength(2);
    expect(dependsOn(bom, 'pkg:pypi/flake8@5.0.4').sort()).toEqual([
      'pkg:pypi/mccabe@0.7.0',
      'pkg:pypi/pycodestyle@2.9.1',
      'pkg:pypi/pyflakes@2.5.0',
    ]);
    expect(dependsOn(bom, 'pkg:pypi/flake8@6.1.0').sort()).toEqual([
      'pkg:pypi/mccabe@0.7.0',
      'pkg:pypi/pycodestyle@2.11.1',
      'pkg:pypi/pyflakes@3.1.0',
    ]);
  });
});

describe('poetry.lock sources: git, url, file, directory, private index, optional', () => {
  let bom: BomDoc;
  let raw: string;
  beforeAll(async () => {
    const r = await runCli(['build', join(PY, 'poetry-sources'), '--reproducible']);
    expect(r.code, r.stderr).toBe(0);
    raw = r.stdout;
    bom = JSON.parse(raw) as BomDoc;
  });

  it('git is pinned by resolved_reference; a branch without it is not', () => {
    const sha = '9f6b3e1d2c4a58e7f0b1c2d3e4f5a6b7c8d9e0f1';
    const demo = componentByPurl(
      bom,
      `pkg:pypi/demo@0.1.2?vcs_url=${encodeURIComponent(`git+https://github.com/demo/demo.git@${sha}`)}`,
    );
    expect(prop(demo, 'aibom:pinned')).toBe('true');
    const legacy = one(bom, 'legacy-client');
    expect(prop(legacy, 'aibom:pinned')).toBe('false');
    expect(prop(legacy, 'aibom:unpinned-reason')).toBe(
      'git dependency pinned to "master", a branch or tag that can move, not a commit',
    );
  });

  it('url and file sources are pinned by their files hash; a folder never is', () => {
    const url = one(bom, 'url-package');
    expect(prop(url, 'aibom:source')).toBe('url');
    expect(prop(url, 'aibom:pinned')).toBe('true');
    expect(url.purl).toContain('?download_url=https%3A%2F%2Ffiles.example.test%2Fwheels%2F');
    const file = one(bom, 'vendored-lib');
    expect(prop(file, 'aibom:source')).toBe('file');
    expect(prop(file, 'aibom:source:url')).toBe('vendor/vendored_lib-2.3.0.tar.gz');
    const dir = one(bom, 'agent-tools');
    expect(prop(dir, 'aibom:source')).toBe('directory');
    expect(prop(dir, 'aibom:pinned')).toBe('false');
    expect(prop(dir, 'aibom:pypi:editable')).toBe('true');
  });

  it('a registry package without hashes is unpinned; optional packages have scope optional', () => {
    const tz = componentByPurl(bom, 'pkg:pypi/pytzdata@2020.1');
    expect(prop(tz, 'aibom:pinned')).toBe('false');
    expect(prop(tz, 'aibom:unpinned-reason')).toBe('registry package without a hash in the lockfile');
    expect(componentByPurl(bom, 'pkg:pypi/uvloop@0.19.0')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:pypi/internal-sdk@3.2.1')?.scope).toBe('required');
  });

  it('credentials of a private index never reach the BOM', () => {
    expect(raw).not.toContain('S3cr3tT0ken');
    expect(raw).not.toContain('deploy-token');
  });
});

describe('uv.lock version 1 revision 3 (editable project, dev group)', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'uv-project')));
  });

  it('the editable "." package is the root, not a component', () => {
    expect(bom.metadata.component?.purl).toBe('pkg:pypi/boruvkas-algorithm@0.1.0');
    expect(byName(bom, 'boruvkas-algorithm')).toHaveLength(0);
    expect(bom.components).toHaveLength(20);
    expect(dependsOn(bom, rootRef(bom)).sort()).toEqual([
      'pkg:pypi/coverage@7.13.1',
      'pkg:pypi/matplotlib@3.10.8',
      'pkg:pypi/networkx@3.6.1',
      'pkg:pypi/pytest@9.0.3',
      'pkg:pypi/ruff@0.14.11',
      'pkg:pypi/ty@0.0.11',
    ]);
  });

  it('dev groups and what only they reach are dev; shared packages stay required', () => {
    expect(componentByPurl(bom, 'pkg:pypi/pytest@9.0.3')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/colorama@0.4.6')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/pluggy@1.6.0')?.scope).toBe('excluded');
    // packaging: needed by matplotlib (main) and pytest (dev)
    expect(componentByPurl(bom, 'pkg:pypi/packaging@25.0')?.scope).toBe('required');
    expect(componentByPurl(bom, 'pkg:pypi/six@1.17.0')?.scope).toBe('required');
  });

  it('sdist and wheel hashes are all kept; edges follow dependencies', () => {
    const contourpy = componentByPurl(bom, 'pkg:pypi/contourpy@1.3.3');
    expect(sha256s(contourpy)).toContain('083e12155b210502d0bca491432bb04d56dc3432f95a979b429f2848c3dbe880');
    expect(sha256s(contourpy)).toHaveLength(3);
    expect(dependsOn(bom, 'pkg:pypi/contourpy@1.3.3')).toEqual(['pkg:pypi/numpy@2.4.1']);
    expect(dependsOn(bom, 'pkg:pypi/python-dateutil@2.9.0.post0')).toEqual(['pkg:pypi/six@1.17.0']);
    expect(prop(contourpy, 'aibom:package-manager')).toBe('uv');
  });
});

describe('uv.lock workspace (revision 2): members, git, url, path, editable, extras, optional and dev groups', () => {
  let bom: BomDoc;
  beforeAll(async () => {
    ({ bom } = await build(join(PY, 'uv-workspace')));
  });

  it('workspace members are first-party components; the root depends on them', () => {
    const core = componentByPurl(bom, 'pkg:pypi/agent-core@0.3.0');
    expect(core?.type).toBe('application');
    expect(prop(core, 'aibom:workspace')).toBe('true');
    expect(dependsOn(bom, 'pkg:pypi/agent-core@0.3.0')).toEqual(['pkg:pypi/anyio@3.7.0']);
    expect(dependsOn(bom, rootRef(bom))).toContain('pkg:pypi/agent-core@0.3.0');
    expect(dependsOn(bom, rootRef(bom))).not.toContain('pkg:pypi/anyio@3.7.0');
  });

  it('git sources carry the commit; url and path sources their hash', () => {
    const git = one(bom, 'uv-public-pypackage');
    expect(git.purl).toBe(
      `pkg:pypi/uv-public-pypackage@0.1.0?vcs_url=${encodeURIComponent('git+https://github.com/astral-test/uv-public-pypackage@0dacfd662c64cb4ceb16e6cf65a157a8b715b979')}`,
    );
    expect(prop(git, 'aibom:pinned')).toBe('true');
    expect(prop(one(bom, 'weights-helper'), 'aibom:source')).toBe('url');
    expect(prop(one(bom, 'weights-helper'), 'aibom:pinned')).toBe('true');
    expect(prop(one(bom, 'vendored-parser'), 'aibom:source')).toBe('file');
    expect(sha256s(one(bom, 'vendored-parser'))).toHaveLength(1);
    const local = one(bom, 'local-tools');
    expect(prop(local, 'aibom:source')).toBe('directory');
    expect(prop(local, 'aibom:pinned')).toBe('false');
    expect(prop(local, 'aibom:pypi:editable')).toBe('true');
  });

  it('an extra asked for by a dependent pulls its optional dependencies in', () => {
    expect(prop(componentByPurl(bom, 'pkg:pypi/httpx@0.27.0'), 'aibom:pypi:extras')).toBe('http2');
    expect(dependsOn(bom, 'pkg:pypi/httpx@0.27.0')).toContain('pkg:pypi/h2@4.1.0');
    expect(componentByPurl(bom, 'pkg:pypi/h2@4.1.0')?.scope).toBe('required');
    expect(componentByPurl(bom, 'pkg:pypi/hpack@4.0.0')?.scope).toBe('required');
    // the brotli extra nobody asked for is not in the graph (and not in the lock)
    expect(byName(bom, 'brotli')).toHaveLength(0);
  });

  it('project extras are optional, dependency groups dev, transitively', () => {
    expect(componentByPurl(bom, 'pkg:pypi/opentelemetry-api@1.25.0')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:pypi/wrapt@1.16.0')?.scope).toBe('optional');
    expect(componentByPurl(bom, 'pkg:pypi/ruff@0.4.4')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/iniconfig@2.0.0')?.scope).toBe('excluded');
    // packaging is reached by weights-helper (required) and pytest (dev)
    expect(componentByPurl(bom, 'pkg:pypi/packaging@24.0')?.scope).toBe('required');
    expect(sha256s(componentByPurl(bom, 'pkg:pypi/ruff@0.4.4'))).toHaveLength(4);
  });
});

describe('uv.lock older layouts', () => {
  it('revision 1 (no upload-time): a real 100-package lock with a dev group', async () => {
    const { bom } = await build(join(PY, 'uv-revision-1'));
    expect(bom.metadata.component?.purl).toBe('pkg:pypi/tex2jb@0.1.0');
    expect(byName(bom, 'tex2jb')).toHaveLength(0);
    expect(bom.components).toHaveLength(108);
    expect(componentByPurl(bom, 'pkg:pypi/pytest@8.3.5')?.scope).toBe('excluded');
    expect(componentByPurl(bom, 'pkg:pypi/pydantic@2.10.6')?.scope).toBe('required');
    expect(dependsOn(bom, rootRef(bom))).toContain('pkg:pypi/jupyter-book@1.0.4.post1');
  });

  it('no revision, a virtual project root', async () => {
    const { bom, stderr } = await build(join(PY, 'uv-no-revision'));
    expect(stderr).not.toContain('warning');
    expect(purls(bom)).toEqual(['pkg:pypi/asyncio@3.4.3', 'pkg:pypi/dotenv@0.9.9', 'pkg:pypi/python-dotenv@1.1.0']);
    expect(dependsOn(bom, rootRef(bom)).sort()).toEqual(['pkg:pypi/asyncio@3.4.3', 'pkg:pypi/dotenv@0.9.9']);
    expect(dependsOn(bom, 'pkg:pypi/dotenv@0.9.9')).toEqual(['pkg:pypi/python-dotenv@1.1.0']);
  });
});

describe('Pipfile.lock', () => {
  it('default is required, develop dev; no graph, so every package hangs off the project', async () => {
    const { bom } = await build(join(PY, 'pipenv-classic'));
    expect(bom.components).toHaveLength(55);
    const aiohttp = componentByPurl(bom, 'pkg:pypi/aiohttp@3.7.3');
    expect(aiohttp?.scope).toBe('required');
    expect(sha256s(aiohttp)).toHaveLength(4);
    expect(prop(aiohttp, 'aibom:package-manager')).toBe('pipenv');
    expect(componentByPurl(bom, 'pkg:pypi/pytest@6.2.2')?.scope).toBe('excluded');
    // in default and develop: required
    expect(componentByPurl(bom, 'pkg:pypi/attrs@20.3.0')?.scope).toBe('required');
    expect(prop(componentByPurl(bom, 'pkg:pypi/soupsieve@2.2'), 'aibom:pypi:markers')).toBe("python_version >= '3.0'");
    expect(dependsOn(bom, rootRef(bom))).toHaveLength(55);
    expect(dependsOn(bom, 'pkg:pypi/aiohttp@3.7.3')).toEqual([]);
  });

  it('git, editable paths, file URLs, categories, extras and a private index', async () => {
    const r = await runCli(['build', join(PY, 'pipenv-modern'), '--reproducible']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('INTERNAL_TOKEN');
    const bom = JSON.parse(r.stdout) as BomDoc;
    expect(bom.components).toHaveLength(18);
    const sha = '5b2c3e8f9a1d4c7b6e0f2a3d4c5b6a7e8f9d0c1b';
    const pk = one(bom, 'prompt-kit');
    expect(pk.purl).toBe(`pkg:pypi/prompt-kit?vcs_url=${encodeURIComponent(`git+https://github.com/example-org/prompt-kit.git@${sha}`)}`);
    expect(prop(pk, 'aibom:pinned')).toBe('true');
    expect(prop(one(bom, 'tool-registry'), 'aibom:pinned')).toBe('false');
    expect(byName(bom, 'support-agent')).toHaveLength(0); // {editable: true, path: "."} is the project
    const plugins = one(bom, 'agent-plugins');
    expect(prop(plugins, 'aibom:source')).toBe('directory');
    expect(prop(plugins, 'aibom:pypi:editable')).toBe('true');
    const tok = one(bom, 'tokenizer-wheel');
    expect(tok.version).toBe('0.9.1');
    expect(prop(tok, 'aibom:source')).toBe('url');
    expect(prop(tok, 'aibom:pinned')).toBe('true');
    expect(componentByPurl(bom, 'pkg:pypi/mkdocs@1.6.0')?.scope).toBe('excluded');
    expect(prop(componentByPurl(bom, 'pkg:pypi/httpx@0.27.0'), 'aibom:pypi:extras')).toBe('http2');
    expect(prop(componentByPurl(bom, 'pkg:pypi/uvloop@0.19.0'), 'aibom:pypi:markers')).toBe(
      "sys_platform != 'win32' and implementation_name == 'cpython'",
    );
  });
});

describe('all Python fixtures in one tree (a monorepo): one schema-valid, reproducible BOM', () => {
  it('builds, validates with `aibom validate`, and rebuilds byte for byte', async () => {
    const t = await tempDir();
    try {
      const out = join(t.dir, 'bom.json');
      const r = await runCli(['build', PY, '--reproducible', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      const v = await runCli(['validate', out]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const bom = JSON.parse(await readFile(out, 'utf8')) as BomDoc;
      // every lockfile's folder is a sub-project the root depends on
      const subs = dependsOn(bom, rootRef(bom)).filter((ref) => ref.startsWith('project:')).sort();
      expect(subs).toEqual(
        [
          'pipenv-classic',
          'pipenv-modern',
          'poetry-1.1-category',
          'poetry-2.0',
          'poetry-2.1-groups',
          'poetry-sources',
          'requirements-features',
          'requirements-pip-compile',
          'uv-no-revision',
          'uv-project',
          'uv-revision-1',
          'uv-workspace',
        ].map((d) => `project:${d}`),
      );
      // requirements.txt and requirements-dev.txt in one folder are one sub-project with both sets of direct deps
      expect(dependsOn(bom, 'project:requirements-pip-compile').sort()).toEqual([
        'pkg:pypi/beautifulsoup4@4.10.0',
        'pkg:pypi/pylint@2.12.2',
        'pkg:pypi/requests@2.27.1',
      ]);
      // a package locked by several projects is one component, found in each lockfile
      const six = (bom.components ?? []).filter((c) => c.name === 'six');
      expect(six.map((c) => c.purl).sort()).toEqual([
        'pkg:pypi/six@1.15.0',
        'pkg:pypi/six@1.16.0',
        'pkg:pypi/six@1.17.0',
      ]);
      expect(occurrences(componentByPurl(bom, 'pkg:pypi/six@1.17.0')).map((o) => o.location).sort()).toEqual([
        'poetry-sources/poetry.lock',
        'uv-project/uv.lock',
        'uv-revision-1/uv.lock',
      ]);
      const again = await runCli(['build', PY, '--reproducible', '--spec-version', '1.6']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe(await readFile(out, 'utf8'));
    } finally {
      await t.cleanup();
    }
  });
});

describe('bad Python lockfiles', () => {
  async function attempt(files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const t = await tempDir();
    try {
      for (const [name, text] of Object.entries(files)) await writeFile(join(t.dir, name), text);
      return await runCli(['build', t.dir, '--reproducible']);
    } finally {
      await t.cleanup();
    }
  }

  it('malformed TOML names the file, line and column; no stack trace, no BOM', async () => {
    const r = await attempt({ 'poetry.lock': '[[package]]\nname = "a"\nversion = "1.0"\n\n[[package]\nname = "b"\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('aibom: poetry.lock: not valid TOML at line 5, column');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('a truncated uv.lock and a 5,000-deep TOML array are input errors', async () => {
    const full = await readFile(join(PY, 'uv-project', 'uv.lock'), 'utf8');
    const truncated = await attempt({ 'uv.lock': full.slice(0, Math.floor(full.length / 2)) });
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(/aibom: uv\.lock: not valid TOML at line \d+/);
    const deep = await attempt({ 'uv.lock': `version = 1\na = ${'['.repeat(5000)}${']'.repeat(5000)}\n` });
    expect(deep.code).toBe(2);
    expect(deep.stderr).toContain('aibom: uv.lock: not valid TOML');
    expect(deep.stderr).not.toMatch(/\n\s+at /);
  });

  it('malformed Pipfile.lock JSON names line and column', async () => {
    const r = await attempt({ 'Pipfile.lock': '{\n  "_meta": {"pipfile-spec": 6},\n  "default": {\n    "a": {"version": "==1.0",}\n  }\n}\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('aibom: Pipfile.lock: not valid JSON');
    expect(r.stderr).toContain('line 4');
  });

  it('a structurally wrong lockfile is an input error naming what is wrong', async () => {
    const r = await attempt({ 'uv.lock': 'version = 1\npackage = "nope"\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('uv.lock: not a uv lockfile: "package" is not an array of tables');
    const p = await attempt({ 'Pipfile.lock': '[1, 2]' });
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('Pipfile.lock: not a Pipfile.lock: top level is not an object');
  });

  it('unknown lockfile versions are read on a best effort, with a warning', async () => {
    const poetry = await attempt({
      'poetry.lock': '[[package]]\nname = "six"\nversion = "1.17.0"\ngroups = ["main"]\nfiles = [\n    {file = "six-1.17.0.tar.gz", hash = "sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"},\n]\n\n[metadata]\nlock-version = "3.0"\n',
    });
    expect(poetry.code, poetry.stderr).toBe(0);
    expect(poetry.stderr).toContain('unknown lock-version "3.0"');
    expect(purls(JSON.parse(poetry.stdout) as BomDoc)).toEqual(['pkg:pypi/six@1.17.0']);
    const uv = await attempt({
      'uv.lock': 'version = 1\nrevision = 9\n\n[[package]]\nname = "six"\nversion = "1.17.0"\nsource = { registry = "https://registry.example.test/simple" }\n',
    });
    expect(uv.code, uv.stderr).toBe(0);
    expect(uv.stderr).toContain('uv.lock revision 9 is newer than aibom knows');
    expect(purls(JSON.parse(uv.stdout) as BomDoc)).toEqual(['pkg:pypi/six@1.17.0']);
    const pipenv = await attempt({
      'Pipfile.lock': JSON.stringify({ _meta: { 'pipfile-spec': 7 }, default: { six: { version: '==1.17.0', hashes: [] } } }),
    });
    expect(pipenv.code, pipenv.stderr).toBe(0);
    expect(pipenv.stderr).toContain('unknown pipfile-spec 7');
    const six = componentByPurl(JSON.parse(pipenv.stdout) as BomDoc, 'pkg:pypi/six@1.17.0');
    expect(prop(six, 'aibom:unpinned-reason')).toBe('registry package without a hash in the lockfile');
  });

  it('poetry.lock 2.0 without pyproject.toml beside it: all required, with a warning', async () => {
    const lock = await readFile(join(PY, 'poetry-2.0', 'poetry.lock'), 'utf8');
    const r = await attempt({ 'poetry.lock': lock });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('no pyproject.toml beside it; all are reported as required');
    const bom = JSON.parse(r.stdout) as BomDoc;
    expect(new Set((bom.components ?? []).map((c) => c.scope))).toEqual(new Set(['required']));
  });
});
