// What a worker does once a ticket's run is over (synced, or failed for good): it ends the run's
// job, then queues the ticket again if it was asked for during the run (requestSyncAgain in
// src/db/sync-again.ts), since the queue holds one job per ticket and the enqueue that asked
// found this one running.
import type { PgBoss, JobWithMetadata } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { takeSyncAgain, type SyncAgain } from '../db/sync-again.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { backoffMs, pause } from '../timing.ts';
import { SYNC_QUEUE, type SyncJobData } from './boss.ts';
import { enqueueTickets } from './enqueue.ts';

/** Tries of the check that queues a ticket asked for again during its run (afterRun). */
const AFTER_RUN_ATTEMPTS = 5;

/** How a run ended, for what comes after it. */
export interface RunEnd {
  /** It read the ticket to its end (synced, or found gone): a full request older than it is done. */
  readAll: boolean;
}

/**
 * Takes the ticket's sync-again mark once its job has ended (takeSyncAgain) and queues the ticket
 * when the mark asks for another run, at `priority` at least. What was asked, and whether this
 * queued the ticket: another enqueue may have queued it since the job ended, and that job then
 * stands for the request.
 */
export async function queueIfAskedAgain(
  boss: PgBoss,
  db: Db,
  ticketId: number,
  { readAll, priority = 0 }: { readAll: boolean; priority?: number },
): Promise<(SyncAgain & { queued: boolean }) | undefined> {
  let queued = 0;
  const again = await takeSyncAgain(db, ticketId, { readAll }, async (mark) => {
    ({ queued } = await enqueueTickets(boss, db, [ticketId], { full: mark.full, priority: Math.max(priority, mark.priority) }));
  });
  return again && { ...again, queued: queued > 0 };
}

/**
 * Ends the job, then queues the ticket again if it was asked for after this run started. A
 * Postgres blip here would lose a change announced during the run (a redaction among them) until
 * something else queued the ticket, so each step that failed is tried again, about 1, 2, 4 and 8
 * s later; a shutdown (`stopping`) cuts the waits short and leaves one last try.
 */
export async function afterRun(boss: PgBoss, db: Db, job: JobWithMetadata<SyncJobData>, log: Logger, stopping: AbortSignal, end: RunEnd): Promise<void> {
  const { ticketId } = job.data;
  let completed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      // Completed here rather than by pg-boss after the handler, so that an enqueue that found
      // the job running, and marked the ticket, is either seen below or finds the job gone.
      if (!completed) await boss.complete(SYNC_QUEUE, { id: job.id, retryCount: job.retryCount });
      completed = true;
      // At the higher of the run's priority and the requests': a ticket someone is waiting for (a
      // webhook's, `sync`'s) must not go back behind a backlog because it changed while it synced,
      // nor wait behind it because a backlog job of it was running when the webhook came.
      const again = await queueIfAskedAgain(boss, db, ticketId, { readAll: end.readAll, priority: job.priority });
      if (again) log.info({ full: again.full }, again.queued ? 'ticket changed during its sync; queued again' : 'ticket changed during its sync; a job queued since takes the change');
      return;
    } catch (error) {
      const err = errorMessage(error);
      if (attempt >= AFTER_RUN_ATTEMPTS) {
        log.error({ err, attempts: attempt }, 'could not check whether the ticket changed during its sync; a change during it waits for the next sync');
        return;
      }
      // Half of it random: the workers that lost the same Postgres do not all come back at once.
      const waitMs = backoffMs(attempt, { firstMs: 1_000, maxMs: 8_000, floor: 0.5 });
      log.warn({ err, attempt }, `could not check whether the ticket changed during its sync; trying again in ${(waitMs / 1000).toFixed(1)} s`);
      if (!(await pause(waitMs, stopping))) attempt = AFTER_RUN_ATTEMPTS - 1;
    }
  }
}
