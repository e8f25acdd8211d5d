import type { Command } from 'commander';
import type { ProgressEvent } from '../../src/inventory/index.js';
import { formatBytes } from '../../src/util/fs.js';
import { action, checkOutputPath, collect, EXIT_USAGE, printError, printInfo, printJson, printWarning, Progress, writeOutput } from '../io.js';

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
    .option('--trusted-root <file>', 'Sigstore trusted root for verifying keyless plugin signatures (default: cached, else public-good)')
    .option('--provenance', "verify each npm package's registry provenance attestation against the lockfile integrity and record it")
    .option('--registry <url>', "npm registry for --provenance (default: npm's config: npm_config_registry, .npmrc)")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom build examples/agent -o aibom.cdx.json\n' +
        '  $ aibom build . --reproducible --spec-version 1.7 --exclude "test/**" > bom.json\n' +
        '  $ aibom build . --publisher-key acme-plugins.pub -o aibom.cdx.json   # pin plugin publishers\n' +
        '\nExit codes: 0 written, 2 usage error or an input that could not be read.',
    )
    .action(
      action(async (dir: string, opts: BuildFlags) => {
        const maxMiB = Number(opts.maxLockfileSize);
        if (!Number.isFinite(maxMiB) || maxMiB <= 0) {
          printError(`--max-lockfile-size must be a positive number of MiB, got "${opts.maxLockfileSize}"`);
          return EXIT_USAGE;
        }
        if (opts.json && !opts.output) {
          printError('--json prints a summary and needs -o FILE for the BOM itself');
          return EXIT_USAGE;
        }
        await checkOutputPath(opts.output);
        const { buildInventory } = await import('../../src/inventory/index.js');
        const { buildBom, serializeBom } = await import('../../src/bom/build.js');
        const { specFor } = await import('../../src/bom/spec.js');
        specFor(opts.specVersion);
        const progress = new Progress(!opts.json);
        const inv = await buildInventory(dir, {
          ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          exclude: opts.exclude,
          followSymlinks: !!opts.followSymlinks,
          maxLockfileBytes: Math.floor(maxMiB * 1024 * 1024),
          onProgress: (e) => progress.update(describeProgress(e)),
        });
        progress.done();
        {
          // The lock: scanned plugin folders, and the publishers whose plugin signatures verify (src/runtime/pin.ts).
          const { recordPluginPaths, pinPublishers } = await import('../../src/runtime/pin.js');
          const { loadConfig } = await import('../../src/inventory/config.js');
          const { resolve } = await import('node:path');
          const root = resolve(dir);
          await recordPluginPaths(inv, root, await loadConfig(root, { display: dir, ...(opts.config !== undefined ? { file: opts.config } : {}) }));
          if (opts.publisherKey.length || opts.policy) {
            const policy = opts.policy ? await (await import('../../src/policy/load.js')).loadPolicy(opts.policy) : undefined;
            await pinPublishers(inv, {
              root,
              publisherKeys: opts.publisherKey,
              ...(policy ? { policy } : {}),
              ...(opts.trustedRoot !== undefined ? { trustedRoot: opts.trustedRoot } : {}),
            });
          }
        }
        if (opts.registry && !opts.provenance) {
          printError('--registry goes with --provenance');
          return EXIT_USAGE;
        }
        if (opts.provenance) {
          const { resolve } = await import('node:path');
          const { npmProvenanceStep } = await import('../../src/provenance/build-step.js');
          const sum = await npmProvenanceStep(inv, {
            cwd: resolve(dir),
            ...(opts.registry ? { registry: opts.registry } : {}),
            ...(opts.trustedRoot !== undefined ? { trustedRoot: opts.trustedRoot } : {}),
            onProgress: (d, t) => progress.update(`npm provenance ${d}/${t}`),
          });
          progress.done();
          const c = sum.counts;
          if (!opts.json) {
            printInfo(
              `aibom: npm provenance from ${sum.registry}: ${sum.packages} packages: ${c.verified} verified, ${c.missing} without provenance, ${c.invalid} invalid, ${c.error} unreachable (${sum.cached} from the cache)`,
            );
          }
        }
        const fatal = inv.findings.filter((f) => f.fatal);
        for (const f of inv.findings) {
          if (f.fatal) continue;
          if (f.severity === 'info') continue;
          printWarning(`${f.location ? `${f.location.file}: ` : ''}${f.message}`);
        }
        if (fatal.length && !opts.keepGoing) {
          for (const f of fatal) printError(`${f.location ? `${f.location.file}: ` : ''}${f.message}`);
          printError(
            `no BOM written: ${fatal.length} input${fatal.length > 1 ? 's' : ''} could not be read (use --keep-going to write an incomplete BOM)`,
          );
          return EXIT_USAGE;
        }
        for (const f of fatal) printWarning(`${f.location ? `${f.location.file}: ` : ''}${f.message} (left out)`);
        const json = await buildBom(inv, { specVersion: opts.specVersion as '1.6' | '1.7', reproducible: !!opts.reproducible });
        await writeOutput(opts.output, serializeBom(json));
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
            `aibom: wrote ${opts.output}: ${summary.components} components, ${summary.services} services (CycloneDX ${opts.specVersion}, schema-valid)`,
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
