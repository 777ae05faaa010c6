// Runs ticket-sync jobs: several tickets in flight per process, graceful on SIGINT/SIGTERM
// (the page in flight commits, the ticket resumes from its cursor later), and optionally
// until the queue is empty.
import type { PgBoss, JobWithMetadata } from 'pg-boss';
import { recordFailure } from '../db/ticket-status.ts';
import { errorMessage, Interrupted, jobDisposition } from '../errors.ts';
import { syncTicket, type SyncDeps, type SyncResult } from '../sync/sync-ticket.ts';
import { liveJobs } from './queue-stats.ts';
import { SYNC_QUEUE, type SyncJobData } from './boss.ts';
import type pg from 'pg';

export interface WorkerOptions {
  concurrency: number;
  /** Return once nothing is queued, waiting to retry or running. */
  untilIdle?: boolean;
  /** Return once this says so (checked every idleCheckMs), e.g. when given tickets are done. */
  stopWhen?: () => Promise<boolean>;
  /** Stop taking jobs; the pages in flight commit, then runWorker returns. */
  signal: AbortSignal;
  onResult?: (result: SyncResult) => void;
  onFailure?: (ticketId: number, reason: string, final: boolean) => void;
  onPage?: (page: { events: number; requests: number }) => void;
  idleCheckMs?: number;
}

export interface WorkerSummary {
  synced: number;
  notFound: number;
  forbidden: number;
  failed: number;
  retrying: number;
  /** Set when a failure means no ticket can succeed (credentials): the caller exits 2. */
  fatal?: Error;
}

export async function runWorker(boss: PgBoss, pool: pg.Pool, deps: SyncDeps, options: WorkerOptions): Promise<WorkerSummary> {
  const summary: WorkerSummary = { synced: 0, notFound: 0, forbidden: 0, failed: 0, retrying: 0 };
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  options.signal.addEventListener('abort', stop, { once: true });
  let inFlight = 0;

  const handle = async (job: JobWithMetadata<SyncJobData>) => {
    const { ticketId, full } = job.data;
    const log = deps.log.child({ jobId: job.id, ticketId });
    inFlight += 1;
    try {
      const result = await syncTicket({ ...deps, log }, ticketId, { full, signal: stopping.signal, onPage: options.onPage });
      if (result.status === 'synced') summary.synced += 1;
      else if (result.status === 'not_found') summary.notFound += 1;
      else summary.forbidden += 1;
      options.onResult?.(result);
    } catch (error) {
      const disposition = jobDisposition(error);
      const final = disposition === 'fail' || (disposition === 'retry' && job.retryCount >= job.retryLimit);
      const reason = errorMessage(error);
      await recordFailure(deps.db, ticketId, reason, { final }).catch((e) =>
        log.error({ err: errorMessage(e) }, 'could not record the failure'),
      );
      if (error instanceof Interrupted) {
        log.info({ err: reason }, 'ticket interrupted');
      } else if (final) {
        summary.failed += 1;
        log.error({ err: reason, attempt: job.retryCount + 1 }, 'ticket failed');
      } else {
        summary.retrying += 1;
        log.warn({ err: reason, attempt: job.retryCount + 1, retryLimit: job.retryLimit }, 'ticket will be retried');
      }
      options.onFailure?.(ticketId, reason, final);
      if (disposition === 'stop') {
        summary.fatal ??= error as Error;
        stop();
      }
      // A failure pg-boss should retry is thrown back to it; a final one completes the job,
      // its reason kept in ticket_sync.
      if (!final) throw error;
    } finally {
      inFlight -= 1;
    }
  };

  const workId = await boss.work(
    SYNC_QUEUE,
    {
      localConcurrency: options.concurrency,
      batchSize: 1,
      includeMetadata: true,
      // After each job a worker waits this long before fetching again, NOTIFY or not.
      pollingIntervalSeconds: 0.5,
      notifyPollingIntervalSeconds: 0.5,
    },
    async ([job]: JobWithMetadata<SyncJobData>[]) => handle(job),
  );

  await new Promise<void>((resolve) => {
    if (stopping.signal.aborted) return resolve();
    stopping.signal.addEventListener('abort', () => resolve(), { once: true });
    const done = options.stopWhen ?? (options.untilIdle ? async () => inFlight === 0 && (await liveJobs(pool)) === 0 : undefined);
    if (!done) return;
    let idleChecks = 0;
    const check = async () => {
      if (stopping.signal.aborted) return;
      try {
        // Twice in a row: a job finishing between two looks must not end the run early.
        idleChecks = (await done()) ? idleChecks + 1 : 0;
        if (idleChecks >= 2) return stop();
      } catch (error) {
        deps.log.warn({ err: errorMessage(error) }, 'could not read the queue; trying again');
      }
      setTimeout(check, options.idleCheckMs ?? 500);
    };
    setTimeout(check, options.idleCheckMs ?? 500);
  });

  // Waits for the handlers in flight, which stop after their current page.
  await boss.offWork(SYNC_QUEUE, { id: workId, wait: true });
  options.signal.removeEventListener('abort', stop);
  return summary;
}
