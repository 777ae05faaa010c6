// Whether Zendesk's saved after_cursor returns events appended after it is not documented. Against a
// log whose cursors are snapshots, a resumed read of a ticket longer than a page stores nothing
// new however many comments were added, and without a webhook announcing them nothing sent the run
// back to the first event: the comments stayed missing until the periodic full read (30 days by
// default). Now a resumed read that stored nothing, of a ticket whose row (from the export, show_many
// or enqueue's read) says it changed after its newest stored event, asks Zendesk for the log's
// newest event (one request), and reads the ticket from its first event when that event is not stored.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { comment, depsFor, startSnapshotLog, syncAsking, type SnapshotLog } from '../helpers/snapshot-log.ts';
import { exportedTicket } from './tickets.ts';

let zendesk: SnapshotLog;
let deps: SyncDeps;

const database = useTestDatabase();
beforeAll(async () => {
  zendesk = await startSnapshotLog();
  // Comments written from now on, as the changes a sync is about to meet are.
  zendesk.epochMs = Date.now();
  deps = depsFor(zendesk, database.db);
});
afterAll(async () => {
  await zendesk.close();
});

/** Syncs the ticket: what the run says, and what it asked for (`first`: reads from the first event; `newest`: asks for the newest event). */
async function sync(ticketId: number) {
  const { result, asked } = await syncAsking(deps, zendesk, ticketId);
  // Every request the run sent is in its status row, the one no page was stored with included.
  const row = await database.pool.query<{ n: number }>('select requests_last_run as n from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
  expect(row.rows[0].n).toBe(result.requests);
  return {
    status: result.status,
    fullRead: result.fullRead,
    requests: result.requests,
    first: asked.filter((q) => q.get('page[after]') === null && q.get('sort') === null).length,
    newest: asked.filter((q) => q.get('sort') === '-created_at').length,
  };
}

/** Comment `n` of the log, as Zendesk serves it. */
const at = (n: number) => comment(n, zendesk.epochMs).created_at;

/** Zendesk's log now has `events` events, and the ticket's row says it changed at `updatedAt`. */
async function zendeskHas(ticketId: number, events: number, updatedAt: string) {
  zendesk.logLength.set(ticketId, events);
  await storeTicketContext(database.db, mapTicketContext({ tickets: [exportedTicket({ id: ticketId })] }));
  await database.pool.query('update zendesk.tickets set updated_at = $2 where id = $1', [ticketId, updatedAt]);
}

const stored = async (ticketId: number) =>
  (await database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [ticketId])).rows[0].n;

it('reads the ticket again from its first event when it changed and the saved cursor returned none of the new events', async () => {
  const ticketId = 701;
  await zendeskHas(ticketId, 7, at(6));
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: true, requests: 2, first: 1, newest: 0 });
  // Unchanged since its newest event: one request, as before.
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: false, requests: 1, first: 0, newest: 0 });

  // Two comments added; the ticket's row says so. The snapshot cursor returns neither.
  await zendeskHas(ticketId, 9, at(8));
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: true, requests: 1 + 1 + 2, first: 1, newest: 1 });
  expect(await stored(ticketId)).toBe(9);
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: false, requests: 1, first: 0, newest: 0 });
});

it('a change that added no event costs one request more, and no read from the first event', async () => {
  const ticketId = 702;
  await zendeskHas(ticketId, 7, at(6));
  await sync(ticketId);
  // A status or tag change: the row is newer than the newest event, the log is not.
  await zendeskHas(ticketId, 7, new Date(Date.parse(at(6)) + 3_600_000).toISOString());
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: false, requests: 2, first: 0, newest: 1 });
  expect(await stored(ticketId)).toBe(7);
});

it('a ticket last changed long before its last sync costs one request, however its row compares with its newest event', async () => {
  const ticketId = 704;
  await zendeskHas(ticketId, 7, at(6));
  await sync(ticketId);
  // Closed a day after its last comment, a week ago: read as it was by the sync above.
  await database.pool.query(`update zendesk.tickets set updated_at = now() - interval '7 days' where id = $1`, [ticketId]);
  await database.pool.query(`update zendesk.conversation_events set created_at = created_at - interval '8 days' where ticket_id = $1`, [ticketId]);
  await database.pool.query(`update zendesk.ticket_summaries set last_event_at = last_event_at - interval '8 days' where ticket_id = $1`, [ticketId]);
  expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: false, requests: 1, first: 0, newest: 0 });
});

it('a refused request for the newest event leaves the resumed read standing, the ticket synced', async () => {
  const ticketId = 703;
  await zendeskHas(ticketId, 7, at(6));
  await sync(ticketId);
  await zendeskHas(ticketId, 8, at(7));
  zendesk.refuseSort = true;
  try {
    expect(await sync(ticketId)).toEqual({ status: 'synced', fullRead: false, requests: 2, first: 0, newest: 1 });
  } finally {
    zendesk.refuseSort = false;
  }
  // The next sync, allowed to ask, finds the comment.
  expect(await sync(ticketId)).toMatchObject({ fullRead: true, newest: 1 });
  expect(await stored(ticketId)).toBe(8);
});

it('a stop while it asks for the newest event ends the run synced, as the resumed read left it', async () => {
  const ticketId = 705;
  await zendeskHas(ticketId, 7, at(6));
  await sync(ticketId);
  await zendeskHas(ticketId, 9, at(8));
  // Stopped as the resumed read's page is stored: the request for the newest event meets the stop.
  const stop = new AbortController();
  const result = await syncTicket(deps, ticketId, { signal: stop.signal, onPage: () => stop.abort() });
  expect(result).toMatchObject({ status: 'synced', fullRead: false });
  expect(await stored(ticketId)).toBe(7);
});
