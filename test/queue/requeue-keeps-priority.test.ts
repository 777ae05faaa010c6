// A webhook about a ticket whose backlog job is running raises that job's priority as well as
// marking the ticket (upgradeWaitingJobs, src/queue/queue-stats.ts): if the run fails, pg-boss
// retries that same job, and the ticket someone just wrote in must not wait out the retry behind
// the backlog. A job a shutdown stops goes back to the queue (a hold) with that priority and its
// full re-read, however few attempts it had left.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 600, 2: 600 } }, { pageSize: 50 });
});
afterAll(async () => {
  await fixture?.close();
});

async function jobsOf(ticketId: number) {
  const { rows } = await fixture.database.pool.query(
    `select state::text, priority, data->>'full' as full from pgboss.job where name = 'ticket-sync' and singleton_key = $1 order by created_on`,
    [String(ticketId)],
  );
  return rows;
}

it("a webhook during a backlog run that then fails leaves the retry at the webhook's priority", { timeout: 90_000 }, async () => {
  const { boss, sim } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [1]);
  const stop = new AbortController();
  let webhook: Promise<unknown> | undefined;
  let failure: { final: boolean } | undefined;
  await runWorker(boss, pool, fixture.deps, {
    concurrency: 1,
    signal: stop.signal,
    onPage: () => {
      if (webhook) return;
      // Zendesk fails from here on, so the run ends in a retry; the webhook comes meanwhile.
      sim.setOptions({ failRate: 1 });
      webhook = enqueueTickets(boss, db, [1], { priority: WEBHOOK_PRIORITY });
    },
    onFailure: (_ticketId, _reason, final) => {
      failure = { final };
      stop.abort();
    },
  });
  sim.setOptions({ failRate: 0 });
  await webhook;
  expect(failure).toEqual({ final: false });
  expect(await jobsOf(1)).toEqual([{ state: 'retry', priority: WEBHOOK_PRIORITY, full: null }]);
});

it('a full job a shutdown stops, on its last attempt, goes back as it was: full, at the priority a webhook raised it to', { timeout: 90_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [2], { full: true });
  await pool.query(`update pgboss.job set retry_count = retry_limit where name = 'ticket-sync' and singleton_key = '2'`);
  const stop = new AbortController();
  let webhook: Promise<unknown> | undefined;
  await runWorker(boss, pool, fixture.deps, {
    concurrency: 1,
    signal: stop.signal,
    onPage: () => {
      if (webhook) return;
      webhook = enqueueTickets(boss, db, [2], { priority: WEBHOOK_PRIORITY }).then(() => stop.abort());
    },
  });
  await webhook;
  const { rows } = await pool.query(`select status, interrupted_at is not null as interrupted from zendesk.ticket_sync where ticket_id = 2`);
  expect(rows).toEqual([{ status: 'queued', interrupted: true }]);
  expect(await jobsOf(2)).toEqual([{ state: 'created', priority: WEBHOOK_PRIORITY, full: 'true' }]);
});
