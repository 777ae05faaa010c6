// A worker that starts while Postgres is down (a reboot, a failover, a deploy that starts the
// workers first) waits for it instead of exiting: one warning per attempt, with the next delay,
// backing off to 30 s. Mistakes no wait can fix (a wrong password, a missing database) still
// fail at once, as one line.
import { DatabaseUnavailable } from '../errors/convlog-errors.ts';
import { isTransient } from '../errors/outcome.ts';
import type { Logger } from '../log.ts';
import { backoffMs, pause } from '../timing.ts';
import { describe, unavailable } from './connection.ts';
import { probe } from './pg-client.ts';

export interface WaitForDatabaseOptions {
  /** Aborting (SIGINT/SIGTERM) ends the wait at once; waitForDatabase then returns false. */
  signal?: AbortSignal;
  /** Give up with DatabaseUnavailable after this many ms. Default: never. */
  giveUpAfterMs?: number;
  /** First delay; doubles per attempt up to maxDelayMs. Defaults 1 s and 30 s. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt: to connect, then for the query's answer. Default 10 s each. */
  connectTimeoutMs?: number;
}

/**
 * Resolves true once `url` answers a query, false if `signal` aborted the wait. Throws
 * DatabaseUnavailable at once for a problem waiting cannot fix, or after `giveUpAfterMs`.
 */
export async function waitForDatabase(url: string, log: Logger, options: WaitForDatabaseOptions = {}): Promise<boolean> {
  const where = describe(url);
  const started = Date.now();
  const first = options.firstDelayMs ?? 1_000;
  const max = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) return false;
    const error = await probe(url, options.connectTimeoutMs ?? 10_000, options.signal);
    if (error === undefined) {
      if (attempt > 1) log.info({ database: where, attempts: attempt }, 'Postgres is reachable again');
      return true;
    }
    if (options.signal?.aborted) return false;
    const failure = unavailable(url, error);
    if (!isTransient(error)) throw failure;
    const waited = Date.now() - started;
    if (options.giveUpAfterMs !== undefined && waited >= options.giveUpAfterMs) {
      throw new DatabaseUnavailable(`${failure.message}; gave up after ${Math.round(waited / 1000)} s`, { cause: error });
    }
    // Half of it random: a fleet of workers that all lost the same server spreads out.
    const next = backoffMs(attempt, { firstMs: first, maxMs: max, floor: 0.5 });
    log.warn({ attempt, retryInSeconds: Math.round(next / 100) / 10, err: failure.message }, 'Postgres is not reachable; waiting for it (Ctrl-C to stop)');
    if (!(await pause(next, options.signal))) return false;
  }
}
