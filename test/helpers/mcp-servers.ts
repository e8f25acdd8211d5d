/**
 * MCP servers for the tool-pin tests, written to a temporary folder at test time:
 * - `sdkServer`: a real server on @modelcontextprotocol/sdk (low-level Server, so the test
 *   controls each tool definition and the page size), over stdio or Streamable HTTP on 127.0.0.1;
 * - hostile servers in plain Node: one that never answers, one that exits, one that floods its
 *   output, one whose page cursor never ends.
 * The published server is @modelcontextprotocol/server-memory from node_modules (`memoryServer`).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './cli.js';

const sdk = (p: string) => import.meta.resolve(`@modelcontextprotocol/sdk/${p}`);

export interface ToolDef {
  [k: string]: unknown;
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** A stdio SDK server script: tools from the JSON file named by its first argument, `pageSize` per page. */
export async function writeSdkStdioServer(dir: string, name = 'server.mjs'): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    `import { readFileSync } from 'node:fs';
import { Server } from ${JSON.stringify(sdk('server/index.js'))};
import { StdioServerTransport } from ${JSON.stringify(sdk('server/stdio.js'))};
import { ListToolsRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema } from ${JSON.stringify(sdk('types.js'))};
const { tools, pageSize = 2 } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = new Server({ name: 'reports', version: '1.2.0' }, { capabilities: { tools: {}, prompts: {}, resources: {} } });
server.setRequestHandler(ListToolsRequestSchema, async (req) => {
  const start = Number(req.params?.cursor ?? 0);
  const page = tools.slice(start, start + pageSize);
  return start + pageSize < tools.length ? { tools: page, nextCursor: String(start + pageSize) } : { tools: page };
});
server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'weekly', description: 'Weekly summary' }] }));
server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'reports://latest', name: 'latest' }] }));
// What the server sees of its environment, for the isolation test.
if (process.env.DUMP_ENV) (await import('node:fs')).writeFileSync(process.env.DUMP_ENV, JSON.stringify(process.env));
await server.connect(new StdioServerTransport());
`,
  );
  return file;
}

/** The same server over Streamable HTTP on 127.0.0.1 (in this process). */
export async function startSdkHttpServer(getTools: () => ToolDef[]): Promise<{ url: string; close: () => Promise<void> }> {
  const { Server } = (await import(sdk('server/index.js'))) as typeof import('@modelcontextprotocol/sdk/server/index.js');
  const { StreamableHTTPServerTransport } = (await import(sdk('server/streamableHttp.js'))) as typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const { ListToolsRequestSchema } = (await import(sdk('types.js'))) as typeof import('@modelcontextprotocol/sdk/types.js');
  const http: HttpServer = createServer(async (req, res) => {
    // Stateless: a fresh server and transport per request, as the SDK's examples do.
    const server = new Server({ name: 'remote-reports', version: '2.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: getTools() as never }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () =>
      new Promise<void>((r) => {
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}

/** The published memory server (npm @modelcontextprotocol/server-memory), run by node. */
export const MEMORY_SERVER = join(REPO, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');

const RPC = `
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.trim()) onMessage(JSON.parse(line));
  }
});
const init = (m) => send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'hostile', version: '0' } } });
`;

export const HOSTILE: Record<string, string> = {
  /** Answers initialize, then never answers tools/list. */
  hang: `${RPC}function onMessage(m) { if (m.method === 'initialize') init(m); }\nsetInterval(() => {}, 1000);\n`,
  /** Exits as soon as it is asked for its tools. */
  crash: `${RPC}function onMessage(m) { if (m.method === 'initialize') init(m); if (m.method === 'tools/list') process.exit(3); }\n`,
  /** Writes without end, never a newline. */
  flood: `${RPC}function onMessage(m) { if (m.method === 'initialize') { const s = 'x'.repeat(1 << 20); const w = () => { while (process.stdout.write(s)); process.stdout.once('drain', w); }; w(); } }\n`,
  /** Its cursor comes back to a page already read: its pages never end. */
  cursor: `${RPC}function onMessage(m) {
  if (m.method === 'initialize') init(m);
  if (m.method === 'tools/list') {
    const c = m.params && m.params.cursor;
    const next = c === 'b' ? 'a' : c === 'a' ? 'b' : 'a';
    send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 't' + (c || ''), inputSchema: { type: 'object' } }], nextCursor: next } });
  }
}
`,
  /** Forks a grandchild that would outlive it: killing the process group must end both. */
  orphan: `${RPC}require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => require("node:fs").appendFileSync(process.argv[1], "x"), 50)', process.env.ORPHAN_MARK], { stdio: 'ignore' });
function onMessage(m) { if (m.method === 'initialize') init(m); }
setInterval(() => {}, 1000);
`,
};

export async function writeHostile(dir: string, kind: keyof typeof HOSTILE): Promise<string> {
  const file = join(dir, `${kind}.cjs`);
  await writeFile(file, HOSTILE[kind]!);
  return file;
}
