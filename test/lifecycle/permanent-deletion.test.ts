// A permanent deletion is how Zendesk erases a ticket (a GDPR request and the like): under
// CONVLOG_ON_DELETE=keep, a ticket in the bin keeps its rows, marked, but one the export serves
// scrubbed must leave nothing behind but its tombstone, and so must one that went to the bin
// first. Real Postgres, real simulator, the backfill as `convlog backfill` runs it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { authorsOnlyOf, rowsOfTicket } from '../helpers/ticket-rows.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 12, accountRateLimit: 0 });
  for (let id = 1; id <= 12; id++) await syncTicket(f.deps, id);
  // Every ticket's own row, as a backfill stores it, and a comment a webhook announced.
  await keepBackfill();
  for (let id = 1; id <= 12; id++) {
    await query(`insert into zendesk.pending_comments (ticket_id, comment_id, body, is_public, written_at, raw) values ($1, 'c-1', 'Call me on +1 415 555 0100', true, now(), '{}')`, [id]);
  }
});
afterAll(async () => {
  await f?.close();
});

const keepBackfill = () =>
  runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'keep' },
    { since: nowSec() - 400 * DAY },
  );
const query = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;
const tombstone = async (ticketId: number) => (await query('select status, deleted_how, last_error from zendesk.ticket_sync where ticket_id = $1', [ticketId]))[0];

/** Tickets with events, attachments and thumbnails stored, and authors no other ticket names. */
async function richTickets(n: number): Promise<number[]> {
  const rows = await query<{ id: number }>(`
    select ticket_id::int as id from zendesk.attachment_thumbnails th
     where not exists (select from zendesk.ticket_sync s where s.ticket_id = th.ticket_id and s.deleted_at is not null)
     group by 1 order by 1`);
  const ids = [];
  for (const { id } of rows) if ((await authorsOnlyOf(f.database.pool, id)).length > 0) ids.push(id);
  expect(ids.length).toBeGreaterThanOrEqual(n);
  return ids.slice(0, n);
}

it('under keep, a ticket the export serves scrubbed is erased, while one in the bin keeps its rows, marked', async () => {
  const [erased, binned] = await richTickets(2);
  const before = { erased: await rowsOfTicket(f.database.pool, erased), binned: await rowsOfTicket(f.database.pool, binned) };
  expect(before.erased).toMatchObject({ conversation_events: expect.any(Number), attachments: expect.any(Number), attachment_thumbnails: expect.any(Number), ticket_summaries: 1, tickets: 1, pending_comments: 1 });
  const people = await authorsOnlyOf(f.database.pool, erased);

  f.sim.deleteTicket(erased, { permanently: true });
  f.sim.deleteTicket(binned);
  await keepBackfill();

  // Nothing of the erased ticket but its tombstone: no events, files, thumbnails, analyst rows,
  // pending comment, nor the scrubbed ticket row (it holds nothing an analyst could use).
  expect(await rowsOfTicket(f.database.pool, erased)).toEqual({ ticket_sync: 1 });
  expect(await query('select author_key from zendesk.authors where author_key = any($1)', [people])).toEqual([]);
  expect(await tombstone(erased)).toEqual({
    status: 'not_found',
    deleted_how: 'export: permanently deleted',
    last_error: 'the incremental export reported the ticket permanently deleted (scrubbed); its stored rows were removed, whatever CONVLOG_ON_DELETE says',
  });

  // The binned one can come back: its events and files stay, marked, and its ticket row says deleted.
  const kept = await rowsOfTicket(f.database.pool, binned);
  expect(kept).toMatchObject({ conversation_events: before.binned.conversation_events, attachments: before.binned.attachments, attachment_thumbnails: before.binned.attachment_thumbnails, tickets: 1 });
  expect(await query('select 1 from zendesk.conversation_events where ticket_id = $1 and deleted_at is null', [binned])).toEqual([]);
  expect(await query('select deleted from zendesk.tickets where id = $1', [binned])).toEqual([{ deleted: true }]);
  expect(await tombstone(binned)).toMatchObject({ status: 'not_found', deleted_how: 'export' });
});

it('under keep, a ticket in the bin whose rows are marked is erased once the export serves it scrubbed', async () => {
  const [ticketId] = await richTickets(1);
  f.sim.deleteTicket(ticketId);
  await keepBackfill();
  expect(await rowsOfTicket(f.database.pool, ticketId)).toMatchObject({ conversation_events: expect.any(Number), attachments: expect.any(Number) });

  f.sim.deleteTicket(ticketId, { permanently: true });
  await keepBackfill();
  expect(await rowsOfTicket(f.database.pool, ticketId)).toEqual({ ticket_sync: 1 });
  expect(await tombstone(ticketId)).toMatchObject({ status: 'not_found', deleted_how: 'export: permanently deleted' });
});

it('under keep, a ticket with no row of its own whose 404 marked its rows is erased once the export serves it scrubbed', async () => {
  // Queued by id alone (no ticket row), erased in Zendesk, and met by its sync's 404 before any
  // backfill: the 404 cannot tell an erasure from the bin, so under keep it marks the rows.
  const [ticketId] = await richTickets(1);
  await query('delete from zendesk.tickets where id = $1', [ticketId]);
  f.sim.deleteTicket(ticketId, { permanently: true });
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // the 404 comes a second after the scrub
  expect((await syncTicket({ ...f.deps, onDelete: 'keep' }, ticketId)).status).toBe('not_found');
  expect(await rowsOfTicket(f.database.pool, ticketId)).toMatchObject({ conversation_events: expect.any(Number), attachments: expect.any(Number) });
  expect(await tombstone(ticketId)).toMatchObject({ deleted_how: '404' });

  // The export's scrubbed state is older than that tombstone, and was taken for a deletion already recorded.
  const { deleted } = await keepBackfill();
  expect(deleted).toBe(1);
  expect(await rowsOfTicket(f.database.pool, ticketId)).toEqual({ ticket_sync: 1 });
  expect(await tombstone(ticketId)).toMatchObject({ status: 'not_found', deleted_how: 'export: permanently deleted' });
  // Read again, the page changes nothing more.
  expect((await keepBackfill()).deleted).toBe(0);
});

it('under purge, a ticket whose 404 removed its rows keeps its tombstone when the export serves it scrubbed', async () => {
  const [ticketId] = await richTickets(1);
  await query('delete from zendesk.tickets where id = $1', [ticketId]);
  f.sim.deleteTicket(ticketId, { permanently: true });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect((await syncTicket(f.deps, ticketId)).status).toBe('not_found');
  const before = await query('select deleted_at, deleted_how, last_error from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
  const backfill = await runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'purge' },
    { since: nowSec() - 400 * DAY },
  );
  // Nothing left to erase: counted as a deletion recorded before, the tombstone as the 404 left it.
  expect(backfill.deleted).toBe(0);
  expect(await query('select deleted_at, deleted_how, last_error from zendesk.ticket_sync where ticket_id = $1', [ticketId])).toEqual(before);
});
