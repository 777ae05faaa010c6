// A run stores a page naming an agent new to Postgres and a customer it has, while serve stores
// another ticket read by id that side-loads both. serve's read takes the people Postgres has, then
// the tickets row, then inserts the new ones (src/db/lock-order.ts); a page that upserted its
// people in key order alone inserted the agent (support:1000 sorts first) and then waited for the
// customer the read held, while the read, past the tickets row, waited to insert the agent: each
// waited for the other (40P01). The page's upsert takes the people Postgres has first too. A third
// session holding the read's tickets row stops the read after the people it has, until the page
// has come to wait.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { messagingEvent } from '../sync/events.ts';
import { exportedTicket, sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();

it("a run's page and serve's read by id of another ticket, both naming a new agent and a known customer, both commit", async () => {
  const customer = { display_name: 'User 501', type: 'user', 'zen:support:user_id': 501 };
  const newcomer = { display_name: 'User 1000', type: 'agent', 'zen:support:user_id': 1000 };
  await storeTicketContext(database.db, mapTicketContext({ tickets: [exportedTicket({ id: 101, assignee_id: null })], users: [sideLoadedUser(501)] }));
  const { run } = await startRun(database.db, 202, { full: true });
  const page = preparePage(mapPage([messagingEvent({ author: customer }), messagingEvent({ author: newcomer })], { ticketId: 202 }), {
    ticketId: 202,
    run,
    afterCursor: 'c1',
    requests: 1,
  });

  const blocker = await holdRows(database.pool, 'select from zendesk.tickets where id = 101 for update');
  try {
    const read = mapTicketContext({
      tickets: [exportedTicket({ id: 101, assignee_id: 1000, updated_at: new Date().toISOString() })],
      users: [sideLoadedUser(501), sideLoadedUser(1000, { role: 'agent' })],
    });
    const byId = settled(storeTicketContext(database.db, read));
    await sessionsWaitingForLocks(database.pool, 1);
    let pageDone = false;
    const stored = settled(storePage(database.db, page)).finally(() => (pageDone = true));
    await sessionsWaitingForLocks(database.pool, 2, { done: () => pageDone });
    await blocker.release();
    expect({ page: await stored, byId: await byId }).toEqual({ page: 'ok', byId: 'ok' });
  } finally {
    await blocker.release();
  }
  const { rows } = await database.pool.query(`select author_key from zendesk.authors order by 1`);
  expect(rows.map((r) => r.author_key)).toEqual(['support:1000', 'support:501']);
});
