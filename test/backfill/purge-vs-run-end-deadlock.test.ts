// A backfill page that lists a ticket deleted, stored while a worker's run of that ticket is
// ending (finishRun, in the transaction that ends the run). The page's transaction takes the
// ticket's row and its ticket_sync row, then its purge rewrites the ticket's analyst rows; the
// run's end rewrote those analyst rows first (refreshTicketAnalytics) and took ticket_sync last:
// Postgres found a deadlock and aborted one of them. A third session holding one event row of
// the ticket keeps the purge between the two, as a long ticket's events take that long to delete.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
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

it("a page purging a ticket and the end of that ticket's run neither deadlock, and leave no analyst row of it", async () => {
  await backfillOf(f, { since: nowSec() - 400 * DAY });
  expect((await syncTicket(f.deps, 6)).status).toBe('synced');
  const { rows: before } = await f.database.pool.query('select 1 from zendesk.ticket_summaries where ticket_id = 6');
  expect(before).toHaveLength(1);
  // A run of ticket 6 has read its last page and is about to end; Zendesk deletes the ticket.
  const { run } = await startRun(f.database.db, 6, { full: false });
  f.sim.deleteTicket(6);

  const blocker = await holdRows(f.database.pool, 'select 1 from zendesk.conversation_events where ticket_id = 6 order by reference limit 1 for update');
  try {
    const page = settled(backfillOf(f));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const runEnd = settled(inTransaction(f.database.db, (tx) => finishRun(tx, 6, { run })));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    // Neither is aborted as a deadlock: the run's end waits for the purge, then finds the ticket
    // recorded deleted after the run began, and ends as its 404 would (DeletedDuringRun).
    expect({ page: await page, runEnd: await runEnd }).toEqual({ page: 'ok', runEnd: 'ticket 6 was recorded deleted while this run read it' });
  } finally {
    await blocker.release();
  }

  // The run's end, rolled back, left what the purge left: nothing. The page marked it to be
  // queued again, and that run's 404 leaves the tombstone.
  const { rows } = await f.database.pool.query(`
    select (select count(*)::int from zendesk.conversation_events where ticket_id = 6) as events,
           (select count(*)::int from zendesk.ticket_summaries where ticket_id = 6) as summaries,
           (select count(*)::int from zendesk.reply_waits where ticket_id = 6) as waits,
           (select count(*)::int from zendesk.ticket_days where ticket_id = 6) as days,
           (select count(*)::int from zendesk.ticket_hours where ticket_id = 6) as hours,
           (select sync_again_at is not null from zendesk.ticket_sync where ticket_id = 6) as again`);
  expect(rows[0]).toEqual({ events: 0, summaries: 0, waits: 0, days: 0, hours: 0, again: true });
});
