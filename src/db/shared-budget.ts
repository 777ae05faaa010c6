// The rate budget every worker process shares, through one row in Postgres per Zendesk budget
// (rate-budget.ts holds its statements and explains the model). Requests are planned ahead:
// each one first takes a permit with one atomic statement, and every response's
// `remaining`/`resets` corrects the shared state, so all processes slow down together when
// another integration spends part of the account's budget. It satisfies the Zendesk client's
// `RequestBudget` interface by shape: db does not import from the client.
//
// Within a process, one taker at a time talks to the database; the others queue behind it in
// arrival order. So a process asks once per permit (no herd of sleepers waking at once) and
// holds at most one reserved send time.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { errorMessage } from '../errors/messages.ts';
import { sleep } from '../timing.ts';
import { silentLogger, type Logger } from '../log.ts';
import { waitReports, type BudgetWaitListener } from './budget-waits.ts';
import { disagreementLog } from './limit-disagreement.ts';
import { DEFAULT_WINDOW_MS, ensureBudget, observeBudget, pausedForMs, releaseTaker, takePermit } from './rate-budget.ts';

// What watch() tells, as the commands that show waits import it with the budget.
export type { BudgetWait, BudgetWaitListener } from './budget-waits.ts';

/** What one response said about the budget; a 429 always says how long to wait. */
export interface ResponseFacts {
  status: number;
  total?: number;
  remaining?: number;
  resetsMs?: number;
  retryAfterMs?: number;
}

/** A clock other than the real one, for tests on virtual time. */
export interface BudgetClock {
  /** Epoch ms; handed to every statement in place of the database clock. */
  now(): number;
  /** Resolves once `ms` of this clock have passed; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface SharedBudget {
  /** The row: 'conversation_log', 'account', 'export'. */
  readonly name: string;
  /** Resolves when one request may be sent. */
  take(signal?: AbortSignal): Promise<void>;
  /** Corrects the shared state with one response's facts. */
  observe(facts: ResponseFacts): Promise<void>;
  /** Calls `listener` as this process's waits start and end (a progress display); returns how to stop. */
  watch(listener: BudgetWaitListener): () => void;
  /**
   * This process stops taking part: its limit no longer applies to the others (the command is
   * closing). A take after it takes part again. Never throws: a budget left unreleased drops out
   * TAKER_WINDOWS windows after its last permit (src/db/rate-budget.ts).
   */
  release(): Promise<void>;
}

export interface SharedBudgetOptions {
  /** The row in convlog.rate_budgets: 'conversation_log', 'export'. */
  name: string;
  /**
   * Requests per window for the whole account, all processes together, as this process is set;
   * the lowest of the processes taking permits applies.
   */
  limitPerWindow: number;
  /** The variable that sets the limit, for the line that says processes disagree. Default: "the NAME budget's limit". */
  setting?: string;
  /** Window length; given, it replaces the stored one. Default: the stored one (a minute). */
  windowMs?: number;
  log?: Logger;
  /** Default: the real clock, and the database's in the statements. */
  clock?: BudgetClock;
}

/** Time between a permit and its request reaching Zendesk, kept free at the end of a window. */
const SEND_MARGIN_MS = 100;
/** A permit with no response by then (a dropped connection) no longer bounds send times. */
const OUTSTANDING_TTL_MS = 120_000;
const REAL_CLOCK: BudgetClock = { now: Date.now, sleep };

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

export function sharedBudget(pool: pg.Pool, options: SharedBudgetOptions): SharedBudget {
  const { name, limitPerWindow, windowMs } = options;
  if (!name) throw new RangeError('a shared budget needs a name');
  if (!Number.isSafeInteger(limitPerWindow) || limitPerWindow < 1) {
    throw new RangeError(`limitPerWindow must be a positive integer, got ${String(limitPerWindow)}`);
  }
  if (windowMs !== undefined && (!Number.isSafeInteger(windowMs) || windowMs < 1000)) {
    throw new RangeError(`windowMs must be a whole number of milliseconds, at least 1000, got ${String(windowMs)}`);
  }
  const log = (options.log ?? silentLogger).child({ budget: name });
  const clock = options.clock ?? REAL_CLOCK;
  // The real clock leaves the statements on the database's, the one all processes share.
  const at = () => (options.clock ? { nowMs: clock.now() } : {});
  // A key of this instance's own: it tells apart processes of the same pid and host (containers
  // sharing a hostname, each its process's pid 1), and tests run several "processes" in one.
  const taker = { key: randomUUID().slice(0, 13), process: `pid ${process.pid} on ${os.hostname()}` };
  /** The limit the last permit was decided by: this process's, or a lower one of another process. */
  let limitApplied = limitPerWindow;
  /** A permit was asked for: the row may hold this taker. */
  let asked = false;
  const disagreement = disagreementLog(log, options.setting ?? `the ${name} budget's limit`, limitPerWindow, windowMs ?? DEFAULT_WINDOW_MS);

  const waiters: Waiter[] = [];
  let pumping = false;
  let ready: Promise<void> | undefined;
  /** Ends a wait early (every taker gave up). */
  let wake: (() => void) | undefined;
  /** A 429 this process saw, in local time: no reserved permit is used before it. */
  let pausedUntil = 0;
  /** Database times at which permits were handed out and no response was seen yet, oldest first. */
  const outstanding: number[] = [];
  const waits = waitReports(log);
  /** Zendesk's `total` in the last response that gave one. */
  let serverTotal: number | undefined;
  /**
   * Rests `ms`, telling the listeners first when it is long enough to notice. `paused`: the row
   * said a 429 holds every sender, also one another process saw (this one's own is in pausedUntil).
   */
  const waitFor = async (ms: number, paused = false): Promise<void> => {
    if (waits.noticed(ms)) {
      waits.start({
        budget: name,
        waitMs: ms,
        reason: paused || clock.now() < pausedUntil ? 'paused' : 'window',
        limitPerWindow: limitApplied,
        windowMs: windowMs ?? DEFAULT_WINDOW_MS,
        ...(serverTotal !== undefined ? { serverTotal } : {}),
      });
    }
    await rest(ms);
  };

  const ensure = () => {
    ready ??= ensureBudget(pool, name, limitPerWindow, windowMs, at()).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  /** Sleeps, unless every taker gives up meanwhile. No wait, no timer: one of 0 ms still takes 1 ms. */
  const rest = async (ms: number): Promise<void> => {
    if (ms <= 0) return;
    const woken = new AbortController();
    wake = () => woken.abort();
    try {
      await clock.sleep(ms, woken.signal);
    } catch (error) {
      if (!woken.signal.aborted) throw error;
    } finally {
      wake = undefined;
    }
  };

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (waiters.length > 0) {
        try {
          await ensure();
          asked = true;
          const result = await takePermit(pool, name, limitPerWindow, SEND_MARGIN_MS, at(), taker);
          if (result === null) {
            ready = undefined; // the row was deleted: create it again
            continue;
          }
          limitApplied = result.limitApplied;
          disagreement(result);
          if (!result.granted) {
            if (result.waitMs > 0) log.trace({ waitMs: result.waitMs }, 'rate budget: waiting');
            await waitFor(result.waitMs, result.paused);
            continue;
          }
          // The send time is reserved: if the taker gives up meanwhile, the next one in line has
          // it; if nobody is left (a shutdown), it goes unused rather than keep the process up.
          await waitFor(result.waitMs);
          if (clock.now() < pausedUntil) {
            // A 429 arrived while we slept: this permit falls in a paused window.
            await waitFor(pausedUntil - clock.now());
            continue;
          }
          // Another process's 429 may have come while we slept: it is only in the row. A permit
          // sent at once had no time for one, so only a paced one pays for this read.
          const pausedMs = result.waitMs > 0 ? await pausedForMs(pool, name, at()) : 0;
          if (pausedMs > 0) {
            await waitFor(pausedMs, true);
            continue;
          }
          const waiter = waiters.shift();
          if (!waiter) break;
          waits.over();
          track(result.nowMs + result.waitMs);
          waiter.detach();
          waiter.resolve();
        } catch (error) {
          // Postgres failed: the first taker gets the error (its job is retried), the others try again.
          const waiter = waiters.shift();
          waiter?.detach();
          waiter?.reject(error);
          log.warn({ err: errorMessage(error) }, 'rate budget: could not take a permit');
        }
      }
    } finally {
      pumping = false;
      waits.over();
    }
  }

  function track(sentAtMs: number): void {
    outstanding.push(sentAtMs);
    while (outstanding.length > 0 && outstanding[0] < sentAtMs - OUTSTANDING_TTL_MS) outstanding.shift();
  }

  return {
    name,
    take(signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          if (waiters.length === 0) wake?.();
          reject(signal!.reason);
        };
        const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        void pump();
      });
    },

    async release(): Promise<void> {
      if (!asked) return;
      await releaseTaker(pool, name, taker.key, at()).catch((error: unknown) => {
        log.debug({ err: errorMessage(error) }, 'rate budget: could not release; this process drops out once quiet');
      });
    },

    watch: (listener: BudgetWaitListener) => waits.watch(listener),

    async observe(info: ResponseFacts): Promise<void> {
      if (info.total !== undefined) serverTotal = info.total;
      if (info.status === 429 && info.retryAfterMs !== undefined) {
        pausedUntil = Math.max(pausedUntil, clock.now() + info.retryAfterMs);
        log.debug({ retryAfterMs: info.retryAfterMs, remaining: info.remaining }, 'rate budget: 429, every process pauses');
      }
      // This response's request was sent after the oldest permit still out. Dropping the
      // newest keeps that true whichever request this was.
      const sentAfterMs = outstanding.length > 0 ? outstanding[0] : undefined;
      outstanding.pop();
      const informative = info.status === 429 || info.resetsMs !== undefined || info.remaining !== undefined || info.total !== undefined;
      if (!informative) return;
      await observeBudget(pool, name, {
        status: info.status,
        total: info.total,
        remaining: info.remaining,
        resetsMs: info.resetsMs,
        retryAfterMs: info.status === 429 ? info.retryAfterMs : undefined,
        sentAfterMs,
      }, at());
    },
  };
}
