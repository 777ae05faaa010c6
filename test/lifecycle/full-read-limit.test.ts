// The periodic full reads' share is CONVLOG_FULL_RESYNC_PERCENT of the conversation log's limit
// in force, the lowest of the processes taking its permits, not of the CONVLOG_RATE_LIMIT of the
// process that happens to run the backfill: a worker set to 700 must not queue 70 requests a
// minute of full reads while a one-off set to 100 holds every process to 100, and a one-off
// `convlog backfill` set to 100, which reads no conversation log itself, must not hold the workers
// at 700 to 10. Each "process" is a shared budget of its own, on a pool of its own.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { budgetFor } from '../../src/db/budgets.ts';
import type { SharedBudget } from '../../src/db/shared-budget.ts';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { backfillDeps } from '../../src/queue/backfill-job.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
const pools: pg.Pool[] = [];
const budgets: SharedBudget[] = [];
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 3, accountRateLimit: 0 });
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await f?.close();
});
beforeEach(async () => {
  await Promise.all(budgets.splice(0).map((budget) => budget.release()));
  const { pool } = f.database;
  await pool.query('delete from pgboss.job');
  await pool.query(`delete from convlog.sync_state where key = 'full_read_allowance'`);
  await pool.query('delete from zendesk.ticket_sync');
  // Ten long tickets, due: 350 events, four requests each.
  for (let id = 101; id <= 110; id++) {
    await pool.query(`insert into zendesk.ticket_sync (ticket_id, status, events_synced, last_full_read_at) values ($1, 'synced', 350, now() - interval '40 days')`, [id]);
  }
});

/** A process taking conversation-log permits with CONVLOG_RATE_LIMIT=`limit`: it has asked for one. */
async function takingPermits(limit: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: f.database.url, max: 1 });
  pools.push(pool);
  const budget = budgetFor('conversationLog', pool, limit, silentLogger);
  budgets.push(budget);
  await budget.take();
}

/** A backfill as `work` or `convlog backfill` runs it, in a process set to CONVLOG_RATE_LIMIT=`rateLimit`, 10 % for full reads. */
async function backfillSetTo(rateLimit: number): Promise<number | undefined> {
  const runtime = {
    config: { exportRateLimit: 10, accountRateLimit: 100, rateLimit, onDelete: 'purge' as const, fullResyncDays: 30, fullResyncShare: 0.1 },
    database: f.database,
    boss: f.boss,
    deps: f.deps,
    budgets: { export: localBudget(), account: localBudget() },
  };
  return (await runBackfill(backfillDeps(runtime, silentLogger), { since: nowSec() - 400 * DAY })).fullReads;
}

it('a worker set to 700 queues a minute of 10 % of 100 while a one-off set to 100 takes permits: two tickets of four requests', async () => {
  await takingPermits(700);
  await takingPermits(100);
  expect(await backfillSetTo(700)).toBe(2);
});

it('a one-off backfill set to 100 queues a minute of 10 % of the workers\' 700: all ten tickets', async () => {
  await takingPermits(700);
  expect(await backfillSetTo(100)).toBe(10);
});

it('with no process taking permits, the backfill\'s own limit applies', async () => {
  expect(await backfillSetTo(100)).toBe(2);
});
