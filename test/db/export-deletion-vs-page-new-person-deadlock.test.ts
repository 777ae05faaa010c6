// A backfill page that lists a ticket deleted side-loads a person new to Postgres (an agent the
// ticket was just assigned to) while the ticket's run stores a page of that agent's comments. The
// run's page held ticket_sync and inserts the people it names at its end; the export page
// inserted the new person, then waited for ticket_sync to record the deletion: each waited for
// the other and Postgres aborted one (40P01). The export page now locks a deleted ticket's rows
// before its statement, as the purge that follows it does, so it waits for the run's page before
// it holds the new person. A third session inserting the page's event, uncommitted, stops the
// page after ticket_sync until the export page has come to wait.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { saveExportPage } from '../../src/db/tickets.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { messagingEvent } from '../sync/events.ts';
import { exportedTicket, sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();

it("a backfill page recording a ticket's deletion and side-loading a new agent, and the ticket's run storing that agent's comment, both commit", async () => {
  const ticketId = 101;
  const customer = { display_name: 'Customer', type: 'user', 'zen:support:user_id': 501 };
  const newcomer = { display_name: 'User 990', type: 'agent', 'zen:support:user_id': 990 };
  const { run } = await startRun(database.db, ticketId, { full: true });
  const pageOf = (events: ReturnType<typeof messagingEvent>[], cursor: string) =>
    preparePage(mapPage(events, { ticketId }), { ticketId, run, afterCursor: cursor, requests: 1 });
  await storePage(database.db, pageOf([messagingEvent({ author: customer })], 'c1'));

  const comment = messagingEvent({ author: newcomer });
  const blocker = await holdRows(
    database.pool,
    `insert into zendesk.conversation_events (reference, event_id, ticket_id, type, created_at, raw) values ($1, 'held', $2, 'held', now(), '{}')`,
    [comment.reference, ticketId],
  );
  try {
    const page = settled(storePage(database.db, pageOf([comment], 'c2')));
    await sessionsWaitingForLocks(database.pool, 1);
    const deletion = mapTicketContext({
      tickets: [exportedTicket({ id: ticketId, status: 'deleted', assignee_id: 990, generated_timestamp: Math.floor(Date.now() / 1000) })],
      users: [sideLoadedUser(990, { role: 'agent' })],
    });
    const exported = settled(saveExportPage(database.db, deletion, { cursor: 'after-1', position: null }));
    await sessionsWaitingForLocks(database.pool, 2);
    await blocker.release();
    expect({ page: await page, exported: await exported }).toEqual({ page: 'ok', exported: 'ok' });
  } finally {
    await blocker.release();
  }
  const { rows } = await database.pool.query(
    `select (select status from zendesk.ticket_sync where ticket_id = $1) as status,
            (select count(*)::int from zendesk.authors where author_key = 'support:990') as newcomer`,
    [ticketId],
  );
  expect(rows[0]).toEqual({ status: 'not_found', newcomer: 1 });
});
