// The example agent's entry point: registers every plugin in plugins/. A Node plugin's tool comes
// from its index.js; an Agent Plugins 1.0 package (plugin.json) brings skills (skills/NAME/SKILL.md)
// and MCP servers (mcp.json), which the agent starts to list their tools.
// Run it behind the start-up check, so nothing loads unless the signed AI-BOM vouches for it:
//   node --import aibom/register agent.js
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const plugins = fileURLToPath(new URL('./plugins/', import.meta.url));

// One MCP stdio session: initialize, then tools/list; resolves with the tools.
function listTools({ command, args = [], env = {} }, vars) {
  const expand = (s) => s.replace(/\$\{(PLUGIN_ROOT|PLUGIN_DATA)\}/g, (_, v) => vars[v]);
  const server = spawn(command === 'node' ? process.execPath : command, args.map(expand), {
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, expand(v)])),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const send = (id, method, params = {}) => server.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
  return new Promise((resolve, reject) => {
    let buf = '';
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`MCP server exited (${code}) before listing its tools`)));
    setTimeout(() => server.kill(), 10_000).unref(); // a server that never answers is not waited for
    server.stdout.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (m.id === 1) send(2, 'tools/list');
        if (m.id === 2) {
          server.kill();
          m.error ? reject(new Error(m.error.message)) : resolve(m.result.tools);
        }
      }
    });
    send(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'support-agent', version: '1.4.0' } });
  });
}

for (const name of readdirSync(plugins).sort()) {
  const root = join(plugins, name);
  if (!statSync(root).isDirectory()) continue;
  if (!existsSync(join(root, 'plugin.json'))) {
    const { tool } = await import(new URL(`./plugins/${name}/index.js`, import.meta.url).href);
    console.log(`loaded plugin ${name}: tool ${tool.name}`);
    continue;
  }
  // A skill is offered to the model by the name and description in its SKILL.md front matter.
  const skills = (existsSync(join(root, 'skills')) ? readdirSync(join(root, 'skills')).sort() : []).map(
    (dir) => /^name:\s*(.+)$/m.exec(readFileSync(join(root, 'skills', dir, 'SKILL.md'), 'utf8'))?.[1] ?? dir,
  );
  const servers = existsSync(join(root, 'mcp.json')) ? JSON.parse(readFileSync(join(root, 'mcp.json'), 'utf8')).mcpServers : {};
  const registered = [];
  for (const [server, config] of Object.entries(servers)) {
    const tools = await listTools(config, { PLUGIN_ROOT: root, PLUGIN_DATA: join(tmpdir(), 'support-agent', name) });
    registered.push(`MCP server ${server} (tools ${tools.map((t) => t.name).join(', ')})`);
  }
  console.log(`loaded plugin ${name}: ${[...skills.map((s) => `skill ${s}`), ...registered].join(', ')}`);
}
