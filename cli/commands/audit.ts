import { dirname } from 'node:path';
import type { Command } from 'commander';
import { action, collect, EXIT_USAGE, printError, writeOutput } from '../io.js';

const FORMATS = ['table', 'json', 'sarif', 'markdown', 'html'] as const;

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .summary('show what is in a BOM: pinned, hashed, signed, provenance, risks')
    .description(
      'The inventory a reviewer reads. For each component: kind, name, version, pinned?, hashed?, ' +
        'signed (by whom)?, provenance, license and risks, with counts at the top. Reads a CycloneDX ' +
        'JSON BOM, or builds one in memory from a folder (default: the current folder).',
    )
    .argument('[bom-or-dir]', 'a CycloneDX JSON BOM or a folder to scan', '.')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .option('--json', 'same as --format json')
    .option('--filter <expr>', 'show only matching rows; repeatable: kind=model, unpinned, unsigned, unhashed, risky, name=GLOB', collect, [])
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom audit aibom.cdx.json\n' +
        '  $ aibom audit examples/agent --filter kind=plugin --filter unsigned\n' +
        '  $ aibom audit aibom.cdx.json --format html -o inventory.html\n' +
        '  $ aibom audit aibom.cdx.json --format sarif -o aibom.sarif\n' +
        '\nColour only on a terminal; NO_COLOR turns it off. Exit codes: 0 report written, 2 usage or input error.',
    )
    .action(
      action(async (target: string, opts: { format: string; json?: boolean; filter: string[]; output?: string }) => {
        const format = opts.json ? 'json' : opts.format;
        if (!(FORMATS as readonly string[]).includes(format)) {
          printError(`unknown --format "${format}"; choose one of ${FORMATS.join(', ')}`);
          return EXIT_USAGE;
        }
        const { loadOrBuildBom } = await import('../../src/build/load.js');
        const { inventoryFromBom } = await import('../../src/bom/rows.js');
        const { filterRows } = await import('../../src/report/filter.js');
        const loaded = await loadOrBuildBom(target);
        const rep = inventoryFromBom(loaded.bom);
        const rows = filterRows(rep.rows, opts.filter);
        let out: string;
        if (format === 'json') {
          out = `${JSON.stringify(
            {
              project: rep.project,
              specVersion: rep.specVersion,
              summary: rep.summary,
              components: rows.map(({ properties: _p, hashValues: _h, ...r }) => r),
              findings: rep.findings,
            },
            null,
            2,
          )}\n`;
        } else if (format === 'markdown') {
          const { renderAuditMarkdown } = await import('../../src/report/markdown.js');
          out = renderAuditMarkdown(rep, rows);
        } else if (format === 'sarif') {
          const { auditToSarif, findRepoRoot } = await import('../../src/report/sarif.js');
          // Built from a folder: locations are relative to it; a BOM file: to the folder it sits in.
          const scanRoot = loaded.builtFromDir ? target : dirname(target);
          const paths = { scanRoot, repoRoot: findRepoRoot(scanRoot) };
          out = `${JSON.stringify(auditToSarif({ ...rep, rows }, loaded.builtFromDir ? target : loaded.source, paths), null, 2)}\n`;
        } else if (format === 'html') {
          const { renderAuditHtml } = await import('../../src/report/html.js');
          out = renderAuditHtml({ ...rep, rows });
        } else {
          const { renderAuditTable } = await import('../../src/report/text.js');
          const toTty = !opts.output && process.stdout.isTTY === true;
          out = renderAuditTable(rep, rows, {
            color: toTty && !process.env.NO_COLOR,
            width: toTty ? (process.stdout.columns ?? 80) : 80,
            // Piped or to a file: whole names and messages, for grep and friends.
            truncate: toTty,
          });
        }
        await writeOutput(opts.output, out);
        return 0;
      }),
    );
}
