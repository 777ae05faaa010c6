// What was asked of a ticket outlives the run that ends badly: a full re-read a failed run did not
// carry out stays asked for, and a request made during a last attempt whose worker died is queued
// when pg-boss gives that job up.
import { afterEach, expect, it, vi } from 'vitest';
import { startRun } from '../../src/db/ticket-status.ts';
import { SYNC_QUEUE, type SyncJobData } from '../../src/queue/boss.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('a failed run keeps a full re-read it did not carry out: the plain job that next runs reads the whole log', { timeout: 90_000 }, async () => {
  const f = (fixture = await createFixtureWithBoss({ tickets: 1, ticketSizes: { 1: 150 } }));
  const { db, pool } = f.database;
  await syncTicket(f.deps, 1);
  const withFile = f.sim.events(1).find((e, i) => i < 100 && (e.attachments?.length ?? 0) > 0)!;
  const fileIds = withFile.attachments!.map((a) => a.id);
  f.sim.editEvent(1, withFile.reference, (e) => void (e.attachments = []));
  // Queued by a backfill page, then a redaction webhook asks for a full read while it waits.
  await enqueueTickets(f.boss, db, [1]);
  await enqueueTickets(f.boss, db, [1], { full: true });
  // Zendesk serves the second page malformed: the run gives up at once.
  f.sim.setMalformed(1, 'missing-reference', { afterEvents: 100 });
  const run = () => runWorker(f.boss, pool, f.deps, { concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 100 });
  expect((await run()).failed).toBe(1);
  const { rows } = await pool.query(`select status, sync_again_full from zendesk.ticket_sync where ticket_id = 1`);
  expect(rows).toEqual([{ status: 'failed', sync_again_full: true }]);
  // Zendesk recovers; the failures are queued again, plainly (docs/operations.md).
  f.sim.setMalformed(1, null);
  await enqueueTickets(f.boss, db, [1]);
  expect((await run()).synced).toBe(1);
  expect((await pool.query(`select id from zendesk.attachments where id = any($1::bigint[])`, [fileIds])).rows).toEqual([]);
  expect((await pool.query(`select sync_again_full from zendesk.ticket_sync where ticket_id = 1`)).rows).toEqual([{ sync_again_full: false }]);
});

it('a webhook during a last attempt whose worker died queues the ticket again once pg-boss gives the job up', { timeout: 120_000 }, async () => {
  const f = (fixture = await createFixtureWithBoss({ tickets: 1, ticketSizes: { 1: 20 } }));
  const { db, pool } = f.database;
  await enqueueTickets(f.boss, db, [1]);
  await pool.query(`update pgboss.job set retry_count = retry_limit where name = 'ticket-sync' and singleton_key = '1'`);
  // A worker takes the job and starts the run, then dies: no heartbeat, no end.
  const [job] = await f.boss.fetch<SyncJobData>(SYNC_QUEUE, { includeMetadata: true });
  expect(job.data.ticketId).toBe(1);
  await startRun(db, 1, { full: false });
  await enqueueTickets(f.boss, db, [1], { priority: WEBHOOK_PRIORITY });
  await vi.waitUntil(async () => (await pool.query(`select from pgboss.job where name = 'ticket-sync-dead'`)).rowCount === 1, { timeout: 90_000, interval: 500 });
  const summary = await runWorker(f.boss, pool, f.deps, { concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 200 });
  // Recorded as failed, then synced by the job the webhook's request became.
  expect(summary).toMatchObject({ failed: 1, synced: 1 });
  const { rows } = await pool.query(`select priority, state::text from pgboss.job where name = 'ticket-sync' and singleton_key = '1' order by created_on`);
  expect(rows.at(-1)).toEqual({ priority: WEBHOOK_PRIORITY, state: 'completed' });
  expect((await pool.query(`select status, sync_again_at from zendesk.ticket_sync where ticket_id = 1`)).rows).toEqual([{ status: 'synced', sync_again_at: null }]);
});
