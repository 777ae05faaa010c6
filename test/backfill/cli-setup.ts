// What the CLI tests of backfill, schedule and enqueue --sql share: a database, a simulator and
// `convlog` child processes per test, cleaned up after it.
import type pg from 'pg';
import type { TestContext } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import { backfillStatus } from '../../src/queue/backfill-status.ts';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import { runCli, startConvlog, type Convlog } from '../helpers/cli.ts';
import { bossFor, createFixture } from '../helpers/sync-fixture.ts';
import { queuedTicketIds } from './helpers.ts';

// The tests run concurrently (each has its own database and simulator): most of their time is
// spent waiting for `convlog` processes, a rate limit or a cron tick.
export async function setup({ onTestFinished }: TestContext, options: SimulatorOptions = {}) {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const fixture = await createFixture({ tickets: 40, ...options });
  cleanups.push(() => fixture.close());
  const { sim, database } = fixture;
  // The export budget is shared through Postgres and spaces requests over the minute: a high
  // limit keeps multi-page tests quick (the simulator's own limit is what tests exercise).
  const env = { ...fixture.env, CONVLOG_EXPORT_RATE_LIMIT: '600' };
  const cli = (...args: string[]) => runCli(args, { env, timeoutMs: SLOW });
  /** Ticket ids with a sync job; 0 rows when pg-boss was never even started. */
  const queued = () => queuedTicketIds(database.pool).catch((): number[] => []);
  /** A `convlog` child process, SIGKILLed after the test if it is still running. */
  const start = (...args: string[]): Convlog => {
    const child = startConvlog(args, { env });
    cleanups.push(() => {
      child.kill('SIGKILL');
      return child.exited;
    });
    return child;
  };
  /** pg-boss in the test process (no supervision, as startBoss's default), stopped after the test. */
  const startBoss = async () => {
    const boss = await bossFor(fixture, false);
    cleanups.push(() => boss.stop({ graceful: false, timeout: 1_000 }));
    return boss;
  };
  return { sim, database, cli, queued, start, startBoss };
}

export const oneLine = (stderr: string) => stderr.trim().split('\n');
/** A scheduled backfill has run to its end (its record says `running` while it goes on). */
export async function scheduledRunEnded(database: { db: Db; pool: pg.Pool }): Promise<boolean> {
  const run = (await backfillStatus(database.db, database.pool)).lastRun;
  return run?.trigger === 'schedule' && run.outcome !== 'running';
}
/** Each CLI run starts Node, Postgres connections and pg-boss: seconds apiece on a busy machine. */
export const SLOW = 120_000;
