// What Zendesk tells us about the conversation-log budget, and the interface every request
// goes through before it is sent. The budget is per account, so a shared implementation
// (Postgres, in src/db) replaces `localBudget` when several processes run; the pager only knows
// this interface.
import { sleep } from '../timing.ts';

export interface RateLimitInfo {
  /** Requests allowed per window (`total=`). */
  total?: number;
  /** Requests left in the current window (`remaining=`). */
  remaining?: number;
  /** Milliseconds until the window refills (`resets=` seconds). */
  resetsMs?: number;
  /** Milliseconds to wait before the next request (`Retry-After`). */
  retryAfterMs?: number;
  status: number;
}

export interface RequestBudget {
  /** Resolves when one request may be sent (waits as long as the budget says). */
  take(signal?: AbortSignal): Promise<void>;
  /**
   * Called with every response's rate-limit facts. A 429 always carries retryAfterMs (its
   * Retry-After, else the window's reset, else DEFAULT_RETRY_AFTER_MS), so no budget needs a default.
   */
  observe(info: RateLimitInfo): Promise<void> | void;
}

export const OMNILOG_HEADER = 'Zendesk-RateLimit-omnilog-index';

/**
 * Reads `Zendesk-RateLimit-omnilog-index: total=N; remaining=N; resets=S` and `Retry-After`.
 * Anything malformed is left out rather than guessed: a missing fact is safer than a wrong one.
 * Given a Response, `status` is its status; given bare Headers, it is 0 (unknown).
 */
export function parseRateLimit(
  source: Headers | { headers: Headers; status: number },
  now = Date.now(),
): RateLimitInfo {
  const fromResponse = 'status' in source && 'headers' in source;
  const headers = fromResponse ? source.headers : (source as Headers);
  const info: RateLimitInfo = { status: fromResponse ? source.status : 0 };
  const omnilog = headers.get(OMNILOG_HEADER);
  if (omnilog) {
    // Zendesk separates with "; " but proxies and other headers use "," too.
    for (const part of omnilog.split(/[;,]/)) {
      const match = /^\s*([a-z_-]+)\s*[=:]\s*"?(-?\d+(?:\.\d+)?)"?\s*$/i.exec(part);
      if (!match) continue;
      const value = Number(match[2]);
      if (!Number.isFinite(value) || value < 0) continue;
      switch (match[1].toLowerCase()) {
        case 'total':
          // A window of 0 requests cannot be: stored, it would refuse every permit, and with no
          // request sent no later response could correct it.
          if (value > 0) info.total = value;
          break;
        case 'remaining':
          info.remaining = value;
          break;
        case 'resets':
          info.resetsMs = Math.min(MAX_RETRY_AFTER_MS, Math.round(value * 1000));
          break;
      }
    }
  }
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  if (retryAfter !== undefined) info.retryAfterMs = retryAfter;
  return info;
}

/**
 * The longest wait a server's word can impose. Zendesk's windows are a minute long; a Retry-After
 * of days is a proxy's or a clock's error, and one past 2^31 ms would make every timer fire at
 * once (a busy loop of requests, shared by every worker through the budget's pause). After this
 * long the request is simply tried again, and a server that still refuses says so again.
 */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;
/** The least a 429 holds requests back, whatever its headers ask (`Retry-After: 0`). */
export const MIN_RETRY_AFTER_MS = 1_000;

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); capped at MAX_RETRY_AFTER_MS. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(text) * 1000));
  // Date.parse would accept "5 seconds" style junk as a date in some engines; require a weekday
  // or month name so only real HTTP dates count.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

/**
 * The in-process default: sends freely and only holds back after a 429, until its Retry-After
 * has passed. Enough for one process; several processes need the shared budget. `onWait` is told
 * of each wait as it starts (its length), to say why nothing is sent.
 */
export function localBudget(options: { now?: () => number; onWait?: (waitMs: number) => void } = {}): RequestBudget {
  const now = options.now ?? Date.now;
  let notBefore = 0;
  return {
    async take(signal?: AbortSignal): Promise<void> {
      signal?.throwIfAborted();
      // Re-check after waking: a later 429 may have pushed the deadline while we slept.
      for (let wait = notBefore - now(); wait > 0; wait = notBefore - now()) {
        options.onWait?.(wait);
        await sleep(wait, signal);
      }
    },
    observe(info: RateLimitInfo): void {
      if (info.status === 429 && info.retryAfterMs !== undefined) {
        notBefore = Math.max(notBefore, now() + info.retryAfterMs);
      }
    },
  };
}
