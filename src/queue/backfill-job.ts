// The backfill as a queued job: what `convlog work` runs when a tick of the schedule
// (backfill-schedule.ts) arrives, one at a time per process.
import type { JobWithMetadata, PgBoss } from 'pg-boss';
import { BackfillBusy, Interrupted } from '../errors/convlog-errors.ts';
import { causeWithCode, errorMessage } from '../errors/messages.ts';
import { outcomeOf } from '../errors/outcome.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/connection.ts';
import type { ZendeskHttp } from '../zendesk/http.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';
import { runBackfill, type BackfillDeps } from './backfill.ts';
import { budgetFor } from '../db/budgets.ts';
import { BACKFILL_QUEUE, holdsOf, type BackfillJobData } from './boss.ts';
import { holdJob } from './queue-stats.ts';

export interface BackfillWorker {
  /** Stops taking jobs; a backfill in flight stops after its page and goes back to the queue (held). */
  stop(): Promise<void>;
  /** True while this process runs a backfill. */
  busy(): boolean;
}

/** What a backfill needs of the runtime every syncing command opens (SyncRuntime). */
export interface BackfillRuntime {
  config: Pick<Config, 'exportRateLimit' | 'accountRateLimit' | 'rateLimit' | 'onDelete' | 'fullResyncDays' | 'fullResyncShare'>;
  database: Pick<Database, 'db' | 'pool'>;
  boss: PgBoss;
  deps: { http: ZendeskHttp };
  /** The runtime's own export and account-wide budgets (their waits are shown); else new ones. */
  budgets?: { export: RequestBudget; account: RequestBudget };
}

export function backfillDeps(runtime: BackfillRuntime, log: Logger): BackfillDeps {
  return {
    db: runtime.database.db,
    pool: runtime.database.pool,
    boss: runtime.boss,
    http: runtime.deps.http,
    budget: runtime.budgets?.export ?? budgetFor('export', runtime.database.pool, runtime.config.exportRateLimit, log),
    accountBudget: runtime.budgets?.account ?? budgetFor('account', runtime.database.pool, runtime.config.accountRateLimit, log),
    log,
    onDelete: runtime.config.onDelete,
    // A share of the conversation log's limit in force, taken as each backfill ends, for the periodic full reads.
    fullReads: { days: runtime.config.fullResyncDays, share: runtime.config.fullResyncShare, rateLimit: runtime.config.rateLimit },
  };
}

/** Runs backfill jobs in this process (one at a time) until stop(). */
export async function startBackfillWorker(runtime: BackfillRuntime, log: Logger, signal: AbortSignal): Promise<BackfillWorker> {
  const deps = backfillDeps(runtime, log.child({ queue: BACKFILL_QUEUE }));
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  signal.addEventListener('abort', stop, { once: true });

  /**
   * Puts a backfill a shutdown stopped back in the queue. The queue keeps one backfill waiting
   * beside the one running (pg-boss's stately policy): with a schedule's next tick waiting
   * already, Postgres refuses a second (23505), and this job ends instead, the tick standing for it.
   */
  const holdBackfill = (job: JobWithMetadata<BackfillJobData>): Promise<boolean> =>
    holdJob(runtime.database.pool, job, 0, BACKFILL_QUEUE).catch((error: unknown) => {
      if (causeWithCode(error, (code) => code === '23505')) return false;
      throw error;
    });

  let running = 0;
  const handle = async (job: JobWithMetadata<BackfillJobData>) => {
    running += 1;
    try {
      await runJob(job);
    } finally {
      running -= 1;
    }
  };
  const runJob = async (job: JobWithMetadata<BackfillJobData>) => {
    const jobLog = deps.log.child({ jobId: job.id });
    const since = job.data?.since ? Date.parse(job.data.since) : Number.NaN;
    // Taken between the stop and the worker's end: back as it was, for the next worker.
    if (stopping.signal.aborted) return void (await holdBackfill(job));
    const jobSignal = AbortSignal.any([stopping.signal, job.signal]);
    jobLog.info({ attempt: job.retryCount + 1 - holdsOf(job.data) }, 'backfill started');
    try {
      const result = await runBackfill(
        { ...deps, log: jobLog },
        {
          trigger: 'schedule',
          ...(Number.isFinite(since) ? { fallbackSince: Math.floor(since / 1000) } : {}),
          signal: jobSignal,
          onPage: (p) =>
            jobLog.info(
              { pages: p.pages, seen: p.seen, queued: p.queued, alreadyQueued: p.alreadyQueued, deleted: p.deleted, position: p.position?.toISOString() ?? null },
              'backfill page',
            ),
        },
      );
      if (result.interrupted) throw new Interrupted('backfill interrupted by shutdown; the next run continues from the saved position');
      jobLog.info({ ...result, position: result.position?.toISOString() ?? null }, 'backfill done');
    } catch (error) {
      const holds = holdsOf(job.data);
      const outcome = outcomeOf({ error, attempt: job.retryCount + 1 - holds, retryLimit: job.retryLimit - holds, claimLost: job.signal.aborted });
      if (outcome.job === 'retry') {
        jobLog.warn({ err: errorMessage(error) }, 'backfill failed; pg-boss retries it');
        throw error;
      }
      if (outcome.job === 'hold' && error instanceof Interrupted) {
        // A worker stopped (a deploy, a restart) is no failure: the job goes back, its attempt
        // unspent, and the next worker continues it from the saved position at once.
        if (await holdBackfill(job)) jobLog.info('backfill stopped with its worker; the next worker continues it from the saved position');
        else jobLog.info('backfill stopped with its worker; the next scheduled one, already waiting, continues from the saved position');
        return;
      }
      if (outcome.job === 'hold') {
        // Zendesk cannot be reached, or refuses the credentials: the next scheduled run continues
        // from the saved position.
        jobLog.warn({ err: errorMessage(error) }, 'backfill stopped; the next scheduled one continues from the saved position');
        return;
      }
      if (outcome.job === 'complete') {
        jobLog.info({ err: errorMessage(error) }, error instanceof BackfillBusy ? 'backfill skipped: another backfill is running' : 'backfill stopped; the next one continues from the saved position');
        return;
      }
      // Retrying cannot help (no position and no --since) or the retries are spent; the run's
      // record keeps the reason for `convlog status`.
      jobLog.error({ err: errorMessage(error) }, 'backfill cannot run');
    }
  };

  const workId = await runtime.boss.work(
    BACKFILL_QUEUE,
    { localConcurrency: 1, batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 2 },
    async ([job]: JobWithMetadata<BackfillJobData>[]) => handle(job),
  );
  // Fetching stops with the stop, not once the sync slots have wound down (stop() below): a
  // backfill held at the stop would be taken again meanwhile, only to be held again.
  const stopFetching = () => void runtime.boss.offWork(BACKFILL_QUEUE, { id: workId, wait: false }).catch(() => {});
  if (stopping.signal.aborted) stopFetching();
  else stopping.signal.addEventListener('abort', stopFetching, { once: true });
  return {
    busy: () => running > 0,
    async stop() {
      signal.removeEventListener('abort', stop);
      stop();
      await runtime.boss.offWork(BACKFILL_QUEUE, { id: workId, wait: true });
    },
  };
}
