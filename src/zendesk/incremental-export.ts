// Pages through Zendesk's incremental ticket export (cursor flavour): which tickets changed since a
// time, or since a saved cursor. One validated page at a time, so the caller can queue a page's
// tickets and save its cursor before the next is fetched. Same retries as the conversation-log
// pager (fetch-with-retries.ts), but through the export's own rate budget.
import { z } from 'zod';
import { BadRequest, Forbidden, InvalidCursor, InvalidResponse, RateLimited, TicketNotFound, ZendeskError } from '../errors/zendesk-errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { fetchWithRetries, shrinkingPageSize, type PageSize, type RetrySettings } from './fetch-with-retries.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { localBudget, parseRetryAfter, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
import { STATUS_CODES } from 'node:http';
import { describeBody } from './describe-body.ts';
import { clientContext, type RawResponse, type ResponseContext } from './responses.ts';
import { describe, expected, firstProblems, isoTimestamp, positiveId } from './ticket-schemas.ts';

export const EXPORT_PATH = 'api/v2/incremental/tickets/cursor.json';
/** Zendesk's largest export page. */
const MAX_EXPORT_PAGE_SIZE = 1000;
/** start_time must be at least this far in the past (Zendesk answers 400 otherwise). */
export const MIN_START_AGE_SECONDS = 60;

const EXPORT_SIDE_LOADS = 'users,groups,organizations';

/** Where an export starts: a time (unix seconds) for a first export, else a saved cursor. */
export type ExportStart = { startTime: number } | { cursor: string };

export interface ExportTicket {
  id: number;
  status: string;
  generated_timestamp?: number;
  updated_at?: string;
  [key: string]: unknown;
}

export interface ExportPageResult {
  tickets: ExportTicket[];
  /** Side-loaded records, as received: checked when they are mapped to rows. */
  users: unknown[];
  groups: unknown[];
  organizations: unknown[];
  /** The cursor this page was requested with (null for the first page of a start_time export). */
  cursorBefore: string | null;
  /** The cursor that continues after this page; save it once the page is handled. */
  afterCursor: string | null;
  endOfStream: boolean;
  /** The latest change time on this page (generated_timestamp, else updated_at), or null if empty. */
  position: Date | null;
  /** HTTP requests spent on this page, 429s and retries included. */
  requests: number;
}

export interface PageExportOptions {
  budget?: RequestBudget;
  signal?: AbortSignal;
  log?: Logger;
  /**
   * Tickets per page (per_page), 1..1000. Default: Zendesk's (1000, left unsaid). After a 504 the
   * page is asked for again with half as many, and so is the rest of the run (fetch-with-retries.ts).
   */
  pageSize?: number;
  /** Attempts per page for 5xx, timeouts, network failures and invalid bodies. Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling in ms; doubles per attempt, with full jitter. Default 1000. */
  retryBaseMs?: number;
}

const MAX_BACKOFF_MS = 60_000;
const MAX_SERVER_RETRY_AFTER_MS = 120_000;

export async function* pageIncrementalExport(
  http: ZendeskHttp,
  start: ExportStart,
  options: PageExportOptions = {},
): AsyncGenerator<ExportPageResult, void, undefined> {
  if ('startTime' in start && (!Number.isSafeInteger(start.startTime) || start.startTime < 0)) {
    throw new RangeError(`startTime must be unix seconds, got ${String(start.startTime)}`);
  }
  const pageSize = options.pageSize ?? MAX_EXPORT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_EXPORT_PAGE_SIZE) {
    throw new RangeError(`pageSize must be an integer from 1 to ${MAX_EXPORT_PAGE_SIZE}, got ${String(pageSize)}`);
  }
  const settings: FetchSettings = {
    http,
    // Zendesk's default page is left unsaid, as it always was, until a 504 halves it.
    pageSize: shrinkingPageSize('per_page', pageSize, { serverDefault: options.pageSize === undefined ? MAX_EXPORT_PAGE_SIZE : undefined }),
    budget: options.budget ?? localBudget(),
    signal: options.signal,
    log: (options.log ?? silentLogger).child({ export: 'tickets' }),
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryBaseMs: Math.max(0, options.retryBaseMs ?? 1000),
    maxBackoffMs: MAX_BACKOFF_MS,
    maxServerRetryAfterMs: MAX_SERVER_RETRY_AFTER_MS,
    logName: 'export',
    rateLimitOf: exportRateLimitOf,
  };

  let cursor = 'cursor' in start ? start.cursor : null;
  for (let page = 1; ; page++) {
    const request = cursor === null ? { startTime: (start as { startTime: number }).startTime } : { cursor };
    const fetched = await fetchPage(settings, request, page);
    const body = fetched.body;
    // An empty cursor is none (as for a conversation log's): the last page's keeps the one before.
    const next = body.after_cursor || null;
    if (!body.end_of_stream && next === cursor) {
      // Following the same cursor again would ask for this very page forever.
      throw new InvalidResponse('after_cursor repeats the cursor of the request while end_of_stream is false', { status: 200, cursor });
    }
    yield {
      tickets: body.tickets,
      users: body.users ?? [],
      groups: body.groups ?? [],
      organizations: body.organizations ?? [],
      cursorBefore: cursor,
      // A last page without a cursor keeps the previous one, so the next export loses nothing.
      afterCursor: next ?? cursor,
      endOfStream: body.end_of_stream,
      position: positionOf(body.tickets),
      requests: fetched.requests,
    };
    if (body.end_of_stream) return;
    cursor = next;
  }
}

/** When the ticket changed, as the export orders it: generated_timestamp, else updated_at. */
function changedAt(ticket: ExportTicket): Date | null {
  if (ticket.generated_timestamp !== undefined) return new Date(ticket.generated_timestamp * 1000);
  if (ticket.updated_at !== undefined) return new Date(ticket.updated_at);
  return null;
}

function positionOf(tickets: readonly ExportTicket[]): Date | null {
  let latest: Date | null = null;
  for (const ticket of tickets) {
    const at = changedAt(ticket);
    if (at && (!latest || at > latest)) latest = at;
  }
  return latest;
}

// ---- validation: strict on what the backfill relies on, everything else passes through ----

const ticketSchema = z
  .looseObject(
    {
      id: positiveId('a positive integer ticket id'),
      status: z.string({ error: expected('a status string') }).min(1, { error: expected('a status string') }),
      generated_timestamp: z
        .number({ error: expected('unix seconds') })
        .refine((n) => Number.isSafeInteger(n) && n >= 0, { error: expected('unix seconds') })
        .optional(),
      updated_at: isoTimestamp.nullable().optional(),
    },
    { error: expected('a ticket object') },
  )
  .superRefine((ticket, ctx) => {
    if (ticket.generated_timestamp === undefined && (ticket.updated_at === undefined || ticket.updated_at === null)) {
      ctx.addIssue({ code: 'custom', path: ['generated_timestamp'], message: 'expected generated_timestamp or updated_at, got neither' });
    }
  });

const exportSchema = z
  .looseObject(
    {
      tickets: z.array(ticketSchema, { error: expected('an array of tickets') }),
      after_cursor: z.string({ error: expected('a string or null') }).nullable().optional(),
      end_of_stream: z.boolean({ error: expected('true or false') }),
      users: z.array(z.unknown(), { error: expected('an array of users') }).optional(),
      groups: z.array(z.unknown(), { error: expected('an array of groups') }).optional(),
      organizations: z.array(z.unknown(), { error: expected('an array of organizations') }).optional(),
    },
    { error: expected('a JSON object with tickets and end_of_stream') },
  )
  .superRefine((body, ctx) => {
    // Without a cursor there is no way to the next page.
    if (!body.end_of_stream && !body.after_cursor) {
      ctx.addIssue({ code: 'custom', path: ['after_cursor'], message: `expected a cursor because end_of_stream is false, got ${describe(body.after_cursor)}` });
    }
  });

interface ExportBody {
  tickets: ExportTicket[];
  users?: unknown[];
  groups?: unknown[];
  organizations?: unknown[];
  after_cursor?: string | null;
  end_of_stream: boolean;
  [key: string]: unknown;
}

/**
 * Checks a parsed export page and returns it, or throws InvalidResponse naming the problems. The
 * page is the parsed value itself, with any null updated_at removed in place.
 */
export function validateExportPage(value: unknown, context: { status?: number; cursor?: string | null } = {}): ExportBody {
  const result = exportSchema.safeParse(value);
  if (result.success) {
    const body = value as ExportBody;
    // null updated_at is treated as absent from here on.
    for (const ticket of body.tickets) if (ticket.updated_at === null) delete ticket.updated_at;
    return body;
  }
  throw new InvalidResponse(`incremental export: ${firstProblems(result.error.issues)}`, context);
}

// ---- one page, with retries ----

type FetchSettings = RetrySettings & { pageSize: PageSize };

async function fetchPage(settings: FetchSettings, request: { startTime: number } | { cursor: string }, page: number) {
  const info = zendeskHttpInfo(settings.http);
  const cursor = 'cursor' in request ? request.cursor : null;
  const context: ResponseContext = { cursor, ...clientContext(info) };
  // URLSearchParams encodes the cursor ('+', '/', '=').
  const searchParams = new URLSearchParams('cursor' in request ? { cursor: request.cursor } : { start_time: String(request.startTime) });
  // The default scope (agent) leaves out tickets handled by AI agents.
  searchParams.set('support_type_scope', 'all');
  // The people, groups and organizations the tickets name, at no extra request.
  searchParams.set('include', EXPORT_SIDE_LOADS);
  const fetched = await fetchWithRetries(settings, {
    path: EXPORT_PATH,
    searchParams,
    context,
    page,
    validate: (value, status) => validateExportPage(value, { status, cursor }),
    rewordError: (error, answer) => (answer ? exportError(error, cursor, detailOf(answer, context.secrets), context.host) : error),
  });
  const { body, rateLimit, requests, ms } = fetched;
  settings.log.debug({ page, status: rateLimit.status, tickets: body.tickets.length, endOfStream: body.end_of_stream, ms, requests }, 'export page');
  return fetched;
}

// The omnilog header counts the conversation log's budget, and ratelimit-reset the account-wide
// one, not this one: only Retry-After (429, and a 503 in maintenance) says anything about the
// export. A 429's says when Zendesk's minute ends, so it is also the window's reset: the budget's
// window takes Zendesk's phase from it, or keeps its own and meets a 429 nearly every minute of a
// long backfill. A 429 without one gets its wait from fetchWithRetries.
export function exportRateLimitOf(response: Response): RateLimitInfo {
  const rateLimit: RateLimitInfo = { status: response.status };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (retryAfterMs !== undefined) rateLimit.retryAfterMs = retryAfterMs;
  if (response.status === 429 && retryAfterMs !== undefined) rateLimit.resetsMs = retryAfterMs;
  return rateLimit;
}

/** `403 Forbidden: <what the body said>`, for the reworded messages below. */
function detailOf(answer: RawResponse, secrets: readonly string[] | undefined): string {
  const said = describeBody(answer.body, answer.headers.get('content-type'), secrets);
  return `${answer.status} ${STATUS_CODES[answer.status] ?? 'status'}${said ? `: ${said}` : ''}`;
}

/**
 * responses.ts words its messages for a ticket's conversation log; the export's refusals mean
 * something else (admins only, a stale cursor), so those few are reworded here, same classes.
 */
function exportError(error: unknown, cursor: string | null, detail: string, host: string | undefined): unknown {
  if (!(error instanceof ZendeskError) || error instanceof RateLimited) return error;
  const at = host ? ` at ${host}` : '';
  const context = { status: error.status, cursor };
  if (error instanceof Forbidden) {
    return new Forbidden(`Zendesk${at} refused the incremental ticket export, which is for admins only: use an admin's credentials (${detail})`, context, { cause: error });
  }
  if (error instanceof TicketNotFound) {
    return new TicketNotFound(`Zendesk${at} has no incremental ticket export (${detail}); check ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL`, context, { cause: error });
  }
  // A cursor Zendesk calls InvalidPaginationParameter is worded for a ticket's log (re-read it
  // from its first event); for the export the way out is a new start time.
  if (error instanceof BadRequest || error instanceof InvalidCursor) {
    const what = cursor === null ? 'the start time' : 'the saved export cursor; start again with --since';
    return new BadRequest(`Zendesk${at} rejected ${what} (${detail})`, context, { cause: error });
  }
  return error;
}
