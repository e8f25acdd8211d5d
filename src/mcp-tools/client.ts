import { type ChildProcess, spawn } from 'node:child_process';
import { isObject } from '../util/json.js';
import { TOOL_VERSION } from '../version.js';

/**
 * A minimal MCP client for reading what a server offers: `initialize`, `tools/list` (every page),
 * `prompts/list`, `resources/list`, over stdio (newline-delimited JSON-RPC on the child's
 * stdin/stdout) or Streamable HTTP (POST, a JSON or an SSE answer). Written for hostile servers:
 * one deadline for the whole session, bounded output (one message and in total), a bounded
 * number of pages, a cursor that repeats is a lie, requests from the server are refused. The
 * child runs in its own process group and the whole group is killed afterwards, whatever happened.
 */

export const PROTOCOL_VERSION = '2025-06-18';

export type ProbeFailure = 'spawn' | 'timeout' | 'exited' | 'flood' | 'cursor' | 'protocol' | 'http';

export class McpProbeError extends Error {
  constructor(
    readonly reason: ProbeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'McpProbeError';
  }
}

export interface StdioTarget {
  transport: 'stdio';
  command: string;
  args: string[];
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  cwd?: string;
}

export interface HttpTarget {
  transport: 'http';
  url: string;
  headers: Record<string, string>;
}

export type ProbeTarget = StdioTarget | HttpTarget;

export interface ProbeOptions {
  /** Deadline for the whole session (default 30 s). */
  timeoutMs?: number;
  /** Bytes the server may send in all (default 16 MiB) and in one message (default 4 MiB). */
  maxBytes?: number;
  maxMessageBytes?: number;
  /** Pages per list (default 100). */
  maxPages?: number;
}

export interface ServerListing {
  protocolVersion?: string;
  serverInfo?: { name?: string; version?: string };
  tools: Record<string, unknown>[];
  prompts: Record<string, unknown>[];
  resources: Record<string, unknown>[];
}

interface Rpc {
  request(method: string, params?: Record<string, unknown>): Promise<unknown>;
  notify(method: string, params?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Read a server's tools, prompts and resources. Throws McpProbeError naming what went wrong. */
export async function probeServer(target: ProbeTarget, options: ProbeOptions = {}): Promise<ServerListing> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const limits = { maxBytes: options.maxBytes ?? 16 * 1024 * 1024, maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024 };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new McpProbeError('timeout', `no complete answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  const abort = new AbortController();
  const rpc: Rpc = target.transport === 'stdio' ? stdioRpc(target, limits) : httpRpc(target, limits, abort.signal);
  try {
    return await Promise.race([session(rpc, options.maxPages ?? 100), deadline]);
  } finally {
    clearTimeout(timer);
    abort.abort();
    await rpc.close().catch(() => undefined);
  }
}

async function session(rpc: Rpc, maxPages: number): Promise<ServerListing> {
  const init = await rpc.request('initialize', {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'aibom', version: TOOL_VERSION },
  });
  if (!isObject(init)) throw new McpProbeError('protocol', 'the initialize result is not an object');
  await rpc.notify('notifications/initialized');
  const caps = isObject(init.capabilities) ? init.capabilities : {};
  const out: ServerListing = { tools: [], prompts: [], resources: [] };
  if (typeof init.protocolVersion === 'string') out.protocolVersion = init.protocolVersion.slice(0, 40);
  if (isObject(init.serverInfo)) {
    const si: ServerListing['serverInfo'] = {};
    if (typeof init.serverInfo.name === 'string') si.name = init.serverInfo.name.slice(0, 200);
    if (typeof init.serverInfo.version === 'string') si.version = init.serverInfo.version.slice(0, 200);
    out.serverInfo = si;
  }
  // tools/list always: a server that says it has no tools and lists some is still read.
  out.tools = await listAll(rpc, 'tools/list', 'tools', maxPages, caps.tools === undefined);
  if (caps.prompts !== undefined) out.prompts = await listAll(rpc, 'prompts/list', 'prompts', maxPages, false);
  if (caps.resources !== undefined) out.resources = await listAll(rpc, 'resources/list', 'resources', maxPages, false);
  return out;
}

const MAX_ITEMS = 10_000;

async function listAll(rpc: Rpc, method: string, key: string, maxPages: number, optional: boolean): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    if (page >= maxPages) throw new McpProbeError('cursor', `${method}: more than ${maxPages} pages`);
    let res: unknown;
    try {
      res = await rpc.request(method, cursor === undefined ? {} : { cursor });
    } catch (err) {
      // A server without tools may answer "method not found"; that is an empty list.
      if (optional && err instanceof McpProbeError && /-32601/.test(err.message)) return [];
      throw err;
    }
    if (!isObject(res) || !Array.isArray(res[key])) throw new McpProbeError('protocol', `${method}: the result has no "${key}" list`);
    for (const x of res[key] as unknown[]) {
      if (!isObject(x)) throw new McpProbeError('protocol', `${method}: an entry is not an object`);
      items.push(x);
      if (items.length > MAX_ITEMS) throw new McpProbeError('flood', `${method}: more than ${MAX_ITEMS} entries`);
    }
    const next = res.nextCursor;
    if (next === undefined || next === null) return items;
    if (typeof next !== 'string') throw new McpProbeError('protocol', `${method}: nextCursor is not a string`);
    if (cursors.has(next) || next === cursor)
      throw new McpProbeError('cursor', `${method}: the server sent the page cursor ${JSON.stringify(next.slice(0, 80))} again (its pages never end)`);
    cursors.add(next);
    cursor = next;
  }
}

interface Limits {
  maxBytes: number;
  maxMessageBytes: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Route one JSON-RPC message from the server: a response to us, a request to refuse, or a notification. */
function dispatch(msg: unknown, pending: Map<number, Pending>, reply: (m: unknown) => void): void {
  if (!isObject(msg)) return;
  if (typeof msg.method === 'string') {
    // A request from the server (sampling, roots, elicitation): nothing here answers for a user.
    if (msg.id !== undefined && msg.id !== null) reply({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'not supported by aibom' } });
    return;
  }
  if (typeof msg.id !== 'number') return;
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (isObject(msg.error)) {
    const code = typeof msg.error.code === 'number' ? msg.error.code : 0;
    const text = typeof msg.error.message === 'string' ? msg.error.message.slice(0, 200) : '';
    p.reject(new McpProbeError('protocol', `the server answered with error ${code}: ${text}`));
  } else p.resolve(msg.result);
}

/**
 * Newline-delimited JSON-RPC from a server's stdout, bounded: over `maxBytes` in all, or one line
 * over `maxMessageBytes`, fails; a line that is not a JSON object is a stray log line (skipped),
 * one that starts like one and is not JSON fails. Returns the handler for each chunk.
 */
function jsonLines(limits: Limits, onMessage: (msg: unknown) => void, fail: (e: McpProbeError) => void): (chunk: Buffer) => void {
  let total = 0;
  let buf: Buffer[] = [];
  let bufLen = 0;
  return (chunk) => {
    total += chunk.length;
    if (total > limits.maxBytes) return fail(new McpProbeError('flood', `the server wrote more than ${limits.maxBytes} bytes`));
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      buf.push(chunk.subarray(start, i));
      const line = Buffer.concat(buf).toString('utf8').trim();
      buf = [];
      bufLen = 0;
      start = i + 1;
      if (!line.startsWith('{')) continue; // not a JSON-RPC message (a stray log line)
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return fail(new McpProbeError('protocol', 'the server wrote a line that is not JSON'));
      }
      onMessage(msg);
    }
    bufLen += chunk.length - start;
    if (bufLen > limits.maxMessageBytes) return fail(new McpProbeError('flood', `one message from the server is over ${limits.maxMessageBytes} bytes`));
    if (start < chunk.length) buf.push(chunk.subarray(start));
  };
}

function stdioRpc(t: StdioTarget, limits: Limits): Rpc {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: McpProbeError | undefined;
  let child: ChildProcess | undefined;
  const fail = (e: McpProbeError) => {
    if (failure) return;
    failure = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    kill();
  };
  const kill = () => {
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  try {
    child = spawn(t.command, t.args, {
      env: t.env,
      ...(t.cwd !== undefined ? { cwd: t.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      windowsHide: true,
    });
  } catch (err) {
    failure = new McpProbeError('spawn', `cannot start ${t.command}: ${(err as Error).message}`);
  }
  const write = (m: unknown) => {
    if (!child?.stdin?.writable) return;
    child.stdin.write(`${JSON.stringify(m)}\n`);
  };
  if (child) {
    child.on('error', (err) => fail(new McpProbeError('spawn', `cannot start ${t.command}: ${err.message}`)));
    child.on('exit', (code, signal) => fail(new McpProbeError('exited', `the server exited (${signal ?? `code ${code}`}) before answering`)));
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', () => undefined); // read and dropped: a chatty stderr must not block the child
    const onChunk = jsonLines(limits, (msg) => dispatch(msg, pending, write), fail);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!failure) onChunk(chunk);
    });
  }
  return {
    request(method, params) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        write({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
      });
    },
    async notify(method, params) {
      if (failure) throw failure;
      write({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
    },
    async close() {
      failure ??= new McpProbeError('exited', 'closed');
      child?.stdin?.end();
      kill();
      if (child && child.exitCode === null && child.signalCode === null) await new Promise((r) => child!.once('exit', r));
    },
  };
}

/** One Streamable HTTP session: where, the bounds, and what the server told us so far. */
interface HttpSession {
  t: HttpTarget;
  limits: Limits;
  signal: AbortSignal;
  sessionId?: string;
  protocol?: string;
  /** Bytes received over the whole session (bounded by limits.maxBytes). */
  total: number;
}

function httpRpc(t: HttpTarget, limits: Limits, signal: AbortSignal): Rpc {
  let nextId = 1;
  const s: HttpSession = { t, limits, signal, total: 0 };
  return {
    async request(method, params) {
      const id = nextId++;
      const result = await httpPost(s, { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }, id);
      if (method === 'initialize' && isObject(result) && typeof result.protocolVersion === 'string') s.protocol = result.protocolVersion.slice(0, 40);
      return result;
    },
    async notify(method, params) {
      await httpPost(s, { jsonrpc: '2.0', method, ...(params ? { params } : {}) }, undefined);
    },
    async close() {
      if (!s.sessionId) return;
      const headers: Record<string, string> = { ...t.headers, 'mcp-session-id': s.sessionId };
      await fetch(t.url, { method: 'DELETE', headers, redirect: 'manual', signal: AbortSignal.timeout(2000) })
        .then((r) => r.body?.cancel())
        .catch(() => undefined);
    },
  };
}

/** POST one message (never following a redirect); for a request (`expectId`), read its answer. */
async function httpPost(s: HttpSession, body: Record<string, unknown>, expectId: number | undefined): Promise<unknown> {
  const { t } = s;
  const headers: Record<string, string> = { ...t.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (s.sessionId) headers['mcp-session-id'] = s.sessionId;
  if (s.protocol) headers['mcp-protocol-version'] = s.protocol;
  let res: Response;
  try {
    // Never follow a redirect: configured headers must not reach another origin.
    res = await fetch(t.url, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', signal: s.signal });
  } catch (err) {
    throw new McpProbeError('http', `cannot reach ${t.url}: ${(err as Error).message}`);
  }
  const sid = res.headers.get('mcp-session-id');
  if (sid && /^[\x21-\x7e]{1,256}$/.test(sid)) s.sessionId = sid;
  if (expectId === undefined) {
    await res.body?.cancel().catch(() => undefined);
    if (!res.ok && res.status !== 202) throw new McpProbeError('http', `HTTP ${res.status} from ${t.url}`);
    return undefined;
  }
  if (res.status >= 300 && res.status < 400) throw new McpProbeError('http', `HTTP ${res.status}: the server redirects (not followed)`);
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new McpProbeError('http', `HTTP ${res.status} from ${t.url}`);
  }
  return readHttpAnswer(s, res, expectId);
}

/**
 * The result of request `expectId` from a JSON or an SSE answer, read in bounded chunks; requests
 * from the server in it are refused (dispatch), and the stream is cancelled once the result came.
 */
async function readHttpAnswer(s: HttpSession, res: Response, expectId: number): Promise<unknown> {
  const { limits } = s;
  const type = res.headers.get('content-type') ?? '';
  const sse = type.includes('text/event-stream');
  const pending = new Map<number, Pending>();
  let result: unknown;
  let done = false;
  pending.set(expectId, {
    resolve: (v) => {
      result = v;
      done = true;
    },
    reject: (e) => {
      throw e;
    },
  });
  const onMessage = (text: string) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      throw new McpProbeError('protocol', 'the server sent a message that is not JSON');
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) dispatch(m, pending, () => undefined);
  };
  const reader = res.body?.getReader();
  if (!reader) throw new McpProbeError('protocol', 'an empty answer');
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end) break;
      s.total += value.length;
      if (s.total > limits.maxBytes) throw new McpProbeError('flood', `the server sent more than ${limits.maxBytes} bytes`);
      text += decoder.decode(value, { stream: true });
      if (text.length > limits.maxMessageBytes) throw new McpProbeError('flood', `one message from the server is over ${limits.maxMessageBytes} bytes`);
      if (sse) text = takeSseEvents(text, onMessage, () => done);
    }
    if (!done && !sse && text.trim()) onMessage(text);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (!done) throw new McpProbeError('protocol', 'the answer ended without a result');
  return result;
}

/**
 * SSE: events end with a blank line; data lines carry the JSON-RPC message. Hands each complete
 * event's data to `onMessage` until `stop()`; returns the text not yet consumed.
 */
function takeSseEvents(text: string, onMessage: (data: string) => void, stop: () => boolean): string {
  let rest = text;
  let cut = rest.search(/\r?\n\r?\n/);
  while (cut >= 0 && !stop()) {
    const event = rest.slice(0, cut);
    rest = rest.slice(cut).replace(/^\r?\n\r?\n/, '');
    const data = event
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data) onMessage(data);
    cut = rest.search(/\r?\n\r?\n/);
  }
  return rest;
}
