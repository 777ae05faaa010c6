// A backfill page that lists a ticket deleted purges it (src/db/purge.ts: its people, then its
// ticket and ticket_sync rows, then its files and events) while a worker's run of that ticket
// writes a page, or removes at its end what a full read no longer found. Each took the same rows
// in another order, and Postgres aborted one side as a deadlock. A third session holding one row
// keeps the first party in its transaction until the second has come to wait.
import { afterEach, expect, it } from 'vitest';
import { endFullRead, SeenRows } from '../../src/db/full-read.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';

let f: FixtureWithBoss;
afterEach(async () => {
  await f?.close();
});

async function synced(): Promise<void> {
  f = await createFixtureWithBoss({ tickets: 6, accountRateLimit: 0 });
  await backfillOf(f, { since: nowSec() - 400 * DAY });
  for (const id of [1, 2, 3, 4, 5, 6]) expect((await syncTicket(f.deps, id)).status).toBe('synced');
}

const query = async (text: string, values: unknown[] = []) => (await f.database.pool.query(text, values)).rows;

it("a run's page of a ticket and a backfill page purging it both commit", async () => {
  await synced();
  const [{ ticket_id: withFiles }] = await query('select ticket_id from zendesk.attachments order by ticket_id limit 1');
  const ticketId = Number(withFiles);
  const blocker = await holdRows(f.database.pool, 'select 1 from zendesk.attachments where ticket_id = $1 order by id limit 1 for update', [ticketId]);
  try {
    // The page statement of a full re-read waits for that file, its other rows taken.
    const run = settled(syncTicket(f.deps, ticketId, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    f.sim.deleteTicket(ticketId);
    const page = settled(backfillOf(f));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ page: await page, run: await run }).toEqual({ page: 'ok', run: 'ok' });
  } finally {
    await blocker.release();
  }
});

it("the end of a full read that removes vanished events and a backfill page purging the ticket both commit, and leave none of its people", async () => {
  await synced();
  const ticketId = 6;
  const stored = await query('select reference from zendesk.conversation_events where ticket_id = $1 order by position', [ticketId]);
  // The read found every event but the last, and every file.
  const seen = new SeenRows();
  for (const { reference } of stored.slice(0, -1)) seen.references.add(reference as string);
  for (const { id } of await query('select id from zendesk.attachments where ticket_id = $1', [ticketId])) seen.attachments.add(Number(id));
  for (const { id } of await query('select id from zendesk.attachment_thumbnails where ticket_id = $1', [ticketId])) seen.thumbnails.add(Number(id));
  const { run } = await startRun(f.database.db, ticketId, { full: true });
  f.sim.deleteTicket(ticketId);

  // The run's end waits in the refresh of the ticket's analyst rows, its removals done, while
  // the backfill page purging the ticket comes to wait for it.
  const blocker = await holdRows(f.database.pool, 'select from zendesk.ticket_summaries where ticket_id = $1 for update', [ticketId]);
  try {
    const runEnd = settled(endFullRead(f.database.db, ticketId, seen, run));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const page = settled(backfillOf(f));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ page: await page, runEnd: await runEnd }).toEqual({ page: 'ok', runEnd: 'ok' });
  } finally {
    await blocker.release();
  }
  // Whoever went second found what the first left: no event of the ticket, and no author that
  // nothing names.
  expect(await query('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [ticketId])).toEqual([{ n: 0 }]);
  expect(
    await query(`select count(*)::int as n from zendesk.authors a
                  where not exists (select 1 from zendesk.conversation_events e where e.author_key = a.author_key)
                    and not exists (select 1 from zendesk.tickets t where a.support_user_id in (t.requester_id, t.submitter_id, t.assignee_id))`),
  ).toEqual([{ n: 0 }]);
});
