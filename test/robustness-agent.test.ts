/**
 * Robustness (the example agent and model files; lockfiles and single-file inputs are in
 * test/robustness-lockfiles.test.ts): every input aibom parses is hostile until checked. Each fixture (lockfiles of
 * every kind, the example agent's files) and generated model files of every format are turned
 * into bounded, deterministic mutants (test/helpers/mutate.ts: truncated, bytes flipped, lines
 * duplicated or removed, huge numbers and length fields, deep nesting, invalid UTF-8, NUL
 * bytes, CRLF / CR, byte-order marks, very long lines, empty, values of the wrong type) and fed
 * to the CLI as a user runs it. For every run: exit 0, or 2 with `aibom: <path>: ` naming the
 * offending file (1 where a check legitimately fails); no stack trace, no "looks like a bug";
 * the process finishes; a BOM written on exit 0 validates (checked in-process against the
 * CycloneDX schema, as `aibom validate` does); no output file after a failure.
 *
 * Many mutants share one folder, so one `aibom build` reads hundreds of them: the build names
 * every input it could not read, and `--keep-going` must then write a valid BOM of the rest.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXAMPLE_AGENT,
  folderFileMutants,
  listFiles,
  modelSeeds,
  type SeedFolder,
  writeMutantCopy,
} from './helpers/fuzz-corpus.js';
import { kindOf, mutate } from './helpers/mutate.js';
import {
  agentUnit,
  useMutantRun,
  slug,
} from './helpers/robustness.js';

const run = useMutantRun();
const { count, checkBuild } = run;

describe('aibom build on the mutated example agent and model files', () => {
  /** Read only at the scanned root or when named on the command line: one mutant per run, below. */
  const skipped = new Set(['aibom.config.yaml', 'aibom-policy.yaml', 'keys/web-search-publisher.pub', 'keys/reports-publisher.pub']);

  it('example agent: models, model card, dataset, plugins (signed one verified), MCP config, lockfile', async () => {
    const agent: SeedFolder = { name: 'agent', abs: EXAMPLE_AGENT, files: await listFiles(EXAMPLE_AGENT) };
    const root = join(run.dir, 'agent-batch');
    const plugins: string[] = [];
    const datasets: string[] = [];
    let n = 0;
    for (const rel of agent.files.filter((f) => !skipped.has(f))) {
      for (const m of await folderFileMutants(agent, rel)) {
        // Each mutant with what its reader needs beside it (its model folder, its plugin, the
        // lockfile's package.json), not the whole agent: hashing 500 copies of it is no test.
        const name = slug(rel, m.name);
        await writeMutantCopy(agent, rel, m, join(root, name), agentUnit(rel));
        if (rel.startsWith('plugins/')) plugins.push(`${name}/plugins`);
        if (rel.startsWith('data/')) datasets.push(`${name}/${rel}`);
        count(`example agent: ${kindOf(rel)}`, 1);
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
    // The batch's own config makes each copy's plugins and dataset count, as the agent's does
    // for its own; the policy pins the web-search publisher, so every copy's model.sig is verified.
    const config = {
      plugins: { paths: [...new Set(plugins)] },
      datasets: datasets.map((path, i) => ({ path, name: `faq-${i}` })),
    };
    await writeFile(join(root, 'aibom.config.json'), JSON.stringify(config, null, 1));
    await cp(join(EXAMPLE_AGENT, 'aibom-policy.yaml'), join(root, 'aibom-policy.yaml'));
    await cp(join(EXAMPLE_AGENT, 'keys'), join(root, 'keys'), { recursive: true });
    const { findings } = await checkBuild(root, 'agent', ['--policy', join(root, 'aibom-policy.yaml')]);
    // The mutants reached the readers: broken model files, manifests and MCP configs are findings.
    const codes = new Set(findings.map((f) => f.code));
    for (const code of ['mcp-config-invalid', 'plugin-manifest-invalid']) expect(codes, [...codes].join(', ')).toContain(code);
    // ~650 mutants (the Agent Plugins package among them) in two builds: more than the default minute on a busy machine.
  }, 180_000);

  it('generated model files of every format, with huge length and count fields', async () => {
    const root = join(run.dir, 'models-batch');
    let n = 0;
    for (const seed of modelSeeds()) {
      const mutants = mutate(seed.name, seed.data, seed.options);
      expect(mutants.length, seed.name).toBeGreaterThanOrEqual(15);
      const ext = extname(seed.name);
      for (const m of mutants) {
        // Loose files under models/, and each also as the weights of a Hugging Face folder.
        await mkdir(join(root, 'models'), { recursive: true });
        await writeFile(join(root, 'models', `${basename(seed.name, ext)}--${m.name}${ext}`), m.data);
        const hf = join(root, 'hf', slug(seed.name, m.name));
        await mkdir(hf, { recursive: true });
        await writeFile(join(hf, seed.name), m.data);
        await writeFile(join(hf, 'config.json'), JSON.stringify({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }));
        count(`model files: ${ext.slice(1)}`, 1);
        n++;
      }
    }
    const { findings } = await checkBuild(root, 'models');
    expect(findings.filter((f) => f.code.startsWith('pickle-')).length, `${n} model mutants`).toBeGreaterThan(0);
  });
});
