// The tombstone of a ticket the export erased (export: permanently deleted), when a job of the
// ticket was waiting in the queue (a webhook's, an earlier backfill's) and meets the 404 after:
// under keep it must not turn into a move to the bin whose rows were "kept, marked deleted".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportPermanentDeletion } from '../../src/db/purge.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { backfillOf, DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 4, accountRateLimit: 0 });
  for (let id = 1; id <= 4; id++) await syncTicket({ ...f.deps, onDelete: 'keep' }, id);
  await backfill();
  // The backfill queued every ticket: drain them.
  await work();
});
afterAll(async () => {
  await f?.close();
});

const backfill = () => backfillOf(f, { since: nowSec() - 400 * DAY, onDelete: 'keep' });
const work = async () => {
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, onDelete: 'keep' }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());
};
const tombstone = async (id: number) =>
  (await f.database.pool.query('select status, deleted_how, last_error, permanent_deletion_reported_at is not null as reported from zendesk.ticket_sync where ticket_id = $1', [id])).rows[0];

it('a permanently_deleted webhook (report + job), then the backfill erases, then the job meets the 404', async () => {
  const id = 2;
  f.sim.deleteTicket(id, { permanently: true });
  // What serve does for ticket.permanently_deleted: note the report, queue the ticket.
  await reportPermanentDeletion(f.database.db, [id]);
  await enqueueTickets(f.boss, f.database.db, [id]);
  // The scheduled backfill comes before the worker reaches the job.
  await backfill();
  const afterExport = await tombstone(id);
  expect(afterExport.deleted_how).toBe('export: permanently deleted');
  await work();
  const after = await tombstone(id);
  expect(after.deleted_how).toMatch(/permanently deleted/);
  expect(after.last_error).not.toMatch(/kept, marked deleted/);
});
