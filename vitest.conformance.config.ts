import { defineConfig } from 'vitest/config';

// `npm run test:conformance`: the tests that read third-party data (Sigstore conformance cases,
// model_signing vectors, interop bundles) from $AIBOM_CONFORMANCE_DIR, else ../shared/conformance
// beside the checkout. Never committed, never skipped: missing data fails the suite.
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
