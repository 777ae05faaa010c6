// A backfill page that lists a ticket deleted, stored while a worker's sync of that ticket meets
// the 404 and purges it. The page's statement takes the authors it side-loads, then the ticket
// rows, then ticket_sync; the purge took ticket_sync, then (after the ticket's events) the
// authors: Postgres found a deadlock and the backfill failed. The purge now locks in the page's
// order. A third session holding one event row of the ticket keeps the purge deleting the
// ticket's events (a long ticket's take that long by themselves) until the page has come to wait.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { purgeTicket } from '../../src/db/purge.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 6, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});
const backfill = (since?: number) => backfillOf(f, { since });

it("a page recording a deletion and the 404's purge of the same ticket both commit", async () => {
  await backfill(nowSec() - 400 * DAY);
  expect((await syncTicket(f.deps, 6)).status).toBe('synced');
  f.sim.deleteTicket(6);

  const blocker = await holdRows(f.database.pool, 'select 1 from zendesk.conversation_events where ticket_id = 6 order by reference limit 1 for update');
  try {
    const worker = settled(purgeTicket(f.database.db, 6, { how: '404' }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const page = settled(backfill());
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ worker: await worker, page: await page }).toEqual({ worker: 'ok', page: 'ok' });
  } finally {
    await blocker.release();
  }
});
