// Comments a webhook told us of, shown before the conversation log confirms them.
// Written by `convlog serve` from each fresh ticket.comment_added webhook; the ticket's next
// sync deletes those received before its run started (src/db/pending-comments.ts), and a purge
// deletes them all. conversation_timeline shows them after the ticket's stored events.
import { boolean, jsonb, primaryKey, text } from 'drizzle-orm/pg-core';
import { id, tstz, zendesk } from './columns.ts';

export const pendingComments = zendesk.table(
  'pending_comments',
  {
    ticketId: id('ticket_id').notNull(),
    // Zendesk's comment id as the webhook gave it (a string, kept as text).
    commentId: text('comment_id').notNull(),
    body: text('body').notNull(),
    isPublic: boolean('is_public'),
    authorZendeskId: id('author_zendesk_id'),
    authorName: text('author_name'),
    authorIsStaff: boolean('author_is_staff'),
    // The webhook's `time`: when Zendesk says the comment was added.
    writtenAt: tstz('written_at').notNull(),
    // Compared with ticket_sync.started_at, both by the database's clock: see clearConfirmedComments.
    receivedAt: tstz('received_at').notNull().defaultNow(),
    webhookEventId: text('webhook_event_id'),
    raw: jsonb('raw').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ticketId, t.commentId] })],
);
