// The end of a full read locked the ticket's tickets and ticket_sync rows before removing what
// vanished, and again in the refresh of its analyst rows. A ticket whose events are stored but
// whose tickets row is not (synced by id, its row not read yet) had no tickets row to lock the
// first time; serve stored the row in between, and a backfill page reporting the ticket deleted
// updated it and came to wait for ticket_sync, which the run's end held: the second lock took
// the tickets row after ticket_sync, against the order, and Postgres aborted one as a deadlock.
// A third session holding the vanished event keeps the run's end between the two locks.
import { eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { tickets } from '../../src/db/schema.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { startProxy, type ZendeskProxy } from '../lifecycle/zendesk-proxy.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';

let f: FixtureWithBoss;
let proxy: ZendeskProxy;
afterEach(async () => {
  await proxy?.close();
  await f?.close();
});

it("the end of a full read and a backfill page reporting the ticket deleted, its row stored by serve meanwhile, both commit", async () => {
  f = await createFixtureWithBoss({ tickets: 6, accountRateLimit: 0 });
  proxy = await startProxy(f.sim.url);
  const http = createZendeskHttp({ baseUrl: proxy.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  const deps = { ...f.deps, http };
  await backfillOf(f, { since: nowSec() - 400 * DAY });
  for (const id of [1, 2, 3, 4, 5, 6]) expect((await syncTicket(deps, id)).status).toBe('synced');
  const ticketId = 6;
  // Its events stored, its row not: as serve is about to store it.
  const [row] = await f.database.db.select().from(tickets).where(eq(tickets.id, ticketId));
  await f.database.pool.query('delete from zendesk.tickets where id = $1', [ticketId]);
  const { reference } = f.sim.events(ticketId).at(-1)!;
  proxy.plan.dropReferences.add(reference);

  const blocker = await holdRows(f.database.pool, 'select from zendesk.conversation_events where reference = $1 for update', [reference]);
  try {
    const run = settled(syncTicket(deps, ticketId, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    // The run's end holds ticket_sync and waits to delete the vanished event.
    await storeTicketContext(f.database.db, { tickets: [row] });
    f.sim.deleteTicket(ticketId);
    const page = settled(backfillOf(f));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ run: await run, page: await page }).toEqual({ run: 'ok', page: 'ok' });
  } finally {
    await blocker.release();
    proxy.plan.dropReferences.clear();
  }
  // The page went second: the ticket is purged, its tombstone says so.
  const { rows } = await f.database.pool.query(
    `select (select count(*)::int from zendesk.conversation_events where ticket_id = $1) as events,
            (select count(*)::int from zendesk.tickets where id = $1) as rows,
            (select status from zendesk.ticket_sync where ticket_id = $1) as status`,
    [ticketId],
  );
  expect(rows[0]).toEqual({ events: 0, rows: 0, status: 'not_found' });
});
