// The rate budget every worker process shares, through one row in Postgres per Zendesk budget
// (src/db/rate-budget.ts holds its statements and explains the model). Requests are planned
// ahead: each one first takes a permit with one atomic statement, permits are spaced evenly
// over the window, and every response's `remaining`/`resets` corrects the shared state, so
// all processes slow down together when another integration spends part of the account's budget.
//
// Within a process, one taker at a time talks to the database; the others queue behind it in
// arrival order. So a process asks once per permit (no herd of sleepers waking at once) and
// holds at most one reserved send time.
import type pg from 'pg';
import { ensureBudget, observeBudget, takePermit } from '../db/rate-budget.ts';
import { errorMessage } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { RateLimitInfo, RequestBudget } from './rate-limit.ts';

export interface SharedBudgetOptions {
  /** The row in convlog.rate_budgets: 'conversation_log', 'export'. */
  name: string;
  /** Requests per window for the whole account, all processes together. */
  limitPerWindow: number;
  /** Window length; given, it replaces the stored one. Default: the stored one (a minute). */
  windowMs?: number;
  log?: Logger;
}

/** Time between a permit and its request reaching Zendesk, kept free at the end of a window. */
const SEND_MARGIN_MS = 100;
/** A permit with no response by then (a dropped connection) no longer bounds send times. */
const OUTSTANDING_TTL_MS = 120_000;
/** A 429 without Retry-After still pauses this long. */
const DEFAULT_PAUSE_MS = 1_000;

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

export function sharedBudget(pool: pg.Pool, options: SharedBudgetOptions): RequestBudget {
  const { name, limitPerWindow, windowMs } = options;
  if (!name) throw new RangeError('a shared budget needs a name');
  if (!Number.isSafeInteger(limitPerWindow) || limitPerWindow < 1) {
    throw new RangeError(`limitPerWindow must be a positive integer, got ${String(limitPerWindow)}`);
  }
  if (windowMs !== undefined && (!Number.isSafeInteger(windowMs) || windowMs < 1000)) {
    throw new RangeError(`windowMs must be a whole number of milliseconds, at least 1000, got ${String(windowMs)}`);
  }
  const log = (options.log ?? silentLogger).child({ budget: name });

  const waiters: Waiter[] = [];
  let pumping = false;
  let ready: Promise<void> | undefined;
  /** Ends a wait early (every taker gave up). */
  let wake: (() => void) | undefined;
  /** A 429 this process saw, in local time: no reserved permit is used before it. */
  let pausedUntil = 0;
  /** Database times at which permits were handed out and no response was seen yet, oldest first. */
  const outstanding: number[] = [];

  const ensure = () => {
    ready ??= ensureBudget(pool, name, limitPerWindow, windowMs).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  /** Sleeps, unless every taker gives up meanwhile. No wait, no timer: one of 0 ms still takes 1 ms. */
  const rest = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          if (wake === done) wake = undefined;
          resolve();
        }
        wake = done;
      });

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (waiters.length > 0) {
        try {
          await ensure();
          const result = await takePermit(pool, name, limitPerWindow, SEND_MARGIN_MS);
          if (result === null) {
            ready = undefined; // the row was deleted: create it again
            continue;
          }
          if (!result.granted) {
            if (result.waitMs > 0) log.trace({ waitMs: result.waitMs }, 'rate budget: waiting');
            await rest(result.waitMs);
            continue;
          }
          // The send time is reserved: if the taker gives up meanwhile, the next one in line has
          // it; if nobody is left (a shutdown), it goes unused rather than keep the process up.
          await rest(result.waitMs);
          if (Date.now() < pausedUntil) {
            // A 429 arrived while we slept: this permit falls in a paused window.
            await rest(pausedUntil - Date.now());
            continue;
          }
          const waiter = waiters.shift();
          if (!waiter) break;
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
    }
  }

  function track(sentAtMs: number): void {
    outstanding.push(sentAtMs);
    while (outstanding.length > 0 && outstanding[0] < sentAtMs - OUTSTANDING_TTL_MS) outstanding.shift();
  }

  return {
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

    async observe(info: RateLimitInfo): Promise<void> {
      if (info.status === 429) {
        pausedUntil = Math.max(pausedUntil, Date.now() + (info.retryAfterMs ?? DEFAULT_PAUSE_MS));
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
        retryAfterMs: info.status === 429 ? (info.retryAfterMs ?? DEFAULT_PAUSE_MS) : undefined,
        sentAfterMs,
      });
    },
  };
}
