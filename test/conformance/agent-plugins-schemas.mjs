#!/usr/bin/env node
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the spec's ${PLUGIN_ROOT} and ${PLUGIN_DATA} placeholders are literal text here
// Part of `npm run test:conformance`: aibom's own checks of Agent Plugins 1.0.0 `plugin.json`
// and `mcp.json` (src/inventory/agent-plugins, written from the specification's text) against
// the published JSON Schemas, on a corpus of documents generated here (the spec's examples and
// one mutation per rule). For every document the schema rejects, aibom must reject it (or, for
// the spec's non-fatal cases, report it). Where the schema accepts, aibom must accept too, except
// for the rules the spec states and the schema cannot express (URL, command and header
// semantics), listed below by name. Prints `N passed, N failed`; exits 1 on any miss, 2 when the
// schemas are missing (never skips).
//
// Data: $AIBOM_AGENT_PLUGINS_SCHEMAS, else ../shared/schemas/agent-plugins-1.0.0 beside the repository.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.AIBOM_AGENT_PLUGINS_SCHEMAS
  ? resolve(process.env.AIBOM_AGENT_PLUGINS_SCHEMAS)
  : resolve(repo, '..', 'shared', 'schemas', 'agent-plugins-1.0.0');
const pluginSchemaFile = join(dataDir, 'plugin.schema.json');
const mcpSchemaFile = join(dataDir, 'mcp.schema.json');
if (!existsSync(pluginSchemaFile) || !existsSync(mcpSchemaFile)) {
  console.error(`agent-plugins conformance: no data: ${dataDir} has no plugin.schema.json and mcp.schema.json.`);
  console.error('Set AIBOM_AGENT_PLUGINS_SCHEMAS to the folder holding the Agent Plugins 1.0.0 schemas.');
  process.exit(2);
}

// The checks: from dist when built (as CI runs it, after `npm test`), else the sources through tsx.
const distDir = join(repo, 'dist', 'src', 'inventory', 'agent-plugins');
let manifestMod;
let mcpMod;
if (existsSync(join(distDir, 'manifest.js')) && process.env.AIBOM_CONFORMANCE_SOURCE !== '1') {
  manifestMod = await import(pathToFileURL(join(distDir, 'manifest.js')).href);
  mcpMod = await import(pathToFileURL(join(distDir, 'mcp-config.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  manifestMod = await import(pathToFileURL(join(repo, 'src', 'inventory', 'agent-plugins', 'manifest.ts')).href);
  mcpMod = await import(pathToFileURL(join(repo, 'src', 'inventory', 'agent-plugins', 'mcp-config.ts')).href);
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
const pluginSchema = JSON.parse(readFileSync(pluginSchemaFile, 'utf8'));
const mcpSchema = JSON.parse(readFileSync(mcpSchemaFile, 'utf8'));
const validPlugin = ajv.compile(pluginSchema);
const validMcp = ajv.compile(mcpSchema);
const P = pluginSchema.properties.$schema.const;
const M = mcpSchema.properties.$schema.const;

let passed = 0;
let failed = 0;
const miss = (what) => {
  failed++;
  console.log(`MISS ${what}`);
};

// plugin.json corpus
const full = {
  $schema: P,
  name: 'plugin-name',
  version: '1.2.0',
  description: 'Brief plugin description',
  author: { name: 'Author Name', email: 'author@example.com', url: 'https://example.com' },
  homepage: 'https://docs.example.com/plugin',
  repository: 'https://github.com/example/plugin',
  license: 'MIT',
  keywords: ['keyword1', 'keyword2'],
  extensions: { 'com.example.client': { setting: true } },
};
const plugins = [{ $schema: P, name: 'minimal-plugin' }, full];
for (const name of ['my-plugin', 'acme.tools', 'lint3r', 'a', 'a'.repeat(64), 'My-Plugin', '-start', 'has--double', 'too.many..dots', '', 'end.', 'a'.repeat(65), 'a_b', 'a b', 'é'])
  plugins.push({ $schema: P, name });
for (const key of Object.keys(full)) {
  const without = { ...full };
  delete without[key];
  plugins.push(without);
  for (const bad of [1, true, null, [], {}, 'x', ['x'], [1]]) plugins.push({ ...full, [key]: bad });
}
for (const author of [{}, { name: 'a' }, { email: 1 }, { name: 'a', x: 'y' }, { url: null }]) plugins.push({ ...full, author });
for (const extensions of [{}, { 'com.a': {} }, { 'com.a': 1 }, { 'com.a': [] }, { 'com.a': null }]) plugins.push({ ...full, extensions });
plugins.push({ ...full, unknownField: 1 }, { ...full, $schema: 'https://agent-plugins.org/schemas/2.0.0/plugin.schema.json' }, [full], 'x', null);

for (const doc of plugins) {
  const schemaOk = validPlugin(doc);
  const r = manifestMod.checkManifestValue(doc);
  const ours = r.errors.length === 0 && r.warnings.length === 0;
  const label = `plugin.json ${JSON.stringify(doc).slice(0, 160)}`;
  if (schemaOk === ours) passed++;
  else miss(`${label}: schema says ${schemaOk ? 'valid' : 'invalid'}, aibom says ${ours ? 'valid' : `${r.errors.concat(r.warnings).join('; ')}`}`);
}

// mcp.json corpus: whole documents, and each server against #/$defs/server.
const servers = {
  stdio: { type: 'stdio', command: './bin/server', args: ['--data', '${PLUGIN_DATA}/v'], env: { CONFIG: '${PLUGIN_ROOT}/c.json' }, cwd: '${PLUGIN_ROOT}' },
  bare: { type: 'stdio', command: 'npx' },
  http: { type: 'streamable-http', url: 'https://deploy.example.com/mcp', headers: { 'X-Tenant': 'public-tenant' } },
  sse: { type: 'sse', url: 'https://legacy.example.com/sse' },
  loopback: { type: 'streamable-http', url: 'http://127.0.0.1:8080/mcp' },
  noType: { command: 'x' },
  badType: { type: 'http', url: 'https://a.example' },
  mixed: { type: 'stdio', command: 'x', url: 'https://a.example' },
  emptyCommand: { type: 'stdio', command: '' },
  argsNotStrings: { type: 'stdio', command: 'x', args: [1] },
  envNotStrings: { type: 'stdio', command: 'x', env: { A: 1 } },
  reservedEnv: { type: 'stdio', command: 'x', env: { PLUGIN_ROOT: '/' } },
  reservedData: { type: 'stdio', command: 'x', env: { PLUGIN_DATA: '/' } },
  cwdPlain: { type: 'stdio', command: 'x', cwd: 'data' },
  cwdData: { type: 'stdio', command: 'x', cwd: '${PLUGIN_DATA}/db' },
  cwdDot: { type: 'stdio', command: 'x', cwd: './data' },
  cwdPrefix: { type: 'stdio', command: 'x', cwd: '${PLUGIN_ROOT}x' },
  noUrl: { type: 'sse' },
  emptyUrl: { type: 'streamable-http', url: '' },
  headersNotStrings: { type: 'sse', url: 'https://a.example', headers: { A: 1 } },
  remoteWithCommand: { type: 'sse', url: 'https://a.example', command: 'x' },
  // What the spec requires and the schema cannot express: aibom rejects, the schema accepts.
  specOnly_parentCommand: { type: 'stdio', command: '../bin/server' },
  specOnly_shellString: { type: 'stdio', command: 'npx -y tool' },
  specOnly_cwdEscape: { type: 'stdio', command: 'x', cwd: '${PLUGIN_ROOT}/../..' },
  specOnly_plainHttp: { type: 'streamable-http', url: 'http://api.example.com/mcp' },
  specOnly_userinfo: { type: 'streamable-http', url: 'https://u:p@api.example.com/mcp' },
  specOnly_fragment: { type: 'sse', url: 'https://a.example/sse#x' },
  specOnly_relativeUrl: { type: 'sse', url: '/sse' },
  specOnly_headerCase: { type: 'sse', url: 'https://a.example', headers: { 'X-A': '1', 'x-a': '2' } },
  specOnly_headerValue: { type: 'sse', url: 'https://a.example', headers: { 'X-A': 'v\r\nB: 1' } },
  specOnly_reservedCase: { type: 'stdio', command: 'x', env: { plugin_root: '/' } },
};
// Each server independently against #/$defs/server, as the spec intends (§7.2.1).
const validServer = ajv.getSchema(`${mcpSchema.$id}#/$defs/server`);
for (const [name, def] of Object.entries(servers)) {
  const schemaOk = validServer(def);
  const r = mcpMod.checkAgentMcpConfig(JSON.stringify({ $schema: M, mcpServers: { [name]: def } }), 'mcp.json', P);
  const ours = r.ok && r.entries[0].errors.length === 0;
  const expected = name.startsWith('specOnly_') ? false : schemaOk;
  if (name.startsWith('specOnly_') && !schemaOk) miss(`mcp server ${name}: meant as a spec-only rule, but the schema rejects it too`);
  else if (ours === expected) passed++;
  else miss(`mcp server ${name}: schema says ${schemaOk ? 'valid' : 'invalid'}, aibom says ${ours ? 'valid' : r.ok ? r.entries[0].errors.join('; ') : r.error}`);
}
const docs = [
  { $schema: M, mcpServers: {} },
  { $schema: M, mcpServers: { a: servers.stdio, b: servers.http } },
  { mcpServers: {} },
  { $schema: M },
  { $schema: M, mcpServers: [] },
  { $schema: M, mcpServers: {}, servers: {} },
  { $schema: 'https://agent-plugins.org/schemas/9.9.9/mcp.schema.json', mcpServers: {} },
  { $schema: 1, mcpServers: {} },
];
for (const doc of docs) {
  const schemaOk = validMcp(doc);
  const r = mcpMod.checkAgentMcpConfig(JSON.stringify(doc), 'mcp.json', P);
  const ours = r.ok && r.entries.every((e) => e.errors.length === 0);
  if (schemaOk === ours) passed++;
  else miss(`mcp.json ${JSON.stringify(doc).slice(0, 160)}: schema says ${schemaOk ? 'valid' : 'invalid'}, aibom says ${ours ? 'valid' : r.ok ? 'entry errors' : r.error}`);
}

console.log(`agent-plugins conformance: ${plugins.length} plugin.json and ${Object.keys(servers).length + docs.length} mcp.json cases against ${dataDir.split(/[\\/]/).slice(-1)[0]}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
