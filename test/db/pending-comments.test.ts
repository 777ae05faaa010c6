// A pending comment is shown until the conversation log confirms it. Which id a webhook gives for
// a comment is not documented: the event's own id, or the number in its reference
// (zen:ticket_event:<number>). A stored event matching either hides the pending row, so a
// comment read by a run that began before its webhook came is never shown twice.
import { expect, it } from 'vitest';
import { addPendingComments, type PendingComment } from '../../src/db/pending-comments.ts';
import { comment, storeTicket, supportUser } from '../analyst/hand-written.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

const pending = (ticketId: number, commentId: string, body: string): PendingComment => ({
  ticketId,
  commentId,
  body,
  isPublic: true,
  authorZendeskId: 7,
  authorName: 'Kim',
  authorIsStaff: false,
  writtenAt: '2024-02-01T10:00:00Z',
  webhookEventId: `evt-${commentId}`,
  raw: { id: commentId, body },
});

it("leaves out a comment written before its ticket's tombstone, and keeps one written after (the ticket restored)", async () => {
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status, deleted_at, deleted_how) values (502, 'not_found', '2024-02-01T11:00:00Z', '404')`);
  const late = { ...pending(502, '901', 'a deleted ticket\'s, delivered late'), writtenAt: '2024-02-01T10:59:59Z' };
  const restored = { ...pending(502, '902', 'written once it was restored'), writtenAt: '2024-02-01T11:00:01Z' };
  expect(await addPendingComments(database.db, [late, restored])).toBe(1);
  const { rows } = await database.pool.query(`select event_id, pending from zendesk.conversation_timeline where ticket_id = 502`);
  expect(rows).toEqual([{ event_id: '902', pending: true }]);
});

it('orders comments of the same second and batch by their ids as numbers', async () => {
  await addPendingComments(database.db, [pending(503, '1000', 'second'), pending(503, '779', 'first')]);
  const { rows } = await database.pool.query(`select event_id from zendesk.conversation_timeline where ticket_id = 503 order by position`);
  expect(rows.map((r) => r.event_id)).toEqual(['779', '1000']);
});

it('hides a pending comment once a stored event has its id or its reference number', async () => {
  const kim = supportUser('user', 7, 'Kim');
  await storeTicket(database.db, 501, [
    comment('2024-02-01T09:00:00Z', kim, { id: 'ULID-A', reference: 'zen:ticket_event:777' }),
    comment('2024-02-01T09:30:00Z', kim, { id: 'ULID-B', reference: 'zen:ticket_event:888' }),
  ]);
  await addPendingComments(database.db, [pending(501, '777', 'by reference'), pending(501, 'ULID-B', 'by id'), pending(501, '779', 'not read yet')]);

  const { rows } = await database.pool.query(
    `select position, event_id, body_text, author_type, pending from zendesk.conversation_timeline where ticket_id = 501 order by position`,
  );
  expect(rows).toEqual([
    { position: 1, event_id: 'ULID-A', body_text: expect.any(String), author_type: 'user', pending: false },
    { position: 2, event_id: 'ULID-B', body_text: expect.any(String), author_type: 'user', pending: false },
    { position: 3, event_id: '779', body_text: 'not read yet', author_type: 'user', pending: true },
  ]);
});
