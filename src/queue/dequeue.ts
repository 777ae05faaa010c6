// Takes tickets back out of the queue (`convlog dequeue`): their waiting sync jobs, queued or
// waiting to retry, are deleted and their ticket_sync rows lose the `queued` mark
// (restoreDequeued, src/db/dequeued.ts), in one transaction: a dequeue that fails halfway leaves
// every job and row as it was. A job a worker holds is never touched: its run ends as it would
// have, and is only counted.
import { poolOf, type Db } from '../db/connection.ts';
import { fenceEnqueues, restoreDequeued, type DequeuedRows } from '../db/dequeued.ts';
import { inTransaction } from '../db/transaction.ts';
import { deleteWaitingJobs, runningJobs } from './queue-stats.ts';

export interface DequeueResult extends DequeuedRows {
  /** Tickets whose waiting job was deleted. */
  removed: number;
  /** Tickets left in the queue because a worker holds their job. */
  running: number;
  /** Ids given that had no sync job at all (0 for every ticket). */
  notQueued: number;
  /** Ids given more than once. */
  duplicates: number;
}

/** Dequeues these tickets, or with `all`, every ticket in the sync queue. */
export async function dequeueTickets(db: Db, which: { ticketIds: readonly number[] } | { all: true }): Promise<DequeueResult> {
  const keys = 'all' in which ? undefined : [...new Set(which.ticketIds)].map(String);
  return inTransaction(db, async (tx) => {
    // The transaction's own connection (a drizzle handle's client), for pg-boss's table.
    const client = poolOf(tx);
    await fenceEnqueues(tx);
    const removed = await deleteWaitingJobs(client, keys);
    const running = await runningJobs(client, keys);
    const rows = await restoreDequeued(tx, removed);
    const given = 'all' in which ? 0 : keys!.length;
    return {
      ...rows,
      removed: removed.length,
      running,
      notQueued: 'all' in which ? 0 : given - removed.length - running,
      duplicates: 'all' in which ? 0 : which.ticketIds.length - given,
    };
  });
}
