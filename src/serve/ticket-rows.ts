// The tickets rows of the tickets webhooks name, read again in the background so that a new
// ticket has its row, and a changed one its status, group or assignee, within seconds instead of
// at the next backfill. Webhooks come in bursts about the same tickets: the ids are gathered and
// read together when the webhooks pause, one show_many request per 100 at most every few seconds,
// two reads at once (up to four while Zendesk is slow to answer some), under the account-wide
// budget. A failed read is logged and tried again in the next rounds when a job would be; past
// that its tickets wait for their next webhook or the next backfill (the webhook itself was
// answered and queued long before).
import type { Db } from '../db/connection.ts';
import { errorMessage } from '../errors/messages.ts';
import { outcomeOf } from '../errors/outcome.ts';
import { counted } from '../text.ts';
import { createErrorThrottle } from '../queue/error-throttle.ts';
import type { Logger } from '../log.ts';
import { readChangedTickets } from '../sync/ticket-context.ts';
import type { RequestBudget, ZendeskHttp } from '../zendesk/index.ts';

/** At most one read this often: a burst of webhooks costs one request per 100 tickets, not one each. */
const TICKET_ROWS_EVERY_MS = 5_000;
/**
 * A round waits for a pause this long between webhooks, or until its first ticket has waited
 * READ_WITHIN_MS: parsing a read and storing it took the CPU that answers webhooks, and a burst's
 * answers went from a p99 of about 50 ms to 66–108 ms (`npm run bench -- burst`).
 */
const PAUSE_MS = 250;
const READ_WITHIN_MS = 30_000;
/** A ticket naming a brand without a row has the brands list read, at most this often (it may name a deleted brand). */
const BRANDS_LIST_EVERY_MS = 60 * 60 * 1000;
const FAILURE_SUMMARY_EVERY_MS = 60_000;
/** Rounds a ticket's failed read is tried again in, as a job is (src/errors/outcome.ts decides which failures are worth it). */
const RETRIES = 3;
/**
 * A round is due every `everyMs` whether the last one has ended or not, beside at most this many
 * reads started in the last STUCK_AFTER_ROUNDS rounds. A read Zendesk accepts and never answers
 * lasts until the request's timeout (CONVLOG_REQUEST_TIMEOUT, 30 s) on each of its attempts;
 * waiting for it made every ticket named meanwhile late by half a minute or more, and two such
 * reads held every later round back until one timed out. A shorter timeout for these reads would
 * fail every read of a Zendesk merely slow to answer a hundred tickets with their side-loads,
 * leaving the rows to the backfill: a read running longer is not stopped, only no longer waited
 * for.
 */
const MAX_READS = 2;
const STUCK_AFTER_ROUNDS = 2;
/**
 * Reads in flight at most, those no longer waited for included: each holds one request at a time,
 * under the account-wide budget, so Zendesk answering slowly or not at all sees four at most.
 */
const MAX_IN_FLIGHT = 4;

export interface TicketRowReaderDeps {
  db: Db;
  http: ZendeskHttp;
  /** The account-wide budget. */
  budget: RequestBudget;
  log: Logger;
  /** Tests read sooner. */
  everyMs?: number;
  /** Tests wait for a shorter pause, or not as long. */
  pause?: { ms: number; readWithinMs: number };
  /** Attempts of each request (default 2: the next round comes soon anyway) and the pause before a retry. */
  retries?: { maxAttempts?: number; retryBaseMs?: number };
}

export interface TicketRowReader {
  /** Reads the ticket's row at the next round. */
  add(ticketId: number): void;
  /** Stops: the reads in flight are abandoned (their tickets wait for the next backfill). */
  close(): Promise<void>;
}

export function createTicketRowReader(deps: TicketRowReaderDeps): TicketRowReader {
  const everyMs = deps.everyMs ?? TICKET_ROWS_EVERY_MS;
  const { ms: pauseMs, readWithinMs } = deps.pause ?? { ms: Math.min(PAUSE_MS, everyMs), readWithinMs: READ_WITHIN_MS };
  const retries = { maxAttempts: 2, ...deps.retries };
  // The reads' own info lines (a retry, a long read) would repeat every round of an outage;
  // their warnings, and the summaries below, stay.
  const readLog = deps.log.levelVal >= deps.log.levels.values.warn ? deps.log : deps.log.child({}, { level: 'warn' });
  const pending = new Set<number>();
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  /** The reads in flight, and when each started. */
  const reads = new Map<Promise<void>, number>();
  let lastStart = -Infinity;
  let lastAdded = -Infinity;
  let firstPendingAt = 0;
  let brandsListAskedAt = -Infinity;
  // Asked by a read when the list is needed, so that of two reads at once only one reads it.
  const brandsListDue = () => {
    if (Date.now() - brandsListAskedAt < BRANDS_LIST_EVERY_MS) return false;
    brandsListAskedAt = Date.now();
    return true;
  };
  /** Failed rounds so far of the tickets whose read failed and is to be tried again. */
  const failedRounds = new Map<number, number>();
  // A Zendesk outage fails a round every few seconds while webhooks keep coming: one line when
  // it starts, a summary a minute while it lasts, one when it is over.
  const failures = createErrorThrottle(
    {
      first: (message) =>
        deps.log.warn({ err: message }, `could not read the ticket rows of tickets named by webhooks (${message}); their conversations are queued as usual, and their rows are tried again in the next rounds (a few times, or until Zendesk can be reached), else left to the next backfill`),
      continuing: ({ count, seconds, last }) =>
        deps.log.warn({ rounds: count, seconds, err: last }, `ticket rows for webhooks: ${counted(count, 'more read')} failed in the last ${seconds} s: ${last}`),
      stopped: ({ count, seconds }) =>
        deps.log.info({ rounds: count, seconds }, `ticket rows for webhooks: no failed read for a minute (${counted(count, 'failed read')} in all, from ${seconds} s ago)`),
    },
    { intervalMs: FAILURE_SUMMARY_EVERY_MS },
  );

  const schedule = () => {
    if (stop.signal.aborted || timer !== undefined || pending.size === 0) return;
    const due = roundDue();
    // As many reads in flight as may be: the end of one schedules again.
    if (due === Infinity) return;
    timer = setTimeout(() => {
      timer = undefined;
      // Webhooks came since the timer was set (wait for their pause, as long as the first may
      // wait), or a read's end and start moved the round.
      if (roundDue() > Date.now()) return schedule();
      const read = readRound().finally(() => {
        reads.delete(read);
        schedule();
      });
      reads.set(read, lastStart);
    }, Math.max(0, due - Date.now()));
  };
  const pauseEnds = () => Math.min(lastAdded + pauseMs, firstPendingAt + readWithinMs);
  /** When the next round may start: a round after the last, a pause in the webhooks, and a free place among the reads. */
  const roundDue = () => {
    if (reads.size >= MAX_IN_FLIGHT) return Infinity;
    const now = Date.now();
    // When each read still waited for stops being waited for, soonest first.
    const holding = [...reads.values()].map((startedAt) => startedAt + STUCK_AFTER_ROUNDS * everyMs).filter((at) => at > now).sort((a, b) => a - b);
    const placeFree = holding.length < MAX_READS ? -Infinity : holding[holding.length - MAX_READS];
    return Math.max(lastStart + everyMs, pauseEnds(), placeFree);
  };

  const readRound = async () => {
    lastStart = Date.now();
    const ids = [...pending];
    pending.clear();
    try {
      const read = await readChangedTickets({ db: deps.db, http: deps.http, budget: deps.budget, log: readLog, signal: stop.signal }, ids, { brandsList: brandsListDue }, retries);
      for (const id of ids) failedRounds.delete(id);
      deps.log.debug({ tickets: ids.length, stored: read.stored, notReturned: read.missing.length, requests: read.requests }, 'ticket rows read for webhooks');
    } catch (error) {
      if (stop.signal.aborted) return;
      failures.error(errorMessage(error));
      // A 5xx is tried again in the next rounds, an unreachable host until it answers; refused
      // credentials, a malformed answer (already retried in place) or a last attempt leave the
      // rows to the backfill.
      for (const id of ids) {
        const attempt = (failedRounds.get(id) ?? 0) + 1;
        const { job, stopWorker } = outcomeOf({ error, attempt, retryLimit: RETRIES, claimLost: false });
        if (!stopWorker && (job === 'retry' || job === 'hold')) {
          if (job === 'retry') failedRounds.set(id, attempt);
          pending.add(id);
        } else {
          failedRounds.delete(id);
        }
      }
    }
  };

  return {
    add(ticketId) {
      if (stop.signal.aborted) return;
      lastAdded = Date.now();
      if (pending.size === 0) firstPendingAt = lastAdded;
      pending.add(ticketId);
      schedule();
    },
    async close() {
      stop.abort();
      clearTimeout(timer);
      timer = undefined;
      await Promise.all(reads.keys());
      failures.close();
    },
  };
}
