// The order test files start in. vitest starts the files that took longest in its last run
// first, but a fresh clone has no last run and falls back to file size: the longest files (a
// demo, rate windows, heartbeats, a refused port's retries, whole syncs) then start late and
// finish alone, with the other workers idle. These start first, then vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOW_FIRST = [
  'test/integration/demo.test.ts',
  'test/cli/work-give-up-postgres-lost.test.ts',
  'test/cli/give-up-postgres-silent-waits.test.ts',
  'test/cli/stop-postgres-silent.test.ts',
  'test/db/cluster-owner-waits.test.ts',
  'test/cli/embedded-shutting-down.test.ts',
  'test/queue/unreachable-zendesk.test.ts',
  'test/backfill/schedule-cli.test.ts',
  'test/backfill/cli.test.ts',
  'test/integration/worker-lost-claim.test.ts',
  'test/serve/deploy.test.ts',
  'test/integration/cli.test.ts',
  'test/analyst/redaction.test.ts',
];

export default class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((name) => file.moduleId.endsWith(name));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
