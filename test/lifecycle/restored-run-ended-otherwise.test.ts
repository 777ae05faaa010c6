// A ticket deleted in Zendesk (its tombstone in ticket_sync), then restored: its next run is
// served the log and stores pages, then fails. Zendesk served the log after the deletion was
// recorded, so the ticket is live again: every view counts it, ticket_conversations and README's
// failed-tickets query too, as finishRun would have it. Before, the tombstone hid it from
// ticket_conversations while the timeline and the per-ticket answers counted its events.
import { expect, it } from 'vitest';
import type { OnDelete } from '../../src/config.ts';
import { preparePage } from '../../src/db/prepare-page.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { storePage } from '../../src/db/store-page.ts';
import { recordStatus, startRun } from '../../src/db/ticket-status.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { comment, storeTicket, storeTicketStatus, supportUser } from '../analyst/hand-written.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();
const q = async (text: string, params: unknown[] = []) => (await database.pool.query(text, params)).rows;
const ALEX = supportUser('agent', 99, 'Alex');

it.each<[number, OnDelete]>([
  [2001, 'purge'],
  [2002, 'keep'],
])('a restored ticket (%i, under %s) whose run stores pages and then fails counts in every view', async (ticketId, mode) => {
  const ana = supportUser('user', 6000 + ticketId, 'Ana');
  const question = comment('2025-02-03T10:00:00Z', ana);
  const answer = comment('2025-02-03T10:05:00Z', ALEX);
  await storeTicket(database.db, ticketId, [question, answer, comment('2025-02-03T11:00:00Z', ana)]);
  await storeTicketStatus(database.db, ticketId, 'deleted');
  await purgeTicket(database.db, ticketId, { how: '404', mode });
  expect(await q('select status, deleted_at is not null as tombstone from zendesk.ticket_sync where ticket_id = $1', [ticketId])).toEqual([{ status: 'not_found', tombstone: true }]);

  const { run } = await startRun(database.db, ticketId, { full: true });
  await storePage(database.db, preparePage(mapPage([question, answer], { ticketId }), { ticketId, run, afterCursor: 'after-2', requests: 1 }));
  await recordStatus(database.db, ticketId, { status: 'failed', reason: 'Zendesk answered 500 Internal Server Error' }, run);

  const [row] = await q(
    `select s.status, s.deleted_at is not null as tombstone,
            (select count(*)::int from zendesk.conversation_timeline t where t.ticket_id = $1 and not t.pending) as timeline,
            (select count(*)::int from zendesk.ticket_conversations c where c.ticket_id = $1 and c.sync_status in ('failed', 'forbidden')) as failed,
            (select events from zendesk.ticket_conversations c where c.ticket_id = $1) as events,
            (select count(*)::int from zendesk.agent_replies r where r.ticket_id = $1) as replies
       from zendesk.ticket_sync s where s.ticket_id = $1`,
    [ticketId],
  );
  expect(row).toEqual({ status: 'failed', tombstone: false, timeline: 2, failed: 1, events: 2, replies: 1 });
});

it('a run that stores pages and fails keeps the tombstone of a deletion recorded after it began', async () => {
  const ticketId = 2003;
  const page = [comment('2025-02-04T10:00:00Z', supportUser('user', 8003, 'Ana')), comment('2025-02-04T10:05:00Z', ALEX)];
  const { run } = await startRun(database.db, ticketId, { full: true });
  await storePage(database.db, preparePage(mapPage(page, { ticketId }), { ticketId, run, afterCursor: 'after-2', requests: 1 }));
  // The export reports the deletion while the run is between pages: the log may have been read before it.
  await purgeTicket(database.db, ticketId, { how: 'export', mode: 'purge' });
  await recordStatus(database.db, ticketId, { status: 'failed', reason: 'Zendesk answered 500 Internal Server Error' }, run);
  expect(await q('select deleted_at is not null as tombstone, deleted_how from zendesk.ticket_sync where ticket_id = $1', [ticketId])).toEqual([{ tombstone: true, deleted_how: 'export' }]);
  expect(await q('select ticket_id from zendesk.ticket_conversations where ticket_id = $1', [ticketId])).toEqual([]);
});
