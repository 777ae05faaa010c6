// Pages through one ticket's conversation log, one validated page at a time, so the caller can
// store each page with its cursor before the next is fetched and memory stays flat however
// long the ticket. Retries live here, because only here do we know the ticket and the cursor.
import { InvalidResponse } from '../errors/zendesk-errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { fetchWithRetries, shrinkingPageSize, type RetrySettings } from './fetch-with-retries.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { parseRateLimit, localBudget, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
import { clientContext } from './responses.ts';
import { validateConversationLogPage, type ConversationLogEvent } from './schemas.ts';

export interface PageConversationLogOptions {
  /** The cursor saved after the last stored page; null/absent reads from the first event. */
  afterCursor?: string | null;
  /** Events per request, 1..100 (Zendesk's maximum). Default 100; halved after a 504, for the rest of the run. */
  pageSize?: number;
  budget?: RequestBudget;
  signal?: AbortSignal;
  log?: Logger;
  /** Attempts per page for 5xx, timeouts, network failures and invalid bodies. Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling in ms; doubles per attempt, with full jitter. Default 500. */
  retryBaseMs?: number;
}

export interface ConversationLogPageResult {
  events: ConversationLogEvent[];
  /** The response body as received: `events` were parsed from it. */
  bytes: Buffer;
  /** The cursor this page was requested with (null for the first page). */
  cursorBefore: string | null;
  /** The cursor to save once this page is stored. */
  afterCursor: string | null;
  hasMore: boolean;
  /** Facts from the response that delivered this page. */
  rateLimit: RateLimitInfo;
  /** HTTP requests spent on this page, 429s and retries included. */
  requests: number;
}

export const MAX_PAGE_SIZE = 100;
const MAX_BACKOFF_MS = 30_000;
const MAX_SERVER_RETRY_AFTER_MS = 60_000;

export async function* pageConversationLog(
  http: ZendeskHttp,
  ticketId: number,
  options: PageConversationLogOptions = {},
): AsyncGenerator<ConversationLogPageResult, void, undefined> {
  if (!Number.isSafeInteger(ticketId) || ticketId <= 0) {
    throw new RangeError(`ticket id must be a positive integer, got ${String(ticketId)}`);
  }
  const pageSize = options.pageSize ?? MAX_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(pageSize)}`);
  }
  const settings = fetchSettings(http, ticketId, pageSize, options);

  let cursor = options.afterCursor ?? null;
  // Every cursor followed in this run: one served again leads round the same pages forever.
  const followed = new Set<string>();
  for (let page = 1; ; page++) {
    const fetched = await fetchPage(settings, cursor, page);
    const { meta, events } = fetched.body;
    // An empty cursor is none: saved, the next run would send `page[after]=`, which names no page.
    const next = meta.after_cursor || null;
    if (cursor !== null) followed.add(cursor);
    // The request's own cursor is among them (has_more without a cursor is refused by the schema).
    if (meta.has_more && next !== null && followed.has(next)) {
      const which = next === cursor ? 'the cursor of the request' : 'the cursor of an earlier page';
      throw new InvalidResponse(`meta.after_cursor repeats ${which} while meta.has_more is true`, {
        status: fetched.rateLimit.status,
        ticketId,
        cursor,
      });
    }
    yield {
      events,
      bytes: fetched.bytes,
      cursorBefore: cursor,
      // A last page without a cursor keeps the previous one, so resuming still costs one request.
      afterCursor: next ?? cursor,
      hasMore: meta.has_more,
      rateLimit: fetched.rateLimit,
      requests: fetched.requests,
    };
    if (!meta.has_more) return;
    cursor = next;
  }
}

/**
 * The reference of the ticket's newest event (one request, newest first, one event: `sort` is
 * the cursor-paginated endpoints' documented parameter), or null for an empty log. Whether a saved
 * cursor returns events appended after it is undocumented: this tells whether it missed some.
 */
export async function newestEventReference(
  http: ZendeskHttp,
  ticketId: number,
  options: Pick<PageConversationLogOptions, 'budget' | 'signal' | 'log'> = {},
): Promise<{ reference: string | null; requests: number }> {
  const settings = fetchSettings(http, ticketId, 1, options);
  const fetched = await fetchPage(settings, null, 1, { sort: '-created_at' });
  return { reference: fetched.body.events[0]?.reference ?? null, requests: fetched.requests };
}

type FetchSettings = RetrySettings & { ticketId: number };

function fetchSettings(http: ZendeskHttp, ticketId: number, pageSize: number, options: PageConversationLogOptions): FetchSettings {
  const log = options.log ?? silentLogger;
  return {
    http,
    ticketId,
    pageSize: shrinkingPageSize('page[size]', pageSize),
    budget: options.budget ?? localBudget(),
    signal: options.signal,
    // Callers' loggers often carry ticketId already; binding it twice repeats the key in JSON lines.
    log: 'ticketId' in log.bindings() ? log : log.child({ ticketId }),
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryBaseMs: Math.max(0, options.retryBaseMs ?? 500),
    maxBackoffMs: MAX_BACKOFF_MS,
    maxServerRetryAfterMs: MAX_SERVER_RETRY_AFTER_MS,
    logName: 'conversation log',
    // A 429's wait, when its headers lack one, is filled in by fetchWithRetries.
    rateLimitOf: (response) => parseRateLimit(response),
  };
}

async function fetchPage(settings: FetchSettings, cursor: string | null, page: number, extra: Record<string, string> = {}) {
  const { http, ticketId } = settings;
  const info = zendeskHttpInfo(http);
  // page[size] is the run's (settings.pageSize), added by fetchWithRetries.
  const searchParams = new URLSearchParams(cursor === null ? extra : { 'page[after]': cursor, ...extra });
  const fetched = await fetchWithRetries(settings, {
    path: `api/v2/tickets/${ticketId}/conversation_log`,
    searchParams,
    context: { ticketId, cursor, ...clientContext(info) },
    page,
    validate: (value, status) => validateConversationLogPage(value, { status, ticketId, cursor }),
  });
  const { body, rateLimit, requests, ms } = fetched;
  settings.log.debug(
    { page, status: rateLimit.status, events: body.events.length, hasMore: body.meta.has_more, ms, requests, remaining: rateLimit.remaining },
    'conversation log page',
  );
  return fetched;
}
