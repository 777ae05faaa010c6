// The ticket_sync rows of tickets taken out of the queue (`convlog dequeue`, src/queue/dequeue.ts):
// they lose the `queued` mark enqueue gave them (markQueued, src/db/ticket-status.ts), so that
// `status` counts no ticket queued that has no job. markQueued keeps no record of the status it
// replaced, but every status leaves its own traces in the row, and those are read back here.
// `queued_at` stays: it says when the ticket was last queued, and it was, if only for a while.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { lockPeople, peopleNamedBy } from './lock-order.ts';
import { removeUnusedAuthors } from './purge.ts';
import { idArray } from './sql-values.ts';
import { LOCK_SPACE } from './run-locks.ts';
import { inTransaction } from './transaction.ts';

const BATCH = 5_000;
const DEQUEUED = '(convlog dequeue)';
// The advisory lock that keeps a dequeue out of an enqueue's insert-then-mark.
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
  /**
   * Of those begun, the tickets whose latest run stored pages: one held while Zendesk was away
   * left its upkeep to the next run, which the dequeue took away. The caller refreshes their
   * analyst rows once the dequeue has committed (refreshTicketAnalytics), outside the fence.
   */
  toRefresh: number[];
  /**
   * Given back `synced` though their ticket row, read since (a backfill's export page, enqueue's
   * read by id), says Zendesk changed them after that sync: the backfill's position has moved
   * past the change, so only a later change or an enqueue (CHANGED_SINCE_SYNC) queues them again.
   */
  changed: number;
}

/** The tickets synced before a change their ticket row records: what `dequeue` tells to enqueue again. */
export const CHANGED_SINCE_SYNC =
  "select s.ticket_id from zendesk.ticket_sync s join zendesk.tickets t on t.id = s.ticket_id where s.status = 'synced' and t.updated_at > s.last_synced_at";

/**
 * For tickets whose waiting jobs the caller removed in the same transaction `tx`. Only rows still
 * `queued` (or `syncing`: a run whose worker had just put the job back) change:
 * - attempted since queued (a run started, or an error recorded, after `queued_at`; or a run a
 *   shutdown stopped): `failed`, the reason the attempt's error with the dequeue added; the rows
 *   stored so far stay;
 * - a tombstone: `not_found`; an error recorded with the last sync time (recordStatus writes a
 *   403 so): `forbidden`; any other error: `failed`; synced before: `synced`;
 * - a row that holds nothing but enqueue's mark: deleted. One holding something else (a
 *   permanently_deleted or redaction webhook's note) is `failed`, named as taken out of the queue;
 * - a tombstone given back keeps nothing the enqueue read since (rowsReadSinceTombstone).
 */
export async function restoreDequeued(tx: Db, ticketIds: readonly number[]): Promise<DequeuedRows> {
  const result: DequeuedRows = { begun: 0, changed: 0, toRefresh: [] };
  // A shutdown's mark says a run of the ticket began, even when its start is older than the latest queueing.
  const attempted = sql`(s.interrupted_at is not null or coalesce(s.started_at >= s.queued_at or s.last_error_at >= s.queued_at, false))`;
  const bare = sql`(s.started_at is null and s.last_synced_at is null and s.last_error is null and s.deleted_at is null
    and s.permanent_deletion_reported_at is null and s.redacted_at is null)`;
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    const batch = idArray(ticketIds.slice(i, i + BATCH));
    const readSince = await rowsReadSinceTombstone(tx, batch, attempted);
    // Locked in ascending order, as src/db/lock-order.ts has several tickets' rows locked, and
    // read as locked: a row another transaction changed while this one waited is read as it is now.
    const { rows } = await tx.execute<{ ticket_id: string; begun: boolean; bare: boolean; stored: boolean }>(sql`
      select s.ticket_id, ${attempted} as begun, ${bare} as bare, s.pages_synced > 0 as stored from zendesk.ticket_sync s
       where s.ticket_id = any(${batch}) and s.status in ('queued', 'syncing')
       order by s.ticket_id for no key update`);
    const kept = rows.filter((r) => !r.bare).map((r) => Number(r.ticket_id));
    const gone = rows.filter((r) => r.bare).map((r) => Number(r.ticket_id));
    result.begun += rows.filter((r) => r.begun).length;
    // interrupted_at goes with the queued status: `status` lists a failure under its last errors.
    if (kept.length > 0) {
      const updated = await tx.execute<{ changed: boolean }>(sql`
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
          -- A request for another run is taken back with the job it would have become: left, it
          -- would have \`sync\` wait for a run nothing is to make (src/queue/marked-without-job.ts
          -- would queue it again). A full read still owed stays owed (sync_again_full).
          sync_again_at = null,
          sync_again_priority = 0,
          updated_at = now()
         where s.ticket_id = any(${idArray(kept)})
        returning s.status = 'synced' and exists (
          select from zendesk.tickets t where t.id = s.ticket_id and t.updated_at > s.last_synced_at) as changed`);
      result.changed += updated.rows.filter((r) => r.changed).length;
    }
    result.toRefresh.push(...rows.filter((r) => r.begun && r.stored).map((r) => Number(r.ticket_id)));
    if (gone.length > 0) await tx.execute(sql`delete from zendesk.ticket_sync where ticket_id = any(${idArray(gone)})`);
    if (readSince.tickets.length > 0) {
      await tx.execute(sql`
        delete from zendesk.tickets t using zendesk.ticket_sync s
         where t.id = any(${idArray(readSince.tickets)}) and s.ticket_id = t.id
           and s.status = 'not_found' and t.first_synced_at > s.deleted_at`);
      await removeUnusedAuthors(tx, readSince.people);
    }
  }
  return result;
}

/**
 * Of the tickets, tombstones whose ticket row was read since their rows were removed (enqueue
 * reads the row of a ticket that has none, a purged one too) and whose run has not begun: when
 * the dequeue gives them back their tombstone, that row and the people only it names go with it,
 * or a ticket erased on request would have its subject, description and requester back. Locked
 * here, the people and then the rows, before the caller locks ticket_sync (src/db/lock-order.ts).
 */
async function rowsReadSinceTombstone(tx: Db, ids: SQL, attempted: SQL): Promise<{ tickets: number[]; people: string[] }> {
  const { rows } = await tx.execute<{ id: string }>(sql`
    select t.id from zendesk.tickets t join zendesk.ticket_sync s on s.ticket_id = t.id
     where t.id = any(${ids}) and s.status in ('queued', 'syncing') and s.deleted_at is not null
       and t.first_synced_at > s.deleted_at and not ${attempted}
     order by t.id`);
  const tickets = rows.map((r) => Number(r.id));
  if (tickets.length === 0) return { tickets, people: [] };
  const people = (await peopleNamedBy(tx, idArray(tickets))).sort();
  await lockPeople(tx, people);
  await tx.execute(sql`select from zendesk.tickets where id = any(${idArray(tickets)}) order by id for update`);
  return { tickets, people };
}
