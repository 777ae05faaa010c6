// What a plain sync does when Zendesk changes or loses what convlog stored: a 404 removes the
// ticket, a full read removes what vanished, a one-page ticket is always read whole, a cursor
// rejected mid-run restarts the read, and 429s never fail it. Real simulator, real Postgres.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fullReadsOverdue, ticketsDueForFullRead } from '../../src/db/full-read.ts';
import type { Db } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { storeTicketStatus } from '../analyst/hand-written.ts';
import { startProxy, type ZendeskProxy } from './zendesk-proxy.ts';

const dueIds = async (db: Db, days: number, limit: number, pageSize: number) => (await ticketsDueForFullRead(db, days, limit, pageSize)).map((t) => t.ticketId);

const PAGE = 10;
let fixture: Fixture;
let proxy: ZendeskProxy;
let deps: SyncDeps;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 9, ticketSizes: { 1: 6, 2: 35, 3: 6, 4: 25, 5: 8, 6: 12, 7: 6, 8: 6, 9: 15 } }, { pageSize: PAGE });
  proxy = await startProxy(fixture.sim.url);
  const http = createZendeskHttp({ baseUrl: proxy.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  deps = { db: fixture.database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false, pageSize: PAGE };
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.close();
});

const query = async <T extends object>(text: string, values: unknown[] = []) => (await fixture.database.pool.query<T>(text, values)).rows;
const eventCount = async (ticketId: number) => Number((await query<{ n: string }>('select count(*) as n from zendesk.conversation_events where ticket_id = $1', [ticketId]))[0].n);
const syncState = async (ticketId: number) =>
  (await query<{ status: string; deleted_how: string | null; last_full_read_at: Date | null; deleted_at: Date | null }>(
    'select status, deleted_how, last_full_read_at, deleted_at from zendesk.ticket_sync where ticket_id = $1',
    [ticketId],
  ))[0];

it('a 404 on a stored ticket removes its rows, leaves a tombstone, and the views no longer count it', async () => {
  await syncTicket(deps, 1);
  expect(await eventCount(1)).toBe(6);
  fixture.sim.setOptions({ deleted: [1] });
  const result = await syncTicket(deps, 1);
  expect(result.status).toBe('not_found');
  expect(await eventCount(1)).toBe(0);
  expect(await query('select 1 from zendesk.attachments where ticket_id = 1')).toEqual([]);
  expect(await syncState(1)).toMatchObject({ status: 'not_found', deleted_how: '404' });
  expect(await query('select 1 from zendesk.ticket_conversations where ticket_id = 1')).toEqual([]);

  // Restored in Zendesk (undeleted): the next sync stores it again like a new ticket.
  fixture.sim.setOptions({ deleted: [] });
  expect((await syncTicket(deps, 1)).status).toBe('synced');
  expect(await eventCount(1)).toBe(6);
  expect(await syncState(1)).toMatchObject({ status: 'synced', deleted_how: null, deleted_at: null });
});

it('under keep, a 404 marks the rows instead and no view counts them', async () => {
  await syncTicket(deps, 7);
  await storeTicketStatus(fixture.database.db, 7, 'open');
  fixture.sim.setOptions({ deleted: [7] });
  await syncTicket({ ...deps, onDelete: 'keep' }, 7);
  fixture.sim.setOptions({ deleted: [] });
  expect(await eventCount(7)).toBe(6);
  // The tombstone says what became of the rows: kept, not removed.
  const [{ last_error: reason }] = await query<{ last_error: string }>('select last_error from zendesk.ticket_sync where ticket_id = 7');
  expect(reason).toBe('Zendesk answered 404: the ticket was deleted or never existed; its stored rows were kept, marked deleted (CONVLOG_ON_DELETE=keep)');
  const live = await query('select 1 from zendesk.conversation_events where ticket_id = 7 and deleted_at is null');
  expect(live).toEqual([]);
  for (const view of ['conversation_timeline', 'ticket_conversations', 'attachments_with_context', 'agent_replies']) {
    expect(await query(`select 1 from zendesk.${view} where ticket_id = 7`), view).toEqual([]);
  }
  // Its ticket row is marked too: a query of the tickets table (NOT deleted, as docs/tickets.md's
  // volume by brand) counted it as open until a backfill read the deletion.
  expect(await query('select status, deleted from zendesk.tickets where id = 7')).toEqual([{ status: 'deleted', deleted: true }]);
});

it('an event that vanished from the log is removed by the next full read', async () => {
  await syncTicket(deps, 2);
  expect(await eventCount(2)).toBe(35);
  const gone = fixture.sim.events(2)[12].reference;
  proxy.plan.dropReferences.add(gone);
  try {
    // A resumed read of a long ticket cannot see it: the event stays until a full read.
    await syncTicket(deps, 2);
    expect(await eventCount(2)).toBe(35);
    const result = await syncTicket(deps, 2, { full: true });
    expect(result.fullRead).toBe(true);
    expect(await eventCount(2)).toBe(34);
    expect(await query('select 1 from zendesk.conversation_events where reference = $1', [gone])).toEqual([]);
    expect((await syncState(2)).last_full_read_at).toBeInstanceOf(Date);
  } finally {
    proxy.plan.dropReferences.clear();
  }
});

it('a redaction and a dropped attachment in a one-page ticket are picked up by a plain sync, in one request', async () => {
  await syncTicket(deps, 3);
  const withFile = fixture.sim.events(3).find((e) => e.attachments.length > 0);
  const target = fixture.sim.events(3)[0];
  fixture.sim.editEvent(3, target.reference, (event) => {
    (event.content as { body?: string }).body = '▇▇▇▇ redacted';
  });
  if (withFile) fixture.sim.editEvent(3, withFile.reference, (event) => void (event.attachments = []));
  fixture.sim.resetRequests();
  const result = await syncTicket(deps, 3);
  expect(result.requests).toBe(1);
  expect(result.fullRead).toBe(true);
  const [row] = await query<{ raw: { content: { body?: string } } }>('select raw from zendesk.conversation_events where reference = $1', [target.reference]);
  expect(row.raw.content.body).toBe('▇▇▇▇ redacted');
  if (withFile) expect(await query('select 1 from zendesk.attachments where event_reference = $1', [withFile.reference])).toEqual([]);
});

it('a cursor Zendesk rejects after the first page starts the ticket again and ends synced', async () => {
  proxy.plan.rejectNextCursor = true;
  const result = await syncTicket(deps, 4);
  expect(result.status).toBe('synced');
  expect(proxy.plan.rejectNextCursor).toBe(false);
  expect(await eventCount(4)).toBe(25);
  expect(await syncState(4)).toMatchObject({ status: 'synced' });
  expect((await syncState(4)).last_full_read_at).toBeInstanceOf(Date);
});

// More than the 5 attempts any other failure gets; each waits at least a second, whatever its
// Retry-After says (MIN_RETRY_AFTER_MS).
it('8 consecutive 429s on one page are waited out and the page is stored', { timeout: 60_000 }, async () => {
  proxy.statuses.length = 0;
  proxy.plan.rateLimitNext = 8;
  const result = await syncTicket(deps, 5);
  expect(result.status).toBe('synced');
  expect(proxy.statuses.filter((s) => s === 429)).toHaveLength(8);
  expect(result.requests).toBe(9);
  expect(await eventCount(5)).toBe(8);
});

it('tickets longer than a page whose last full read is too old are due for one, oldest first; one-page tickets never are', async () => {
  const db = fixture.database.db;
  await syncTicket(deps, 6); // 12 events: two pages, read whole as a new ticket
  await syncTicket(deps, 8); // 6 events: one page
  expect(await dueIds(db, 30, 10, PAGE)).toEqual([]);
  await query(`update zendesk.ticket_sync set last_full_read_at = now() - interval '40 days' where ticket_id in (2, 8)`);
  await query(`update zendesk.ticket_sync set last_full_read_at = null where ticket_id = 6`);
  expect(await dueIds(db, 30, 10, PAGE)).toEqual([6, 2]);
  expect(await dueIds(db, 30, 1, PAGE)).toEqual([6]);
  expect(await dueIds(db, 50, 10, PAGE)).toEqual([6]);
  expect((await fullReadsOverdue(db, 30, PAGE)).tickets).toBe(2);
  await syncTicket(deps, 6, { full: true });
  expect(await dueIds(db, 30, 10, PAGE)).toEqual([2]);
});

it('a first sync has nothing stored to compare with, so it removes nothing at its end; a full read of a stored ticket checks', async () => {
  // A statement-level trigger fires once per DELETE statement, however many rows it removes.
  await query('create table removals (table_name text)');
  await query(`create function note_removal() returns trigger language plpgsql as $$
    begin insert into removals values (TG_TABLE_NAME); return null; end $$`);
  const tables = ['conversation_events', 'attachments', 'attachment_thumbnails'];
  for (const table of tables) {
    await query(`create trigger note_removal after delete on zendesk.${table} for each statement execute function note_removal()`);
  }
  const removals = async () => (await query<{ table_name: string }>('select table_name from removals order by 1')).map((r) => r.table_name);
  try {
    const first = await syncTicket(deps, 9); // 15 events: two pages from the first event
    expect(first).toMatchObject({ status: 'synced', events: 15, fullRead: true });
    expect(await eventCount(9)).toBe(15);
    expect((await syncState(9)).last_full_read_at).toBeInstanceOf(Date);
    expect(await removals()).toEqual([]);

    await syncTicket(deps, 9, { full: true });
    expect(await removals()).toEqual(['attachment_thumbnails', 'attachments', 'conversation_events']);
    expect(await eventCount(9)).toBe(15);
  } finally {
    for (const table of tables) await query(`drop trigger note_removal on zendesk.${table}`);
    await query('drop function note_removal()');
    await query('drop table removals');
  }
});
