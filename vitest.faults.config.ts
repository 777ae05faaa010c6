import { defineConfig } from 'vitest/config';

// The fault suite: real worker processes, a Postgres it restarts, the simulator with faults on.
// Slower than `npm test`, so it runs on its own (`npm run test:faults`, and in CI).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/setup/global-postgres.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    passWithNoTests: true,
  },
});
