// Like test/lifecycle/deleted-during-sync.test.ts, but the ticket is erased (scrubbed) and
// CONVLOG_ON_DELETE=keep: the export purges it while its run is between its last page's answer
// and that page's store. The run then stores the page, and ends as the erasure's 404 would
// (DeletedDuringRun): the rows go again, whatever CONVLOG_ON_DELETE says, and the tombstone keeps
// how the erasure was learned, the export; the run queued after it meets the 404. Only the
// tombstone stays (docs/guarantees.md: permanent deletions are erased under keep too).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportPermanentDeletion } from '../../src/db/purge.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { RequestBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillOf, DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { rowsOfTicket } from '../helpers/ticket-rows.ts';

const TICKET = 1;
let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 3, ticketSizes: { 1: 150, 2: 5, 3: 150 }, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

it('under keep, a ticket erased (scrubbed) while its run stores the last page leaves only its tombstone', async () => {
  let responses = 0;
  const budget: RequestBudget = {
    take: async () => {},
    observe: async () => {
      // The first page is answered: Zendesk erases the ticket and a backfill purges it before
      // the run stores that page.
      if (++responses !== 2) return;
      f.sim.deleteTicket(TICKET, { permanently: true });
      expect((await backfillOf(f, { since: nowSec() - 400 * DAY, onDelete: 'keep' })).deleted).toBe(1);
    },
  };
  await enqueueTickets(f.boss, f.database.db, [TICKET]);
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, budget, onDelete: 'keep' }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());

  // A later scheduled backfill would not list the ticket again: nothing but the run after could erase what was left.
  expect(await rowsOfTicket(f.database.pool, TICKET)).toEqual({ ticket_sync: 1 });
  const { rows } = await f.database.pool.query('select status, deleted_how from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
  expect(rows).toEqual([{ status: 'not_found', deleted_how: 'export: permanently deleted' }]);
});

it('so does one a permanently_deleted webhook queued, its note older than the run', async () => {
  const ticket = 3;
  let responses = 0;
  const budget: RequestBudget = {
    take: async () => {},
    observe: async () => {
      if (++responses !== 2) return;
      f.sim.deleteTicket(ticket, { permanently: true });
      // (Ticket 1, erased by the test before, may be listed deleted again.)
      expect((await backfillOf(f, { since: nowSec() - 400 * DAY, onDelete: 'keep' })).deleted).toBeGreaterThanOrEqual(1);
    },
  };
  // Zendesk still serves the log a moment after it announced the erasure: serve notes the
  // report and queues the ticket (convlog knew it: an earlier backfill queued it).
  await f.database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values ($1, 'queued') on conflict do nothing`, [ticket]);
  await reportPermanentDeletion(f.database.db, [ticket]);
  await new Promise((r) => setTimeout(r, 20));
  // A full read, as its first sync would be: the test before may have synced it already.
  await enqueueTickets(f.boss, f.database.db, [ticket], { full: true });
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, budget, onDelete: 'keep' }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());

  expect(await rowsOfTicket(f.database.pool, ticket)).toEqual({ ticket_sync: 1 });
  const { rows } = await f.database.pool.query('select status, deleted_how from zendesk.ticket_sync where ticket_id = $1', [ticket]);
  expect(rows).toEqual([{ status: 'not_found', deleted_how: 'export: permanently deleted' }]);
});
