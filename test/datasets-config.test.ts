import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BomDoc, prop, runCli, tempDir } from './helpers/cli.js';

async function write(root: string, rel: string, content: string | Buffer): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** model_signing "files" manifest digest, computed independently of aibom. */
function expectedDigest(files: Record<string, string | Buffer>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) h.update(createHash('sha256').update(files[name]!).digest());
  return h.digest('hex');
}

interface Summary {
  findings: Array<{ code: string; severity: string; message: string; component?: string; location?: { file: string; line?: number } }>;
}

const FAQ = `${JSON.stringify({ q: 'How do I reset my password?', a: 'Settings > Security.' })}\n`.repeat(40);
const SHARDS = {
  'train-00000.parquet': Buffer.from('PAR1 shard zero PAR1'),
  'train-00001.parquet': Buffer.from('PAR1 shard one PAR1'),
  'README.md': '# tickets\n',
};

const CONFIG_YAML = `# datasets, services and plugin folders for the test agent
datasets:
  - path: data/faq.jsonl
    name: support-faq
    description: FAQ pairs used for retrieval
    classification: internal
    sensitiveData: [customer names, email addresses]
    license: CC-BY-4.0
  - path: data/tickets/
    description: Past tickets, fine-tuning set
    classification: confidential
  - path: data/missing.csv
  - path: data/escape.csv
services:
  - name: openai-chat
    provider: OpenAI
    description: Chat completions
    endpoints:
      - https://api.openai.com/v1/chat/completions
  - name: leaky
    endpoints:
      - https://user:hunter2-secret@llm.example.com/v1?api_key=sk-config-secret-value
plugins:
  paths: [tools]
  exclude: ["tools/experimental-*"]
exclude:
  - vendor/**
`;

describe('datasets and external AI APIs from aibom.config.yaml', () => {
  it('builds data components, services and honours plugin paths and excludes (1.6 and 1.7)', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      await write(dir, 'package.json', JSON.stringify({ name: 'data-agent', version: '2.0.0' }));
      await write(dir, 'aibom.config.yaml', CONFIG_YAML);
      await write(dir, 'data/faq.jsonl', FAQ);
      for (const [n, c] of Object.entries(SHARDS)) await write(dir, `data/tickets/${n}`, c);
      await write(root, 'outside.csv', 'a,b\n1,2\n');
      await symlink(join(root, 'outside.csv'), join(dir, 'data', 'escape.csv'));
      await write(dir, 'tools/search/package.json', JSON.stringify({ name: 'search', version: '1.0.0' }));
      await write(dir, 'tools/experimental-x/package.json', JSON.stringify({ name: 'experimental-x', version: '0.0.1' }));
      await write(dir, 'plugins/not-configured/package.json', JSON.stringify({ name: 'not-configured', version: '1.0.0' }));
      await write(dir, 'vendor/.mcp.json', JSON.stringify({ mcpServers: { vendored: { command: 'npx', args: ['vendored@1.0.0'] } } }));

      for (const spec of ['1.6', '1.7']) {
        const out = join(root, `bom-${spec}.json`);
        const r = await runCli(['build', dir, '-o', out, '--json', '--spec-version', spec]);
        expect(r.code, r.stderr).toBe(0);
        const raw = await readFile(out, 'utf8');
        const bom = JSON.parse(raw) as BomDoc;
        const summary = JSON.parse(r.stdout) as Summary;
        expect(bom.specVersion).toBe(spec);

        const faq = (bom.components ?? []).find((c) => c['bom-ref'] === 'dataset:local/data/faq.jsonl')!;
        expect(faq.type).toBe('data');
        expect(faq.name).toBe('support-faq');
        expect(faq.hashes).toEqual([{ alg: 'SHA-256', content: sha256(FAQ) }]);
        expect(prop(faq, 'aibom:size')).toBe(String(Buffer.byteLength(FAQ)));
        expect(prop(faq, 'aibom:dataset:format')).toBe('jsonl');
        expect(prop(faq, 'aibom:kind')).toBe('dataset');
        expect(faq['mime-type']).toBe('application/jsonl');
        expect(faq.licenses).toEqual([{ license: { id: 'CC-BY-4.0' } }]);
        expect(faq.data).toEqual([
          {
            type: 'dataset',
            name: 'support-faq',
            contents: { url: 'data/faq.jsonl' },
            description: 'FAQ pairs used for retrieval',
            classification: 'internal',
            sensitiveData: ['customer names', 'email addresses'],
          },
        ]);
        expect(faq.evidence.occurrences).toEqual(
          expect.arrayContaining([{ location: 'data/faq.jsonl' }, { location: 'aibom.config.yaml', line: 3 }]),
        );

        const tickets = (bom.components ?? []).find((c) => c['bom-ref'] === 'dataset:local/data/tickets')!;
        expect(tickets.name).toBe('tickets');
        const digest = expectedDigest(SHARDS);
        expect(tickets.hashes).toEqual([{ alg: 'SHA-256', content: digest }]);
        expect(prop(tickets, 'aibom:folder-digest')).toBe(`sha256:${digest}`);
        expect(prop(tickets, 'aibom:dataset:format')).toBe('parquet');
        expect(prop(tickets, 'aibom:file-count')).toBe('3');
        expect(tickets.data[0].classification).toBe('confidential');

        const missing = summary.findings.find((f) => f.code === 'dataset-missing');
        expect(missing?.location).toEqual({ file: 'aibom.config.yaml', line: 12 });
        const escaped = (bom.components ?? []).find((c) => c['bom-ref'] === 'dataset:local/data/escape.csv')!;
        expect(escaped.hashes ?? []).toEqual([]);
        const link = summary.findings.find((f) => f.code === 'dataset-symlink');
        expect(link?.severity).toBe('high');
        expect(link?.message).toMatch(/out of the scanned folder; not followed/);

        const openai = (bom.services ?? []).find((s) => s.name === 'openai-chat')!;
        expect(openai.endpoints).toEqual(['https://api.openai.com/v1/chat/completions']);
        expect(openai.provider).toEqual({ name: 'OpenAI' });
        expect(openai['x-trust-boundary']).toBe(true);
        expect(openai.trustZone).toBe('external');
        expect(prop(openai, 'aibom:service:kind')).toBe('ai-api');
        const leaky = (bom.services ?? []).find((s) => s.name === 'leaky')!;
        expect(leaky.endpoints).toEqual(['https://llm.example.com/v1?api_key=REDACTED']);
        expect(raw).not.toContain('hunter2-secret');
        expect(raw).not.toContain('sk-config-secret-value');
        expect(r.stderr).not.toContain('hunter2-secret');
        expect(summary.findings.some((f) => f.code === 'service-endpoint-credentials')).toBe(true);

        const plugins = bom.components?.filter((c) => prop(c, 'aibom:kind') === 'plugin').map((c) => c.name);
        expect(plugins).toEqual(['search']);
        expect(bom.components?.some((c) => prop(c, 'aibom:mcp:server') === 'vendored')).toBe(false);
      }
    } finally {
      await cleanup();
    }
  }, 120_000);
});

describe('aibom config errors', () => {
  async function buildWith(files: Record<string, string>, extra: string[] = []) {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      for (const [rel, content] of Object.entries(files)) await write(dir, rel, content);
      const r = await runCli(['build', dir, ...extra]);
      return { ...r, dir };
    } finally {
      await cleanup();
    }
  }

  it('an unknown key is an input error (exit 2) naming the file, the key and its line', async () => {
    const r = await buildWith({ 'aibom.config.yaml': 'datasets:\n  - path: a.csv\n    clasification: internal\n' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`aibom: ${join(r.dir, 'aibom.config.yaml')}: invalid aibom config`);
    expect(r.stderr).toContain('line 3: datasets[0].clasification: unknown key');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a wrong type is an error with the path and line, in YAML and in JSON', async () => {
    const y = await buildWith({ 'aibom.config.yml': 'datasets:\n  - path: a.csv\n    sensitiveData: PII\nplugins:\n  paths: plugins\n' });
    expect(y.code).toBe(2);
    expect(y.stderr).toContain('aibom.config.yml: invalid aibom config');
    expect(y.stderr).toContain('line 3: datasets[0].sensitiveData: must be an array');
    expect(y.stderr).toContain('line 5: plugins.paths: must be an array');
    const j = await buildWith({
      'aibom.config.json': '{\n  "services": [\n    { "name": "x", "endpoints": ["not a url"] }\n  ],\n  "mcp": { "configs": [1] }\n}\n',
    });
    expect(j.code).toBe(2);
    expect(j.stderr).toContain('aibom.config.json: invalid aibom config');
    expect(j.stderr).toContain('line 3: services[0].endpoints[0]: must be a URL');
    expect(j.stderr).toContain('line 5: mcp.configs[0]: must be a string');
  });

  it('paths out of the folder, invalid YAML, two config files: errors naming the file', async () => {
    const out = await buildWith({ 'aibom.config.yaml': 'datasets:\n  - path: ../../etc/passwd\n' });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('line 2: datasets[0].path: "../../etc/passwd" leaves the scanned folder');
    const bad = await buildWith({ 'aibom.config.yaml': 'datasets: [\n  { path: a.csv\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/aibom\.config\.yaml: line \d+: not valid YAML/);
    const two = await buildWith({ 'aibom.config.yaml': 'exclude: []\n', 'aibom.config.json': '{}' });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('more than one aibom config file (aibom.config.json, aibom.config.yaml)');
  });

  it('--config FILE is read instead of the folder’s own; a missing one is an error', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'agent');
      await write(dir, 'aibom.config.yaml', 'bogus: true\n');
      await write(dir, 'data/x.csv', 'a\n1\n');
      await write(root, 'ci.aibom.json', JSON.stringify({ datasets: [{ path: 'data/x.csv', name: 'x-set' }] }));
      const r = await runCli(['build', dir, '--config', join(root, 'ci.aibom.json')]);
      expect(r.code, r.stderr).toBe(0);
      const bom = JSON.parse(r.stdout) as BomDoc;
      expect(bom.components?.find((c) => c.type === 'data')?.name).toBe('x-set');
      const missing = await runCli(['build', dir, '--config', join(root, 'nope.yaml')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`aibom: ${join(root, 'nope.yaml')}: no such file or directory`);
      const own = await runCli(['build', dir]);
      expect(own.code).toBe(2);
      expect(own.stderr).toContain(`aibom: ${join(dir, 'aibom.config.yaml')}: invalid aibom config (schemas/aibom-config.schema.json): line 1: bogus: unknown key`);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
