// Two refreshes of one ticket's analyst rows at once: a sync's finishRun and a rebuild-analytics
// batch, or the refresh of a ticket an event moved away from while that ticket's own run ends.
// Each deletes the ticket's rows and inserts them again; the second, blocked by the first's
// deletes, used to insert rows the first had just committed and fail on their keys.
import { expect, it } from 'vitest';
import { refreshTicketAnalytics } from '../../src/db/analytics.ts';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { comment, storeTicket, supportUser } from './hand-written.ts';

const database = useTestDatabase();

it('a refresh that waits for another of the same ticket writes after it, and neither fails', async () => {
  const day = (t: string) => `2024-05-0${t}Z`;
  await storeTicket(database.db, 7, [
    comment(day('1T10:00:00'), supportUser('user', 501, 'Cleo')),
    comment(day('1T10:05:00'), supportUser('agent', 99, 'Alex')),
    comment(day('2T09:00:00'), supportUser('user', 501, 'Cleo')),
    comment(day('2T09:30:00'), supportUser('agent', 99, 'Alex')),
  ]);
  const { run } = await startRun(database.db, 7, { full: false });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let refreshed!: () => void;
  const refreshedYet = new Promise<void>((resolve) => (refreshed = resolve));
  const first = inTransaction(database.db, async (tx) => {
    await refreshTicketAnalytics(tx, [7]);
    refreshed();
    await gate;
  });
  await refreshedYet;
  const second = inTransaction(database.db, (tx) => finishRun(tx, 7, { run }));
  // Released once the second waits for the first's deletes, not after 300 ms, by which a busy
  // machine may not have sent it: the first then commits before the second starts, and the
  // case the test is about does not happen.
  await sessionsWaitingForLocks(database.pool, 1);
  release();
  await first;
  await expect(second).resolves.toEqual({ eventsSynced: 4 });
  const { rows } = await database.pool.query(
    `select (select count(*)::int from zendesk.reply_waits where ticket_id = 7) as waits,
            (select count(*)::int from zendesk.ticket_days where ticket_id = 7) as days,
            (select count(*)::int from zendesk.ticket_hours where ticket_id = 7) as hours`,
  );
  expect(rows[0]).toEqual({ waits: 2, days: 2, hours: 2 });
});
