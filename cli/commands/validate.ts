import type { Command } from 'commander';
import { action, EXIT_CHECK_FAILED, printInfo, printJson } from '../io.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .summary('validate a CycloneDX JSON BOM against the official schema')
    .description(
      'Validate any CycloneDX JSON document (spec 1.4 to 1.7, the version is read from the file) ' +
        'against the official CycloneDX JSON schema, offline. Prints every error with its JSON path.',
    )
    .argument('<bom>', 'the BOM file (JSON)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ aibom validate aibom.cdx.json\n  $ aibom validate sbom.json --json\n' +
        '\nExit codes: 0 valid, 1 invalid, 2 the file cannot be read or is not CycloneDX JSON.',
    )
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const { readTextBounded } = await import('../../src/util/fs.js');
        const { parseJsonText } = await import('../../src/util/json.js');
        const { validateBomJson, specVersionOf } = await import('../../src/bom/validate.js');
        const { AibomError } = await import('../../src/errors.js');
        const data = parseJsonText(await readTextBounded(file, undefined, file), file);
        let version: string;
        try {
          version = specVersionOf(data);
        } catch (err) {
          if (err instanceof AibomError) throw new AibomError(err.code, err.message, { file });
          throw err;
        }
        let errors: Awaited<ReturnType<typeof validateBomJson>>;
        try {
          errors = await validateBomJson(data, version);
        } catch (err) {
          if (err instanceof AibomError) throw new AibomError(err.code, err.message, { file });
          throw err;
        }
        if (opts.json) {
          printJson({ file, specVersion: version, valid: errors.length === 0, errors });
        } else if (errors.length === 0) {
          printInfo(`${file}: valid CycloneDX ${version}`);
        } else {
          for (const e of errors) process.stdout.write(`${file}: ${e.path}: ${e.message}\n`);
          printInfo(`${file}: INVALID CycloneDX ${version}: ${errors.length} error${errors.length > 1 ? 's' : ''}`);
        }
        return errors.length ? EXIT_CHECK_FAILED : 0;
      }),
    );
}
