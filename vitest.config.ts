import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest test files first, so that neither worker is left with a long file at the end: by
 * vitest's record of the last run here, else by test/durations.json (what a fresh clone has;
 * `node scripts/test-durations.mjs` rewrites it), else first (a new file is not known to be short).
 */
const committed = JSON.parse(readFileSync(new URL('./test/durations.json', import.meta.url), 'utf8')) as Record<string, number>;
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification): number => {
      const file = relative(f.project.config.root, f.moduleId).split('\\').join('/');
      const last = this.ctx.cache.getFileTestResults(`${f.project.name}:${file}`);
      return last ? last.duration / 1000 : (committed[file] ?? Number.POSITIVE_INFINITY);
    };
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that read third-party data run in `npm run test:conformance` (vitest.conformance.config.ts).
    exclude: ['test/conformance/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CLI tests spawn processes; two cores here.
    maxWorkers: 2,
    // Each worker keeps the modules it loaded (aibom's sources, @sigstore/*, ajv validators)
    // from one test file to the next instead of loading them again for every file: about a
    // third of a second of CPU per file. Test files share no state through them: no test
    // mocks modules or stubs globals, and the few that set process.env restore it.
    isolate: false,
    sequence: { sequencer: LongestFirst },
  },
});
