import type { Command } from 'commander';
import { action, EXIT_CHECK_FAILED, EXIT_USAGE, printError, writeOutput } from '../io.js';

const FORMATS = ['text', 'json', 'markdown'] as const;
const FAIL_ON = ['suspicious', 'signer', 'provenance', 'downgraded', 'added', 'removed', 'any'] as const;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .summary('compare two BOMs: added, removed, upgraded, downgraded, suspicious, provenance')
    .description(
      'Compare two BOMs (files, or folders to scan). Components are matched by kind and name. ' +
        'The alarm case, the same name and version with a different hash, is flagged "suspicious": ' +
        'the artifact was re-published or tampered with. A plugin or model whose pinned signer changed ' +
        '(another repository, workflow, issuer or key) is a "provenance" change.',
    )
    .argument('<old>', 'the old BOM (or folder)')
    .argument('<new>', 'the new BOM (or folder)')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('--json', 'same as --format json')
    .option('--fail-on <kinds>', `exit 1 when any of these changes is found (comma-separated): ${FAIL_ON.join(', ')}`)
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ aibom diff v1.cdx.json v2.cdx.json\n' +
        '  $ aibom diff v1.cdx.json v2.cdx.json --fail-on suspicious,downgraded --json\n' +
        '\nExit codes: 0 compared (no --fail-on match), 1 a --fail-on change was found, 2 usage or input error.',
    )
    .action(
      action(async (oldArg: string, newArg: string, opts: { format: string; json?: boolean; failOn?: string; output?: string }) => {
        const format = opts.json ? 'json' : opts.format;
        if (!(FORMATS as readonly string[]).includes(format)) {
          printError(`unknown --format "${format}"; choose one of ${FORMATS.join(', ')}`);
          return EXIT_USAGE;
        }
        const failOn = (opts.failOn ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const f of failOn) {
          if (!(FAIL_ON as readonly string[]).includes(f)) {
            printError(`unknown --fail-on "${f}"; choose from ${FAIL_ON.join(', ')}`);
            return EXIT_USAGE;
          }
        }
        const { loadOrBuildBom } = await import('../../src/build/load.js');
        const { inventoryFromBom } = await import('../../src/bom/rows.js');
        const { diffInventories } = await import('../../src/report/diff.js');
        const [a, b] = await Promise.all([loadOrBuildBom(oldArg), loadOrBuildBom(newArg)]);
        const res = diffInventories(inventoryFromBom(a.bom), inventoryFromBom(b.bom));
        let out: string;
        if (format === 'json') out = `${JSON.stringify({ old: oldArg, new: newArg, ...res }, null, 2)}\n`;
        else if (format === 'markdown') {
          const { mdCell } = await import('../../src/report/markdown.js');
          const lines = [`## BOM diff: ${mdCell(oldArg)} → ${mdCell(newArg)}`, '', '| change | kind | name | from | to | detail |', '| --- | --- | --- | --- | --- | --- |'];
          for (const c of res.changes) {
            lines.push(`| ${c.kind} | ${c.component} | ${mdCell(c.name)} | ${mdCell(c.from ?? '')} | ${mdCell(c.to ?? '')} | ${mdCell(c.detail ?? '')} |`);
          }
          out = `${lines.join('\n')}\n`;
        } else {
          const lines = res.changes.map((c) => {
            const sym = { added: '+', removed: '-', upgraded: '↑', downgraded: '↓', changed: '~', suspicious: '!', signer: '!', provenance: '!' }[c.kind];
            const ver = c.kind === 'added' ? c.to : c.kind === 'removed' ? c.from : c.from === c.to ? c.from : `${c.from} → ${c.to}`;
            return `${sym} ${c.kind.padEnd(10)} ${c.component.padEnd(10)} ${c.name}@${ver}${c.detail ? `  (${c.detail})` : ''}`;
          });
          const counts = Object.entries(res.counts)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ');
          lines.push(res.changes.length ? `${res.changes.length} changes: ${counts}` : 'no changes');
          out = `${lines.join('\n')}\n`;
        }
        await writeOutput(opts.output, out);
        const hit = failOn.some((f) => (f === 'any' ? res.changes.length > 0 : res.counts[f as keyof typeof res.counts] > 0));
        if (hit) {
          printError(`changes matching --fail-on ${failOn.join(',')} were found`);
          return EXIT_CHECK_FAILED;
        }
        return 0;
      }),
    );
}
