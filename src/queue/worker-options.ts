// What a caller asks of runWorker (src/queue/worker.ts) and what it is told at the end: a module
// of its own, since the job handler (ticket-job.ts) fills the summary and reads the callbacks.
import type { LookPool } from '../db/look-pool.ts';
import type { SyncResult } from '../sync/sync-ticket.ts';
import type { SyncLogOptions } from './sync-log.ts';

export interface WorkerOptions {
  concurrency: number;
  /** Return once nothing is queued, waiting to retry or running. */
  untilIdle?: boolean;
  /**
   * With untilIdle: return once Zendesk or Postgres has been unreachable this long
   * (UNTIL_IDLE_UNREACHABLE_MS). With stopWhen: once Zendesk has (Postgres has its own bound).
   */
  giveUpUnreachableMs?: number;
  /** Who waits for an unreachable Zendesk and exits 1 after giveUpUnreachableMs, as its log line says it. */
  waiter?: string;
  /**
   * Return once this says so (checked every idleCheckMs), e.g. when given tickets are done: no job
   * is taken after it, and the tickets in flight finish (a stop signal still cuts them short). Its
   * queries go through `look`, each bounded at LOOK_TIMEOUT_MS; once Postgres has not answered it
   * (or, while the tickets in flight finish, a `select 1` on the same connection) for
   * STOP_WHEN_UNREADABLE_MS, the run gives up on Postgres (WorkerSummary.lostDatabase).
   */
  stopWhen?: (look: LookPool) => Promise<boolean>;
  /**
   * The caller's work beside the worker on the same Postgres (sync's ticket rows): the run returns
   * once it has ended too, and waits for it as for the tickets in flight.
   */
  alongside?: Promise<unknown>;
  /** With untilIdle: work of this process beside the ticket syncs (a scheduled backfill it runs). */
  alsoBusy?: () => boolean;
  /** Stop taking jobs; the pages in flight commit, then runWorker returns. */
  signal: AbortSignal;
  onResult?: (result: SyncResult) => void;
  onFailure?: (ticketId: number, reason: string, final: boolean) => void;
  onPage?: (page: { events: number; requests: number }) => void;
  idleCheckMs?: number;
  /** On the embedded default (Database.serverGone): the queue's failed looks at a server that has ended say nothing. */
  serverGone?: () => boolean;
  /** Ask Zendesk once at start, so that an unreachable host is named before any ticket meets it. */
  probeAtStart?: boolean;
  /** Told, once the worker has made it, how long Zendesk has not answered (0 while it does): for /metrics. */
  onZendeskAway?: (awayMs: () => number) => void;
  /** The pauses between probes while Zendesk cannot be reached (5 s doubling to 60 s). */
  unreachablePauseMs?: { first: number; max: number };
  /** A service's pauses while Postgres stores nothing more (30 s doubling to 5 min; postgres-gate.ts). */
  cannotStorePauseMs?: { first: number; max: number };
  /** Per-ticket lines and summaries at info (sync-log.ts). */
  syncLog?: SyncLogOptions;
  /**
   * Registers what exiting at once (a second stop signal) does first: the jobs in flight go back
   * to the queue (jobs-in-flight.ts; CommandContext.beforeExitAtOnce). Returns its removal.
   */
  beforeExitAtOnce?: (release: () => Promise<void>) => () => void;
}

export interface WorkerSummary {
  synced: number;
  notFound: number;
  forbidden: number;
  failed: number;
  retrying: number;
  /** Set when a failure means no ticket can succeed (credentials): the caller exits 2. */
  fatal?: Error;
  /** Set when the run ended because untilIdle (or stopWhen) found nothing left to do, not because it was stopped. */
  done?: boolean;
  /** Set when untilIdle gave up on a Zendesk it could not reach: why, and for how long. */
  gaveUp?: { reason: string; ms: number };
  /**
   * Set when untilIdle, a run waiting for stopWhen, or a run told to stop gave up on a Postgres it
   * could not reach: the last error, for how long, and whether a stop's bound (STOPPED_UNREADABLE_MS) was the one reached.
   */
  lostDatabase?: { error: unknown; ms: number; stopping: boolean };
}
