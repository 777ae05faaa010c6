// A change announced during the first attempt of a job (a webhook marks the ticket: its job is
// running) asks for another run when the job's last attempt fails for good, as one announced
// during that last attempt does (sync-again-after-failure.test.ts): the retry started after the
// request, but it did not read the log to its end. The job's first run is told apart from its
// retries by the job's creation time (ticket_sync.job_started_at, startRun).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  // Zendesk answers every request 500: each attempt retries its page in place, then fails.
  fixture = await createFixtureWithBoss({ tickets: 1, failRate: 1, latency: 200 });
});
afterAll(async () => {
  await fixture?.close();
});

it('a ticket marked during the first attempt of a job whose retry fails for good is queued again, and run again', { timeout: 90_000 }, async () => {
  const { boss, sim } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [1]);
  // One retry, due at once.
  await pool.query(`update pgboss.job set retry_limit = 1, retry_delay = 0, retry_backoff = false where name = 'ticket-sync'`);
  const failures: boolean[] = [];
  const worker = runWorker(boss, pool, fixture.deps, {
    concurrency: 1,
    signal: new AbortController().signal,
    untilIdle: true,
    idleCheckMs: 250,
    onFailure: (_ticketId, _reason, final) => {
      failures.push(final);
      // Zendesk is back once the job has failed for good: the run asked for again can sync.
      if (final) sim.setOptions({ failRate: 0 });
    },
  });
  await vi.waitUntil(async () => (await pool.query(`select from zendesk.ticket_sync where ticket_id = 1 and status = 'syncing' and attempts = 1`)).rowCount === 1, {
    timeout: 20_000,
    interval: 50,
    message: 'the first attempt never started',
  });
  // A webhook for the ticket during the first attempt.
  expect(await enqueueTickets(boss, db, [1])).toMatchObject({ queued: 0, alreadyQueued: 1 });
  expect(failures).toEqual([]);

  const summary = await worker;
  // The first attempt retried, the second failed for good, and the run the webhook asked for synced.
  expect(failures).toEqual([false, true]);
  expect(summary).toMatchObject({ failed: 1, synced: 1 });
  const jobs = await pool.query(`select state::text from pgboss.job where name = 'ticket-sync' order by created_on`);
  expect(jobs.rows).toEqual([{ state: 'completed' }, { state: 'completed' }]);
  const [state] = (await pool.query(`select status, sync_again_at from zendesk.ticket_sync where ticket_id = 1`)).rows;
  expect(state).toEqual({ status: 'synced', sync_again_at: null });
});
