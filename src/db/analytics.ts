// The per-ticket analyst tables (ticket_summaries, reply_waits, ticket_days, ticket_hours) and
// event positions are derived by SQL functions, convlog.refresh_ticket_analytics
// (migrations/0008_analytics.sql, its current form in 0030_handover_without_bot_message.sql) and
// convlog.refresh_ticket_hours (0011_hours_of_day.sql), so the definitions live once, in SQL.
// This module calls them: for the tickets a run or a purge changed (in the caller's
// transaction), and for every ticket when asked to rebuild.
import { sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { lockTicketRows } from './lock-order.ts';
import { idArray, type Executor } from './sql-values.ts';
import { loadAnalyticsRebuild, saveAnalyticsRebuild } from './sync-state.ts';
import { inTransaction } from './transaction.ts';

/**
 * Rewrites the tickets' analyst rows from their stored events. First it locks the tickets' rows
 * in `tickets`, then in `ticket_sync` (lockTicketRows, src/db/lock-order.ts), unless told not to
 * (`lockTicketRows: false`): the caller holds them already, or must not take them. Otherwise the
 * end of a run (finishRun), which updates ticket_sync after this, would hold the analyst rows
 * while an export page purging the ticket holds ticket_sync and waits for them: a deadlock.
 * Locked first, the run's end waits for the purge to commit, then derives the rows from what the
 * purge left.
 */
export async function refreshTicketAnalytics(db: Executor, ticketIds: readonly number[], options: { lockTicketRows?: boolean } = {}): Promise<void> {
  if (ticketIds.length === 0) return;
  const ids = idArray(ticketIds);
  if (options.lockTicketRows !== false) await lockTicketRows(db, ticketIds);
  // Two functions, one statement: refresh_ticket_hours came with a later migration (0011).
  await db.execute(sql`select convlog.refresh_ticket_analytics(${ids}), convlog.refresh_ticket_hours(${ids})`);
}

export interface RebuildProgress {
  done: number;
  total: number;
  /** Tickets rebuilt before this run started (a resumed rebuild). */
  skipped: number;
}

export interface RebuildOptions {
  /** Tickets per transaction. */
  batchSize?: number;
  /** Start from the first ticket even when an earlier rebuild stopped half way. */
  restart?: boolean;
  onProgress?: (progress: RebuildProgress) => void;
  /** Stops between batches; the next run resumes after the last one committed. */
  signal?: AbortSignal;
}

export interface RebuildResult extends RebuildProgress {
  finished: boolean;
}

/**
 * Rebuilds every ticket's analyst rows from the stored events, a batch per transaction, saving
 * how far it got with each batch: an interrupted rebuild resumes there. No request to Zendesk.
 */
export async function rebuildAnalytics(db: Db, options: RebuildOptions = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 2_000;
  const saved = options.restart ? null : await loadAnalyticsRebuild(db);
  const resume = saved && saved.finishedAt === null ? saved : null;
  const startedAt = resume?.startedAt ?? new Date().toISOString();
  let after = resume?.afterTicketId ?? 0;
  // The tickets there are now: one added meanwhile (a webhook, a backfill) gets its rows from its
  // own sync, and counting it would take the progress past its total.
  const { rows: counts } = await db.execute<{ total: number; skipped: number; upto: string | null }>(sql`
    select count(*)::int as total, count(*) filter (where ticket_id <= ${after})::int as skipped, max(ticket_id)::text as upto
      from zendesk.ticket_sync`);
  const upto = Number(counts[0].upto ?? 0);
  const progress: RebuildProgress = { done: counts[0].skipped, total: counts[0].total, skipped: counts[0].skipped };
  await saveAnalyticsRebuild(db, { afterTicketId: after, startedAt, finishedAt: null });
  options.onProgress?.({ ...progress });
  for (;;) {
    if (options.signal?.aborted) return { ...progress, finished: false };
    const { rows } = await db.execute<{ ticket_id: string }>(sql`
      select ticket_id from zendesk.ticket_sync where ticket_id > ${after} and ticket_id <= ${upto} order by ticket_id limit ${batchSize}`);
    if (rows.length === 0) break;
    const ids = rows.map((r) => Number(r.ticket_id));
    after = ids[ids.length - 1];
    await inTransaction(db, async (tx) => {
      // A purge locks its tickets' ticket_sync rows first (src/db/purge.ts): waiting for it, or
      // making it wait, keeps a batch from deriving a ticket's rows from events a purge is
      // removing, and writing them back once it commits. KEY SHARE leaves runs' updates alone.
      await tx.execute(sql`select from zendesk.ticket_sync where ticket_id = any(${idArray(ids)}) order by ticket_id for key share`);
      // Not the locks a run's end takes: a batch holding them would hold up the workers' pages.
      await refreshTicketAnalytics(tx, ids, { lockTicketRows: false });
      await saveAnalyticsRebuild(tx, { afterTicketId: after, startedAt, finishedAt: null });
    });
    progress.done += ids.length;
    // A ticket added meanwhile below the last one counted is rebuilt too, not counted in the total.
    progress.total = Math.max(progress.total, progress.done);
    options.onProgress?.({ ...progress });
  }
  await saveAnalyticsRebuild(db, { afterTicketId: after, startedAt, finishedAt: new Date().toISOString() });
  return { ...progress, finished: true };
}
