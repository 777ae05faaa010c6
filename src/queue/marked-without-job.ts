// A ticket asked for while its run was in flight is queued again by that run's worker once the
// run's job has ended (afterRun). Should the worker fail to (Postgres refused its every try, or
// it was killed between ending the job and queueing the ticket), the ticket keeps a due mark and
// no job: nothing else queues it before a backfill, and `sync`, which waits for the run the mark
// asks for, would wait for ever. This queues such tickets once they have stayed so a while.
import type { PgBoss } from 'pg-boss';
import { poolOf, type Db } from '../db/connection.ts';
import { askedAgainNotQueued, type TicketState } from '../db/sync-again.ts';
import type { Logger } from '../log.ts';
import { enqueueTickets } from './enqueue.ts';
import { liveJobIds } from './queue-stats.ts';

/**
 * Longer than a worker takes from ending a run's job to queueing the ticket again (milliseconds)
 * and than its first retries of that (1 and 2 s): the worker's own queueing comes first.
 */
const MARKED_WITHOUT_JOB_MS = 5_000;

export interface MarkedWithoutJob {
  /** Looks at `states` (read just now) and queues those marked and without a job long enough. */
  check(db: Db, states: readonly TicketState[]): Promise<number[]>;
}

export function queueMarkedWithoutJob(boss: PgBoss, options: { full: boolean; priority: number; log: Logger }): MarkedWithoutJob {
  // Ticket → when it was first seen marked with no job, while it stays so.
  const since = new Map<number, number>();
  return {
    async check(db, states) {
      const marked = states.filter(askedAgainNotQueued).map((s) => s.ticketId);
      const still = new Set(marked);
      for (const id of since.keys()) if (!still.has(id)) since.delete(id);
      if (marked.length === 0) return [];
      const withJob = await liveJobIds(poolOf(db), marked);
      const now = Date.now();
      const due: number[] = [];
      for (const id of marked) {
        if (withJob.has(id)) {
          since.delete(id);
          continue;
        }
        if (!since.has(id)) since.set(id, now);
        if (now - since.get(id)! >= MARKED_WITHOUT_JOB_MS) due.push(id);
      }
      if (due.length === 0) return [];
      await enqueueTickets(boss, db, due, { full: options.full, priority: options.priority });
      for (const id of due) since.delete(id);
      options.log.warn({ ticketIds: due }, 'tickets asked for again during a run were not queued again by its worker; queued here');
      return due;
    },
  };
}
