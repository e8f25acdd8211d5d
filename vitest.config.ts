import { defineConfig } from 'vitest/config';

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
  },
});
