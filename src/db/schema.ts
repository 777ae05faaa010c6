// The tables analysts query. Columns other programs rely on are fixed by design.md; the
// migrations in migrations/ are generated from this file by drizzle-kit.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

export const zendesk = pgSchema('zendesk');

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const id = (name: string) => bigint(name, { mode: 'number' });

export const authors = zendesk.table('authors', {
  authorKey: text('author_key').primaryKey(),
  supportUserId: id('support_user_id'),
  suncoUserId: text('sunco_user_id'),
  type: text('type'),
  displayName: text('display_name'),
  avatarUrl: text('avatar_url'),
  firstSeenAt: tstz('first_seen_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

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
    bodyHtml: text('body_html'),
    bodyText: text('body_text'),
    public: boolean('public'),
    sourceType: text('source_type'),
    receivedAt: tstz('received_at'),
    ticketVersion: integer('ticket_version'),
    content: jsonb('content'),
    metadata: jsonb('metadata'),
    raw: jsonb('raw').notNull(),
    firstSyncedAt: tstz('first_synced_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('conversation_events_ticket_created_idx').on(t.ticketId, t.createdAt),
    index('conversation_events_author_idx').on(t.authorKey),
    index('conversation_events_created_idx').on(t.createdAt),
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
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const attachments = zendesk.table(
  'attachments',
  {
    ...fileColumns(),
    eventReference: text('event_reference')
      .notNull()
      .references(() => conversationEvents.reference, { onDelete: 'cascade' }),
  },
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
  (t) => [index('attachment_thumbnails_attachment_idx').on(t.attachmentId)],
);

export const TICKET_STATUSES = ['queued', 'syncing', 'synced', 'not_found', 'forbidden', 'failed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const ticketSync = zendesk.table(
  'ticket_sync',
  {
    ticketId: id('ticket_id').primaryKey(),
    status: text('status').$type<TicketStatus>().notNull().default('queued'),
    afterCursor: text('after_cursor'),
    eventsSynced: integer('events_synced').notNull().default(0),
    pagesSynced: integer('pages_synced').notNull().default(0),
    requestsLastRun: integer('requests_last_run').notNull().default(0),
    eventsLastRun: integer('events_last_run').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    queuedAt: tstz('queued_at'),
    startedAt: tstz('started_at'),
    lastSyncedAt: tstz('last_synced_at'),
    lastError: text('last_error'),
    lastErrorAt: tstz('last_error_at'),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_sync_status_idx').on(t.status),
    check(
      'ticket_sync_status_check',
      sql.raw(`${'status'} in (${TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`),
    ),
  ],
);

export type AuthorRow = typeof authors.$inferInsert;
export type EventRow = typeof conversationEvents.$inferInsert;
export type AttachmentRow = typeof attachments.$inferInsert;
export type ThumbnailRow = typeof attachmentThumbnails.$inferInsert;

// Internal bookkeeping lives in its own schema, so that the analysts' `zendesk` schema (and a
// read-only role on it) holds only their data.
export const internal = pgSchema('convlog');

/**
 * One row per rate budget shared by every convlog process ('conversation_log', 'export').
 * A permit is taken with one atomic UPDATE; Zendesk's headers correct the row.
 */
export const rateBudgets = internal.table('rate_budgets', {
  name: text('name').primaryKey(),
  limitPerWindow: integer('limit_per_window').notNull(),
  windowMs: integer('window_ms').notNull().default(60_000),
  windowStartedAt: tstz('window_started_at').notNull().defaultNow(),
  /** Permits taken in the current window, by every process. */
  spent: integer('spent').notNull().default(0),
  /** What Zendesk last said was left in its window, and when that window resets. */
  serverRemaining: integer('server_remaining'),
  serverResetsAt: tstz('server_resets_at'),
  /** After a 429, nobody sends before this. */
  pausedUntil: tstz('paused_until'),
  totalTaken: bigint('total_taken', { mode: 'number' }).notNull().default(0),
  totalRateLimited: bigint('total_rate_limited', { mode: 'number' }).notNull().default(0),
  totalWaitMs: bigint('total_wait_ms', { mode: 'number' }).notNull().default(0),
  /** Room for what a budget strategy needs to remember beyond the columns above. */
  state: jsonb('state').notNull().default({}),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** Small named values that must survive restarts, such as the incremental export's cursor. */
export const syncState = internal.table('sync_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * Webhooks `convlog serve` accepted, by delivery key (Zendesk's event id, or a hash of the
 * signature for trigger bodies, which carry none): a replay is answered 200 and queues nothing.
 * Rows older than a day are pruned; a replay that old fails the timestamp check anyway.
 */
export const webhookDeliveries = internal.table(
  'webhook_deliveries',
  {
    deliveryKey: text('delivery_key').primaryKey(),
    ticketId: id('ticket_id').notNull(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_deliveries_received_idx').on(t.receivedAt)],
);
