import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BomDoc, prop, runCli, tempDir } from './helpers/cli.js';

async function write(root: string, rel: string, content: string | Buffer): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}

/**
 * The model_signing v1.0 "files" manifest digest, computed here independently of aibom:
 * SHA-256 over the raw SHA-256 digests of the files, sorted by relative path.
 */
function expectedDigest(files: Record<string, string | Buffer>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) h.update(createHash('sha256').update(files[name]!).digest());
  return h.digest('hex');
}

function props(c: Record<string, any> | undefined, name: string): string[] {
  return ((c?.properties ?? []) as Array<{ name: string; value: string }>).filter((p) => p.name === name).map((p) => p.value);
}

interface Summary {
  findings: Array<{ code: string; severity: string; message: string; component?: string; location?: { file: string } }>;
}

const NPM_TOOL = {
  'package.json': JSON.stringify({
    name: '@acme/npm-tool',
    version: '1.0.0',
    description: 'An npm plugin',
    license: 'MIT',
    author: 'Acme Tools <tools@acme.example> (https://acme.example)',
    homepage: 'https://acme.example/npm-tool',
    repository: { type: 'git', url: 'git+https://git.example.com/acme/npm-tool.git' },
  }),
  'index.js': 'export const tool = { name: "npm_tool" };\n',
  'lib/util.js': 'export const x = 1;\n',
};

const YAML_TOOL = {
  'agent-plugin.yaml': 'name: yaml-tool\nversion: 1.10\ndescription: A YAML-described plugin\nlicense: Apache-2.0\nauthor:\n  name: Y Author\n',
  'main.py': 'def run():\n    return 1\n',
};

const CLAUDE_TOOL = {
  '.claude-plugin/plugin.json': JSON.stringify({ name: 'claude-tool', version: '0.4.2', author: { name: 'C Author', email: 'c@example.com' } }),
  'commands/hello.md': '# hello\n',
};

const BUNDLE = {
  'manifest.json': JSON.stringify({
    manifest_version: '0.2',
    name: 'files-bundle',
    version: '2.3.0',
    description: 'An MCP bundle',
    author: { name: 'B Author' },
    server: { type: 'node', entry_point: 'server/index.js', mcp_config: { command: 'node', args: [`$${'{__dirname}'}/server/index.js`] } },
  }),
  'server/index.js': 'console.log("bundle");\n',
};

const PY_TOOL = {
  'pyproject.toml': '[project]\nname = "Py_Tool"\nversion = "0.9.1"\nlicense = "BSD-3-Clause"\n',
  'py_tool/__init__.py': '',
};

const SIGNED = {
  'package.json': JSON.stringify({ name: 'signed-tool', version: '3.0.0' }),
  'index.js': 'export default 1;\n',
};

describe('plugins in aibom build', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let bom: BomDoc;
  let summary: Summary;
  const plugin = (path: string) => bom.components?.find((c) => prop(c, 'aibom:install-path') === path);

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    const dir = join(root, 'agent');
    await write(dir, 'package.json', JSON.stringify({ name: 'plugin-agent', version: '1.0.0' }));
    const put = async (name: string, files: Record<string, string>) => {
      for (const [rel, content] of Object.entries(files)) await write(dir, `plugins/${name}/${rel}`, content);
    };
    await put('npm-tool', NPM_TOOL);
    await put('yaml-tool', YAML_TOOL);
    await put('claude-tool', CLAUDE_TOOL);
    await put('bundle', BUNDLE);
    await put('py-tool', PY_TOOL);
    await put('signed', SIGNED);
    await write(dir, 'plugins/signed/model.sig', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    await write(dir, 'plugins/signed/signed-tool.sigstore.json', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    await write(dir, 'plugins/no-manifest/index.js', 'export default 2;\n');
    await write(dir, 'plugins/no-version/package.json', JSON.stringify({ name: 'no-version-tool' }));
    await write(dir, 'plugins/broken/package.json', '{ "name": "broken", ');
    await write(dir, 'plugins/README.md', '# plugins\n');
    const out = join(root, 'bom.json');
    const r = await runCli(['build', dir, '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    bom = JSON.parse(await readFile(out, 'utf8')) as BomDoc;
    summary = JSON.parse(r.stdout) as Summary;
  }, 120_000);

  afterAll(async () => {
    await cleanup();
  });

  it('package.json plugin: npm purl, group, version, license, author, links, folder digest', () => {
    const c = plugin('plugins/npm-tool')!;
    expect(c.type).toBe('library');
    expect(c['bom-ref']).toBe('plugin:plugins/npm-tool');
    expect(c.group).toBe('@acme');
    expect(c.name).toBe('npm-tool');
    expect(c.version).toBe('1.0.0');
    expect(c.purl).toBe('pkg:npm/%40acme/npm-tool@1.0.0');
    expect(c.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(c.authors).toEqual([{ name: 'Acme Tools', email: 'tools@acme.example' }]);
    expect(c.externalReferences).toEqual(
      expect.arrayContaining([
        { type: 'website', url: 'https://acme.example/npm-tool' },
        { type: 'vcs', url: 'git+https://git.example.com/acme/npm-tool.git' },
      ]),
    );
    const digest = expectedDigest(NPM_TOOL);
    expect(c.hashes).toEqual([{ alg: 'SHA-256', content: digest }]);
    expect(prop(c, 'aibom:folder-digest')).toBe(`sha256:${digest}`);
    expect(prop(c, 'aibom:file-count')).toBe('3');
    expect(prop(c, 'aibom:plugin:format')).toBe('npm');
    expect(prop(c, 'aibom:plugin:manifest')).toBe('plugins/npm-tool/package.json');
    expect(prop(c, 'aibom:kind')).toBe('plugin');
    expect(prop(c, 'aibom:pinned')).toBe('true');
    expect(c.evidence.occurrences).toEqual([{ location: 'plugins/npm-tool/package.json' }]);
  });

  it('agent-plugin.yaml: version kept as written (1.10, not 1.1)', () => {
    const c = plugin('plugins/yaml-tool')!;
    expect(c.name).toBe('yaml-tool');
    expect(c.version).toBe('1.10');
    expect(c.purl).toBeUndefined();
    expect(prop(c, 'aibom:plugin:format')).toBe('agent-plugin');
    expect(c.hashes[0].content).toBe(expectedDigest(YAML_TOOL));
  });

  it('.claude-plugin/plugin.json and an MCP bundle manifest.json', () => {
    const claude = plugin('plugins/claude-tool')!;
    expect(claude.name).toBe('claude-tool');
    expect(claude.version).toBe('0.4.2');
    expect(prop(claude, 'aibom:plugin:format')).toBe('claude-plugin');
    expect(prop(claude, 'aibom:plugin:manifest')).toBe('plugins/claude-tool/.claude-plugin/plugin.json');
    expect(claude.hashes[0].content).toBe(expectedDigest(CLAUDE_TOOL));
    const bundle = plugin('plugins/bundle')!;
    expect(bundle.name).toBe('files-bundle');
    expect(bundle.version).toBe('2.3.0');
    expect(prop(bundle, 'aibom:plugin:format')).toBe('mcpb');
    expect(prop(bundle, 'aibom:mcpb:server-type')).toBe('node');
    expect(prop(bundle, 'aibom:mcpb:entry-point')).toBe('server/index.js');
    expect(prop(bundle, 'aibom:mcpb:manifest-version')).toBe('0.2');
    expect(bundle.authors).toEqual([{ name: 'B Author' }]);
  });

  it('pyproject.toml plugin: PyPI purl with the normalized name', () => {
    const c = plugin('plugins/py-tool')!;
    expect(c.name).toBe('Py_Tool');
    expect(c.purl).toBe('pkg:pypi/py-tool@0.9.1');
    expect(prop(c, 'aibom:plugin:format')).toBe('python');
  });

  it('signature bundles are recorded and left out of the folder digest', () => {
    const c = plugin('plugins/signed')!;
    expect(props(c, 'aibom:signature-bundle')).toEqual(['plugins/signed/model.sig', 'plugins/signed/signed-tool.sigstore.json']);
    expect(c.hashes[0].content).toBe(expectedDigest(SIGNED));
    expect(prop(c, 'aibom:file-count')).toBe('2');
  });

  it('a folder without a manifest or without a version is a finding and not pinned', () => {
    const none = plugin('plugins/no-manifest')!;
    expect(none.name).toBe('no-manifest');
    expect(none.version).toBeUndefined();
    expect(prop(none, 'aibom:pinned')).toBe('false');
    expect(prop(none, 'aibom:unpinned-reason')).toBe('no manifest');
    expect(none.hashes[0].content).toBe(expectedDigest({ 'index.js': 'export default 2;\n' }));
    const codes = (ref: string) => summary.findings.filter((f) => f.component === ref).map((f) => f.code);
    expect(codes(none['bom-ref'])).toContain('plugin-no-manifest');
    const noVersion = plugin('plugins/no-version')!;
    expect(noVersion.name).toBe('no-version-tool');
    expect(prop(noVersion, 'aibom:unpinned-reason')).toBe('no version in the manifest');
    expect(codes(noVersion['bom-ref'])).toContain('plugin-no-version');
    const broken = plugin('plugins/broken')!;
    expect(codes(broken['bom-ref'])).toEqual(expect.arrayContaining(['plugin-manifest-invalid', 'plugin-no-manifest']));
    const invalid = summary.findings.find((f) => f.code === 'plugin-manifest-invalid');
    expect(invalid?.location?.file).toBe('plugins/broken/package.json');
  });

  it('files directly in the plugin folder are not plugins; the project depends on each plugin', () => {
    const plugins = bom.components?.filter((c) => prop(c, 'aibom:kind') === 'plugin') ?? [];
    expect(plugins.map((c) => prop(c, 'aibom:install-path')).sort()).toEqual([
      'plugins/broken',
      'plugins/bundle',
      'plugins/claude-tool',
      'plugins/no-manifest',
      'plugins/no-version',
      'plugins/npm-tool',
      'plugins/py-tool',
      'plugins/signed',
      'plugins/yaml-tool',
    ]);
    const rootRef = bom.metadata.component?.['bom-ref'] as string;
    const deps = bom.dependencies?.find((d) => d.ref === rootRef)?.dependsOn ?? [];
    for (const p of plugins) expect(deps).toContain(p['bom-ref']);
  });
});

describe('plugins with symbolic links', () => {
  it('records links inside a plugin and out of DIR, never follows them, digests the regular files only', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      const outsideContent = 'OUTSIDE-CONTENT-7e1f';
      await write(root, 'outside/secret.txt', outsideContent);
      await write(root, 'outside/plugin/package.json', JSON.stringify({ name: 'outside-plugin', version: '1.0.0' }));
      const files = { 'package.json': JSON.stringify({ name: 'linky', version: '1.0.0' }), 'index.js': 'export default 3;\n' };
      for (const [rel, content] of Object.entries(files)) await write(dir, `plugins/linky/${rel}`, content);
      await symlink(join(root, 'outside', 'secret.txt'), join(dir, 'plugins', 'linky', 'escape.txt'));
      await symlink('index.js', join(dir, 'plugins', 'linky', 'alias.js'));
      // A plugin folder that is itself a link out of DIR.
      await symlink(join(root, 'outside', 'plugin'), join(dir, 'plugins', 'elsewhere'));
      for (const spec of ['1.6', '1.7']) {
        const out = join(root, `bom-${spec}.json`);
        const r = await runCli(['build', dir, '-o', out, '--json', '--spec-version', spec]);
        expect(r.code, r.stderr).toBe(0);
        const raw = await readFile(out, 'utf8');
        expect(raw).not.toContain(outsideContent);
        const bom = JSON.parse(raw) as BomDoc;
        const summary = JSON.parse(r.stdout) as Summary;
        const c = (bom.components ?? []).find((x) => prop(x, 'aibom:install-path') === 'plugins/linky')!;
        expect(props(c, 'aibom:symlink')).toEqual([`alias.js -> index.js`, `escape.txt -> ${join(root, 'outside', 'secret.txt')}`]);
        expect(c.hashes).toEqual([{ alg: 'SHA-256', content: expectedDigest(files) }]);
        const links = summary.findings.filter((f) => f.code === 'plugin-symlink');
        const escaping = links.find((f) => f.location?.file === 'plugins/linky/escape.txt');
        expect(escaping?.severity).toBe('high');
        expect(escaping?.message).toMatch(/outside the scanned folder; not followed/);
        expect(links.find((f) => f.location?.file === 'plugins/linky/alias.js')?.severity).toBe('low');
        const folderLink = links.find((f) => f.location?.file === 'plugins/elsewhere');
        expect(folderLink?.message).toMatch(/not followed/);
        expect(bom.components?.some((x) => x.name === 'outside-plugin')).toBe(false);
      }
    } finally {
      await cleanup();
    }
  }, 120_000);
});
