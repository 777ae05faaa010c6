// Like test/lifecycle/deleted-during-sync.test.ts, but the ticket is erased (scrubbed) and
// CONVLOG_ON_DELETE=keep: the export purges it while its run is between its last page's answer
// and that page's store. The run then stores the page and ends synced; the erasure's note makes
// the 404 of the run queued after it erase the rows again, so only the tombstone stays
// (docs/guarantees.md: permanent deletions are erased under keep too).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { RequestBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillOf, DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { rowsOfTicket } from '../helpers/ticket-rows.ts';

const TICKET = 1;
let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 150, 2: 5 }, accountRateLimit: 0 });
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
  expect(rows).toEqual([{ status: 'not_found', deleted_how: '404: permanently deleted' }]);
});
