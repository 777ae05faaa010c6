// How long a worker runs: until a stop, or, when it was given a test of being done (its tickets
// synced, or nothing left in the queue), until that test has passed twice in a row; a run from
// cron also ends when Zendesk has stayed out of reach too long.
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface UntilDoneOptions {
  /** Aborted on a stop, which ends the wait at once. */
  signal: AbortSignal;
  /** Whether the work is done; without it only a stop ends the wait. */
  done?: () => Promise<boolean>;
  /** Called once `done` has said so twice in a row, just before the wait ends. */
  onDone: () => void;
  /** Asked before each look at `done`: true once it has stopped the run (giving up on Zendesk). */
  gaveUp: () => boolean;
  checkMs: number;
  log: Logger;
}

/** Resolves when the run should end: see UntilDoneOptions. */
export function waitUntilDone(options: UntilDoneOptions): Promise<void> {
  const { signal, done } = options;
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    if (!done) return;
    let idleChecks = 0;
    const check = async () => {
      if (signal.aborted) return;
      if (options.gaveUp()) return resolve();
      try {
        // Twice in a row: a job finishing between two looks must not end the run early.
        idleChecks = (await done()) ? idleChecks + 1 : 0;
        if (idleChecks >= 2) {
          options.onDone();
          return resolve();
        }
      } catch (error) {
        // Two idle looks either side of a database outage are not "in a row".
        idleChecks = 0;
        options.log.warn({ err: errorMessage(error) }, 'could not read the queue; trying again');
      }
      setTimeout(check, options.checkMs);
    };
    setTimeout(check, options.checkMs);
  });
}
