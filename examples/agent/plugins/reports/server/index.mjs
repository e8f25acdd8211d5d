// The ticket-lookup MCP server (stdio, newline-delimited JSON-RPC; no dependencies). Its tool
// definitions are in the JSON file named by its first argument.
import { readFileSync } from 'node:fs';

const tools = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tickets = { 'T-1001': { subject: 'Refund for a double charge', message: 'I was charged twice this month.', status: 'open' } };
const send = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);

function handle(m) {
  if (m.id === undefined) return; // a notification
  if (m.method === 'initialize') {
    send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'tickets', version: '1.0.0' } } });
  } else if (m.method === 'tools/list') {
    send({ jsonrpc: '2.0', id: m.id, result: { tools } });
  } else if (m.method === 'tools/call' && m.params?.name === 'lookup_ticket') {
    const t = tickets[m.params.arguments?.id];
    send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: JSON.stringify(t ?? null) }], isError: !t } });
  } else if (m.method === 'tools/call' && m.params?.name === 'list_open_tickets') {
    send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: JSON.stringify(Object.keys(tickets)) }] } });
  } else {
    send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `unknown method ${m.method}` } });
  }
}

let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i).trim();
    buf = buf.slice(i + 1);
    if (line) handle(JSON.parse(line));
  }
});
