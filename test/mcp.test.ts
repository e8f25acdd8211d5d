import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BomDoc, FIXTURES, prop, runCli, tempDir } from './helpers/cli.js';

async function write(root: string, rel: string, content: string): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`not found: ${needle}`);
  return text.slice(0, i).split('\n').length;
}

interface Summary {
  findings: Array<{ code: string; severity: string; message: string; component?: string; location?: { file: string; line?: number } }>;
}

async function build(dir: string, extra: string[] = []): Promise<{ bom: BomDoc; summary: Summary; stderr: string; raw: string; code: number }> {
  const out = join(dir, '..', `${dir.split('/').pop()}-bom-${extra.join('_').replace(/\W/g, '')}.json`);
  const r = await runCli(['build', dir, '-o', out, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const raw = await readFile(out, 'utf8');
  return { bom: JSON.parse(raw) as BomDoc, summary: JSON.parse(r.stdout) as Summary, stderr: r.stderr, raw, code: r.code };
}

const DIGEST = 'b'.repeat(64);
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const MCP_JSON = `{
  "mcpServers": {
    "npx-pinned": { "command": "npx", "args": ["-y", "mcp-server-pinned@1.2.3", "--root", "./data"] },
    "npx-bare": { "command": "npx", "args": ["mcp-server-bare"] },
    "npx-range": { "command": "npx", "args": ["-y", "mcp-server-range@^1.2.0"] },
    "npx-latest": { "command": "npx", "args": ["-y", "@acme/mcp-latest@latest"] },
    "npx-package-flag": { "command": "npx", "args": ["--yes", "--package=@acme/srv@2.0.0", "srv-bin", "--stdio"] },
    "one-string": { "command": "npx -y mcp-one-string@3.1.4" },
    "uvx-pinned": { "command": "uvx", "args": ["mcp-server-fetch==2025.4.7"] },
    "uvx-at": { "command": "uvx", "args": ["mcp-server-time@2025.1.1", "--local-timezone", "UTC"] },
    "uvx-bare": { "command": "uvx", "args": ["mcp-server-git", "--repository", "."] },
    "uvx-from-range": { "command": "uvx", "args": ["--from", "mcp-tools>=1.0", "mcp-tools-serve"] },
    "uvx-latest": { "command": "uvx", "args": ["mcp-server-sqlite@latest"] },
    "pipx-pinned": { "command": "pipx", "args": ["run", "--spec", "mcp-notes==0.4.0", "mcp-notes"] },
    "docker-digest": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "GITHUB_TOKEN", "--name", "gh", "registry.example.test/acme/mcp-github:1.4@sha256:${DIGEST}"]
    },
    "docker-tag": { "command": "docker", "args": ["run", "-i", "--rm", "-v", "/tmp:/data", "mcp/fetch:1.0"] },
    "docker-notag": { "command": "docker", "args": ["run", "-i", "--rm", "mcp/time"] },
    "binary": { "command": "/opt/mcp/bin/inventory-server", "args": ["--port", "3000"] },
    "remote-http": { "type": "http", "url": "https://mcp.example.com/mcp" },
    "remote-sse": { "url": "https://mcp.example.com/v1/sse" },
    "remote-local": { "type": "streamable-http", "url": "http://localhost:8931/mcp" },
    "pnpm-dlx": { "command": "pnpm", "args": ["dlx", "pnpm-mcp@1.1.0"] },
    "npx-git-commit": { "command": "npx", "args": ["-y", "github:acme/mcp-tool#${COMMIT}"] },
    "npx-git-branch": { "command": "npx", "args": ["-y", "github:acme/mcp-tool#main"] },
    "uvx-git-commit": { "command": "uvx", "args": ["--from", "git+https://git.example.com/acme/tool@${COMMIT}", "tool"] },
    "windows-npx": { "command": "C:\\\\Program Files\\\\nodejs\\\\npx.cmd", "args": ["-y", "win-mcp@0.1.0"] }
  }
}
`;

const VSCODE_MCP = `// VS Code MCP servers (JSONC: comments and trailing commas)
{
  "inputs": [{ "type": "promptString", "id": "token", "password": true }],
  "servers": {
    /* a pinned one */
    "vs-pinned": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "vscode-mcp@0.9.0"],
    },
  },
}
`;

describe('MCP servers in aibom build', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let bom: BomDoc;
  let summary: Summary;
  const byServer = (name: string) =>
    [...(bom.components ?? []), ...(bom.services ?? [])].find((c) => prop(c, 'aibom:mcp:server') === name);

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    const dir = join(root, 'agent');
    await write(dir, 'package.json', JSON.stringify({ name: 'mcp-agent', version: '1.0.0' }));
    await write(dir, '.mcp.json', MCP_JSON);
    await write(dir, '.vscode/mcp.json', VSCODE_MCP);
    await write(
      dir,
      '.cursor/mcp.json',
      JSON.stringify({ mcpServers: { 'cursor-server': { command: 'npx', args: ['-y', 'cursor-mcp@1.0.0'] } } }, null, 2),
    );
    await write(
      dir,
      'desktop/claude_desktop_config.json',
      JSON.stringify({ mcpServers: { 'desktop-server': { command: 'uvx', args: ['desktop-mcp==2.0.0'] } } }, null, 2),
    );
    // Any JSON with a top-level mcpServers object counts (here: an agent's own settings file).
    await write(
      dir,
      'config/agent-settings.json',
      JSON.stringify({ model: 'gpt-4o', mcpServers: { 'sniffed-server': { command: 'npx', args: ['-y', 'sniffed-mcp@4.0.0'] } } }, null, 2),
    );
    await write(
      dir,
      '.vscode/settings.json',
      '{\n  // editor settings\n  "editor.tabSize": 2,\n  "mcp": { "servers": { "settings-server": { "command": "uvx", "args": ["settings-mcp==1.0.0"] } } },\n}\n',
    );
    // Mentions mcpServers but is not a client config: not read as one.
    await write(dir, 'docs/schema.json', JSON.stringify({ properties: { mcpServers: { type: 'object' } } }));
    ({ bom, summary } = await build(dir));
  }, 120_000);

  afterAll(async () => {
    await cleanup();
  });

  it('npx: exact version pinned, no version / range / dist-tag unpinned', () => {
    const pinned = byServer('npx-pinned')!;
    expect(pinned.type).toBe('application');
    expect(pinned.name).toBe('mcp-server-pinned');
    expect(pinned.version).toBe('1.2.3');
    expect(pinned.purl).toBe('pkg:npm/mcp-server-pinned@1.2.3');
    expect(prop(pinned, 'aibom:pinned')).toBe('true');
    expect(prop(pinned, 'aibom:mcp:launcher')).toBe('npx');
    expect(prop(pinned, 'aibom:mcp:transport')).toBe('stdio');
    expect(prop(pinned, 'aibom:kind')).toBe('mcp-server');
    expect(JSON.parse(prop(pinned, 'aibom:mcp:args')!)).toEqual(['-y', 'mcp-server-pinned@1.2.3', '--root', './data']);

    const bare = byServer('npx-bare')!;
    expect(prop(bare, 'aibom:pinned')).toBe('false');
    expect(prop(bare, 'aibom:unpinned-reason')).toMatch(/no version/);
    expect(bare.version).toBeUndefined();
    expect(bare.purl).toBe('pkg:npm/mcp-server-bare');

    const range = byServer('npx-range')!;
    expect(prop(range, 'aibom:pinned')).toBe('false');
    expect(prop(range, 'aibom:unpinned-reason')).toMatch(/range "\^1\.2\.0"/);
    expect(prop(range, 'aibom:mcp:package')).toBe('mcp-server-range@^1.2.0');

    const latest = byServer('npx-latest')!;
    expect(latest.group).toBe('@acme');
    expect(latest.name).toBe('mcp-latest');
    expect(prop(latest, 'aibom:pinned')).toBe('false');
    expect(prop(latest, 'aibom:unpinned-reason')).toMatch(/dist-tag "latest"/);

    const flag = byServer('npx-package-flag')!;
    expect(flag.purl).toBe('pkg:npm/%40acme/srv@2.0.0');
    expect(prop(flag, 'aibom:pinned')).toBe('true');

    const oneString = byServer('one-string')!;
    expect(oneString.purl).toBe('pkg:npm/mcp-one-string@3.1.4');
    expect(prop(oneString, 'aibom:mcp:command')).toBe('npx');
  });

  it('uvx / pipx: ==version and @version pinned; bare, ranges and @latest unpinned', () => {
    const pinned = byServer('uvx-pinned')!;
    expect(pinned.purl).toBe('pkg:pypi/mcp-server-fetch@2025.4.7');
    expect(pinned.version).toBe('2025.4.7');
    expect(prop(pinned, 'aibom:mcp:launcher')).toBe('uvx');
    expect(prop(pinned, 'aibom:pinned')).toBe('true');
    expect(prop(byServer('uvx-at'), 'aibom:pinned')).toBe('true');
    expect(byServer('uvx-at')!.purl).toBe('pkg:pypi/mcp-server-time@2025.1.1');
    expect(prop(byServer('uvx-bare'), 'aibom:pinned')).toBe('false');
    expect(prop(byServer('uvx-bare'), 'aibom:unpinned-reason')).toMatch(/no version/);
    const fromRange = byServer('uvx-from-range')!;
    expect(fromRange.name).toBe('mcp-tools');
    expect(prop(fromRange, 'aibom:pinned')).toBe('false');
    expect(prop(fromRange, 'aibom:unpinned-reason')).toMatch(/range ">=1\.0"/);
    expect(prop(byServer('uvx-latest'), 'aibom:pinned')).toBe('false');
    const pipx = byServer('pipx-pinned')!;
    expect(prop(pipx, 'aibom:mcp:launcher')).toBe('pipx');
    expect(pipx.purl).toBe('pkg:pypi/mcp-notes@0.4.0');
  });

  it('docker: pinned by digest only; tags and bare names unpinned; env names recorded', () => {
    const pinned = byServer('docker-digest')!;
    expect(pinned.type).toBe('container');
    expect(prop(pinned, 'aibom:pinned')).toBe('true');
    expect(prop(pinned, 'aibom:mcp:launcher')).toBe('docker');
    expect(pinned.purl).toBe(`pkg:docker/acme/mcp-github@sha256:${DIGEST}?repository_url=registry.example.test`);
    expect(pinned.hashes).toEqual([{ alg: 'SHA-256', content: DIGEST }]);
    expect(prop(pinned, 'aibom:mcp:env-names')).toBe('GITHUB_TOKEN');
    expect(prop(pinned, 'aibom:mcp:image-tag')).toBe('1.4');

    const tag = byServer('docker-tag')!;
    expect(prop(tag, 'aibom:pinned')).toBe('false');
    expect(prop(tag, 'aibom:unpinned-reason')).toMatch(/tag "1\.0" can be moved/);
    expect(tag.purl).toBe('pkg:docker/mcp/fetch@1.0');
    expect(prop(byServer('docker-notag'), 'aibom:pinned')).toBe('false');
    expect(prop(byServer('docker-notag'), 'aibom:unpinned-reason')).toMatch(/no tag or digest/);
  });

  it('pnpm dlx, git sources (pinned by a full commit only) and Windows command paths', () => {
    expect(prop(byServer('pnpm-dlx'), 'aibom:mcp:launcher')).toBe('pnpm-dlx');
    expect(byServer('pnpm-dlx')!.purl).toBe('pkg:npm/pnpm-mcp@1.1.0');
    expect(prop(byServer('npx-git-commit'), 'aibom:pinned')).toBe('true');
    expect(prop(byServer('npx-git-branch'), 'aibom:pinned')).toBe('false');
    expect(prop(byServer('npx-git-branch'), 'aibom:unpinned-reason')).toMatch(/without a full commit id/);
    expect(prop(byServer('uvx-git-commit'), 'aibom:pinned')).toBe('true');
    expect(prop(byServer('windows-npx'), 'aibom:mcp:launcher')).toBe('npx');
    expect(byServer('windows-npx')!.purl).toBe('pkg:npm/win-mcp@0.1.0');
  });

  it('a local binary is recorded, not pinned', () => {
    const bin = byServer('binary')!;
    expect(prop(bin, 'aibom:mcp:launcher')).toBe('binary');
    expect(prop(bin, 'aibom:mcp:command')).toBe('/opt/mcp/bin/inventory-server');
    expect(prop(bin, 'aibom:pinned')).toBe('false');
    const f = summary.findings.find((x) => x.code === 'mcp-server-unpinned' && x.component === bin['bom-ref']);
    expect(f?.severity).toBe('low');
  });

  it('remote servers are services with endpoints and no pin possible', () => {
    const http = (bom.services ?? []).find((s) => prop(s, 'aibom:mcp:server') === 'remote-http')!;
    expect(http.endpoints).toEqual(['https://mcp.example.com/mcp']);
    expect(prop(http, 'aibom:mcp:transport')).toBe('http');
    expect(prop(http, 'aibom:mcp:launcher')).toBe('url');
    expect(prop(http, 'aibom:pinned')).toBe('false');
    expect(prop(http, 'aibom:unpinned-reason')).toBe('remote server: no version pin possible');
    expect(http['x-trust-boundary']).toBe(true);
    expect(http.trustZone).toBe('external');
    expect(prop(byServer('remote-sse'), 'aibom:mcp:transport')).toBe('sse');
    const local = byServer('remote-local')!;
    expect(prop(local, 'aibom:mcp:transport')).toBe('http');
    expect(local['x-trust-boundary']).toBe(false);
  });

  it('every unpinned server is a finding; pinned ones are not', () => {
    const unpinned = summary.findings.filter((f) => f.code === 'mcp-server-unpinned').map((f) => f.component);
    for (const s of ['npx-bare', 'npx-range', 'npx-latest', 'uvx-bare', 'uvx-from-range', 'uvx-latest', 'docker-tag', 'docker-notag', 'binary', 'remote-http']) {
      expect(unpinned, s).toContain(byServer(s)!['bom-ref']);
    }
    for (const s of ['npx-pinned', 'npx-package-flag', 'uvx-pinned', 'docker-digest']) {
      expect(unpinned, s).not.toContain(byServer(s)!['bom-ref']);
    }
  });

  it('reads .vscode/mcp.json (JSONC servers), .cursor/mcp.json, claude_desktop_config.json and any mcpServers JSON', () => {
    const vs = byServer('vs-pinned')!;
    expect(vs.purl).toBe('pkg:npm/vscode-mcp@0.9.0');
    expect(prop(vs, 'aibom:mcp:config')).toBe('.vscode/mcp.json');
    expect(byServer('cursor-server')?.purl).toBe('pkg:npm/cursor-mcp@1.0.0');
    expect(byServer('desktop-server')?.purl).toBe('pkg:pypi/desktop-mcp@2.0.0');
    expect(prop(byServer('desktop-server'), 'aibom:mcp:config')).toBe('desktop/claude_desktop_config.json');
    expect(byServer('sniffed-server')?.purl).toBe('pkg:npm/sniffed-mcp@4.0.0');
    expect(byServer('settings-server')?.purl).toBe('pkg:pypi/settings-mcp@1.0.0');
    expect(prop(byServer('settings-server'), 'aibom:mcp:config')).toBe('.vscode/settings.json');
    // docs/schema.json mentions mcpServers but holds no servers: nothing from it.
    const all = [...(bom.components ?? []), ...(bom.services ?? [])];
    expect(all.some((c) => prop(c, 'aibom:mcp:config') === 'docs/schema.json')).toBe(false);
  });

  it('records the file and line of each server key for SARIF', () => {
    const pinned = byServer('npx-pinned')!;
    expect(pinned.evidence.occurrences).toEqual([{ location: '.mcp.json', line: lineOf(MCP_JSON, '"npx-pinned"') }]);
    const vs = byServer('vs-pinned')!;
    expect(vs.evidence.occurrences).toEqual([{ location: '.vscode/mcp.json', line: lineOf(VSCODE_MCP, '"vs-pinned"') }]);
    const f = summary.findings.find((x) => x.component === byServer('npx-bare')!['bom-ref']);
    expect(f?.location).toEqual({ file: '.mcp.json', line: lineOf(MCP_JSON, '"npx-bare"') });
  });

  it('the project depends on every MCP server', () => {
    const rootRef = bom.metadata.component?.['bom-ref'] as string;
    const deps = bom.dependencies?.find((d) => d.ref === rootRef)?.dependsOn ?? [];
    expect(deps).toContain(byServer('npx-pinned')!['bom-ref']);
    expect(deps).toContain(byServer('remote-http')!['bom-ref']);
  });

  it('builds a valid CycloneDX 1.7 BOM of the same folder', async () => {
    const r = await build(join(root, 'agent'), ['--spec-version', '1.7']);
    expect(r.bom.specVersion).toBe('1.7');
    expect(r.bom.services?.length).toBe(bom.services?.length);
  });
});

describe('MCP secrets never reach the BOM', () => {
  // Each value must never appear anywhere in the output, the summary or the messages.
  const S = {
    envValue: 'envvalue-Zq81-never-copy',
    headerValue: 'headervalue-Xk22-never-copy',
    apiKeyHeader: 'apikeyheader-Wd33-never-copy',
    flagEquals: 'flagequals-Vc44-never-copy',
    flagSpace: 'flagspace-Ub55-never-copy',
    dockerEnv: 'dockerenv-Ta66-never-copy',
    headerArg: 'headerarg-Sz77-never-copy',
    urlUser: 'urluser-Ry88-never-copy',
    urlQuery: 'urlquery-Qx99-never-copy',
    remoteUser: 'remoteuser-Pw10-never-copy',
    remoteQuery: 'remotequery-Ov11-never-copy',
    shellAssign: 'shellassign-Nu12-never-copy',
    githubToken: `ghp_${'A1b2C3d4E5'.repeat(3)}zzzzzz`,
    pathToken: `sk-ak-${'Q9w8E7r6T5y4'.repeat(3)}`,
    brokenFile: 'brokenfile-Mt13-never-copy',
    vscodeEnv: 'vscodeenv-Ls14-never-copy',
  };

  it('env and header values, secret flags, URLs with credentials and token-shaped args are redacted', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      const config = {
        mcpServers: {
          'with-env': {
            command: 'npx',
            args: [
              '-y',
              'secret-mcp@1.0.0',
              `--api-key=${S.flagEquals}`,
              '--token',
              S.flagSpace,
              '--header',
              `Authorization: Bearer ${S.headerArg}`,
              `https://bot:${S.urlUser}@git.example.com/repo.git?access_token=${S.urlQuery}`,
              S.githubToken,
            ],
            env: { OPENAI_API_KEY: S.envValue, PLAIN_SETTING: 'x' },
          },
          'docker-env': {
            command: 'docker',
            args: ['run', '-i', '--rm', '-e', `API_TOKEN=${S.dockerEnv}`, '-e', 'GITHUB_TOKEN', 'mcp/github:1.0'],
          },
          'shell-line': { command: 'sh', args: ['-c', `OPENAI_API_KEY=${S.shellAssign} npx -y shell-mcp@1.0.0`] },
          remote: {
            type: 'http',
            url: `https://${S.remoteUser}@mcp.example.com/mcp?token=${S.remoteQuery}&team=core`,
            headers: { Authorization: `Bearer ${S.headerValue}`, 'X-Api-Key': S.apiKeyHeader },
          },
          'token-in-path': { url: `https://actions.example.com/mcp/${S.pathToken}/sse` },
        },
      };
      await write(dir, '.mcp.json', JSON.stringify(config, null, 2));
      await write(
        dir,
        '.vscode/mcp.json',
        `{ "servers": { "vs": { "command": "npx", "args": ["-y", "vs-mcp@1.0.0"], "env": { "TOKEN": "${S.vscodeEnv}" } } } }`,
      );
      // Not JSON: the finding must not quote the text (it holds a secret).
      await write(dir, '.cursor/mcp.json', `{"mcpServers": {"x": {"command": "npx", "env": {"K": "${S.brokenFile}"}} oops`);
      const out = join(root, 'bom.json');
      const r = await runCli(['build', dir, '-o', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const raw = await readFile(out, 'utf8');
      for (const [what, secret] of Object.entries(S)) {
        expect(raw.includes(secret), `${what} leaked into the BOM`).toBe(false);
        expect(r.stdout.includes(secret), `${what} leaked into the summary`).toBe(false);
        expect(r.stderr.includes(secret), `${what} leaked into messages`).toBe(false);
      }
      // Also from a 1.7 build to stdout.
      const r17 = await runCli(['build', dir, '--spec-version', '1.7']);
      expect(r17.code).toBe(0);
      for (const secret of Object.values(S)) expect(r17.stdout.includes(secret)).toBe(false);

      const bom = JSON.parse(raw) as BomDoc;
      const server = (n: string) => [...(bom.components ?? []), ...(bom.services ?? [])].find((c) => prop(c, 'aibom:mcp:server') === n);
      const withEnv = server('with-env')!;
      // Names are kept, values are not.
      expect(prop(withEnv, 'aibom:mcp:env-names')).toBe('OPENAI_API_KEY,PLAIN_SETTING');
      expect(prop(withEnv, 'aibom:mcp:header-names')).toBe('Authorization');
      const args = JSON.parse(prop(withEnv, 'aibom:mcp:args')!) as string[];
      expect(args).toContain('--api-key=REDACTED');
      expect(args).toContain('REDACTED');
      expect(args).toContain('Authorization: REDACTED');
      expect(args).toContain('https://git.example.com/repo.git?access_token=REDACTED');
      expect(withEnv.purl).toBe('pkg:npm/secret-mcp@1.0.0');
      expect(Number(prop(withEnv, 'aibom:mcp:redacted-args'))).toBeGreaterThanOrEqual(5);
      const docker = server('docker-env')!;
      expect(prop(docker, 'aibom:mcp:env-names')).toBe('API_TOKEN,GITHUB_TOKEN');
      expect(JSON.parse(prop(docker, 'aibom:mcp:args')!)).toContain('API_TOKEN=REDACTED');
      const remote = server('remote')!;
      expect(remote.endpoints).toEqual(['https://mcp.example.com/mcp?token=REDACTED&team=REDACTED']);
      expect(prop(remote, 'aibom:mcp:header-names')).toBe('Authorization,X-Api-Key');
      expect(remote.authenticated).toBe(true);
      expect(server('token-in-path')!.endpoints).toEqual(['https://actions.example.com/mcp/REDACTED/sse']);
      expect(prop(server('vs'), 'aibom:mcp:env-names')).toBe('TOKEN');
    } finally {
      await cleanup();
    }
  }, 120_000);
});

describe('MCP configs as found in public repositories', () => {
  it("a plugin's .mcp.json with the servers at the top level (no mcpServers wrapper)", async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'plugin');
      await cp(join(FIXTURES, 'mcp-real-world', 'plugin-flat'), dir, { recursive: true });
      const { bom, raw } = await build(dir);
      const all = [...(bom.components ?? []), ...(bom.services ?? [])];
      const names = all.map((c) => prop(c, 'aibom:mcp:server')).filter(Boolean).sort();
      expect(names).toEqual(['firebase', 'github', 'terraform']);
      const firebase = all.find((c) => prop(c, 'aibom:mcp:server') === 'firebase');
      expect(firebase?.purl).toBe('pkg:npm/firebase-tools');
      expect(prop(firebase, 'aibom:pinned')).toBe('false');
      const github = bom.services?.find((s) => prop(s, 'aibom:mcp:server') === 'github');
      expect(github?.endpoints).toEqual(['https://api.githubcopilot.com/mcp/']);
      expect(prop(github, 'aibom:mcp:header-names')).toBe('Authorization');
      const terraform = all.find((c) => prop(c, 'aibom:mcp:server') === 'terraform');
      expect(terraform?.type).toBe('container');
      expect(prop(terraform, 'aibom:mcp:config')).toBe('.mcp.json');
      expect(raw).not.toContain('GITHUB_PERSONAL_ACCESS_TOKEN}');
      expect(raw).not.toContain('schemastore');
    } finally {
      await cleanup();
    }
  }, 120_000);
});

describe('an MCP config that is not JSON', () => {
  it('is a finding naming the file and line; the rest of the BOM still builds', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      await write(dir, '.mcp.json', '{\n  "mcpServers": {\n    "a": { "command": "npx", args: [] }\n  }\n}\n');
      await write(dir, 'claude_desktop_config.json', 'mcpServers:\n  - this is YAML, not JSON\n');
      await write(dir, '.cursor/mcp.json', JSON.stringify({ mcpServers: { ok: { command: 'npx', args: ['-y', 'ok-mcp@1.0.0'] } } }));
      await write(dir, '.vscode/mcp.json', JSON.stringify({ servers: { bad: 'not an object', empty: {} } }));
      // Hostile: nested 100,000 levels deep (must not overflow the stack), and over the size bound.
      await write(dir, 'deep/.mcp.json', `{"mcpServers": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      await write(dir, 'big/.mcp.json', `{"mcpServers": {}, "pad": "${'x'.repeat(1024 * 1024)}"}`);
      const { bom, summary, stderr } = await build(dir);
      const invalid = summary.findings.filter((f) => f.code === 'mcp-config-invalid');
      expect(invalid.map((f) => f.location?.file).sort()).toEqual(['.mcp.json', 'big/.mcp.json', 'claude_desktop_config.json', 'deep/.mcp.json']);
      expect(invalid.find((f) => f.location?.file === 'deep/.mcp.json')?.message).toMatch(/nests deeper than 64 levels/);
      expect(invalid.find((f) => f.location?.file === 'big/.mcp.json')?.message).toMatch(/over the 1\.0 MiB limit/);
      const mcpJson = invalid.find((f) => f.location?.file === '.mcp.json')!;
      expect(mcpJson.location?.line).toBe(3);
      expect(mcpJson.message).toMatch(/not valid JSON: .* at line 3, column \d+/);
      expect(stderr).toMatch(/warning: \.mcp\.json: cannot read MCP client config: not valid JSON/);
      const ok = bom.components?.find((c) => prop(c, 'aibom:mcp:server') === 'ok');
      expect(ok?.purl).toBe('pkg:npm/ok-mcp@1.0.0');
      const bad = summary.findings.filter((f) => f.code === 'mcp-server-invalid').map((f) => f.message);
      expect(bad).toEqual([
        expect.stringMatching(/"bad" is not an object/),
        expect.stringMatching(/"empty" has neither a command nor a url/),
      ]);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
