// During a Postgres outage pg-boss emits an error on every polling loop of every worker: several a
// second per process. An operator needs to know that errors started, that they go on, and when
// they stopped, not each one. The first error is reported at once, then at most one summary per
// interval while they continue, then one line once an interval has passed without any. A blip
// (a few errors within a second or two) is two lines: errors that stopped well before an interval
// ended are counted in the line that says they stopped, not summarised as if they went on.
import { errorMessage, hideSecrets } from '../errors/messages.ts';

export interface ThrottleClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ErrorReport {
  /** The first error after a quiet spell. */
  first(message: string): void;
  /** More errors arrived in the last `seconds`; `last` is the latest one's message. */
  continuing(summary: { count: number; seconds: number; last: string }): void;
  /** No error for an interval; `count` errors over `seconds` since the first. */
  stopped(summary: { count: number; seconds: number }): void;
}

export interface ErrorThrottle {
  error(message: string): void;
  /** Reports errors counted but not yet summarised, and cancels the timer. */
  close(): void;
}

/** Timers that never keep the process alive: a worker must be able to exit mid-outage. */
const systemClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function createErrorThrottle(report: ErrorReport, options: { intervalMs?: number; clock?: ThrottleClock } = {}): ErrorThrottle {
  const intervalMs = options.intervalMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  // Errors this long gone when an interval ends may have stopped: wait for a whole quiet interval
  // before saying anything. Once an interval at most, so sparse errors still get their summary.
  const quietMs = intervalMs / 3;
  // Only while errors go on is a timer pending; a healthy process has none.
  let timer: unknown;
  let since = 0;
  let windowStart = 0;
  let total = 0;
  let inWindow = 0;
  let last = '';
  let lastAt = 0;
  let waited = false;
  const seconds = (from: number) => Math.round((clock.now() - from) / 1000);

  const summarise = () => {
    report.continuing({ count: inWindow, seconds: seconds(windowStart), last });
    inWindow = 0;
    windowStart = clock.now();
  };
  const tick = () => {
    timer = undefined;
    const quietFor = clock.now() - lastAt;
    if (quietFor >= intervalMs) {
      report.stopped({ count: total, seconds: seconds(since) });
      total = 0;
      return;
    }
    if (quietFor >= quietMs && !waited) {
      waited = true;
      timer = clock.setTimeout(tick, intervalMs - quietFor);
      return;
    }
    waited = false;
    summarise();
    timer = clock.setTimeout(tick, intervalMs);
  };

  return {
    error(message) {
      total += 1;
      lastAt = clock.now();
      if (timer === undefined) {
        since = windowStart = lastAt;
        waited = false;
        report.first(message);
        timer = clock.setTimeout(tick, intervalMs);
        return;
      }
      inWindow += 1;
      last = message;
    },
    close() {
      if (timer === undefined) return;
      clock.clearTimeout(timer);
      timer = undefined;
      if (inWindow > 0) summarise();
      total = 0;
    },
  };
}

/**
 * What to log of an error pg-boss emitted, without credentials. pg-boss emits plain copies of its
 * errors; a refused connection to "localhost" (::1 and 127.0.0.1) is an AggregateError whose
 * message is empty and whose list of causes the copy loses, but whose code survives.
 */
export function queueErrorText(error: unknown, secrets: readonly string[] = []): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = errorMessage(error) || (typeof code === 'string' && code) || 'unknown error';
  return hideSecrets(text, secrets);
}

/**
 * The password of a connection string, decoded as Postgres receives it and as given, if any. One
 * that is the user name (the embedded cluster's) is no secret: messages name the user anyway, and
 * hiding it would blank out every mention of the user, database and schema of the same name.
 */
export function urlSecrets(url: string): string[] {
  try {
    const { username, password } = new URL(url);
    if (!password || password === username) return [];
    return [...new Set([decodeURIComponent(password), password])];
  } catch {
    return [];
  }
}
