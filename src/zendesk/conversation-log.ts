// Pages through one ticket's conversation log, one validated page at a time, so the caller can
// store each page with its cursor before the next is fetched and memory stays flat however
// long the ticket. Retries live here, because only here do we know the ticket and the cursor.
import { InvalidResponse, isRetryable, RateLimited } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { parseRateLimit, localBudget, sleep, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
import { errorForFailure, readJsonResponse, retryAfterMsOf, type ResponseContext } from './responses.ts';
import { validateConversationLogPage, type ConversationLogEvent } from './schemas.ts';

export interface PageConversationLogOptions {
  /** The cursor saved after the last stored page; null/absent reads from the first event. */
  afterCursor?: string | null;
  /** Events per request, 1..100 (Zendesk's maximum). Default 100. */
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
/** 429s are waited out, not counted as failures; this only stops a budget that never waits. */
export const MAX_RATE_LIMITED_LOOPS = 50;
const MAX_BACKOFF_MS = 30_000;
/** A 5xx's Retry-After is honoured up to this, so one odd header cannot park a worker for hours. */
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
  const settings: FetchSettings = {
    http,
    ticketId,
    pageSize,
    budget: options.budget ?? localBudget(),
    signal: options.signal,
    log: (options.log ?? silentLogger).child({ ticketId }),
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryBaseMs: Math.max(0, options.retryBaseMs ?? 500),
  };

  let cursor = options.afterCursor ?? null;
  for (let page = 1; ; page++) {
    const fetched = await fetchPage(settings, cursor, page);
    const { meta, events } = fetched.body;
    const next = meta.after_cursor ?? null;
    if (meta.has_more && next === cursor) {
      // Following the same cursor again would ask for this very page forever.
      throw new InvalidResponse('meta.after_cursor repeats the cursor of the request while meta.has_more is true', {
        status: fetched.rateLimit.status,
        ticketId,
        cursor,
      });
    }
    yield {
      events,
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

interface FetchSettings {
  http: ZendeskHttp;
  ticketId: number;
  pageSize: number;
  budget: RequestBudget;
  signal: AbortSignal | undefined;
  log: Logger;
  maxAttempts: number;
  retryBaseMs: number;
}

async function fetchPage(settings: FetchSettings, cursor: string | null, page: number) {
  const { http, ticketId, budget, signal, log } = settings;
  const info = zendeskHttpInfo(http);
  const context: ResponseContext = { ticketId, cursor, host: info?.host, timeoutMs: info?.timeoutMs, secrets: info?.secrets };
  const searchParams = new URLSearchParams({ 'page[size]': String(settings.pageSize) });
  if (cursor !== null) searchParams.set('page[after]', cursor);

  let failures = 0;
  let rateLimited = 0;
  for (let requests = 1; ; requests++) {
    await budget.take(signal);
    signal?.throwIfAborted();
    const started = Date.now();
    let rateLimit: RateLimitInfo | undefined;
    let failure: unknown;
    const pending = http.get(`api/v2/tickets/${ticketId}/conversation_log`, { searchParams, signal });
    const sent = await settle(pending);
    if (sent.ok) {
      const response = sent.value;
      // A client not made by createZendeskHttp (an extended one) still names its host.
      context.host ??= hostOf(response.url);
      rateLimit = parseRateLimit(response);
      // The budget must learn how long to hold back even when a 429 lacks Retry-After.
      if (response.status === 429) rateLimit.retryAfterMs = retryAfterMsOf(response.headers);
      // Outside the mapping below: a failing budget (Postgres) is not a Zendesk failure. And
      // before the body: the request spent budget even if the body never arrives.
      await budget.observe(rateLimit);
      // Read through ky so the body is bounded by the same timeout as the headers.
      const read = await settle(pending.text());
      if (read.ok) {
        try {
          const value = readJsonResponse({ status: response.status, headers: response.headers, body: read.value }, context);
          const validated = validateConversationLogPage(value, { status: response.status, ticketId, cursor });
          log.debug(
            { page, status: response.status, events: validated.events.length, hasMore: validated.meta.has_more, ms: Date.now() - started, requests, remaining: rateLimit.remaining },
            'conversation log page',
          );
          return { body: validated, rateLimit, requests };
        } catch (caught) {
          failure = caught;
        }
      } else {
        failure = read.error;
      }
    } else {
      failure = sent.error;
    }

    if (signal?.aborted) throw signal.reason;
    const error = errorForFailure(failure, context);
    if (error instanceof RateLimited) {
      rateLimited++;
      log.debug({ page, status: 429, retryAfterMs: error.retryAfterMs, rateLimited }, 'conversation log rate limited');
      if (rateLimited >= MAX_RATE_LIMITED_LOOPS) throw error;
      continue;
    }
    if (!isRetryable(error)) throw error;
    failures++;
    if (failures >= settings.maxAttempts) {
      log.debug({ page, attempts: failures, err: (error as Error).message }, 'conversation log page failed');
      throw error;
    }
    const asked = Math.min(rateLimit?.retryAfterMs ?? 0, MAX_SERVER_RETRY_AFTER_MS);
    const delay = Math.max(backoff(settings.retryBaseMs, failures), asked);
    log.debug({ page, attempt: failures, delayMs: delay, err: (error as Error).message }, 'conversation log page retry');
    await sleep(delay, signal);
  }
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Exponential backoff with full jitter: spreads retries of many workers hit by the same outage. */
function backoff(baseMs: number, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(Math.random() * ceiling);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
