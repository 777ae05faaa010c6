import { defineConfig } from 'vitest/config';

// The fault suite: real worker processes, a Postgres it restarts, the simulator with faults on.
// Slower than `npm test`, so it runs on its own (`npm run test:faults`, and in CI). Files run
// one after another: each one starts worker processes that would compete for the two cores.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/setup/global-postgres.ts', 'test/faults/summary-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    passWithNoTests: true,
    // Scenario lines and the summary table must reach CI logs.
    silent: false,
  },
});
