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
  },
});
