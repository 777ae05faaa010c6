// Waiting, shared by every layer: an abortable sleep, a bounded wait for a promise, the
// jittered backoff of every retry loop, and how long a wait must be to be logged, and how.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A wait for a rate limit this long or longer is worth a log line (`work`, and `sync` without a
 * terminal); shorter ones are the pacing between requests, a line each would bury the log. A
 * budget's own waits must also be beyond its pacing (pacedWaitMs, src/commands/rate-waits.ts).
 */
export const LOGGED_WAIT_MS = 5_000;

/** A wait as said on a progress bar or in a log line: "waiting 42 s for {text}". */
export function waitMessage(wait: { text: string; waitMs: number }): string {
  return `waiting ${Math.ceil(wait.waitMs / 1000)} s for ${wait.text}`;
}

/**
 * One info line for a wait of LOGGED_WAIT_MS or more, or of `logFromMs` when the wait sets it (a
 * budget's own pacing, pacedWaitMs in src/commands/rate-waits.ts); shorter ones are not worth one.
 */
export function logWait(
  log: { info(fields: object, message: string): void } | undefined,
  wait: { text: string; waitMs: number; logFromMs?: number; context?: object },
): void {
  if (!log || wait.waitMs < Math.max(LOGGED_WAIT_MS, wait.logFromMs ?? 0)) return;
  log.info({ ...wait.context, waitMs: wait.waitMs }, waitMessage(wait));
}

/**
 * The longest delay Node's timers keep: a longer one (or NaN) fires after 1 ms, which turns any
 * wait loop into a busy one. Every wait is clamped to it; a caller that loops checks again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a timer can take it: from 0 to MAX_TIMER_MS, NaN as 0. */
export function timerMs(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(MAX_TIMER_MS, Math.max(0, ms));
}

/** Waits `ms`; an abort rejects with the signal's reason (an Interrupted, say), not a generic AbortError. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(timerMs(ms), undefined, { signal });
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}

/** Waits `ms`; false when the signal ended the wait (at once if it was aborted already). */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}

/** What `work` gives, or undefined when it takes longer than `timeoutMs` (it goes on, unheeded). */
export async function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Backoff {
  /** The ceiling of the first wait; it doubles with each attempt up to maxMs. */
  firstMs: number;
  maxMs: number;
  /** The share of the ceiling always waited (0: full jitter, 0.5: half fixed and half random). */
  floor?: number;
}

/**
 * The wait before retry `attempt` (1 for the first retry): exponential, with jitter that spreads
 * the retries of many workers hit by the same outage.
 */
export function backoffMs(attempt: number, { firstMs, maxMs, floor = 0 }: Backoff, random = Math.random): number {
  const ceiling = Math.min(maxMs, firstMs * 2 ** (attempt - 1));
  return Math.round(ceiling * floor + random() * ceiling * (1 - floor));
}
