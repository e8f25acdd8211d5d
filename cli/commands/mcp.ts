import type { Command } from 'commander';
import { action, EXIT_CHECK_FAILED, EXIT_USAGE, printError, printJson } from '../io.js';

interface McpCheckFlags {
  bom: string;
  root?: string;
  server: string[];
  timeout: string;
  env: string[];
  json?: boolean;
}

export function registerMcp(program: Command): void {
  const mcp = program.command('mcp').summary('MCP servers: check their tool definitions against the pins in a BOM');
  mcp
    .command('check')
    .summary('read MCP servers live and compare their tools with the BOM (rug-pull check)')
    .description(
      'Start each MCP server the BOM pins tools for (built with `aibom build --mcp-tools`),\n' +
        'isolated as the build starts it (only the environment its config names, a temporary\n' +
        'HOME, a deadline, killed afterwards), or connect to it over Streamable HTTP; read\n' +
        'tools/list (every page) and compare each tool (SHA-256 over the RFC 8785 canonical\n' +
        'JSON of its name, description, inputSchema, outputSchema and annotations) with the BOM.\n' +
        'Exit 1 naming every added, removed or changed tool, or a server that cannot be read.',
    )
    .requiredOption('--bom <file>', 'the AI-BOM (CycloneDX JSON) with tool pins')
    .option('--root <dir>', 'the folder the BOM was built from (its MCP configs are read there; default: the current folder)')
    .option('--server <name>', 'only this server (its name in the config, or its bom-ref; repeatable)', (v: string, p: string[]) => [...p, v], [])
    .option('--timeout <seconds>', 'give each server this long to answer', '30')
    .option('--env <name>', "let configs read this variable of aibom's environment (repeatable; none by default)", (v: string, p: string[]) => [...p, v], [])
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom build . --mcp-tools -o aibom.cdx.json\n' +
        '  $ aibom mcp check --bom aibom.cdx.json\n' +
        '  $ aibom mcp check --bom aibom.cdx.json --server reports --json\n' +
        '\nExit codes: 0 every tool as pinned, 1 a tool changed or a server could not be read, 2 usage or input error.',
    )
    .action(
      action(async (opts: McpCheckFlags) => {
        const seconds = Number(opts.timeout);
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
          printError(`--timeout must be a number of seconds between 0 and 3600, got "${opts.timeout}"`);
          return EXIT_USAGE;
        }
        const { resolve } = await import('node:path');
        const { readTextBounded } = await import('../../src/util/fs.js');
        const { parseJsonText } = await import('../../src/util/json.js');
        const { pinnedServers, findPinnedServer, describeChanges } = await import('../../src/mcp-tools/verify.js');
        const { compareToolPins } = await import('../../src/mcp-tools/definitions.js');
        const { readServerTools } = await import('../../src/mcp-tools/pin.js');
        const { describeFailure } = await import('../../src/mcp-tools/targets.js');
        const bom = parseJsonText(await readTextBounded(opts.bom, 512 * 1024 * 1024, opts.bom), opts.bom);
        const servers = opts.server.length ? opts.server.map((s) => findPinnedServer(bom, s)) : pinnedServers(bom);
        if (!servers.length) {
          printError(`${opts.bom}: the BOM pins no MCP tools (build it with --mcp-tools)`);
          return EXIT_USAGE;
        }
        const root = resolve(opts.root ?? '.');
        const results: Array<{ server: string; ref: string; ok: boolean; added?: string[]; removed?: string[]; changed?: string[]; error?: string }> = [];
        for (const s of servers) {
          if (!s.config) {
            results.push({ server: s.name, ref: s.ref, ok: false, error: 'the BOM does not say which config defines it' });
            continue;
          }
          try {
            const ref = { ref: s.ref, config: s.config, name: s.name };
            const agentPlugins = isAgentPluginsServer(bom, s.ref);
            const plugin = pluginOf(bom, s.ref);
            const { pins } = await readServerTools(root, { ...ref, ...(agentPlugins ? { agentPlugins } : {}), ...(plugin ? { plugin } : {}) }, { timeoutMs: seconds * 1000, passEnv: opts.env });
            const c = compareToolPins(s.pins.tools, pins.tools);
            const ok = !c.added.length && !c.removed.length && !c.changed.length && pins.sha256 === s.pins.sha256;
            results.push({ server: s.name, ref: s.ref, ok, ...c });
          } catch (err) {
            results.push({ server: s.name, ref: s.ref, ok: false, error: describeFailure(err) });
          }
        }
        const failed = results.filter((r) => !r.ok).length;
        if (opts.json) printJson({ ok: failed === 0, servers: results });
        else
          for (const r of results) {
            const what = r.error ? `cannot read its tools: ${r.error}` : r.ok ? 'tools as pinned' : describeChanges({ added: r.added ?? [], removed: r.removed ?? [], changed: r.changed ?? [] });
            process.stdout.write(`${r.ok ? 'OK' : 'CHANGED'} ${r.server} (${r.ref}): ${what}\n`);
          }
        return failed ? EXIT_CHECK_FAILED : 0;
      }),
    );
}

function propsOf(bom: unknown, ref: string): Array<{ name: string; value: string }> {
  const b = bom as { components?: unknown[]; services?: unknown[] };
  const e = [...(b.components ?? []), ...(b.services ?? [])].find((x) => (x as { 'bom-ref'?: string })['bom-ref'] === ref) as
    | { properties?: Array<{ name: string; value: string }> }
    | undefined;
  return Array.isArray(e?.properties) ? e.properties : [];
}

function isAgentPluginsServer(bom: unknown, ref: string): boolean {
  return propsOf(bom, ref).some((p) => p.name === 'aibom:agent-plugins:loadable');
}

function pluginOf(bom: unknown, ref: string): string | undefined {
  const v = propsOf(bom, ref).find((p) => p.name === 'aibom:plugin')?.value;
  return typeof v === 'string' && v.startsWith('plugin:') ? v.slice('plugin:'.length) : undefined;
}
