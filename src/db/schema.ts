// The tables analysts query, as the README describes them (other programs rely on these
// columns: change them only with a migration and a README update); the
// migrations in migrations/ are generated from this file by drizzle-kit.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  smallint,
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
    // upkeep (convlog.refresh_ticket_analytics, migrations/0017_ticket_upkeep_by_index.sql).
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
  (t) => [index('attachment_thumbnails_attachment_idx').on(t.attachmentId)],
);

export const TICKET_STATUSES = ['queued', 'syncing', 'synced', 'not_found', 'forbidden', 'failed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/** How convlog learned that a ticket is gone: a 404, the export, a webhook, or `convlog purge`. */
export const DELETED_HOW = ['404', 'export', 'webhook', 'purge command'] as const;
export type DeletedHow = (typeof DELETED_HOW)[number];

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
    // The tombstone of a ticket whose rows were removed (or marked): when, and how we learned it.
    deletedAt: tstz('deleted_at'),
    deletedHow: text('deleted_how').$type<DeletedHow>(),
    /** The last run that read the whole log from its first event (and so removed what vanished). */
    lastFullReadAt: tstz('last_full_read_at'),
    // Asked to sync again while a run was going (src/db/ticket-status.ts, requestSyncAgain).
    syncAgainAt: tstz('sync_again_at'),
    syncAgainFull: boolean('sync_again_full').notNull().default(false),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_sync_status_idx').on(t.status),
    // Also ticket_sync_live_idx (ticket_id INCLUDE deleted_at, migrations/0014_daily_ranges.sql):
    // ticket_conversations over every ticket reads it instead of the table.
    check(
      'ticket_sync_status_check',
      sql.raw(`${'status'} in (${TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`),
    ),
  ],
);

// ---- Ticket context: the ticket, its group, brand and organization, as Zendesk served them ----
// Written from the incremental export's pages (tickets and side-loads) and from show_many for
// tickets queued by id. Requester, submitter and assignee names live in `authors`
// (`support:<id>`), so one table names every person whether or not they wrote.

export const tickets = zendesk.table(
  'tickets',
  {
    id: id('id').primaryKey(),
    subject: text('subject'),
    status: text('status').notNull(),
    priority: text('priority'),
    type: text('type'),
    viaChannel: text('via_channel'),
    via: jsonb('via'),
    requesterId: id('requester_id'),
    submitterId: id('submitter_id'),
    assigneeId: id('assignee_id'),
    groupId: id('group_id'),
    organizationId: id('organization_id'),
    brandId: id('brand_id'),
    tags: text('tags').array(),
    customFields: jsonb('custom_fields'),
    satisfactionRating: jsonb('satisfaction_rating'),
    fromMessagingChannel: boolean('from_messaging_channel'),
    createdAt: tstz('created_at'),
    updatedAt: tstz('updated_at'),
    // The export's change time (unix seconds in Zendesk) as a time; empty for a row read by id.
    generatedTimestamp: tstz('generated_timestamp'),
    deleted: boolean('deleted').notNull(),
    raw: jsonb('raw').notNull(),
    firstSyncedAt: tstz('first_synced_at').notNull().defaultNow(),
    syncedAt: tstz('synced_at').notNull().defaultNow(),
  },
  (t) => [
    index('tickets_status_idx').on(t.status),
    index('tickets_group_idx').on(t.groupId),
    index('tickets_brand_idx').on(t.brandId),
    index('tickets_organization_idx').on(t.organizationId),
    index('tickets_assignee_idx').on(t.assigneeId),
    index('tickets_via_channel_idx').on(t.viaChannel),
    index('tickets_updated_idx').on(t.updatedAt),
    index('tickets_created_idx').on(t.createdAt),
    index('tickets_tags_idx').using('gin', t.tags),
    // Also tickets_conversation_facts_idx (id INCLUDE the columns ticket_conversations reads),
    // created in migrations/0013_weekly_reply_times.sql: drizzle has no INCLUDE; and
    // tickets_deleted_idx (id WHERE deleted), created with the view that reads it in
    // migrations/0016_deleted_tickets_apart.sql.
  ],
);

export const groups = zendesk.table('groups', {
  id: id('id').primaryKey(),
  name: text('name'),
  description: text('description'),
  isPublic: boolean('is_public'),
  isDefault: boolean('is_default'),
  deleted: boolean('deleted'),
  createdAt: tstz('created_at'),
  updatedAt: tstz('updated_at'),
  raw: jsonb('raw').notNull(),
  syncedAt: tstz('synced_at').notNull().defaultNow(),
});

export const brands = zendesk.table('brands', {
  id: id('id').primaryKey(),
  name: text('name'),
  subdomain: text('subdomain'),
  brandUrl: text('brand_url'),
  hostMapping: text('host_mapping'),
  active: boolean('active'),
  isDefault: boolean('is_default'),
  createdAt: tstz('created_at'),
  updatedAt: tstz('updated_at'),
  raw: jsonb('raw').notNull(),
  syncedAt: tstz('synced_at').notNull().defaultNow(),
});

export const organizations = zendesk.table(
  'organizations',
  {
    id: id('id').primaryKey(),
    name: text('name'),
    domainNames: text('domain_names').array(),
    tags: text('tags').array(),
    groupId: id('group_id'),
    externalId: text('external_id'),
    createdAt: tstz('created_at'),
    updatedAt: tstz('updated_at'),
    raw: jsonb('raw').notNull(),
    syncedAt: tstz('synced_at').notNull().defaultNow(),
  },
  (t) => [index('organizations_tags_idx').using('gin', t.tags)],
);

// ---- Per-ticket answers, kept by convlog.refresh_ticket_analytics (migrations/0008_analytics.sql) ----
// Rewritten for exactly the tickets a run finished (or a purge removed), from those tickets' rows
// only, in the same transaction: the views read them instead of scanning every event.

const count = (name: string) => integer(name).notNull();

export const ticketSummaries = zendesk.table(
  'ticket_summaries',
  {
    ticketId: id('ticket_id').primaryKey(),
    channel: text('channel'),
    endUserSource: text('end_user_source'),
    firstEventAt: tstz('first_event_at').notNull(),
    lastEventAt: tstz('last_event_at').notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
    internalNotes: count('internal_notes'),
    otherEvents: count('other_events'),
    agentsInvolved: count('agents_involved'),
    attachments: count('attachments'),
    firstEndUserMessageAt: tstz('first_end_user_message_at'),
    firstAgentReplyAt: tstz('first_agent_reply_at'),
    firstReplyAgentKey: text('first_reply_agent_key'),
    handedOverAt: tstz('handed_over_at'),
    handoverRequestedAt: tstz('handover_requested_at'),
    botOutcome: text('bot_outcome'),
    unansweredSince: tstz('unanswered_since'),
    lastMessageAuthorType: text('last_message_author_type'),
    refreshedAt: tstz('refreshed_at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_summaries_first_event_idx').on(t.firstEventAt),
    index('ticket_summaries_first_reply_idx').on(t.firstAgentReplyAt),
    index('ticket_summaries_unanswered_idx').on(t.unansweredSince),
    // daily_activity filters on the UTC day of these times: an index on that very expression
    // lets a range of days be read from the index instead of testing every ticket.
    index('ticket_summaries_first_event_day_idx').on(sql`(((${t.firstEventAt} AT TIME ZONE 'UTC'))::date)`),
    index('ticket_summaries_handed_over_day_idx')
      .on(sql`(((${t.handedOverAt} AT TIME ZONE 'UTC'))::date)`)
      .where(sql`${t.handedOverAt} IS NOT NULL`),
  ],
);

export const replyWaits = zendesk.table(
  'reply_waits',
  {
    ticketId: id('ticket_id').notNull(),
    replyNumber: integer('reply_number').notNull(),
    reference: text('reference').notNull(),
    repliedAt: tstz('replied_at').notNull(),
    agentKey: text('agent_key'),
    channel: text('channel'),
    waitingSince: tstz('waiting_since').notNull(),
    endUserMessages: count('end_user_messages'),
    firstWaitingReference: text('first_waiting_reference').notNull(),
    // The UTC week and the wait, stored so that one index holds each week's waits in order:
    // weekly_reply_times then finds a week's median by skipping half of its entries in the index
    // instead of reading and sorting every reply (migrations/0013_weekly_reply_times.sql).
    week: timestamp('week').generatedAlwaysAs(sql`date_trunc('week', ("replied_at" AT TIME ZONE 'UTC'))`),
    waitSeconds: integer('wait_seconds').generatedAlwaysAs(sql`(extract(epoch FROM "replied_at" - "waiting_since"))::integer`),
    // The UTC day, for daily_activity: reply_waits_day_idx (day INCLUDE wait_seconds and
    // reply_number, migrations/0014_daily_ranges.sql; drizzle has no INCLUDE) answers a range of
    // days from the index alone.
    day: date('day', { mode: 'string' }).generatedAlwaysAs(sql`(("replied_at" AT TIME ZONE 'UTC'))::date`),
  },
  (t) => [
    primaryKey({ columns: [t.ticketId, t.replyNumber] }),
    index('reply_waits_replied_idx').on(t.repliedAt),
    index('reply_waits_week_wait_idx').on(t.week, t.waitSeconds),
    index('reply_waits_agent_idx').on(t.agentKey),
  ],
);

export const ticketDays = zendesk.table(
  'ticket_days',
  {
    ticketId: id('ticket_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
    internalNotes: count('internal_notes'),
    messagingEvents: count('messaging_events'),
  },
  (t) => [primaryKey({ columns: [t.ticketId, t.day] }), index('ticket_days_day_idx').on(t.day)],
);

export const ticketHours = zendesk.table(
  'ticket_hours',
  {
    ticketId: id('ticket_id').notNull(),
    // The hour of the day in UTC, 0 to 23: the ticket's events over all its days, by time of day.
    hourUtc: smallint('hour_utc').notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    messagingEndUserMessages: count('messaging_end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
  },
  (t) => [primaryKey({ columns: [t.ticketId, t.hourUtc] })],
);

// ---- Comments a webhook told us of, shown before the conversation log confirms them ----
// Written by `convlog serve` from each fresh ticket.comment_added webhook; the ticket's next
// sync deletes those received before its run started (src/db/pending-comments.ts), and a purge
// deletes them all. conversation_timeline shows them after the ticket's stored events.

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

export type AuthorRow = typeof authors.$inferInsert;
export type EventRow = typeof conversationEvents.$inferInsert;
export type AttachmentRow = typeof attachments.$inferInsert;
export type ThumbnailRow = typeof attachmentThumbnails.$inferInsert;
export type TicketRow = typeof tickets.$inferInsert;
export type GroupRow = typeof groups.$inferInsert;
export type BrandRow = typeof brands.$inferInsert;
export type OrganizationRow = typeof organizations.$inferInsert;
export type PendingCommentRow = typeof pendingComments.$inferInsert;

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
