import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ProgressEvent } from '../../src/inventory/index.js';
import type { Finding } from '../../src/inventory/types.js';
import { formatBytes } from '../../src/util/fs.js';
import { positionalsWithList } from '../args.js';
import { action, checkOutputPath, collect, EXIT_USAGE, printError, printInfo, plural, printJson, printWarning, Progress, writeOutput } from '../io.js';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .summary('build a CycloneDX AI-BOM of a folder')
    .description(
      'Walk DIR (default: the current folder), find lockfiles (npm, pnpm, yarn, Python), models, ' +
        'datasets, plugins and MCP servers, and write one CycloneDX JSON BOM. The BOM is validated ' +
        'against the official CycloneDX schema before it is written; an invalid BOM is never written. ' +
        'node_modules, .git and Python virtualenvs are skipped.',
    )
    .argument('[dir]', 'folder to scan', '.')
    .allowExcessArguments()
    .option('-o, --output <file>', 'write the BOM to FILE (default: stdout)')
    .option('--spec-version <version>', 'CycloneDX spec version: 1.6 or 1.7', '1.6')
    .option('--reproducible', 'same inputs, same bytes: no timestamp or serial number, sorted lists')
    .option('--config <file>', 'read settings from FILE instead of aibom.config.{json,yaml,yml} in DIR')
    .option('--exclude <glob>', 'leave out paths matching GLOB (relative to DIR; repeatable)', collect, [])
    .option('--follow-symlinks', 'follow symbolic links that stay inside DIR')
    .option('--keep-going', 'write the BOM even when an input could not be read (it will be incomplete)')
    .option('--max-lockfile-size <mib>', 'refuse lockfiles larger than this many MiB', '100')
    .option('--json', 'print a JSON summary on stdout (with -o)')
    .option('--publisher-key <pem>', "verify plugin signatures against this publisher's public key and pin it in the BOM (repeatable)", collect, [])
    .option('--policy <file>', "verify plugin signatures against the policy's publishers and pin the one that signed")
    .option('--mcp-tools', 'start each MCP server (isolated) or connect to it, and pin its tool definitions in the BOM')
    .option('--mcp-timeout <seconds>', 'with --mcp-tools: give each server this long to answer', '30')
    .option('--mcp-env <name>', "with --mcp-tools: let configs read this variable of aibom's environment (repeatable; none by default)", collect, [])
    .option('--mcp-server <name>', 'with --mcp-tools: only this server (its name in the config, or its bom-ref; repeatable)', collect, [])
    .option('--trusted-root <file>', 'Sigstore trusted root for verifying keyless plugin signatures (default: cached, else public-good)')
    .option('--provenance', "verify each npm package's registry provenance attestation against the lockfile integrity and record it")
    .option('--registry <url>', "npm registry for --provenance (default: npm's config: npm_config_registry, .npmrc)")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom build examples/agent -o aibom.cdx.json\n' +
        '  $ aibom build . --reproducible --spec-version 1.7 --exclude "test/**" > bom.json\n' +
        '  $ aibom build . --publisher-key acme-plugins.pub -o aibom.cdx.json   # pin plugin publishers\n' +
        '  $ aibom build . --mcp-tools -o aibom.cdx.json   # pin MCP tool definitions (starts the servers)\n' +
        '\nExit codes: 0 written, 2 usage error or an input that could not be read.',
    )
    .action(
      action(async (_dir: string, opts: BuildFlags, cmd: Command) => {
        // `--publisher-key keys/*.pub DIR` unquoted: the shell's list belongs to the flag, the folder stays the target.
        const isFolder = (w: string) => {
          try {
            return statSync(w).isDirectory();
          } catch {
            return false;
          }
        };
        const { positionals, list } = positionalsWithList([cmd.name(), ...cmd.aliases()], '--publisher-key', cmd.args, opts.publisherKey, {
          targets: 0,
          most: 1,
          isTarget: isFolder,
        });
        const dir = positionals[0] ?? '.';
        opts.publisherKey = list;
        const maxMiB = Number(opts.maxLockfileSize);
        if (!Number.isFinite(maxMiB) || maxMiB <= 0) {
          printError(`--max-lockfile-size must be a positive number of MiB, got "${opts.maxLockfileSize}"`);
          return EXIT_USAGE;
        }
        if (opts.json && !opts.output) {
          printError('--json prints a summary and needs -o FILE for the BOM itself');
          return EXIT_USAGE;
        }
        const seconds = Number(opts.mcpTimeout);
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
          printError(`--mcp-timeout must be a number of seconds between 0 and 3600, got "${opts.mcpTimeout}"`);
          return EXIT_USAGE;
        }
        if (opts.registry && !opts.provenance) {
          printError('--registry goes with --provenance');
          return EXIT_USAGE;
        }
        await checkOutputPath(opts.output);
        const { buildAibom, IncompleteInventoryError } = await import('../../src/build/aibom.js');
        const { specFor } = await import('../../src/bom/spec.js');
        specFor(opts.specVersion);
        const progress = new Progress(!opts.json);
        const printWarnings = (findings: Finding[]) => {
          for (const f of findings) {
            if (f.fatal || f.severity === 'info') continue;
            printWarning(`${f.location ? `${f.location.file}: ` : ''}${f.message}`);
          }
        };
        let built: Awaited<ReturnType<typeof buildAibom>>;
        try {
          built = await buildAibom(dir, {
            specVersion: opts.specVersion as '1.6' | '1.7',
            reproducible: !!opts.reproducible,
            ...(opts.config !== undefined ? { configFile: opts.config } : {}),
            exclude: opts.exclude,
            followSymlinks: !!opts.followSymlinks,
            maxLockfileBytes: Math.floor(maxMiB * 1024 * 1024),
            keepGoing: !!opts.keepGoing,
            publisherKeys: opts.publisherKey,
            ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
            ...(opts.trustedRoot !== undefined ? { trustedRoot: opts.trustedRoot } : {}),
            onProgress: (e) => progress.update(describeProgress(e)),
            ...(opts.mcpTools
              ? {
                  mcpTools: {
                    timeoutMs: seconds * 1000,
                    only: opts.mcpServer,
                    passEnv: opts.mcpEnv,
                    onProgress: (done: number, total: number, name: string) =>
                      progress.update(`aibom: reading MCP server ${name} (${done + 1} of ${total})`),
                  },
                }
              : {}),
            ...(opts.provenance
              ? { npmProvenance: { ...(opts.registry ? { registry: opts.registry } : {}), onProgress: (d: number, t: number) => progress.update(`npm provenance ${d}/${t}`) } }
              : {}),
          });
        } catch (err) {
          progress.done();
          if (!(err instanceof IncompleteInventoryError)) throw err;
          printWarnings(err.all);
          for (const f of err.findings) printError(`${f.location ? `${f.location.file}: ` : ''}${f.message}`);
          printError(
            `no BOM written: ${err.findings.length} input${err.findings.length > 1 ? 's' : ''} could not be read (use --keep-going to write an incomplete BOM)`,
          );
          return EXIT_USAGE;
        }
        progress.done();
        const inv = built.inventory;
        const json = built.bom;
        if (built.npmProvenance && !opts.json) {
          const sum = built.npmProvenance;
          const c = sum.counts;
          printInfo(
            `aibom: npm provenance from ${sum.registry}: ${sum.packages} packages: ${c.verified} verified, ${c.missing} without provenance, ${c.invalid} invalid, ${c.error} unreachable (${sum.cached} from the cache)`,
          );
        }
        printWarnings(inv.findings);
        for (const f of inv.findings.filter((x) => x.fatal)) printWarning(`${f.location ? `${f.location.file}: ` : ''}${f.message} (left out)`);
        await writeOutput(opts.output, built.text);
        const summary = {
          output: opts.output ?? '-',
          specVersion: opts.specVersion,
          components: json.components?.length ?? 0,
          services: json.services?.length ?? 0,
          findings: inv.findings.map((f) => ({ ...f })),
        };
        if (opts.json) printJson(summary);
        else if (opts.output) {
          printInfo(
            `aibom: wrote ${opts.output}: ${plural(summary.components, 'component')}, ${plural(summary.services, 'service')} (CycloneDX ${opts.specVersion}, schema-valid)`,
          );
        }
        return 0;
      }),
    );
}

interface BuildFlags {
  output?: string;
  specVersion: string;
  reproducible?: boolean;
  config?: string;
  exclude: string[];
  followSymlinks?: boolean;
  keepGoing?: boolean;
  maxLockfileSize: string;
  json?: boolean;
  publisherKey: string[];
  mcpTools?: boolean;
  mcpTimeout: string;
  mcpServer: string[];
  mcpEnv: string[];
  provenance?: boolean;
  registry?: string;
  policy?: string;
  trustedRoot?: string;
}

/** When each byte-counting phase (hashing) started, for its rate and time left. */
const phaseStarts = new Map<string, { at: number; bytes: number }>();

function describeProgress(e: ProgressEvent): string {
  if (e.totalBytes) {
    const done = e.bytes ?? 0;
    const pct = Math.floor((done / e.totalBytes) * 100);
    let start = phaseStarts.get(e.phase);
    if (!start) {
      start = { at: Date.now(), bytes: done };
      phaseStarts.set(e.phase, start);
    }
    const secs = (Date.now() - start.at) / 1000;
    const rate = secs >= 0.5 ? (done - start.bytes) / secs : 0;
    const speed = rate > 0 ? `, ${formatBytes(rate)}/s, ${Math.ceil((e.totalBytes - done) / rate)} s left` : '';
    return `aibom: ${e.phase} ${pct}% (${formatBytes(done)} of ${formatBytes(e.totalBytes)}${speed})`;
  }
  if (e.total) return `aibom: ${e.phase} ${e.done ?? 0}/${e.total}`;
  return `aibom: ${e.phase}…`;
}
