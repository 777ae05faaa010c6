// `work --until-idle` ends "once nothing is queued, running or waiting to retry". Its idle check
// (runWorker in src/queue/worker.ts) looked only at the ticket-sync queue and the dead letter
// queue, not at the backfill queue the same process works (startBackfillWorker in `work`): a
// scheduled backfill tick this run had taken, still waiting for its first export page, was cut
// off, the run exiting 0 with the backfill interrupted and nothing it would queue synced.
import { afterEach, expect, it } from 'vitest';
import { BACKFILL_QUEUE } from '../../src/queue/boss.ts';
import { killAll, runProgram } from '../helpers/cli.ts';
import { bossFor, createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

it('work --until-idle does not exit while a backfill job it took is still running', { timeout: 120_000 }, async () => {
  // Zendesk answers each request after 2 s.
  fixture = await createFixture({ tickets: 5, latency: 2_000 }, { queue: [] });
  const boss = await bossFor(fixture, false);
  try {
    // A tick of `convlog schedule` (a schedule's job, as pg-boss sends it).
    await boss.send(BACKFILL_QUEUE, { since: new Date(Date.now() - 3650 * 86_400_000).toISOString() });
  } finally {
    await boss.stop({ graceful: false, timeout: 2_000 });
  }
  const run = await runProgram(['work', '--until-idle'], { env: { ...fixture.env, LOG_LEVEL: 'info' }, timeoutMs: 90_000 });
  const { pool } = fixture.database;
  const jobs = (await pool.query(`select name, state::text from pgboss.job order by created_on`)).rows;
  const tickets = (await pool.query(`select status, count(*)::int as n from zendesk.ticket_sync group by status`)).rows;
  expect(run.code).toBe(0);
  // The backfill ran to its end, and the tickets it found were synced before the run ended.
  expect(jobs.filter((j) => j.name === BACKFILL_QUEUE).map((j) => j.state)).toEqual(['completed']);
  expect(tickets).toEqual([{ status: 'synced', n: 5 }]);
});

it("work --until-idle does not wait for a backfill another process is running", { timeout: 120_000 }, async () => {
  fixture = await createFixture({ tickets: 2 }, { queue: [] });
  const boss = await bossFor(fixture, false);
  try {
    await boss.send(BACKFILL_QUEUE, { since: new Date(Date.now() - 86_400_000).toISOString() });
  } finally {
    await boss.stop({ graceful: false, timeout: 2_000 });
  }
  // Another worker (a service, say) has it: a first backfill may run for hours.
  await fixture.database.pool.query(`update pgboss.job set state = 'active', started_on = now(), heartbeat_on = now() where name = $1`, [BACKFILL_QUEUE]);
  const run = await runProgram(['work', '--until-idle'], { env: fixture.env, timeoutMs: 60_000 });
  expect(run.code, run.stderr).toBe(0);
  expect(run.ms).toBeLessThan(30_000);
  const { rows } = await fixture.database.pool.query(`select state::text from pgboss.job where name = $1`, [BACKFILL_QUEUE]);
  expect(rows).toEqual([{ state: 'active' }]);
});
