// Runs ticket-sync jobs: several tickets in flight per process, graceful on SIGINT/SIGTERM
// (a page being stored commits; a request in flight is abandoned; the ticket resumes from its
// saved cursor later), and optionally until the queue is empty (until-done.ts). While Zendesk
// cannot be reached it takes no ticket and spends no retry (zendesk-gate.ts); a ticket asked for
// again during its run is queued again when the run ends (after-run.ts; requestSyncAgain in
// src/db/sync-again.ts). Each job's run and outcome are ticket-job.ts's. A ticket whose every
// attempt died with its worker is recorded as failed (dead-letter.ts).
import type { PgBoss, JobWithMetadata } from 'pg-boss';
import { LOOK_TIMEOUT_MS, openLookPool, type LookPool } from '../db/look-pool.ts';
import { counted } from '../text.ts';
import { withinTime } from '../timing.ts';
import type { SyncDeps } from '../sync/sync-ticket.ts';
import { checkCredentials } from '../zendesk/credentials.ts';
import { workDeadLetters } from './dead-letter.ts';
import { jobsInFlight, LEFT_WITHOUT_POSTGRES } from './jobs-in-flight.ts';
import { liveJobs } from './queue-stats.ts';
import { STOPPED_UNREADABLE_MS, watchPostgres } from './stop-watch.ts';
import { createSyncLog } from './sync-log.ts';
import type { WorkerOptions, WorkerSummary } from './worker-options.ts';
import { ticketJobHandler } from './ticket-job.ts';
import { waitUntilDone } from './until-done.ts';
import { createZendeskGate } from './zendesk-gate.ts';
import { createPostgresGate } from './postgres-gate.ts';
import { BACKFILL_QUEUE, DEAD_LETTER_QUEUE, HEARTBEAT_REFRESH_SECONDS, SYNC_QUEUE, type SyncJobData } from './boss.ts';
import type pg from 'pg';

/**
 * How long `work --until-idle` waits for a Zendesk or a Postgres it cannot reach before it gives
 * up: a run from cron must end, and the next one takes the tickets, which keep their retries.
 */
export const UNTIL_IDLE_UNREACHABLE_MS = 10 * 60_000;
/**
 * How long a run someone waits for (stopWhen: `sync`) goes on without an answer from Postgres before
 * it gives up: long enough to ride out a restart or a managed database's failover (seconds to about
 * a minute), short enough that the person at the terminal is not left with a bar that never moves.
 */
const STOP_WHEN_UNREADABLE_MS = 60_000;
/** How long a run that gave up on Postgres waits for its tickets in flight to stop, then to hand them back. */
const LOST_DATABASE_GRACE_MS = 5_000;
/**
 * How long handing a job back waits for a lock on its ticket's status row: one held by this worker's
 * own transaction, left open on a connection that went silent (a run's end between its statements),
 * is never released in time, and on the hand-back's one connection the other jobs would wait too.
 */
const HAND_BACK_LOCK_WAIT_MS = 1_000;

export async function runWorker(boss: PgBoss, pool: pg.Pool, deps: SyncDeps, options: WorkerOptions): Promise<WorkerSummary> {
  const summary: WorkerSummary = { synced: 0, notFound: 0, forbidden: 0, failed: 0, retrying: 0 };
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  // A stop that came while the command was starting (Postgres, migrations, the credential check)
  // fires no event any more: without this check the worker would run as if none had come.
  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });
  // Set once stopWhen is satisfied: the slots take no more jobs, but a ticket in flight is another
  // caller's work half done (sync takes whatever is queued), so it is not cut off mid-run.
  let draining = false;
  // Only a run that ends (when idle, or when its tickets are done) gives up on Zendesk; a service
  // waits out any outage.
  const giveUpMs = options.untilIdle || options.stopWhen ? (options.giveUpUnreachableMs ?? UNTIL_IDLE_UNREACHABLE_MS) : undefined;
  const gate = createZendeskGate({
    probe: () => checkCredentials({ http: deps.http, log: deps.log, signal: stopping.signal }, 'the worker stops, its tickets left queued, not failed'),
    log: deps.log,
    signal: stopping.signal,
    firstPauseMs: options.unreachablePauseMs?.first,
    maxPauseMs: options.unreachablePauseMs?.max,
    giveUpAfterMs: giveUpMs,
    waiter: options.waiter,
  });
  options.onZendeskAway?.(() => gate.closedForMs());
  // Not awaited: a host that does not answer must not hold the worker back, only be named.
  if (options.probeAtStart) {
    void gate.checkAtStart().then((refused) => {
      if (!refused) return;
      summary.fatal ??= refused;
      stop();
    });
  }
  const syncLog = createSyncLog(deps.log, options.syncLog);

  const flying = jobsInFlight(pool, deps.db);
  const unregister = options.beforeExitAtOnce?.(async () => void (await flying.handBack()));
  // A service waits out a Postgres that stores nothing more; a run someone waits for stops for it.
  const postgresGate = options.untilIdle || options.stopWhen ? undefined : createPostgresGate(deps.log, options.cannotStorePauseMs);
  const handle = ticketJobHandler({ boss, pool, deps, options, gate, postgresGate, summary, stop, stopping: stopping.signal, flying, syncLog });

  // One pg-boss worker per slot rather than one with localConcurrency: after each job a pg-boss
  // worker waits out its polling interval (0.5 s at least) before fetching again, which would cap
  // a slot at two tickets a second however small they are. Each slot wakes its own worker as its
  // job ends, so it fetches the next at once, and only an empty queue makes it wait.
  // includeMetadata also gives each job its retryCount, which fences the heartbeat to this
  // attempt: without it a newer attempt elsewhere would look like our claim, and no signal aborts.
  const workIds: string[] = [];
  for (let slot = 0; slot < options.concurrency; slot++) {
    // Stopped already (while starting): take no job only to hand it back.
    if (stopping.signal.aborted) break;
    let workId = '';
    workId = await boss.work(
      SYNC_QUEUE,
      { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, heartbeatRefreshSeconds: HEARTBEAT_REFRESH_SECONDS },
      async ([job]: JobWithMetadata<SyncJobData>[]) => {
        flying.taken(job);
        try {
          await handle(job);
        } finally {
          // Once Postgres is given up on, a job whose run ends is still this worker's: pg-boss
          // ends it after this, through the same Postgres, and may never get through.
          if (!summary.lostDatabase) flying.ended(job);
          if (!stopping.signal.aborted && !draining) boss.notifyWorker(workId);
        }
      },
    );
    workIds.push(workId);
  }

  // A ticket whose every attempt was abandoned (dead-letter.ts) counts among this run's failures.
  let deadWorkId: string | undefined;
  if (!stopping.signal.aborted) {
    deadWorkId = await workDeadLetters(boss, pool, deps, (ticketId, reason) => {
      summary.failed += 1;
      options.onFailure?.(ticketId, reason, true);
    });
  }

  // Scheduled backfills run in this process too: one it runs, or one waiting to be taken or
  // retried, is work left, as a ticket's is; one another process runs is that process's. Each
  // query of a look has a time limit, on the client and on the server (src/db/look-pool.ts): on
  // a connection that stopped answering a look would never end, nor a run from cron give up.
  const idle = async (look: LookPool) => {
    // A query all the same: a run from cron learns from its failures that Postgres is gone, and
    // for how long, whether or not a ticket is in flight.
    if (flying.count() !== 0 || options.alsoBusy?.()) {
      await look.pool.query('select 1');
      return false;
    }
    const live = (queue: string, running?: boolean) => liveJobs(look.pool, queue, { running });
    return (await live(SYNC_QUEUE)) === 0 && (await live(DEAD_LETTER_QUEUE)) === 0 && (await live(BACKFILL_QUEUE, false)) === 0;
  };
  const done = options.stopWhen ?? (options.untilIdle ? idle : undefined);
  const looks = done && openLookPool(pool, LOOK_TIMEOUT_MS);
  // Unlike Zendesk's, not once no ticket is in flight: none can store a page or end its run.
  // Someone waits for a run that stops when its tickets are done (sync): it gives up once
  // Postgres has not answered for a minute.
  const ownBound = options.untilIdle ? giveUpMs : options.stopWhen ? STOP_WHEN_UNREADABLE_MS : undefined;
  const stoppedBound = () => options.signal.aborted && (ownBound === undefined || ownBound > STOPPED_UNREADABLE_MS);
  // Given up on Postgres once the tickets in flight had been told to stop: they have been waited for.
  let lostAfterStop = false;
  // How a failed look counts, in the wait and after it (draining, or stopped).
  const unreadable = {
    giveUpUnreadableMs: () => (stoppedBound() ? STOPPED_UNREADABLE_MS : ownBound),
    onUnreadable: (failure: { error: unknown; ms: number }) => {
      summary.lostDatabase = { ...failure, stopping: stoppedBound() };
      lostAfterStop = stopping.signal.aborted;
      stop();
    },
    checkMs: options.idleCheckMs ?? 500,
    log: deps.log,
    serverGone: options.serverGone,
  };
  await waitUntilDone({
    ...unreadable,
    signal: stopping.signal,
    done: done && looks && (() => done(looks)),
    // Held tickets never leave the queue, so an idle queue would never come. Once no ticket is
    // in flight: one still retrying its request ends held, where a stop would spend an attempt.
    gaveUp: () => {
      if (giveUpMs === undefined || gate.closedForMs() < giveUpMs || flying.count() !== 0) return false;
      summary.gaveUp = { reason: gate.reason(), ms: gate.closedForMs() };
      stop();
      return true;
    },
    onDone: () => {
      summary.done = true;
      if (!options.stopWhen) stop();
      else draining = true;
    },
  });

  // Waits for the handlers in flight, which stop after their current page (or, draining, at their end).
  const windDown = async () => {
    await Promise.all(workIds.map((id) => boss.offWork(SYNC_QUEUE, { id, wait: true })));
    if (deadWorkId) await boss.offWork(DEAD_LETTER_QUEUE, { id: deadWorkId, wait: true });
  };
  const wound = windDown();
  const ended = Promise.all([wound, options.alongside]);
  // Heard here also when Postgres was given up on and `ended` is left behind.
  const settled = new AbortController();
  void ended.then(() => settled.abort(), () => settled.abort());
  // Draining, or stopped (a signal, an idle queue, Zendesk given up on), the run still waits on
  // Postgres: a ticket in flight, or the caller's work beside it, may be stuck on a connection that
  // went silent, as a look may, and someone still waits at the terminal, or a scheduler for the
  // stop it asked for. So it goes on looking until they end, and gives up as it would have before.
  // A service looks at Postgres only once it is told to stop: it waits out any outage otherwise.
  const watch = looks ?? (options.signal.aborted ? openLookPool(pool, LOOK_TIMEOUT_MS) : undefined);
  if (watch && !summary.lostDatabase) await watchPostgres(watch, { ...unreadable, signal: settled.signal });
  if (!summary.lostDatabase) await ended;
  // Postgres given up on: nothing in flight can be stored, and a handler or a fetch waiting on a
  // connection that stopped answering would hold the run for ever.
  else if (!(await withinTime(wound.then(() => true, () => true), lostAfterStop ? 0 : LOST_DATABASE_GRACE_MS))) {
    // Left behind, their jobs (and those of runs that ended since, which pg-boss could not end)
    // would stay active until their heartbeats lapse, and pg-boss would count an attempt for each.
    // Should Postgres answer by now (a way to it that came back, a server that thawed), they go
    // back to the queue as at a second stop, their attempts unspent, through a connection of their
    // own: a new one, where the worker's own may be those that went silent. Should it not answer,
    // nothing can be done: they come back once their heartbeats lapse, as a killed worker's do.
    const inFlight = flying.count();
    const handing = openLookPool(pool, LOOK_TIMEOUT_MS, HAND_BACK_LOCK_WAIT_MS);
    const { handedBack, marked } = await flying.handBack({ reason: LEFT_WITHOUT_POSTGRES, via: handing, withinMs: LOST_DATABASE_GRACE_MS });
    await handing.close();
    deps.log.warn(
      { inFlight, handedBack, marked },
      `stopped without waiting any longer for the work in flight: Postgres does not answer; ${handedBack} of its ${counted(inFlight, 'job')} in flight handed back to the queue` +
        (handedBack < inFlight ? '; a job not handed back comes back once its heartbeat lapses, unless it had ended' : '') +
        (marked < handedBack ? `; ${handedBack - marked} of their tickets not marked queued in time` : ''),
    );
  }
  await watch?.close();
  syncLog.close();
  unregister?.();
  options.signal.removeEventListener('abort', stop);
  return summary;
}
