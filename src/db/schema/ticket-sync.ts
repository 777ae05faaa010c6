// One row per ticket convlog was asked to sync: where its run stands, its saved cursor, its
// last error, and the tombstone of a ticket Zendesk deleted.
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, text } from 'drizzle-orm/pg-core';
import { id, tstz, zendesk } from './columns.ts';

export const TICKET_STATUSES = ['queued', 'syncing', 'synced', 'not_found', 'forbidden', 'failed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/**
 * How convlog learned that a ticket is gone: a 404, the export, or `convlog purge`. A deletion
 * webhook only queues the ticket; its sync then records the 404. The `: permanently deleted`
 * kinds are Zendesk's erasures (the export's scrubbed row, a 404 after a permanently_deleted
 * webhook), whose rows go whatever CONVLOG_ON_DELETE says (src/db/purge.ts).
 */
const DELETED_HOW = ['404', 'export', 'purge command', '404: permanently deleted', 'export: permanently deleted'] as const;
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
    // The first run of the ticket's current job: a request made during any of its attempts asks
    // for another run if the job fails for good (takeSyncAgain), one made while it waited does not.
    jobStartedAt: tstz('job_started_at'),
    // That job's pg-boss id: a retry or a hold keeps it, a new job has another.
    jobId: text('job_id'),
    lastSyncedAt: tstz('last_synced_at'),
    lastError: text('last_error'),
    lastErrorAt: tstz('last_error_at'),
    // The latest run was stopped by a shutdown, not failed: last_error says so, and status shows
    // the ticket apart from failures. Set with last_error_at; cleared as any other outcome is recorded.
    interruptedAt: tstz('interrupted_at'),
    // The tombstone of a ticket whose rows were removed (or marked): when, and how we learned it.
    deletedAt: tstz('deleted_at'),
    deletedHow: text('deleted_how').$type<DeletedHow>(),
    // A permanently_deleted webhook named the ticket: the 404 its sync meets erases, not marks.
    permanentDeletionReportedAt: tstz('permanent_deletion_reported_at'),
    // A comment_added webhook for a comment written by then may carry the text redacted (src/serve/intake.ts).
    redactedAt: tstz('redacted_at'),
    /** The last run that read the whole log from its first event (and so removed what vanished). */
    lastFullReadAt: tstz('last_full_read_at'),
    // Asked to sync again while a run was going (src/db/sync-again.ts, requestSyncAgain).
    syncAgainAt: tstz('sync_again_at'),
    syncAgainFull: boolean('sync_again_full').notNull().default(false),
    // The highest priority asked for by then: a webhook's request during a backlog run is queued at its own.
    syncAgainPriority: integer('sync_again_priority').notNull().default(0),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_sync_status_idx').on(t.status),
    // Status lists the interrupted tickets, a few, without reading every queued one.
    index('ticket_sync_interrupted_idx').on(t.interruptedAt).where(sql`${t.interruptedAt} is not null`),
    // Also ticket_sync_live_idx (ticket_id INCLUDE deleted_at, migrations/0014_daily_ranges.sql):
    // ticket_conversations over every ticket reads it instead of the table.
    check(
      'ticket_sync_status_check',
      sql.raw(`status in (${TICKET_STATUSES.map((s) => `'${s}'`).join(', ')})`),
    ),
  ],
);
