// A full re-read asked for (a redaction webhook) when no job can take it is kept until a run
// reads the ticket from its first event: through a run a shutdown stops, whose plain job goes back
// to the queue as it was, and through the moment between a worker taking a job and its run starting.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { SYNC_QUEUE, type SyncJobData } from '../../src/queue/boss.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const REDACTED = '▇▇▇▇';
let fixture: FixtureWithBoss;

beforeAll(async () => {
  // Longer than a page: a plain sync resumes from the saved cursor and never sees an old event.
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 150, 2: 150 } });
});
afterAll(async () => {
  await fixture?.close();
});

/** Redacts the first HTML comment among the ticket's first 100 events (a page the cursor has passed). */
function redactAnOldComment(ticketId: number): string {
  const event = fixture.sim.events(ticketId).find((e, i) => i < 100 && typeof (e.content as { body?: unknown }).body === 'string');
  if (!event) throw new Error(`ticket ${ticketId} has no comment in its first page`);
  fixture.sim.editEvent(ticketId, event.reference, (e) => {
    e.content.body = REDACTED;
  });
  return event.reference;
}

const storedBody = async (reference: string) =>
  (await fixture.database.pool.query(`select raw->'content'->>'body' as body from zendesk.conversation_events where reference = $1`, [reference])).rows[0]?.body;

it('a redaction reported during a run that is then interrupted is read by the next run of the same plain job', { timeout: 60_000 }, async () => {
  const { boss, sim } = fixture;
  const { db, pool } = fixture.database;
  await syncTicket(fixture.deps, 1);
  sim.appendEvents(1, 250);
  await enqueueTickets(boss, db, [1]);
  // Slow pages, so that the run is still going when the webhook comes.
  sim.setOptions({ latency: 300 });

  const stop = new AbortController();
  let reported: Promise<unknown> | undefined;
  let reference = '';
  const first = await runWorker(boss, pool, fixture.deps, {
    concurrency: 1,
    signal: stop.signal,
    untilIdle: true,
    idleCheckMs: 100,
    onPage: () => {
      if (reported) return;
      reference = redactAnOldComment(1);
      // serve's answer to comment_redacted; the job is running, so the ticket is marked. Then a
      // deploy stops the worker: the run ends interrupted and the same plain job goes back (held).
      reported = enqueueTickets(boss, db, [1], { full: true }).then(() => stop.abort());
    },
  });
  await reported;
  expect(first.synced).toBe(0);
  expect((await pool.query(`select status, sync_again_full from zendesk.ticket_sync where ticket_id = 1`)).rows).toEqual([{ status: 'queued', sync_again_full: true }]);

  sim.setOptions({ latency: 0 });
  const again = new AbortController();
  const second = await runWorker(boss, pool, fixture.deps, { concurrency: 1, signal: again.signal, untilIdle: true, idleCheckMs: 100 });
  expect(second.synced).toBe(1);
  expect(await storedBody(reference)).toBe(REDACTED);
  // The run that read it took the mark: no further run is queued for it.
  expect((await pool.query(`select sync_again_at, sync_again_full from zendesk.ticket_sync where ticket_id = 1`)).rows).toEqual([{ sync_again_at: null, sync_again_full: false }]);
});

it('a redaction reported after a worker took a plain job, before its run started, is read by that run', async () => {
  const { boss } = fixture;
  const { db } = fixture.database;
  await syncTicket(fixture.deps, 2);
  fixture.sim.appendEvents(2, 10);
  await enqueueTickets(boss, db, [2]);
  const [job] = await boss.fetch<SyncJobData>(SYNC_QUEUE);
  expect(job.data).toEqual({ ticketId: 2 });

  const reference = redactAnOldComment(2);
  // The job is active (upgradeWaitingJobs leaves its data as it is: its run's) and the ticket still queued.
  await enqueueTickets(boss, db, [2], { full: true });

  const result = await syncTicket(fixture.deps, 2, { full: job.data.full });
  expect(result.fullRead).toBe(true);
  expect(await storedBody(reference)).toBe(REDACTED);
  await boss.complete(SYNC_QUEUE, job.id);
});
