// A command told to stop still waits for the work in hand to be stored (a backfill's page and its
// position): on a Postgres that went silent (a network dropping packets, a frozen server) that
// wait would last until the kernel gives up on the connection, a quarter of an hour, and a service
// manager kills the process first without a word of why. So once stopped, the command looks at
// Postgres as the worker does after a stop (worker.ts) and gives up when it does not answer.
import type pg from 'pg';
import { LOOK_TIMEOUT_MS, openLookPool, type LookPool } from '../db/look-pool.ts';
import { refusedForLackOfSlots } from '../errors/outcome.ts';
import type { Logger } from '../log.ts';
import { waitUntilDone, type UntilDoneOptions } from './until-done.ts';

/**
 * How long a run told to stop (a signal) waits for a Postgres that does not answer before it gives
 * up on the work in hand, or its own bound if that is shorter (a service has none): a service
 * manager kills a process that outlasts its stop timeout (40 s in deploy/), after which the jobs
 * wait for their heartbeats all the same, and nobody learns why. Giving up first says so in one
 * line, and hands the jobs back should Postgres answer by then.
 */
export const STOPPED_UNREADABLE_MS = 10_000;

export interface SilentPostgres {
  /** What the last look met. */
  error: unknown;
  /** How long Postgres had not answered. */
  ms: number;
}

/**
 * Looks at Postgres (`select 1` through `looks`) until `options.signal` aborts, or until the
 * looks have failed for `giveUpUnreadableMs` (`onUnreadable` then hears why): a run that is only
 * waiting for its work in hand to end, and for nothing else of Postgres's.
 */
export function watchPostgres(looks: LookPool, options: Omit<UntilDoneOptions, 'done' | 'gaveUp' | 'onDone'>): Promise<void> {
  return waitUntilDone({
    ...options,
    done: async () => {
      // The look's connection is a new one: a server at max_connections refuses it, yet answers,
      // and the work in hand goes on over connections it already has.
      await looks.pool.query('select 1').catch((error: unknown) => {
        if (!refusedForLackOfSlots(error)) throw error;
      });
      return false;
    },
    gaveUp: () => false,
    onDone: () => {},
  });
}

/**
 * `work`'s value, or, once `signal` has aborted and Postgres has not answered a look for
 * STOPPED_UNREADABLE_MS, what the looks met: `work` is then left behind. A failure of `work` is thrown.
 */
export async function unlessSilentAfterStop<T>(work: Promise<T>, pool: pg.Pool, signal: AbortSignal, log: Logger): Promise<{ value: T } | { lost: SilentPostgres }> {
  const settled = new AbortController();
  const value = work.then((v) => ({ value: v }));
  void work.then(
    () => settled.abort(),
    () => settled.abort(),
  );
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    settled.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const watched = stopped.then(async () => {
    if (settled.signal.aborted) return undefined;
    const looks = openLookPool(pool, LOOK_TIMEOUT_MS);
    let lost: SilentPostgres | undefined;
    try {
      await watchPostgres(looks, {
        signal: settled.signal,
        giveUpUnreadableMs: STOPPED_UNREADABLE_MS,
        onUnreadable: (failure) => (lost = failure),
        checkMs: 500,
        log,
      });
    } finally {
      await looks.close();
    }
    return lost;
  });
  type Outcome = { value: T } | { lost: SilentPostgres };
  const gaveUp = watched.then((lost): Promise<Outcome> | Outcome => (lost ? { lost } : value));
  return Promise.race<Outcome>([value, gaveUp]);
}
