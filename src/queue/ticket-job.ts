// One ticket-sync job as a worker slot runs it: the ticket's run (syncTicket), then what its
// outcome (outcomeOf in src/errors/outcome.ts) does to the ticket's status, the job, the worker's summary
// and the worker itself (held while Zendesk cannot be reached, stopped when no ticket can sync).
import type { PgBoss, JobWithMetadata } from 'pg-boss';
import type pg from 'pg';
import { recordStatus } from '../db/ticket-status.ts';
import { asDatabaseCannotStore, DatabaseCannotStore, Interrupted } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import { outcomeOf } from '../errors/outcome.ts';
import { ZendeskUnreachable } from '../errors/zendesk-errors.ts';
import { syncTicket, type SyncDeps, type SyncResult } from '../sync/sync-ticket.ts';
import { asZendeskUnreachable } from '../zendesk/credentials.ts';
import { zendeskHttpInfo } from '../zendesk/http.ts';
import { pause } from '../timing.ts';
import { afterRun } from './after-run.ts';
import { holdsOf, type SyncJobData } from './boss.ts';
import type { JobsInFlight } from './jobs-in-flight.ts';
import { holdJob } from './queue-stats.ts';
import type { SyncLog } from './sync-log.ts';
import type { WorkerOptions, WorkerSummary } from './worker-options.ts';
import type { ZendeskGate } from './zendesk-gate.ts';
import type { PostgresGate } from './postgres-gate.ts';

/** The reason of a ticket the worker stopped because no ticket can sync (`fatal` says why). */
const stoppedBecause = (fatal: unknown) => `stopped before this run ended: ${errorMessage(fatal)}`;

/** How often a hold Postgres refused to write is tried again. */
const HOLD_RETRY_MS = 1_000;

export interface TicketJobContext {
  boss: PgBoss;
  pool: pg.Pool;
  deps: SyncDeps;
  options: Pick<WorkerOptions, 'onResult' | 'onFailure' | 'onPage'>;
  gate: ZendeskGate;
  /** Set in a service (`work`), which waits out a Postgres that stores nothing more. */
  postgresGate?: PostgresGate;
  /** The worker's counts, which each job adds to. */
  summary: WorkerSummary;
  /** Stops the worker: no more jobs taken, the runs in flight cut short. */
  stop: () => void;
  /** Aborted once the worker stops. */
  stopping: AbortSignal;
  flying: JobsInFlight;
  syncLog: SyncLog;
}

export function ticketJobHandler(ctx: TicketJobContext): (job: JobWithMetadata<SyncJobData>) => Promise<void> {
  const { boss, pool, deps, options, gate, postgresGate, summary, stop, flying, syncLog } = ctx;
  const origin = zendeskHttpInfo(deps.http)?.origin ?? 'Zendesk';

  /**
   * Back to the queue, the attempt unspent: by default until Zendesk is probed again (a wait for
   * Postgres or a shutdown's names its own delay); the status says why, unless another run of the
   * ticket started since `run` did (recordStatus).
   */
  const hold = async (
    job: JobWithMetadata<SyncJobData>,
    reason: string,
    { delayMs = gate.msUntilProbe() + 1_000, run, untilStored = false, interrupted }: { delayMs?: number; run?: string; untilStored?: boolean; interrupted?: true } = {},
  ) => {
    // By default a second past the probe: a job that comes back as Zendesk does is taken at once.
    // A Postgres that stores nothing more may refuse the hold itself, a write to pg-boss's table
    // (read-only after a failover, a full disk): the job, still active, is this worker's to hand
    // back, so it tries each second until Postgres takes the write, instead of leaving the job to
    // lapse into a failed attempt once Postgres is back.
    for (;;) {
      try {
        if (!(await holdJob(pool, job, delayMs))) return;
        break;
      } catch (error) {
        if (!untilStored || !asDatabaseCannotStore(error) || !(await pause(HOLD_RETRY_MS, AbortSignal.any([ctx.stopping, job.signal])))) throw error;
      }
    }
    // A shutdown's pages join the per-ticket answers now: the next run may be a while away.
    await recordStatus(deps.db, job.data.ticketId, { status: 'queued', reason, interrupted }, run, { upkeep: interrupted === true });
  };

  return async (job) => {
    const { ticketId, full } = job.data;
    const log = deps.log.child({ jobId: job.id, ticketId });
    // Taken between the stop and the slot's end (a job queued again by another slot's afterRun
    // among them): back to the queue as it was, for the next worker, its attempt unspent; when no
    // ticket can sync, saying so, as the runs it stopped do.
    if (ctx.stopping.aborted) {
      if (summary.fatal) return hold(job, stoppedBecause(summary.fatal), { delayMs: 0 });
      return void (await holdJob(pool, job, 0));
    }
    if (gate.closed) return hold(job, gate.reason());
    if (postgresGate?.closed) return hold(job, postgresGate.reason(), { delayMs: postgresGate.msUntilRetry() + 1_000, untilStored: true });
    // job.signal aborts when a heartbeat finds the job no longer active under this worker's claim
    // (cut off from Postgres past heartbeatSeconds, then taken over; or failed by pg-boss itself).
    const signal = AbortSignal.any([ctx.stopping, job.signal]);
    const started = performance.now();
    // The run's token once it has started: its failure is recorded only while it is the ticket's latest run.
    let run: string | undefined;
    let readAll = true;
    try {
      const onRunStarted = (token: string) => {
        run = token;
        flying.runStarted(job, token);
      };
      const result: SyncResult = await syncTicket({ ...deps, log }, ticketId, { full, signal, onPage: options.onPage, onRunStarted, job: { id: job.id, createdOn: job.createdOn } });
      // A 403 read nothing: a full request older than it still waits for a run that reads.
      readAll = result.status !== 'forbidden';
      postgresGate?.stored(result.eventsWritten);
      if (result.status === 'synced') summary.synced += 1;
      else if (result.status === 'not_found') summary.notFound += 1;
      else summary.forbidden += 1;
      options.onResult?.(result);
      syncLog.synced({ ...result, ms: Math.round(performance.now() - started) });
    } catch (thrown) {
      // A request that never reached a server says nothing about this ticket, nor does a full disk.
      const error = asZendeskUnreachable(thrown, origin, { retried: false }) ?? asDatabaseCannotStore(thrown) ?? thrown;
      const holds = holdsOf(job.data);
      const attempt = job.retryCount + 1 - holds;
      const retryLimit = job.retryLimit - holds;
      const outcome = outcomeOf({ error, attempt, retryLimit, claimLost: job.signal.aborted, service: postgresGate !== undefined });
      if (!outcome.ticket) {
        // The handler returns rather than throws: pg-boss's fail() and complete() are fenced to
        // this attempt and settle nothing either way, but a throw would read as this ticket's
        // failure. Interrupted's own message speaks of a shutdown; only another failure is worth its text.
        const err = error instanceof Interrupted ? undefined : errorMessage(error);
        // A run taken over (RunTakenOver) may learn it from its own write before the heartbeat does.
        log.warn({ claim: job.signal.aborted ? errorMessage(job.signal.reason) : undefined, err }, "lost the job's claim; another worker has it");
        return;
      }
      const { reason } = outcome.ticket;
      // Not this ticket's fault: no ticket can sync (credentials), whether this one met it or was
      // cut short by one that did (or by the check at start), which is then its reason, not a
      // shutdown. The job waits, its attempt unspent, for a worker that can sync it; the command
      // reports the error once.
      const noTicketCanSync = outcome.job === 'hold' && outcome.stopWorker ? (error as Error) : error instanceof Interrupted ? summary.fatal : undefined;
      if (noTicketCanSync) {
        const why = noTicketCanSync === error ? reason : stoppedBecause(noTicketCanSync);
        log.debug({ err: why }, 'ticket stopped: no ticket can sync');
        summary.fatal ??= noTicketCanSync;
        stop();
        await hold(job, why, { delayMs: 0, run });
        options.onFailure?.(ticketId, why, false);
        return;
      }
      if (outcome.job === 'hold' && error instanceof Interrupted) {
        // Back as it was, due at once: the next worker (this one is stopping) resumes from the
        // cursor, or reads from the first event if the job or a request asks for a full read.
        log.info({ err: reason }, 'ticket interrupted');
        options.onFailure?.(ticketId, reason, false);
        return hold(job, reason, { delayMs: 0, run, interrupted: true });
      }
      if (outcome.job === 'hold' && error instanceof DatabaseCannotStore && postgresGate) {
        postgresGate.close(error);
        log.debug({ err: reason }, 'ticket waits for Postgres');
        return hold(job, reason, { delayMs: postgresGate.msUntilRetry() + 1_000, run, untilStored: true });
      }
      if (outcome.job === 'hold') {
        gate.close(error as ZendeskUnreachable);
        log.debug({ err: reason }, 'ticket waits for Zendesk');
        return hold(job, reason, { run });
      }
      const final = outcome.job === 'give-up';
      const recorded = await recordStatus(deps.db, ticketId, outcome.ticket, run).catch((e: unknown) => {
        log.error({ err: errorMessage(e) }, 'could not record the failure');
        return true;
      });
      if (!recorded) {
        // Taken over before it noticed (cut off or frozen between pages): as for a lost claim, the
        // job ends here and the newer run's status stands.
        log.info({ err: reason }, 'another run of the ticket started since this one did; its failure is left unrecorded');
        return;
      }
      if (final) {
        summary.failed += 1;
        log.error({ err: reason, attempt }, 'ticket failed');
      } else {
        summary.retrying += 1;
        log.warn({ err: reason, attempt, retryLimit }, 'ticket will be retried');
      }
      options.onFailure?.(ticketId, reason, final);
      // pg-boss retries what is thrown back to it; any other job ends here, its reason in ticket_sync.
      if (outcome.job === 'retry') throw error;
      // A change announced during the run (a webhook) asks for another one all the same: it may
      // be what this one failed on, and nothing else would queue the ticket before a backfill.
      if (final) await afterRun(boss, deps.db, job, log, ctx.stopping, { readAll: false });
      return;
    }
    await afterRun(boss, deps.db, job, log, ctx.stopping, { readAll });
  };
}
