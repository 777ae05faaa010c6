// A backfill page lists a ticket deleted and side-loads an agent new to Postgres (the one it was
// just assigned to), while serve stores the same ticket read by id, side-loading that agent too.
// The export page locked the ticket's rows before its statement (src/db/tickets.ts), and its
// statement then inserted the new agent; serve's statement inserted the agent, then came to the
// tickets row: each waited for the other and Postgres aborted one (40P01). Both now take the
// people Postgres has, then the ticket's rows, then insert the new people (src/db/lock-order.ts).
// A third session inserting, uncommitted, another new person the export page side-loads (whose
// key sorts first) stops the export page at that insert until serve has come as far as it goes.
import { expect, it } from 'vitest';
import { saveExportPage, storeTicketContext } from '../../src/db/tickets.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { exportedTicket, sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();

/**
 * Stages the export page (listing ticket 101 deleted, assigned to support:990) and then serve's
 * read by id of 101 as `read` side-loads it, and returns what each ended with.
 */
async function exportPageThenRead(readUsers: Record<string, unknown>[], assigneeId: number): Promise<{ exported: string; byId: string }> {
  const ticketId = 101;
  await storeTicketContext(database.db, mapTicketContext({ tickets: [exportedTicket({ id: ticketId, assignee_id: null })], users: [sideLoadedUser(501)] }));
  // The export page's other new person, support:100, sorts before every other key here.
  const blocker = await holdRows(
    database.pool,
    `insert into zendesk.authors (author_key, support_user_id, type, display_name) values ('support:100', 100, 'user', 'held')`,
  );
  let readDone = false;
  try {
    const deletion = mapTicketContext({
      tickets: [exportedTicket({ id: ticketId, status: 'deleted', assignee_id: assigneeId, generated_timestamp: Math.floor(Date.now() / 1000) })],
      users: [sideLoadedUser(100), sideLoadedUser(assigneeId, { role: 'agent' })],
    });
    const exported = settled(inTransaction(database.db, (tx) => saveExportPage(tx, deletion, { cursor: 'after-1', position: null })));
    await sessionsWaitingForLocks(database.pool, 1);
    // serve's read by id, answered before the deletion: the ticket assigned to the new agent.
    const assigned = mapTicketContext({
      tickets: [exportedTicket({ id: ticketId, assignee_id: assigneeId, updated_at: new Date().toISOString() })],
      users: readUsers,
    });
    const byId = settled(storeTicketContext(database.db, assigned)).finally(() => (readDone = true));
    await sessionsWaitingForLocks(database.pool, 2, { done: () => readDone });
    await blocker.release();
    return { exported: await exported, byId: await byId };
  } finally {
    await blocker.release();
  }
}

async function newcomersAndStatus(assigneeId: number) {
  const { rows } = await database.pool.query(
    `select (select status from zendesk.ticket_sync where ticket_id = 101) as status,
            (select count(*)::int from zendesk.authors where author_key in ('support:100', $1)) as newcomers`,
    [`support:${assigneeId}`],
  );
  return rows[0];
}

it("a backfill page recording a ticket's deletion and serve's read of it by id, both side-loading an agent new to Postgres, both commit", async () => {
  expect(await exportPageThenRead([sideLoadedUser(990, { role: 'agent' })], 990)).toEqual({ exported: 'ok', byId: 'ok' });
  expect(await newcomersAndStatus(990)).toEqual({ status: 'not_found', newcomers: 2 });
});

// The read also side-loads the requester, whom the export page locked for the purge: the new
// agent's key, support:1000, sorts before the requester's, support:501, and the read inserted
// the agent before it came to wait for the requester.
it('the same, the read also naming a person the export page locked, after the new agent in key order', async () => {
  await database.pool.query(`delete from zendesk.ticket_sync; delete from zendesk.tickets; delete from zendesk.authors`);
  expect(await exportPageThenRead([sideLoadedUser(501), sideLoadedUser(1000, { role: 'agent' })], 1000)).toEqual({ exported: 'ok', byId: 'ok' });
  expect(await newcomersAndStatus(1000)).toEqual({ status: 'not_found', newcomers: 2 });
});
