// How long a worker runs: until a stop, or, when it was given a test of being done (its tickets
// synced, or nothing left in the queue), until that test has passed twice in a row; a run from
// cron also ends when Zendesk, or Postgres (the test cannot be read), has stayed out of reach too long.
import { reportUnlessServerGone } from '../db/connection.ts';
import type { Logger } from '../log.ts';
import { createErrorThrottle, queueErrorText } from './error-throttle.ts';

export interface UntilDoneOptions {
  /** Aborted on a stop, which ends the wait at once. */
  signal: AbortSignal;
  /** Whether the work is done; without it only a stop ends the wait. */
  done?: () => Promise<boolean>;
  /** Called once `done` has said so twice in a row, just before the wait ends. */
  onDone: () => void;
  /** Asked before each look at `done`: true once it has stopped the run (giving up on Zendesk). */
  gaveUp: () => boolean;
  /**
   * End the wait once `done` has failed for this long with no answer between (Postgres out of
   * reach), after telling `onUnreadable` the last error and for how long. Default: never. A
   * function is asked at each failed look: the bound may shorten meanwhile (a stop).
   */
  giveUpUnreadableMs?: number | (() => number | undefined);
  onUnreadable?: (failure: { error: unknown; ms: number }) => void;
  checkMs: number;
  log: Logger;
  /** On the embedded default (Database.serverGone): a failed look at a server that has ended says nothing. */
  serverGone?: () => boolean;
}

/** Resolves when the run should end: see UntilDoneOptions. */
export function waitUntilDone(options: UntilDoneOptions): Promise<void> {
  const { signal, done } = options;
  return new Promise<void>((settle) => {
    if (signal.aborted) return settle();
    let resolve = settle;
    signal.addEventListener('abort', () => resolve(), { once: true });
    if (!done) return;
    // A look every checkMs: unthrottled, an outage would be a warning several times a second.
    const failures = createErrorThrottle(
      {
        first: (message) => options.log.warn({ err: message }, 'could not read the queue; trying again'),
        continuing: ({ count, seconds, last }) =>
          options.log.warn({ errors: count, seconds, err: last }, `could not read the queue: ${count} more failed looks in the last ${seconds} s: ${last}`),
        stopped: ({ count, seconds }) => options.log.info({ errors: count, seconds }, `the queue can be read again (${count} failed looks from ${seconds} s ago)`),
      },
    );
    resolve = () => {
      failures.close();
      settle();
    };
    let idleChecks = 0;
    let failingSince: number | undefined;
    const check = async () => {
      if (signal.aborted) return;
      if (options.gaveUp()) return resolve();
      // A look that fails by getting no answer (its time limit) was without Postgres from its start.
      const lookedAt = Date.now();
      try {
        // Twice in a row: a job finishing between two looks must not end the run early.
        idleChecks = (await done()) ? idleChecks + 1 : 0;
        failingSince = undefined;
        if (idleChecks >= 2) {
          options.onDone();
          return resolve();
        }
      } catch (error) {
        // Two idle looks either side of a database outage are not "in a row".
        idleChecks = 0;
        failingSince ??= lookedAt;
        const ms = Date.now() - failingSince;
        const limit = typeof options.giveUpUnreadableMs === 'function' ? options.giveUpUnreadableMs() : options.giveUpUnreadableMs;
        if (limit !== undefined && ms >= limit && !signal.aborted) {
          options.onUnreadable?.({ error, ms });
          return resolve();
        }
        reportUnlessServerGone(options.serverGone, error, () => failures.error(queueErrorText(error)));
      }
      setTimeout(check, options.checkMs);
    };
    setTimeout(check, options.checkMs);
  });
}
