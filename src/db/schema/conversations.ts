// The conversation log as stored: events, their authors, and the files they carry.
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, text } from 'drizzle-orm/pg-core';
import { id, tstz, zendesk } from './columns.ts';

export const authors = zendesk.table('authors', {
  authorKey: text('author_key').primaryKey(),
  supportUserId: id('support_user_id'),
  suncoUserId: text('sunco_user_id'),
  type: text('type'),
  displayName: text('display_name'),
  avatarUrl: text('avatar_url'),
  // The Zendesk user's own updated_at, from the side-loaded record last written (a conversation
  // log's author carries none): an older record, answered late, does not overwrite a newer one.
  userUpdatedAt: tstz('user_updated_at'),
  // When the newest event that gave the person's type, name and avatar was written: an older one,
  // stored later (an old ticket synced after a newer one, a full read), does not change them back.
  writtenAt: tstz('written_at'),
  firstSeenAt: tstz('first_seen_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

// The columns views filter on are derived from the row once, by Postgres (generated columns):
// the mapper does not compute them, and no view numbers or classifies the whole table per query.
const EVENT_KIND = sql`CASE WHEN "type" = 'Comment' AND "public" IS FALSE THEN 'internal_note' WHEN "type" IN ('Comment', 'Messaging::ConversationMessage') THEN 'message' ELSE 'other' END`;

export const conversationEvents = zendesk.table(
  'conversation_events',
  {
    reference: text('reference').primaryKey(),
    eventId: text('event_id').notNull(),
    ticketId: id('ticket_id').notNull(),
    type: text('type').notNull(),
    createdAt: tstz('created_at').notNull(),
    authorKey: text('author_key').references(() => authors.authorKey),
    contentType: text('content_type'),
    bodyText: text('body_text'),
    public: boolean('public'),
    sourceType: text('source_type'),
    receivedAt: tstz('received_at'),
    ticketVersion: integer('ticket_version'),
    raw: jsonb('raw').notNull(),
    // Set under CONVLOG_ON_DELETE=keep when the ticket or the event is gone from Zendesk; the views skip such rows.
    deletedAt: tstz('deleted_at'),
    firstSyncedAt: tstz('first_synced_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
    // The event's place in its ticket: set when the page is stored, corrected by the per-ticket
    // upkeep (convlog.refresh_ticket_analytics, migrations/0020_upkeep_whole_ticket_windows.sql).
    position: integer('position'),
    eventKind: text('event_kind').generatedAlwaysAs(EVENT_KIND),
    channel: text('channel').generatedAlwaysAs(sql`lower(split_part("type", '::', 1))`),
    isPublic: boolean('is_public').generatedAlwaysAs(sql`coalesce("public", CASE WHEN "type" = 'Messaging::ConversationMessage' THEN true END)`),
    // As written on the event: a customer who later becomes an agent keeps their old messages.
    authorType: text('author_type').generatedAlwaysAs(sql`"raw" #>> '{author,type}'`),
    attachmentCount: integer('attachment_count').generatedAlwaysAs(
      sql`CASE WHEN jsonb_typeof("raw" -> 'attachments') = 'array' THEN jsonb_array_length("raw" -> 'attachments') ELSE 0 END`,
    ),
  },
  (t) => [
    index('conversation_events_ticket_position_idx').on(t.ticketId, t.position),
    index('conversation_events_author_idx').on(t.authorKey),
    index('conversation_events_created_idx').on(t.createdAt),
    // What attachments_with_context needs of an event, for the events that list files (about
    // one in ten): the view joins to this small index instead of the whole table.
    index('conversation_events_files_idx')
      .on(t.reference, t.authorType, t.isPublic, t.type, t.createdAt, t.authorKey)
      .where(sql`${t.attachmentCount} > 0 AND ${t.deletedAt} IS NULL`),
  ],
);

// Thumbnails share every column of an attachment except the link to their parent.
const fileColumns = () => ({
  id: id('id').primaryKey(),
  ticketId: id('ticket_id').notNull(),
  fileName: text('file_name'),
  contentType: text('content_type'),
  contentUrl: text('content_url'),
  mappedContentUrl: text('mapped_content_url'),
  url: text('url'),
  size: id('size'),
  width: integer('width'),
  height: integer('height'),
  inline: boolean('inline'),
  deleted: boolean('deleted'),
  // convlog's mark (CONVLOG_ON_DELETE=keep) that Zendesk no longer lists the file; `deleted` is Zendesk's own flag.
  deletedAt: tstz('deleted_at'),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const attachments = zendesk.table(
  'attachments',
  {
    ...fileColumns(),
    eventReference: text('event_reference')
      .notNull()
      .references(() => conversationEvents.reference, { onDelete: 'cascade' }),
    // A copy of the event's author_type, measured as needed: counting files by who sent them
    // (the README's attachments query) then reads no events.
    authorType: text('author_type'),
  },
  // Also attachments_by_type_idx (content_type INCLUDE what counting files by type reads, for the
  // files not marked gone), created in migrations/0015_attachments_by_type.sql: drizzle has no INCLUDE.
  (t) => [index('attachments_event_idx').on(t.eventReference), index('attachments_ticket_idx').on(t.ticketId)],
);

export const attachmentThumbnails = zendesk.table(
  'attachment_thumbnails',
  {
    ...fileColumns(),
    attachmentId: id('attachment_id')
      .notNull()
      .references(() => attachments.id, { onDelete: 'cascade' }),
  },
  // By ticket too: a full read removes the thumbnails it no longer saw, and a purge all of a
  // ticket's, by ticket_id; without this index each did a scan of every thumbnail stored.
  (t) => [index('attachment_thumbnails_attachment_idx').on(t.attachmentId), index('attachment_thumbnails_ticket_idx').on(t.ticketId)],
);

export type AuthorRow = typeof authors.$inferInsert;
export type EventRow = typeof conversationEvents.$inferInsert;
export type AttachmentRow = typeof attachments.$inferInsert;
export type ThumbnailRow = typeof attachmentThumbnails.$inferInsert;
