// A ticket changed while its run was going (a webhook marks it: the queue holds one job per
// ticket) is synced again when the run ends, also when the run gave up: the change may be what
// it failed on, and nothing else would queue the ticket before the next backfill.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  // Every body not JSON: each run retries its first page in place, then gives up (failed).
  fixture = await createFixtureWithBoss({ tickets: 1 });
  fixture.sim.setMalformed(1, 'not-json');
});
afterAll(async () => {
  await fixture?.close();
});

it('a ticket marked during a run that gives up is queued again, and run again', { timeout: 90_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [1]);
  const runs: number[] = [];
  const worker = runWorker(boss, pool, fixture.deps, {
    concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 250,
    onFailure: (ticketId) => void runs.push(ticketId),
  });
  // While the first run retries its page, a webhook for the ticket comes.
  await vi.waitUntil(async () => (await pool.query(`select status from zendesk.ticket_sync where ticket_id = 1`)).rows[0]?.status === 'syncing', {
    timeout: 20_000,
    interval: 50,
    message: 'the run never started',
  });
  expect(await enqueueTickets(boss, db, [1])).toMatchObject({ queued: 0, alreadyQueued: 1 });

  const summary = await worker;
  // Two runs, each given up: the one running, and the one the change asked for.
  expect(summary.failed).toBe(2);
  expect(runs).toEqual([1, 1]);
  const jobs = await pool.query(`select state::text from pgboss.job where name = 'ticket-sync' order by created_on`);
  expect(jobs.rows).toEqual([{ state: 'completed' }, { state: 'completed' }]);
});
