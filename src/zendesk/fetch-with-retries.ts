// One page request with the retry policy every Zendesk pager shares. Every attempt, retries and
// 429s included, takes a permit from the budget first, because the budget is all that keeps
// many workers inside Zendesk's limit. 429s are waited out however many come, for as long as
// Zendesk's headers ask (the budget holds every sender back until then), and never count as
// failures: rate limiting must not fail a job or use up its retries. 5xx,
// timeouts, network failures and invalid bodies are retried with backoff. What differs per
// endpoint (the request, what a response tells the budget, validation, error wording) is passed in.
import { isRetryable } from '../errors/outcome.ts';
import { RateLimited } from '../errors/zendesk-errors.ts';
import type { Logger } from '../log.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { backoffMs, LOGGED_WAIT_MS, sleep } from '../timing.ts';
import { MIN_RETRY_AFTER_MS, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
import { errorForFailure, readJsonResponse, receivedResponse, retryAfterMsOf, type RawResponse, type ResponseContext } from './responses.ts';

/** How one pager sends and retries: the same for all of its pages. */
export interface RetrySettings {
  http: ZendeskHttp;
  budget: RequestBudget;
  signal: AbortSignal | undefined;
  log: Logger;
  /** Attempts per page for 5xx, timeouts, network failures and invalid bodies (at least 1). */
  maxAttempts: number;
  /** First backoff ceiling in ms; doubles per attempt, with full jitter. */
  retryBaseMs: number;
  /** The backoff ceiling stops doubling here. */
  maxBackoffMs: number;
  /** A 5xx's Retry-After is honoured up to this, so one odd header cannot park a worker for hours. */
  maxServerRetryAfterMs: number;
  /** Names the endpoint in log messages: `${logName} page retry`, `${logName} rate limited`, a long retry's wait. */
  logName: string;
  /** What the budget learns from a response; called for every response, 429s included. */
  rateLimitOf(response: Response): RateLimitInfo;
  /** The page size every request of the run asks for, halved after a 504 (PageSize). */
  pageSize?: PageSize;
}

/**
 * Zendesk answers a page it cannot build in time (huge bodies, many attachments or side-loads)
 * with 504, and the same page asked for again fails the same way, run after run. Fewer records
 * per page come back in time, and a cursor is valid with any size. So after a 504 the next
 * attempt asks for half as many, down to `floor`; the smaller size stays for the rest of the run,
 * as its later pages are likely as heavy. One per run, shared by its pages.
 */
export interface PageSize {
  /** The query parameter that carries it: page[size], per_page. */
  readonly param: string;
  /** What the next request asks for. */
  size: number;
  /** Never halved below this (nor below the size the run started with). */
  readonly floor: number;
  /** Zendesk's size when none is asked: while `size` is this, the parameter is left out. */
  readonly serverDefault?: number;
}

/** A page size halves no lower than this: smaller pages would spend the budget for little. */
const MIN_SHRUNK_PAGE_SIZE = 10;

export function shrinkingPageSize(param: string, size: number, options: { floor?: number; serverDefault?: number } = {}): PageSize {
  return { param, size, floor: Math.min(options.floor ?? MIN_SHRUNK_PAGE_SIZE, size), serverDefault: options.serverDefault };
}

/** `params` asking for the run's current page size, first, as Zendesk's own links put it. */
function withPageSize(params: URLSearchParams, pageSize: PageSize | undefined): URLSearchParams {
  if (!pageSize || pageSize.size === pageSize.serverDefault) return params;
  const sent = new URLSearchParams({ [pageSize.param]: String(pageSize.size) });
  for (const [name, value] of params) if (name !== pageSize.param) sent.append(name, value);
  return sent;
}

/** Halves `pageSize` after an answer that says the page was too big to serve in time: its new size, if it did. */
function shrinkAfter(pageSize: PageSize | undefined, status: number | undefined): number | undefined {
  if (!pageSize || status !== 504 || pageSize.size <= pageSize.floor) return undefined;
  pageSize.size = Math.max(pageSize.floor, Math.floor(pageSize.size / 2));
  return pageSize.size;
}

/** One page: where to send, and how to check and word its answer. */
export interface PageRequest<T> {
  path: string;
  /** Sent as they are, after the run's page size when the settings carry one. */
  searchParams: URLSearchParams;
  /** For error messages; a missing host is filled in from the first response. */
  context: ResponseContext;
  /** The page number, for log lines. */
  page: number;
  /** The checked body of a 2xx, or throws (InvalidResponse) naming what is wrong. */
  validate(value: unknown, status: number): T;
  /** Rewords a mapped failure; `answer` is the response whose body was read, if any. */
  rewordError?(error: unknown, answer: RawResponse | undefined): unknown;
}

export interface FetchedPage<T> {
  body: T;
  /** The body as received, before parsing. */
  bytes: Buffer;
  /** Facts from the response that delivered the page. */
  rateLimit: RateLimitInfo;
  /** HTTP requests spent on this page, 429s and retries included. */
  requests: number;
  /** How long the successful attempt took. */
  ms: number;
  /**
   * When the successful attempt was sent, by Zendesk's clock (its Date header): no later than
   * Zendesk read what the page holds. For comparing with the times Zendesk gives (a ticket's
   * generated_timestamp), which this machine's clock may be minutes off from. Undefined when the
   * answer carries no Date header that parses.
   */
  sentAt?: Date;
}

/** Requests spent on the page a thrown error ended, 429s and retries included (requestsSpentOn). */
const spent = new WeakMap<object, number>();

/** The requests a page cost before it failed with `error`; 0 when no request was sent. */
export function requestsSpentOn(error: unknown): number {
  return (typeof error === 'object' && error !== null && spent.get(error)) || 0;
}

function spending<E>(error: E, requests: number): E {
  if (typeof error === 'object' && error !== null) spent.set(error, requests);
  return error;
}

export async function fetchWithRetries<T>(settings: RetrySettings, request: PageRequest<T>): Promise<FetchedPage<T>> {
  const { http, budget, signal, log, logName } = settings;
  const { context, page } = request;
  // What a message about the URL itself names: the base URL as configured, and what was asked of it.
  context.baseUrl ??= zendeskHttpInfo(http)?.baseUrl;
  context.path ??= request.path;

  let failures = 0;
  let rateLimited = 0;
  // When the last 429 said we may send again. The budget normally waits that long already; a
  // budget that does not is made up for here, so a 429 is never answered with another request at once.
  let notBefore = 0;
  for (let requests = 1; ; requests++) {
    await budget.take(signal);
    const owed = notBefore - Date.now();
    if (owed > 0) await sleep(owed, signal);
    signal?.throwIfAborted();
    const started = Date.now();
    let rateLimit: RateLimitInfo | undefined;
    let answer: RawResponse | undefined;
    let failure: unknown;
    let status: number | undefined;
    const pending = http.get(request.path, { searchParams: withPageSize(request.searchParams, settings.pageSize), signal });
    const sent = await settle(pending);
    if (sent.ok) {
      const response = sent.value;
      const answeredMs = Date.now() - started;
      status = response.status;
      // A client not made by createZendeskHttp (an extended one) still names its host.
      context.host ??= URL.parse(response.url)?.host;
      rateLimit = settings.rateLimitOf(response);
      // Every budget is told how long a 429 holds everyone back, even without a Retry-After; and
      // at least MIN_RETRY_AFTER_MS: a server answering every request 429 with `Retry-After: 0`
      // was sent request after request as fast as the network allowed.
      if (response.status === 429) rateLimit.retryAfterMs = Math.max(MIN_RETRY_AFTER_MS, rateLimit.retryAfterMs ?? retryAfterMsOf(response.headers));
      // Outside the mapping below: a failing budget (Postgres) is not a Zendesk failure. And
      // before the body: the request spent budget even if the body never arrives.
      await budget.observe(rateLimit);
      // Read through ky so the body is bounded by the same timeout as the headers.
      const read = await settle(pending.arrayBuffer());
      if (read.ok) {
        const bytes = Buffer.from(read.value);
        answer = receivedResponse(response.status, response.headers, bytes);
        try {
          const body = request.validate(readJsonResponse(answer, context), response.status);
          return { body, bytes, rateLimit, requests, ms: Date.now() - started, sentAt: serverTimeOf(response.headers, answeredMs) };
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
    const mapped = errorForFailure(failure, context);
    const error = request.rewordError ? request.rewordError(mapped, answer) : mapped;
    if (error instanceof RateLimited) {
      rateLimited++;
      // The wait the budget was told: the endpoint's rateLimitOf knows which reset header is its own.
      const retryAfterMs = rateLimit?.retryAfterMs ?? error.retryAfterMs;
      log.debug({ page, status: 429, retryAfterMs, rateLimited }, `${logName} rate limited`);
      // No cap on how many: each waits what Zendesk's headers asked for (budget.take, above).
      notBefore = Date.now() + retryAfterMs;
      continue;
    }
    if (!isRetryable(error)) throw spending(error, requests);
    failures++;
    if (failures >= settings.maxAttempts) {
      log.debug({ page, attempts: failures, err: (error as Error).message }, `${logName} page failed`);
      throw spending(error, requests);
    }
    const smaller = shrinkAfter(settings.pageSize, status);
    if (smaller !== undefined) {
      log.info({ page, pageSize: smaller }, `${logName}: Zendesk answered 504 (it could not build the page in time, as for a page too large); asking for ${smaller} per page from now on`);
    }
    const asked = Math.min(rateLimit?.retryAfterMs ?? 0, settings.maxServerRetryAfterMs);
    const delay = Math.max(backoffMs(failures, { firstMs: settings.retryBaseMs, maxMs: settings.maxBackoffMs }), asked);
    const line = { page, attempt: failures, delayMs: delay, err: (error as Error).message };
    // A wait long enough to notice (a 5xx's Retry-After, or a request left unanswered until the
    // timeout) is said where people look, so a sync does not sit silent for a minute; the short
    // backoffs after quick failures are not worth a line.
    if (delay >= LOGGED_WAIT_MS || Date.now() - started >= LOGGED_WAIT_MS) {
      log.info(line, `${logName}: ${line.err}; trying again ${inSeconds(delay)} (attempt ${failures + 1} of ${settings.maxAttempts})`);
    } else {
      log.debug(line, `${logName} page retry`);
    }
    await sleep(delay, signal);
  }
}

// A Date header is whole seconds, rounded down, stamped between the request's arrival and its
// answer: less all the time this side waited for it, it is no later than the arrival.
function serverTimeOf(headers: Headers, elapsedMs: number): Date | undefined {
  const date = Date.parse(headers.get('date') ?? '');
  return Number.isFinite(date) ? new Date(date - elapsedMs) : undefined;
}

/** A jittered backoff may be 0 ms: "in 0 s" read like a wait that never happened. */
function inSeconds(ms: number): string {
  return ms < 1_000 ? 'within a second' : `in ${Math.ceil(ms / 1_000)} s`;
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}
