import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/setup/global-postgres.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only queue up behind Postgres and the simulator.
    maxWorkers: 2,
    // Test files share a worker's module graph instead of each loading drizzle, pg-boss and the
    // sources again (about 80 s of 280 on two cores). Files keep their own database, simulator
    // and processes; none changes module state that another reads (no mocks of modules).
    isolate: false,
  },
});
