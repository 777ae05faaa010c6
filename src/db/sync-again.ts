// Tickets asked for again ("sync again" marks) while a job of theirs could not take the request,
// and each ticket's state as a waiting `sync` reads it: whether a run asked for is still to come.
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { lockedTicketSync } from './lock-order.ts';
import { exactTime, idArray } from './sql-values.ts';
import { ticketSync, type TicketStatus } from './schema.ts';

const BATCH = 5_000;

export interface TicketState {
  ticketId: number;
  status: TicketStatus;
  lastError: string | null;
  eventsSynced: number;
  requestsLastRun: number;
  /** Asked for after its last run started (a sync-again mark not yet taken): another run follows. */
  askedAgain: boolean;
}

/** Queued (waiting or waiting to retry) or syncing: a job of the ticket is to run or running. */
export const waitingOrRunning = (state: Pick<TicketState, 'status'>): boolean => state.status === 'queued' || state.status === 'syncing';

/** Asked for again after its run, which has ended: nothing has queued the run asked for yet. */
export const askedAgainNotQueued = (state: Pick<TicketState, 'status' | 'askedAgain'>): boolean => state.askedAgain && !waitingOrRunning(state);

/**
 * The mark asks for another run: it was set after the ticket's last run started, which read what
 * came before it; or, when that run did not read to the end (`readAll` false: it failed for good,
 * or met a 403), after the first run of its job, as a change announced during an earlier attempt
 * may be what the job failed on. A mark set while the job waited (a full request) is the job's own.
 */
const markDue = (readAll: SQL) =>
  sql<boolean>`(${ticketSync.syncAgainAt} is not null and ${ticketSync.syncAgainAt} >= coalesce(case when ${readAll} then ${ticketSync.startedAt} else coalesce(${ticketSync.jobStartedAt}, ${ticketSync.startedAt}) end, '-infinity'))`;

export async function ticketStates(db: Db, ticketIds: readonly number[]): Promise<TicketState[]> {
  const out: TicketState[] = [];
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    out.push(
      ...(await db
        .select({
          ticketId: ticketSync.ticketId,
          status: ticketSync.status,
          lastError: ticketSync.lastError,
          eventsSynced: ticketSync.eventsSynced,
          requestsLastRun: ticketSync.requestsLastRun,
          askedAgain: markDue(sql`${ticketSync.status} in ('synced', 'not_found')`),
        })
        .from(ticketSync)
        .where(inArray(ticketSync.ticketId, ticketIds.slice(i, i + BATCH)))),
    );
  }
  return out;
}

/**
 * Marks tickets asked for while a job of theirs could not take the request (it was running, or
 * just ending): the run in progress may have read its pages before the change that caused the
 * request. A plain request leaves tickets `queued` alone whose waiting job has not run yet: its
 * first run reads what came before it. One waiting for a retry (a run of its job began since it
 * was queued) is marked: should the retry fail for good, the request queues the ticket again, as
 * one made during a run would (takeSyncAgain). A full request marks every ticket, as its job may
 * be taken already, before its run starts, and so beyond upgradeWaitingJobs (startRun reads the
 * mark). `full` sticks until the mark is taken. Returns the ids marked, for the caller to queue
 * again if their job has ended meanwhile.
 */
export async function requestSyncAgain(db: Db, ticketIds: readonly number[], full: boolean, priority = 0): Promise<number[]> {
  const marked: number[] = [];
  const statuses = full ? sql`true` : sql`(status <> 'queued' or started_at >= queued_at)`;
  for (let i = 0; i < ticketIds.length; i += BATCH) {
    const ids = idArray(ticketIds.slice(i, i + BATCH));
    const { rows } = await db.execute<{ ticket_id: string }>(sql`
      with ${lockedTicketSync(ids, statuses)}
      update zendesk.ticket_sync s
         set sync_again_at = clock_timestamp(), sync_again_full = s.sync_again_full or ${full},
             sync_again_priority = greatest(s.sync_again_priority, ${priority}), updated_at = now()
        from locked where s.ticket_id = locked.ticket_id
      returning s.ticket_id`);
    marked.push(...rows.map((r) => Number(r.ticket_id)));
  }
  return marked;
}

/** What a ticket's mark asks of the run after the one that ended. */
export interface SyncAgain {
  full: boolean;
  priority: number;
}

/**
 * Takes a ticket's "sync again" mark after its run and its job have ended. Only a mark set after
 * the run started asks for another run (an older one was read by this run), and with `full` if
 * any request since wanted a full re-read: `queue` is then given it, and the mark is cleared only
 * once the ticket is queued, and only if no request changed it meanwhile. So at every instant the
 * ticket is marked or queued, and `sync` (askedAgain) never takes it for done between the run
 * that ended and the one asked for; should `queue` fail, the mark is still there for the next try.
 * A full request older than the run made it read from the first event (startRun); one that did
 * not get to the end (`readAll` false: it failed or was interrupted) keeps `sync_again_full`, so
 * that whatever runs the ticket next reads it whole, a plain job among them.
 */
export async function takeSyncAgain(
  db: Db,
  ticketId: number,
  { readAll }: { readAll: boolean },
  queue: (again: SyncAgain) => Promise<unknown>,
): Promise<SyncAgain | undefined> {
  const [mark] = await db
    .select({ at: exactTime(sql`${ticketSync.syncAgainAt}`), due: markDue(sql`${readAll}`), full: ticketSync.syncAgainFull, priority: ticketSync.syncAgainPriority })
    .from(ticketSync)
    .where(and(eq(ticketSync.ticketId, ticketId), sql`(${ticketSync.syncAgainAt} is not null or ${ticketSync.syncAgainFull})`));
  if (mark === undefined) return undefined;
  const again = mark.due ? { full: mark.full, priority: mark.priority } : undefined;
  if (again) await queue(again);
  await db.execute(sql`
    update zendesk.ticket_sync
       set sync_again_at = null, sync_again_priority = 0,
           sync_again_full = sync_again_full and not ${mark.due} and not ${readAll}
     where ticket_id = ${ticketId} and sync_again_at is not distinct from ${mark.at}::timestamptz`);
  return again;
}
