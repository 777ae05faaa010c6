// The lifecycle of a ticket in zendesk.ticket_sync: queued → syncing → synced, or one of the
// recorded outcomes (not_found, forbidden) or failed with its reason.
import { and, count, eq, sql } from 'drizzle-orm';
import { DeletedDuringRun, RunTakenOver } from '../errors/convlog-errors.ts';
import type { Db } from './connection.ts';
import { refreshTicketAnalytics } from './analytics.ts';
import { lockedTicketSync } from './lock-order.ts';
import { clearConfirmedComments } from './pending-comments.ts';
import { inTransaction } from './transaction.ts';
import { exactTime, idArray } from './sql-values.ts';
import { ticketSummaries, ticketSync, type TicketStatus } from './schema.ts';

const BATCH = 5_000;

/** The database's clock, as text (microseconds kept), for comparing with times it recorded. */
export async function databaseNow(db: Db): Promise<string> {
  const { rows } = await db.execute<{ now: string }>(sql`select ${exactTime(sql`now()`)} as now`);
  return rows[0].now;
}

/**
 * Ticket rows for ids just queued. A ticket being synced right now keeps its status, and so does
 * one whose run started after `jobsInsertedFrom` (the database time taken before the jobs were
 * inserted): a worker took the new job already, maybe finished it, and its status is the truth.
 * `permanentlyDeleted`: tickets a permanently_deleted webhook named, whose rows carry the report
 * (reportPermanentDeletion, src/db/purge.ts) from the transaction that queues their jobs on: a row
 * this makes would otherwise be reported only after the job could be taken.
 */
export async function markQueued(db: Db, ticketIds: readonly number[], jobsInsertedFrom?: string, permanentlyDeleted: readonly number[] = []): Promise<void> {
  const reported = idArray(permanentlyDeleted);
  // One array parameter per batch (unnest) rather than three parameters a row: 10x faster.
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    const ids = idArray(ticketIds.slice(i, i + BATCH));
    await db.execute(sql`
      insert into zendesk.ticket_sync as t (ticket_id, status, queued_at, permanent_deletion_reported_at)
      select id, 'queued', now(), case when id = any(${reported}) then now() end from unnest(${ids}) as id order by id
      on conflict (ticket_id) do update set status = 'queued', queued_at = now(), updated_at = now(),
        permanent_deletion_reported_at = coalesce(t.permanent_deletion_reported_at, excluded.permanent_deletion_reported_at)
       where t.status <> 'syncing'
         and (${jobsInsertedFrom ?? null}::timestamptz is null or t.started_at is null or t.started_at < ${jobsInsertedFrom ?? null}::timestamptz)`);
  }
}

/**
 * Takes back the `queued` marks of tickets whose jobs were dropped unrun: one synced before is
 * synced as it was, one never read is forgotten. One read in part keeps its mark and its cursor.
 */
export async function unmarkQueued(db: Db, ticketIds: readonly number[]): Promise<void> {
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    const ids = idArray(ticketIds.slice(i, i + BATCH));
    await db.execute(sql`
      with ${lockedTicketSync(ids, sql`status in ('queued', 'syncing') and last_synced_at is not null`)}
      update zendesk.ticket_sync s set status = 'synced', queued_at = null, updated_at = now()
        from locked where s.ticket_id = locked.ticket_id`);
    await db.execute(sql`
      delete from zendesk.ticket_sync
       where ticket_id = any(${ids}) and status in ('queued', 'syncing') and last_synced_at is null and pages_synced = 0`);
  }
}

/** The pg-boss job a run belongs to: its retries and holds keep its id. */
export interface RunJob {
  id: string;
  createdOn: Date;
}

/**
 * Starts a run and returns the cursor to resume from, with the run's token (its `started_at`):
 * the run's writes check it (storePage, forgetCursor, finishRun, recordStatus, the purge of a
 * 404), so that a run taken over by another worker writes nothing after the newer one began.
 * `full` forgets the saved cursor, so
 * that edits and deleted attachments in old events are read again; so does a full re-read asked
 * for before this run and not yet read (`sync_again_full`): the job that would have read it may
 * have failed and been retried as it was, plain, or been taken just before the request came.
 */
export async function startRun(db: Db, ticketId: number, options: { full: boolean; job?: RunJob }): Promise<{ afterCursor: string | null; run: string }> {
  // A run outside a job is a job of its own.
  const jobId = options.job?.id ?? null;
  const jobCreatedOn = options.job?.createdOn.toISOString() ?? null;
  const [row] = await db
    .insert(ticketSync)
    // now(), as on conflict: started_at is compared with times the database recorded (pending comments).
    .values({ ticketId, status: 'syncing', startedAt: sql`now()`, jobStartedAt: sql`now()`, jobId, attempts: 1 })
    .onConflictDoUpdate({
      target: ticketSync.ticketId,
      set: {
        status: 'syncing',
        startedAt: sql`now()`,
        // By the job's id: pg-boss dates a job from its transaction's start, so one inserted by a
        // transaction that waited for a lock can be older than the previous job's first run. A row
        // from before job_id was kept goes by that date: every run of the job before began earlier.
        jobStartedAt: sql`case
          when ${jobId}::text is null then now()
          when ${ticketSync.jobId} is not null then case when ${ticketSync.jobId} = ${jobId}::text then ${ticketSync.jobStartedAt} else now() end
          when ${ticketSync.jobStartedAt} is null or ${ticketSync.jobStartedAt} < ${jobCreatedOn}::timestamptz then now()
          else ${ticketSync.jobStartedAt} end`,
        jobId,
        attempts: sql`${ticketSync.attempts} + 1`,
        eventsLastRun: 0,
        requestsLastRun: 0,
        pagesSynced: 0,
        afterCursor: options.full ? null : sql`case when ${ticketSync.syncAgainFull} then null else ${ticketSync.afterCursor} end`,
        updatedAt: sql`now()`,
      },
    })
    // As text, so the token keeps the microseconds a Date would drop.
    .returning({ afterCursor: ticketSync.afterCursor, run: exactTime(sql`${ticketSync.startedAt}`) });
  return { afterCursor: row.afterCursor, run: row.run };
}

/** The ticket's ticket_sync row while `run` (startRun's token) is still its latest run. */
const ofRun = (ticketId: number, run: string) => and(eq(ticketSync.ticketId, ticketId), eq(ticketSync.startedAt, sql`${run}::timestamptz`));

/** Zendesk no longer accepts the saved cursor: the next pages start from the first event. */
export async function forgetCursor(db: Db, ticketId: number, run: string): Promise<void> {
  await db
    .update(ticketSync)
    .set({ afterCursor: null, updatedAt: sql`now()` })
    .where(ofRun(ticketId, run));
}

/**
 * Marks the ticket synced (and clears a tombstone and a deleted ticket row: an undeleted ticket is
 * live again), brings
 * its per-ticket analyst answers up to date and clears the pending comments this run read.
 * `run`: the token startRun gave; a run taken over since throws RunTakenOver and changes nothing,
 * and one whose ticket was recorded deleted after it began throws DeletedDuringRun (its caller
 * ends it as a 404 would).
 * `fullRead`: this run read the log from its first event. `db` should be a transaction, so the
 * answers and the pending comments change together with the status. `ticketRowsLocked`: the
 * transaction locked the ticket's rows already (endFullRead, src/db/full-read.ts); locked again,
 * a tickets row written since would be taken after ticket_sync, against src/db/lock-order.ts.
 * `requests`: the run's requests no stored page counted (sync-ticket.ts's look at the newest event).
 */
export async function finishRun(
  db: Pick<Db, 'update' | 'execute'>,
  ticketId: number,
  options: { run: string; fullRead?: boolean; ticketRowsLocked?: boolean; requests?: number },
): Promise<{ eventsSynced: number }> {
  // The upkeep counts the ticket's live events; the status takes that count rather than a second one.
  await refreshTicketAnalytics(db, [ticketId], { lockTicketRows: options.ticketRowsLocked !== true });
  // The comments webhooks announced that this run has read are stored events now.
  await clearConfirmedComments(db, ticketId);
  await dropDeletedTicketRow(db, ticketId);
  const [row] = await db
    .update(ticketSync)
    .set({
      status: 'synced',
      eventsSynced: sql`coalesce((select s.events from ${ticketSummaries} s where s.ticket_id = ${ticketId}), 0)`,
      lastSyncedAt: sql`now()`,
      lastError: null,
      lastErrorAt: null,
      interruptedAt: null,
      deletedAt: null,
      deletedHow: null,
      // Zendesk served the log to a run that began after a permanently_deleted webhook: the
      // ticket was not erased (a mistaken or forged delivery), and a later soft deletion must
      // only mark under keep. A report that came during the run stays for the run it asked for.
      permanentDeletionReportedAt: sql`case when ${ticketSync.permanentDeletionReportedAt} < ${ticketSync.startedAt} then null else ${ticketSync.permanentDeletionReportedAt} end`,
      // When the read began: it holds every comment received before then (awaitsUnreadComment).
      ...(options.fullRead ? { lastFullReadAt: sql`${ticketSync.startedAt}` } : {}),
      // Requests no page was stored with (storePage counts the others).
      ...(options.requests ? { requestsLastRun: sql`${ticketSync.requestsLastRun} + ${options.requests}` } : {}),
      updatedAt: sql`now()`,
    })
    // Waits for a newer run's start (or a deletion) still being written, then sees it.
    .where(and(ofRun(ticketId, options.run), sql`not coalesce(${ticketSync.deletedAt} >= ${ticketSync.startedAt}, false)`))
    .returning({ eventsSynced: ticketSync.eventsSynced });
  // Throwing rolls the caller's transaction back: the upkeep, the vanished rows and the pending
  // comments are the newer run's to settle, or the deletion's.
  if (row === undefined) {
    const { rows } = await db.execute<{ how: string }>(sql`
      select deleted_how as how from zendesk.ticket_sync where ticket_id = ${ticketId} and started_at = ${options.run}::timestamptz and deleted_at >= started_at`);
    if (rows.length > 0) throw new DeletedDuringRun(`ticket ${ticketId} was recorded deleted while this run read it`, rows[0].how);
    throw new RunTakenOver(`another run of ticket ${ticketId} started since this one did; it is left to finish`);
  }
  return { eventsSynced: row.eventsSynced };
}

/**
 * Zendesk served the log, so the ticket is not deleted (any more): a ticket row recording its
 * deletion (kept under CONVLOG_ON_DELETE=keep) would hide it from ticket_conversations while its
 * events count everywhere else. Without a row, the next backfill or read by id stores it as it is now.
 * Unless the deletion was recorded after the run began (a run that stored pages and ended other
 * than synced: finishRun refuses one so): the log may have been read before it, and the run
 * queued again by it meets the 404 and marks the events; a row removed here would be gone for
 * good, since the export lists the deletion once.
 */
async function dropDeletedTicketRow(db: Pick<Db, 'execute'>, ticketId: number): Promise<void> {
  await db.execute(sql`
    delete from zendesk.tickets where id = ${ticketId} and deleted
       and not exists (select from zendesk.ticket_sync s where s.ticket_id = ${ticketId} and s.deleted_at >= s.started_at)`);
}

/**
 * Records how a run ended other than synced, with its reason (outcomeOf in src/errors/outcome.ts decides
 * which). `queued` waits for a retry; not_found and forbidden are facts about the ticket, so they
 * also count as its last sync. `interrupted`: a shutdown stopped the run, which is no failure;
 * interrupted_at says so until another outcome is recorded. With `run` (the token startRun gave), only while that run is the
 * ticket's latest: once another run has started, its status stands, nothing is written and this
 * returns false. Without one (no run had started: a failure before it, a dead-lettered job), it
 * always writes, and brings the per-ticket answers up to date. A run that stored pages of a ticket
 * whose deletion was recorded before it began clears the tombstone, as finishRun does.
 */
export async function recordStatus(
  db: Db,
  ticketId: number,
  outcome: { status: Extract<TicketStatus, 'queued' | 'failed' | 'not_found' | 'forbidden'>; reason: string; interrupted?: boolean },
  run?: string,
  options: { upkeep?: boolean } = {},
): Promise<boolean> {
  const { status, reason } = outcome;
  const settled = status === 'not_found' || status === 'forbidden';
  const interruptedAt = outcome.interrupted ? sql`now()` : null;
  const set = { status, lastError: reason, lastErrorAt: sql`now()`, interruptedAt, ...(settled ? { lastSyncedAt: sql`now()` } : {}), updatedAt: sql`now()` };
  if (run !== undefined) {
    // A run Zendesk served pages to, recorded before this run began as deleted: the ticket was
    // restored, as finishRun would say. Its tombstone would hide it from ticket_conversations (and
    // from the failures an analyst looks for) while the views built on the per-ticket answers
    // count the pages it stored.
    const served = sql`${ticketSync.pagesSynced} > 0 and ${ticketSync.deletedAt} < ${ticketSync.startedAt}`;
    const restored =
      status === 'not_found'
        ? {}
        : {
            deletedAt: sql`case when ${served} then null else ${ticketSync.deletedAt} end`,
            deletedHow: sql`case when ${served} then null else ${ticketSync.deletedHow} end`,
            // A permanently_deleted report older than a run Zendesk served pages to was mistaken, as for finishRun.
            permanentDeletionReportedAt: sql`case when ${ticketSync.pagesSynced} > 0 and ${ticketSync.permanentDeletionReportedAt} < ${ticketSync.startedAt} then null else ${ticketSync.permanentDeletionReportedAt} end`,
          };
    // Waits for a newer run's start still being written, then sees it, as finishRun does.
    // `restored`: this update cleared a tombstone (a subquery in RETURNING reads the row as it was).
    const [marked] = await db
      .update(ticketSync)
      .set({ ...set, ...restored })
      .where(ofRun(ticketId, run))
      .returning({
        pages: ticketSync.pagesSynced,
        restored: sql<boolean>`${ticketSync.deletedAt} is null and exists (select from zendesk.ticket_sync was where was.ticket_id = ${ticketId} and was.deleted_at is not null)`,
      });
    if (marked?.restored) await dropDeletedTicketRow(db, ticketId).catch(() => {});
    // A run that stored pages before ending so: its events are in the timeline, and the per-ticket
    // answers (ticket_conversations, agent_replies, daily_activity…) take them in too, or the views
    // disagree until a run finishes. After the mark, in one statement of its own: a transaction
    // left open on a connection gone silent would hold the ticket's rows from the hand-back that
    // marks it. `upkeep: false`: a hand-back with no time for it, or a hold that waits for Zendesk
    // or Postgres (whose next run ends the ticket's run properly). The mark stands whatever becomes
    // of the upkeep: the ticket's next finished run does it again.
    if (marked && marked.pages > 0 && options.upkeep !== false) await refreshTicketAnalytics(db, [ticketId], { lockTicketRows: false }).catch(() => {});
    return marked !== undefined;
  }
  await db
    .insert(ticketSync)
    .values({ ticketId, status, lastError: reason, lastErrorAt: new Date(), interruptedAt, ...(settled ? { lastSyncedAt: new Date() } : {}) })
    .onConflictDoUpdate({ target: ticketSync.ticketId, set });
  // A job given up on (dead-letter.ts): its attempts may have stored pages and ended with no
  // upkeep (killed), and no run of it is to come. Its own transaction, the ticket's rows locked
  // first as at a run's end, so a purge going on meanwhile is waited for, not undone.
  if (options.upkeep !== false) await inTransaction(db, (tx) => refreshTicketAnalytics(tx, [ticketId])).catch(() => {});
  return true;
}

/** Every ticket convlog knows of, whatever its status. */
export async function ticketCount(db: Db): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(ticketSync);
  return n;
}
