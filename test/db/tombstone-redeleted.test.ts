// A ticket deleted (tombstone), restored in Zendesk (its row stored again by a read by id, no
// sync yet) and deleted again before any sync ran. The second purge must move the tombstone's
// deleted_at, which a read by id's askedAt is compared with (ASKED_BEFORE_TOMBSTONE,
// src/db/tickets.ts): a read asked between the restore and the second deletion, answered after
// it, would otherwise put the deleted ticket's row back as live, with nothing to remove it.
import { expect, it } from 'vitest';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { exportedTicket } from '../sync/tickets.ts';

const database = useTestDatabase();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticketRow = async (id: number) => (await database.pool.query('select status, deleted from zendesk.tickets where id = $1', [id])).rows[0];

it('a read by id asked before a second deletion does not put the deleted ticket row back', async () => {
  const read = mapTicketContext({ tickets: [exportedTicket({ generated_timestamp: undefined })] });
  // Synced once (a conversation event stands for the synced log), then deleted: the 404 purges it.
  await storeTicketContext(database.db, read, { askedAt: new Date() });
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (101, 'synced')`);
  await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
  await pause(20);

  // Restored in Zendesk: a read by id asked after the tombstone stores its row (as the test in
  // test/db/tickets.test.ts shows). No sync has run yet (it is queued behind a backlog).
  expect((await storeTicketContext(database.db, read, { askedAt: new Date() })).tickets).toBe(1);
  await pause(20);

  // serve's TicketRowReader asks for the ticket again (another webhook about it)...
  const askedAt = new Date();
  await pause(20);
  // ...and meanwhile the ticket is deleted again: its queued job meets the 404.
  await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
  expect(await ticketRow(101)).toBeUndefined();

  // The answer, from before the second deletion, arrives now: it must not be stored.
  expect((await storeTicketContext(database.db, read, { askedAt })).tickets).toBe(0);
  expect(await ticketRow(101)).toBeUndefined();
});
