/**
 * MCP servers in more client config formats: VS Code workspaces, Charm Crush, Continue's
 * older config.json, Amp's settings key, and (the generic rule) any JSON/JSONC/YAML/TOML file
 * with server definitions under an MCP-named key. Each attack is an unpinned server the client
 * would run: aibom must record it as not pinned, and the default gate fails.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory } from '../src/inventory/index.js';
import { CLIENT_FORMATS, isKnownMcpConfig } from '../src/inventory/mcp/config-file.js';
import { genericServerContainers } from '../src/inventory/mcp/client-formats.js';
import type { Component, Inventory, Service } from '../src/inventory/types.js';
import { runGate } from '../src/gate/gate.js';
import { runCli, tempDir } from './helpers/cli.js';

let base: string;
let cleanup: () => Promise<void>;
let n = 0;
beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

async function write(root: string, rel: string, content: string): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}
const propOf = (c: Component | Service, name: string) => c.properties.find((p) => p.name === name)?.value;
const servers = (inv: Inventory) => [...inv.components, ...inv.services].filter((c) => propOf(c, 'aibom:mcp:server') !== undefined);

async function folder(files: Record<string, string>): Promise<string> {
  const dir = join(base, `case-${n++}`);
  await write(dir, 'package.json', JSON.stringify({ name: 'agent', version: '1.0.0' }));
  for (const [rel, text] of Object.entries(files)) await write(dir, rel, text);
  return dir;
}

const S = { command: 'npx', args: ['-y', 'evil-mcp@latest'] };
const Sj = JSON.stringify(S);

/** [label, file, text]: each holds one unpinned server the client runs. */
const CASES: Array<[string, string, string]> = [
  ['VS Code workspace settings.mcp.servers', 'agent.code-workspace', `{"folders":[{"path":"."}],"settings":{"mcp":{"servers":{"x":${Sj}}}}}`],
  ['VS Code workspace with comments, in a subfolder', 'ws/team.code-workspace', `{\n// shared\n"settings":{"mcp":{"servers":{"x":${Sj},}}},}`],
  ['VS Code workspace with Amp servers', 'a.code-workspace', `{"settings":{"amp.mcpServers":{"x":${Sj}}}}`],
  ['Charm Crush crush.json mcp', 'crush.json', '{"mcp":{"x":{"type":"stdio","command":"npx","args":["-y","evil-mcp@latest"]}}}'],
  ['Charm Crush .crush.json mcp', '.crush.json', `{"mcp":{"x":${Sj}}}`],
  ['Continue config.json experimental list', '.continue/config.json', '{"experimental":{"modelContextProtocolServers":[{"transport":{"type":"stdio","command":"npx","args":["-y","evil-mcp@latest"]}}]}}'],
  ['Amp amp.mcpServers in .vscode/settings.json', '.vscode/settings.json', `{"amp.mcpServers":{"x":${Sj}}}`],
  ['Amp amp.mcpServers in any settings JSON', 'config/amp/settings.json', `{"amp.mcpServers":{"x":${Sj}}}`],
  ['VS Code mcp.servers in a settings.json outside .vscode', 'profiles/settings.json', `{"mcp":{"servers":{"x":${Sj}}}}`],
  ['generic: an unknown client JSON with servers under a key naming MCP', 'newclient/conf.json', `{"tools":{"mcp_servers":{"x":${Sj}}}}`],
  ['generic: a list of servers under an MCP key', 'other.jsonc', `{"myMcp":[{"name":"x","command":"npx","args":["-y","evil-mcp@latest"]}]}`],
  ['generic: YAML', 'agent/settings.yaml', 'mcp:\n  servers:\n    x:\n      command: npx\n      args: [-y, evil-mcp@latest]\n'],
  ['generic: TOML', 'tool.toml', '[mcp.servers.x]\ncommand = "npx"\nargs = ["-y", "evil-mcp@latest"]\n'],
];

describe('unpinned servers in client formats are read and judged', () => {
  for (const [label, rel, text] of CASES) {
    it(label, async () => {
      const dir = await folder({ [rel]: text });
      const inv = await buildInventory(dir, {});
      const found = servers(inv);
      expect(found.length, JSON.stringify(inv.findings)).toBe(1);
      expect(propOf(found[0]!, 'aibom:pinned')).toBe('false');
      expect(propOf(found[0]!, 'aibom:mcp:package')).toMatch(/evil-mcp/);
      const res = await runGate({ root: dir });
      expect(res.failures.map((f) => f.rule)).toContain('mcp-pinned');
    });
  }
  it('a pinned server in the same formats passes', async () => {
    const pinned = JSON.stringify({ command: 'npx', args: ['-y', 'good-mcp@1.2.3'] });
    const dir = await folder({ 'a.code-workspace': `{"settings":{"mcp":{"servers":{"x":${pinned}}}}}`, 'crush.json': `{"mcp":{"y":${pinned}}}` });
    const inv = await buildInventory(dir, {});
    expect(servers(inv).map((c) => propOf(c, 'aibom:pinned'))).toEqual(['true', 'true']);
  });
  it('a server is counted once, not again by the generic rule', async () => {
    const dir = await folder({ '.vscode/settings.json': `{"mcp":{"servers":{"x":${Sj}}},"amp.mcpServers":{"y":${Sj}}}` });
    expect(servers(await buildInventory(dir, {})).length).toBe(2);
  });
  it('a known workspace file whose section is not a map or list is an unreadable config', async () => {
    const dir = await folder({ 'a.code-workspace': '{"settings":{"mcp":{"servers":"npx evil"}}}' });
    const inv = await buildInventory(dir, {});
    expect(inv.findings.map((f) => f.code)).toContain('mcp-config-invalid');
  });
  it('files that only mention MCP are not servers (no false positives)', async () => {
    const dir = await folder({
      'notes.json': '{"mcp":"we use it","mcpServers":"none yet"}',
      'pkg/package.json': '{"name":"@modelcontextprotocol/sdk","scripts":{"mcp":"node x"}}',
      'ci.yaml': 'jobs:\n  mcp-test:\n    runs-on: ubuntu-latest\n',
    });
    const inv = await buildInventory(dir, {});
    expect(servers(inv)).toEqual([]);
  });
});

describe('the format table and the generic rule', () => {
  it('every known format file is a known config', () => {
    for (const f of ['a.code-workspace', 'crush.json', '.crush.json', '.continue/config.json', '.vscode/settings.json']) expect(isKnownMcpConfig(f)).toBe(true);
    expect(CLIENT_FORMATS.some((c) => c.client === 'Charm Crush')).toBe(true);
  });
  it('finds containers at any depth below an MCP key, skips declared paths, does not descend into a found one', () => {
    const data = { a: { b: { mcp: { servers: { x: S } } } }, mcpServers: { y: S }, list: { mcpish: [S, { url: 'https://x' }] } };
    expect(genericServerContainers(data, [['mcpServers']])).toEqual([
      ['a', 'b', 'mcp', 'servers'],
      ['list', 'mcpish'],
    ]);
  });
});

describe('through the CLI', () => {
  it('aibom gate on a folder with a VS Code workspace, Crush and Continue configs: exit 1, mcp-pinned', async () => {
    const dir = await folder({
      'agent.code-workspace': `{"settings":{"mcp":{"servers":{"ws":${Sj}}}}}`,
      'crush.json': `{"mcp":{"crush":${Sj}}}`,
      '.continue/config.json': `{"experimental":{"modelContextProtocolServers":[{"transport":${Sj}}]}}`,
    });
    const r = await runCli(['gate', '--root', dir, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { failures: Array<{ rule: string }> };
    expect(out.failures.filter((f) => f.rule === 'mcp-pinned').length).toBe(3);
  });
});

describe('shapes', () => {
  it('a JSON file found by sniffing with mcpServers as a list: its servers are read', async () => {
    const dir = await folder({ 'team/agents.json': `{"mcpServers":[{"name":"x","command":"npx","args":["-y","evil-mcp@latest"]}]}` });
    const found = servers(await buildInventory(dir, {}));
    expect(found.map((c) => propOf(c, 'aibom:pinned'))).toEqual(['false']);
  });
  it('Continue config.json with the servers section not a list is an unreadable config', async () => {
    const dir = await folder({ '.continue/config.json': `{"experimental":{"modelContextProtocolServers":{"x":${Sj}}}}` });
    const inv = await buildInventory(dir, {});
    expect(inv.findings.find((f) => f.code === 'mcp-config-invalid')?.message).toMatch(/"experimental\.modelContextProtocolServers" is not a list/);
  });
});

describe('YAML and TOML files without servers', () => {
  it('a policy or workflow YAML mentioning MCP is not an unreadable config', async () => {
    const dir = await folder({ 'aibom-policy.yaml': 'version: 1\nrules:\n  mcp-pinned: true\n', 'conf.toml': 'mcp = "on"\n' });
    const inv = await buildInventory(dir, {});
    expect(inv.findings.filter((f) => f.code.startsWith('mcp-'))).toEqual([]);
  });
});

describe('generic YAML read as its readers read it', () => {
  it('a duplicate key does not hide the server: the last one counts', async () => {
    const dir = await folder({ 'agents/tools.yml': 'mcp:\n  servers: {}\nmcp:\n  servers:\n    x: {command: npx, args: [-y, evil-mcp@latest]}\n' });
    const found = servers(await buildInventory(dir, {}));
    expect(found.map((c) => propOf(c, 'aibom:pinned'))).toEqual(['false']);
  });
});

describe('known TOML/YAML clients: servers outside their usual section', () => {
  const cases: Array<[string, string, string]> = [
    ['Codex config.toml, servers in a profile', '.codex/config.toml', '[profiles.work.mcp_servers.x]\ncommand = "npx"\nargs = ["-y", "evil-mcp@latest"]\n'],
    ['Continue YAML, servers under another MCP key', '.continue/config.yaml', 'name: a\nexperimental:\n  mcp:\n    - name: x\n      command: npx\n      args: [-y, evil-mcp@latest]\n'],
    ['Goose config, servers under another MCP key', '.config/goose/config.yaml', 'mcp_servers:\n  x:\n    cmd: npx\n    args: [-y, evil-mcp@latest]\n'],
  ];
  for (const [label, rel, text] of cases) {
    it(label, async () => {
      const dir = await folder({ [rel]: text });
      const inv = await buildInventory(dir, {});
      expect(servers(inv).map((c) => propOf(c, 'aibom:pinned')), JSON.stringify(inv.findings)).toEqual(['false']);
    });
  }
});

describe('broken JSON found by sniffing', () => {
  it('a broken JSON file that only mentions MCP is not an unreadable config; one naming mcpServers still is', async () => {
    const dir = await folder({ 'fixtures/bad.json': '{"dep": "@modelcontextprotocol/sdk",' });
    expect((await buildInventory(dir, {})).findings.filter((f) => f.code === 'mcp-config-invalid')).toEqual([]);
    const dir2 = await folder({ 'fixtures/bad.json': `{"mcpServers": {"x": ${Sj}},` });
    expect((await buildInventory(dir2, {})).findings.map((f) => f.code)).toContain('mcp-config-invalid');
  });
});
