// Takes tickets back out of the queue (`convlog dequeue`): their waiting sync jobs, queued or
// waiting to retry, are deleted and their ticket_sync rows lose the `queued` mark
// (restoreDequeued, src/db/dequeued.ts), in one transaction: a dequeue that fails halfway leaves
// every job and row as it was. A job a worker holds is never touched: its run ends as it would
// have, and is only counted.
import { refreshTicketAnalytics } from '../db/analytics.ts';
import { poolOf, type Db } from '../db/connection.ts';
import { fenceEnqueues, restoreDequeued, type DequeuedRows } from '../db/dequeued.ts';
import { inTransaction } from '../db/transaction.ts';
import { hasId, uniqueAscending } from '../ids.ts';
import { deleteWaitingJobs, liveJobKeys, runningJobs } from './queue-stats.ts';

/**
 * More ids than this are matched against the queue's live jobs rather than sent to Postgres:
 * `--range 1..10000000` as ten million keys took 77 s and 3 GB. Reading the live jobs costs what
 * the queue holds (a backfill's millions, read under the enqueue lock, which serve's webhooks
 * wait for), so fewer ids go as keys, which their look-up by key makes cheap.
 */
const SENT_AS_KEYS = 100_000;

export interface DequeueResult extends Omit<DequeuedRows, 'toRefresh'> {
  /** Tickets whose waiting job was deleted. */
  removed: number;
  /** Tickets left in the queue because a worker holds their job. */
  running: number;
  /** Of those, the ones whose worker has not been heard from for STOPPED_AFTER_SECONDS (killed, or cut off). */
  runningSilent: number;
  /** Ids given that had no sync job at all (0 for every ticket). */
  notQueued: number;
  /** Ids given more than once. */
  duplicates: number;
}

/** Dequeues these tickets, or with `all`, every ticket in the sync queue. */
export async function dequeueTickets(db: Db, which: { ticketIds: readonly number[] } | { all: true }): Promise<DequeueResult> {
  const unique = 'all' in which ? undefined : uniqueAscending(which.ticketIds);
  const { toRefresh, ...result } = await inTransaction(db, async (tx) => {
    // The transaction's own connection (a drizzle handle's client), for pg-boss's table.
    const client = poolOf(tx);
    // After the fence, no enqueue adds a job until this commits: the live keys read are all there are.
    await fenceEnqueues(tx);
    let keys: string[] | undefined;
    if (unique === undefined) keys = undefined;
    else if (unique.length <= SENT_AS_KEYS) keys = unique.map(String);
    else keys = (await liveJobKeys(client)).filter((key) => hasId(unique, Number(key)));
    const removed = await deleteWaitingJobs(client, keys);
    const { running, silent } = await runningJobs(client, keys);
    const rows = await restoreDequeued(tx, removed);
    return {
      ...rows,
      removed: removed.length,
      running,
      runningSilent: silent,
      notQueued: unique === undefined ? 0 : unique.length - removed.length - running,
      duplicates: 'all' in which ? 0 : which.ticketIds.length - unique!.length,
    };
  });
  // A run held while Zendesk was away stored pages and left its upkeep to the next run, which is
  // gone now: the views count what the timeline shows. After the commit, a batch a transaction,
  // each locking its tickets' rows as a run's end does; should it fail, a later run does it.
  for (let i = 0; i < toRefresh.length; i += REFRESH_BATCH) {
    const batch = toRefresh.slice(i, i + REFRESH_BATCH);
    await inTransaction(db, (tx) => refreshTicketAnalytics(tx, batch)).catch(() => {});
  }
  return result;
}

const REFRESH_BATCH = 500;
