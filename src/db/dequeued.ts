// The ticket_sync rows of tickets taken out of the queue (`convlog dequeue`, src/queue/dequeue.ts):
// they lose the `queued` mark enqueue gave them (markQueued, src/db/ticket-status.ts), so that
// `status` counts no ticket queued that has no job. markQueued keeps no record of the status it
// replaced, but every status leaves its own traces in the row, and those are read back here.
// `queued_at` stays: it says when the ticket was last queued, and it was, if only for a while.
import { sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { idArray } from './sql-values.ts';
import { inTransaction } from './transaction.ts';

const BATCH = 5_000;
const DEQUEUED = '(convlog dequeue)';
// The advisory lock (int, int) that keeps a dequeue out of an enqueue's insert-then-mark: "conv"
// as src/db/sync-state.ts's backfill lock, another number.
const LOCK_SPACE = 0x636f6e76;
const LOCK_ENQUEUE = 2;

/**
 * Runs an enqueue's job insert and its `queued` mark (`mark`, given this transaction) under a
 * shared lock that a dequeue takes alone (fenceEnqueues): a dequeue committing between the two
 * deleted the new job, then the mark made the ticket `queued` with no job, for ever (and a `sync`
 * waiting on it never ended). Enqueues do not wait for each other.
 */
export async function whileEnqueueing<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock_shared(${LOCK_SPACE}::int, ${LOCK_ENQUEUE}::int)`);
    return work(tx);
  });
}

/** In a dequeue's transaction, before it looks at the jobs: waits for enqueues in flight, and holds off new ones. */
export async function fenceEnqueues(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_SPACE}::int, ${LOCK_ENQUEUE}::int)`);
}

export interface DequeuedRows {
  /** Attempted since they were queued (a run begun, a failure waiting for its retry): now failed. */
  begun: number;
}

/**
 * For tickets whose waiting jobs the caller removed in the same transaction `tx`. Only rows still
 * `queued` (or `syncing`: a run whose worker had just put the job back) change:
 * - attempted since queued (a run started, or an error recorded, after `queued_at`; or a run a
 *   shutdown stopped): `failed`, the reason the attempt's error with the dequeue added; the rows
 *   stored so far stay;
 * - a tombstone: `not_found`; an error recorded with the last sync time (recordStatus writes a
 *   403 so): `forbidden`; any other error: `failed`; synced before: `synced`;
 * - a row that holds nothing but enqueue's mark: deleted. One holding something else (a
 *   permanently_deleted or redaction webhook's note) is `failed`, named as taken out of the queue.
 */
export async function restoreDequeued(tx: Db, ticketIds: readonly number[]): Promise<DequeuedRows> {
  const result: DequeuedRows = { begun: 0 };
  // A shutdown's mark says the same of a run before the latest queueing (one requeued afresh).
  const attempted = sql`(s.interrupted_at is not null or coalesce(s.started_at >= s.queued_at or s.last_error_at >= s.queued_at, false))`;
  const bare = sql`(s.started_at is null and s.last_synced_at is null and s.last_error is null and s.deleted_at is null
    and s.permanent_deletion_reported_at is null and s.redacted_at is null)`;
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    // Locked in ascending order, as src/db/lock-order.ts has several tickets' rows locked, and
    // read as locked: a row another transaction changed while this one waited is read as it is now.
    const { rows } = await tx.execute<{ ticket_id: string; begun: boolean; bare: boolean }>(sql`
      select s.ticket_id, ${attempted} as begun, ${bare} as bare from zendesk.ticket_sync s
       where s.ticket_id = any(${idArray(ticketIds.slice(i, i + BATCH))}) and s.status in ('queued', 'syncing')
       order by s.ticket_id for no key update`);
    const kept = rows.filter((r) => !r.bare).map((r) => Number(r.ticket_id));
    const gone = rows.filter((r) => r.bare).map((r) => Number(r.ticket_id));
    result.begun += rows.filter((r) => r.begun).length;
    // interrupted_at goes with the queued status: `status` lists a failure under its last errors.
    if (kept.length > 0) {
      await tx.execute(sql`
        update zendesk.ticket_sync s set
          status = case
            when ${attempted} then 'failed'
            when s.deleted_at is not null then 'not_found'
            when s.last_error is not null and s.last_error_at = s.last_synced_at then 'forbidden'
            when s.last_error is not null then 'failed'
            when s.last_synced_at is not null then 'synced'
            else 'failed' end,
          last_error = case
            when ${attempted} and (s.last_error_at >= s.queued_at or s.interrupted_at is not null) then s.last_error || ${`; then taken out of the queue ${DEQUEUED}`}
            when ${attempted} then ${`taken out of the queue ${DEQUEUED} before its sync finished`}
            when s.last_error is null and s.last_synced_at is null then ${`taken out of the queue ${DEQUEUED} before its first sync`}
            else s.last_error end,
          last_error_at = case when ${attempted} or (s.last_error is null and s.last_synced_at is null) then now() else s.last_error_at end,
          interrupted_at = null,
          updated_at = now()
         where s.ticket_id = any(${idArray(kept)})`);
    }
    if (gone.length > 0) await tx.execute(sql`delete from zendesk.ticket_sync where ticket_id = any(${idArray(gone)})`);
  }
  return result;
}
