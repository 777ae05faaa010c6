import { defineConfig } from 'vitest/config';
import SlowFirst from './test/setup/slow-first.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/setup/global-postgres.ts'],
    sequence: { sequencer: SlowFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Three files at a time on two cores: many tests wait on child processes, the simulator's
    // latency or a rate window, and a third file fills that idle time (npm test 196 s with two,
    // 153 s with three, 162 s with four on the project's 2-core machine).
    maxWorkers: 3,
    // Test files share a worker's module graph instead of each loading drizzle, pg-boss and the
    // sources again (about 80 s of 280 on two cores). Files keep their own database, simulator
    // and processes; none changes module state that another reads (no mocks of modules).
    isolate: false,
  },
});
