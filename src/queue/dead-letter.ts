// pg-boss gives up on a job whose worker died on every attempt (killed, crashed, cut off from
// Postgres: its heartbeat stopped) and moves it to the dead letter queue without our handler
// running; its ticket would stay `syncing` for ever. Here it is recorded as failed, saying why,
// and queued again if someone asked for it during that job (as afterRun does).
import type { PgBoss, JobWithMetadata } from 'pg-boss';
import type pg from 'pg';
import { recordStatus } from '../db/ticket-status.ts';
import { ticketStates, waitingOrRunning } from '../db/sync-again.ts';
import { queueIfAskedAgain } from './after-run.ts';
import { counted } from '../text.ts';
import type { SyncDeps } from '../sync/sync-ticket.ts';
import { DEAD_LETTER_QUEUE, holdsOf, type SyncJobData } from './boss.ts';
import { hasLiveSyncJob } from './queue-stats.ts';

/**
 * Takes dead-lettered syncs and records each as failed (recordAbandoned), telling `onFailed` of
 * those it recorded; resolves with the pg-boss worker's id, to stop it with offWork.
 */
export function workDeadLetters(boss: PgBoss, pool: pg.Pool, deps: SyncDeps, onFailed: (ticketId: number, reason: string) => void): Promise<string> {
  return boss.work(
    DEAD_LETTER_QUEUE,
    { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 2 },
    async ([job]: JobWithMetadata<SyncJobData>[]) => {
      const failed = await recordAbandoned(boss, deps, pool, job);
      if (failed === undefined) return;
      onFailed(job.data.ticketId, failed);
    },
  );
}

/**
 * Records a dead-lettered sync as failed, unless a later run settled the ticket or a new job of it
 * waits (a webhook queued it again once the old job had failed); returns the reason. A request
 * made while the last attempt ran (a webhook's, which found the job running and marked the
 * ticket) queues it again: nothing else would before a backfill.
 */
async function recordAbandoned(boss: PgBoss, deps: SyncDeps, pool: pg.Pool, job: JobWithMetadata<SyncJobData>): Promise<string | undefined> {
  const ticketId = job.data?.ticketId;
  if (!Number.isSafeInteger(ticketId)) return undefined;
  const [state] = await ticketStates(deps.db, [ticketId]);
  if (state && !waitingOrRunning(state)) return undefined;
  if (await hasLiveSyncJob(pool, ticketId)) return undefined;
  const output = job.sourceOutput as { value?: { message?: unknown }; message?: unknown } | null;
  const last = String(output?.value?.message ?? output?.message ?? 'unknown');
  const attempts = (job.sourceRetryCount ?? 0) + 1 - holdsOf(job.data);
  const reason =
    `gave up after ${counted(attempts, 'attempt')} that never finished (last: ${last}): the worker running it was killed or crashed, or lost Postgres, each time; ` +
    `the pages stored so far are kept; queue it again with "convlog enqueue ${ticketId}"`;
  await recordStatus(deps.db, ticketId, { status: 'failed', reason });
  deps.log.error({ ticketId, jobId: job.sourceId, attempts, err: last }, 'ticket failed: every attempt was abandoned');
  const again = await queueIfAskedAgain(boss, deps.db, ticketId, { readAll: false });
  if (again) deps.log.info({ ticketId, full: again.full }, again.queued ? 'ticket asked for during its job; queued again' : 'ticket asked for during its job; a job queued since takes the request');
  return reason;
}
