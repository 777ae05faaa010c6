// Queues ticket syncs in bulk. pg-boss's exclusive policy skips a ticket that already has a
// job queued, waiting to retry or running, so enqueueing twice never doubles work. A ticket
// whose job is running is marked to be synced again when that run ends (the change that made
// someone ask may have come after the run read its pages): the worker queues it then.
import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { poolOf, type Db } from '../db/connection.ts';
import { whileEnqueueing } from '../db/dequeued.ts';
import { databaseNow, markQueued } from '../db/ticket-status.ts';
import { requestSyncAgain } from '../db/sync-again.ts';
import { SYNC_QUEUE, type SyncJobData } from './boss.ts';
import { liveJobIds, ticketsWhoseJobIsGone, upgradeWaitingJobs } from './queue-stats.ts';
import { uniqueAscending } from '../ids.ts';

const BATCH = 5_000;
// pg-boss priorities (higher is taken first; within one, the older job first). A backlog
// (backfill, enqueue, the full-read sweep) is queued at 0. `sync` queues at SYNC_PRIORITY: someone
// is watching its bar, and behind a backfill's backlog their few tickets would wait for hours.
// Webhook tickets stay above it: they come at the pace people write in Zendesk, so a person waits
// seconds behind them, while a `sync` of thousands of ids above them would hold every new message
// back for as long as it ran. Stopped, a `sync` puts what it leaves queued back to 0 (lowerWaitingJobs).
export const WEBHOOK_PRIORITY = 10;
export const SYNC_PRIORITY = 5;
const LANES = 3;

export interface EnqueueResult {
  queued: number;
  alreadyQueued: number;
  /** Ids given more than once; each ticket is queued once. */
  duplicates: number;
  /** Set when the signal stopped it between batches: how many distinct ids it went through, of how many. */
  stopped?: { done: number; total: number };
}

export interface EnqueueOptions {
  full?: boolean;
  /**
   * pg-boss priority (higher runs first; default 0, the backlog's). Webhooks use WEBHOOK_PRIORITY
   * and `sync` SYNC_PRIORITY, so a ticket someone just wrote in, or is waiting for, is synced
   * before a backfill's backlog; a ticket already waiting is raised to it (lowered only by a stopped
   * `sync`: lowerWaitingJobs).
   */
  priority?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops before the next batch (each batch's jobs and rows are committed together, or not at all). */
  signal?: AbortSignal;
  /** Tickets a permanently_deleted webhook named: the status rows made with their jobs carry the report (markQueued). */
  permanentlyDeleted?: readonly number[];
}

export async function enqueueTickets(
  boss: PgBoss,
  db: Db,
  ticketIds: readonly number[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  // Ascending, as every enqueue inserts them: a job waits for another enqueue's uncommitted job
  // of its ticket, so two enqueues of the same tickets in other orders (a backfill's page, a
  // batch of webhooks) would each wait for the other, and Postgres would abort one.
  const unique = uniqueAscending(ticketIds);
  let queued = 0;
  let done = 0;
  let next = 0;
  // Batches go in LANES at once, on separate connections, so Postgres inserts one batch's jobs
  // while it marks another's tickets: a million tickets in well under a minute.
  const lane = async () => {
    for (let i = next; i < unique.length && !options.signal?.aborted; i = next) {
      next += BATCH;
      const batch = unique.slice(i, i + BATCH);
      const { queuedIds, skippedFor } = await insertJobs(boss, db, batch, options);
      const skipped = batch.filter((id) => !queuedIds.has(id));
      await upgradeWaitingJobs(poolOf(db), skipped, options);
      const marked = await requestSyncAgain(db, skipped, Boolean(options.full), options.priority ?? 0);
      // A job that ended between our insert and the mark never saw the mark: queue those again.
      // One still running sees it when it ends; a new one skipped us because it was just queued.
      // So do those whose job that skipped ours a dequeue deleted since, before the mark or after
      // it: that job stood for this request too, and a ticket never synced loses its ticket_sync
      // row with it, leaving no mark to find. Not those whose job a worker took and ended
      // meanwhile, its row kept: that run began after the request, so it read the change, and a
      // second job would overwrite the status it recorded. Read under the enqueue lock, which
      // waits for a dequeue in flight to end.
      const markedIds = new Set(marked);
      const unmarked = new Map([...skippedFor].filter(([id]) => !markedIds.has(id)));
      const dequeued = unmarked.size === 0 ? [] : await whileEnqueueing(db, (tx) => ticketsWhoseJobIsGone(poolOf(tx), unmarked));
      const again = [...marked, ...dequeued].sort((a, b) => a - b);
      if (again.length > 0) for (const id of (await insertJobs(boss, db, again, options)).queuedIds) queuedIds.add(id);
      queued += queuedIds.size;
      done += batch.length;
      options.onProgress?.(done, unique.length);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  const stopped = done < unique.length ? { done, total: unique.length } : undefined;
  return { queued, alreadyQueued: done - queued, duplicates: ticketIds.length - unique.length, ...(stopped ? { stopped } : {}) };
}

/**
 * Inserts one job per ticket and marks the ones inserted queued; returns their ids, and for the
 * tickets skipped the id of the job that made the insert skip them (`skippedFor`). A ticket
 * skipped whose job ended before that look has none: the mark that follows finds its run's status.
 */
async function insertJobs(
  boss: PgBoss,
  db: Db,
  ticketIds: readonly number[],
  { full, priority, permanentlyDeleted }: EnqueueOptions,
): Promise<{ queuedIds: Set<number>; skippedFor: Map<number, string> }> {
  if (ticketIds.length === 0) return { queuedIds: new Set(), skippedFor: new Map() };
  const jobs = ticketIds.map((ticketId) => ({
    // Our own ids tell us which tickets the ON CONFLICT DO NOTHING insert skipped.
    id: randomUUID(),
    singletonKey: String(ticketId),
    ...(priority ? { priority } : {}),
    data: (full ? { ticketId, full: true } : { ticketId }) satisfies SyncJobData,
  }));
  // The jobs go in the same transaction as the rows' marks: a stop (Ctrl-C twice, a lost
  // connection) between the two would leave jobs without a queued row, or rows without a job.
  // markQueued still leaves alone any ticket whose run started after this instant.
  return whileEnqueueing(db, async (tx) => {
    const insertedFrom = await databaseNow(tx);
    const client = poolOf(tx);
    const inTx = { executeSql: (text: string, values?: unknown[]) => client.query(text, values) };
    const inserted = new Set(await boss.insert(SYNC_QUEUE, jobs, { returnId: true, db: inTx }));
    const queuedIds = ticketIds.filter((_, j) => inserted.has(jobs[j].id));
    await markQueued(tx, queuedIds, insertedFrom, permanentlyDeleted);
    // Under the lock, so no dequeue has deleted a skipping job before this look.
    const skippedFor = await liveJobIds(poolOf(tx), ticketIds.filter((_, j) => !inserted.has(jobs[j].id)));
    return { queuedIds: new Set(queuedIds), skippedFor };
  });
}
