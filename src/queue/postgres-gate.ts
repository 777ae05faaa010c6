// While Postgres stores nothing more (DatabaseCannotStore: its disk full, or read-only), every
// ticket a worker took would fetch a page and fail to store it. A service worker (`work`) then
// takes no ticket for a pause (30 s, doubling to 5 min while it lasts), holds the tickets it is
// given meanwhile with their attempts unspent, and then lets the next ones try: a ticket that
// stores its pages is the probe, as no statement short of a real write tells whether one would
// fit. A disk filled by a passing query's temporary files, or a failover's moment of read-only,
// ends by itself; one that needs a person is said once, then every five minutes, until it is mended.
// A run someone waits for (`sync`, `work --until-idle`) stops instead (outcomeOf).
import type { DatabaseCannotStore } from '../errors/convlog-errors.ts';
import { waitingToStore } from '../errors/outcome.ts';
import type { Logger } from '../log.ts';

export interface PostgresGate {
  /** True during a pause: take no ticket. */
  readonly closed: boolean;
  /** Why tickets wait, for their status. */
  reason(): string;
  /** Milliseconds until tickets may try again (0 when open): how long a ticket held now should wait. */
  msUntilRetry(): number;
  /** A ticket's write was refused: pause, longer each time until a ticket stores again. */
  close(error: DatabaseCannotStore): void;
  /**
   * A ticket's run ended having written `eventsWritten` events: once one that wrote any ends while
   * open, the pauses start over and the outage's end is said. A run that wrote none (an unchanged
   * ticket), or one that ended while another's refusal had closed the gate, proves nothing.
   */
  stored(eventsWritten: number): void;
}

export function createPostgresGate(log: Logger, pauseMs: { first: number; max: number } = { first: 30_000, max: 300_000 }): PostgresGate {
  const summaryEveryMs = Math.max(pauseMs.max, 60_000);
  let reopensAt = 0;
  let nextPauseMs = pauseMs.first;
  // The first refusal of the outage, and when it was last said: 0 while Postgres stores.
  let since = 0;
  let saidAt = 0;
  let latest = '';
  return {
    get closed() {
      return Date.now() < reopensAt;
    },
    reason: () => waitingToStore(latest),
    msUntilRetry: () => Math.max(0, reopensAt - Date.now()),
    close(error) {
      if (Date.now() < reopensAt) return;
      latest = error.message;
      reopensAt = Date.now() + nextPauseMs;
      const seconds = Math.round(nextPauseMs / 1000);
      nextPauseMs = Math.min(nextPauseMs * 2, pauseMs.max);
      if (since === 0) {
        since = saidAt = Date.now();
        log.error({ err: latest, pauseSeconds: seconds }, `${latest}; the worker takes no ticket for ${seconds} s, then tries again (pausing up to ${Math.round(pauseMs.max / 1000)} s while it lasts), and keeps running`);
      } else if (Date.now() - saidAt >= summaryEveryMs) {
        saidAt = Date.now();
        const outage = Math.round((Date.now() - since) / 1000);
        log.warn({ err: latest, seconds: outage }, `Postgres still stores nothing after ${outage} s: ${latest}`);
      }
    },
    stored(eventsWritten) {
      if (since === 0 || eventsWritten === 0 || Date.now() < reopensAt) return;
      log.info({ seconds: Math.round((Date.now() - since) / 1000) }, 'Postgres stores again; taking tickets');
      since = 0;
      nextPauseMs = pauseMs.first;
    },
  };
}
