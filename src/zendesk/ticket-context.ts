// Reads of the ticket context that count against Zendesk's account-wide rate limit, not the
// conversation log's: tickets by id (show_many, 100 a request, with their users, groups and
// organizations side-loaded) and the groups, brands and organizations lists (cursor
// pagination). Every request goes through fetch-with-retries.ts and the budget passed in, and
// each answer is checked (zod) before it is handed on, one request's worth at a time.
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { BadRequest, Forbidden, InvalidResponse, RateLimited, TicketNotFound, ZendeskError, type ZendeskErrorContext } from '../errors/zendesk-errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { fetchWithRetries, type FetchedPage, type RetrySettings } from './fetch-with-retries.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { localBudget, parseRetryAfter, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
import { describeBody } from './describe-body.ts';
import { clientContext, DEFAULT_RETRY_AFTER_MS, type RawResponse, type ResponseContext } from './responses.ts';
import { checkRecords, type RecordKind, type RecordOf, type ZendeskBrand, type ZendeskGroup, type ZendeskOrganization, type ZendeskTicket, type ZendeskUser } from './ticket-schemas.ts';

export const SHOW_MANY_PATH = 'api/v2/tickets/show_many.json';
const LIST_PATHS = { groups: 'api/v2/groups', brands: 'api/v2/brands', organizations: 'api/v2/organizations' } as const;
/** Zendesk's most ids per show_many request, and most records per list page. */
export const SHOW_MANY_BATCH = 100;
const LIST_PAGE_SIZE = 100;
/** The side-loads that give a ticket's people, group and organization at no extra request. */
const TICKET_SIDE_LOADS = 'users,groups,organizations';

export interface ReadOptions {
  /** The account-wide budget (a separate row from the conversation log's and the export's). */
  budget?: RequestBudget;
  signal?: AbortSignal;
  log?: Logger;
  /** Attempts per request for 5xx, timeouts, network failures and invalid bodies. Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling in ms; doubles per attempt, with full jitter. Default 1000. */
  retryBaseMs?: number;
}

/** One show_many answer: checked tickets and side-loads, as received (unknown fields kept). */
export interface TicketBatch {
  tickets: ZendeskTicket[];
  users: ZendeskUser[];
  groups: ZendeskGroup[];
  organizations: ZendeskOrganization[];
  /** Ids asked for that Zendesk did not return: deleted, or not visible to these credentials. */
  missing: number[];
  requests: number;
}

export interface ListPage<T> {
  records: T[];
  requests: number;
  /** When the page's request was sent, by Zendesk's clock (FetchedPage.sentAt); undefined without a Date header. */
  sentAt?: Date;
}

function settingsFor(http: ZendeskHttp, options: ReadOptions, logName: string): RetrySettings {
  return {
    http,
    budget: options.budget ?? localBudget(),
    signal: options.signal,
    log: (options.log ?? silentLogger).child({ read: logName }),
    maxAttempts: Math.max(1, options.maxAttempts ?? 5),
    retryBaseMs: Math.max(0, options.retryBaseMs ?? 1000),
    maxBackoffMs: 60_000,
    maxServerRetryAfterMs: 120_000,
    logName,
    rateLimitOf: accountRateLimitOf,
  };
}

/**
 * The account-wide limit's headers: `X-Rate-Limit` (the plan's requests a minute) and
 * `X-Rate-Limit-Remaining`, `ratelimit-reset` (seconds), `Retry-After` on a 429.
 */
export function accountRateLimitOf(response: Response): RateLimitInfo {
  const info: RateLimitInfo = { status: response.status };
  const count = (name: string) => {
    const value = response.headers.get(name);
    return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
  };
  // A limit of 0 cannot be (rate-limit.ts leaves it out too): || skips it like a missing one.
  const total = count('x-rate-limit') || count('ratelimit-limit') || undefined;
  const remaining = count('x-rate-limit-remaining') ?? count('ratelimit-remaining');
  const reset = count('ratelimit-reset');
  if (total !== undefined) info.total = total;
  if (remaining !== undefined) info.remaining = remaining;
  if (reset !== undefined) info.resetsMs = reset * 1000;
  // A 429 without Retry-After lasts until this window's reset; retryAfterMsOf would look only at
  // the conversation log's header, which these answers do not carry, and wait a default instead.
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  const retryAfterMs = response.status === 429 ? (retryAfter ?? info.resetsMs ?? DEFAULT_RETRY_AFTER_MS) : retryAfter;
  if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
  return info;
}

const records = z.array(z.unknown(), { error: 'expected an array' }).optional();

function envelope<K extends string>(key: K) {
  return z.looseObject({ [key]: z.array(z.unknown(), { error: `expected an array of ${key}` }) } as Record<K, z.ZodArray<z.ZodUnknown>>, {
    error: 'expected a JSON object',
  });
}

const showManySchema = envelope('tickets').extend({ users: records, groups: records, organizations: records });

function shapeProblem(result: { error?: z.ZodError }): string {
  return (result.error?.issues ?? []).map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).slice(0, 3).join('; ');
}

/**
 * Reads tickets by id, SHOW_MANY_BATCH a request, yielding each answer before the next request
 * is sent so the caller can store it first. Duplicate ids are asked for once.
 */
export async function* showManyTickets(http: ZendeskHttp, ids: readonly number[], options: ReadOptions = {}): AsyncGenerator<TicketBatch, void, undefined> {
  const unique = [...new Set(ids)];
  for (const id of unique) {
    if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`ticket ids must be positive integers, got ${String(id)}`);
  }
  const settings = settingsFor(http, options, 'show_many');
  for (let start = 0, page = 1; start < unique.length; start += SHOW_MANY_BATCH, page++) {
    const batch = unique.slice(start, start + SHOW_MANY_BATCH);
    const what = `tickets ${batch[0]}…${batch[batch.length - 1]} (show_many)`;
    const searchParams = new URLSearchParams({ ids: batch.join(','), include: TICKET_SIDE_LOADS });
    const fetched = await fetchWithRetries(settings, {
      path: SHOW_MANY_PATH,
      searchParams,
      context: contextOf(http),
      page,
      validate: (value, status) => {
        const context = { status };
        const parsed = showManySchema.safeParse(value);
        if (!parsed.success) throwInvalid(`show_many: ${shapeProblem(parsed)}`, context);
        const body = value as Record<string, unknown[] | undefined>;
        return {
          tickets: checkRecords('ticket', body.tickets, context),
          users: checkRecords('user', body.users, context),
          groups: checkRecords('group', body.groups, context),
          organizations: checkRecords('organization', body.organizations, context),
        };
      },
      rewordError: (error, answer) => reword(error, answer, what, http),
    });
    const returned = new Set(fetched.body.tickets.map((ticket) => ticket.id));
    settings.log.debug({ page, asked: batch.length, returned: returned.size, requests: fetched.requests }, 'show_many');
    yield { ...fetched.body, missing: batch.filter((id) => !returned.has(id)), requests: fetched.requests };
  }
}

export function listGroups(http: ZendeskHttp, options: ReadOptions = {}): AsyncGenerator<ListPage<ZendeskGroup>, void, undefined> {
  return listRecords(http, 'groups', 'group', options);
}

export function listBrands(http: ZendeskHttp, options: ReadOptions = {}): AsyncGenerator<ListPage<ZendeskBrand>, void, undefined> {
  return listRecords(http, 'brands', 'brand', options);
}

export function listOrganizations(http: ZendeskHttp, options: ReadOptions = {}): AsyncGenerator<ListPage<ZendeskOrganization>, void, undefined> {
  return listRecords(http, 'organizations', 'organization', options);
}

const listMeta = z.looseObject(
  {
    meta: z.looseObject({ has_more: z.boolean({ error: 'expected true or false' }), after_cursor: z.string().nullable().optional() }, { error: 'expected an object' }),
  },
  { error: 'expected a JSON object' },
);

/** One list, page by page (page[size], page[after]); stops on has_more false, not on a null cursor. */
async function* listRecords<K extends 'groups' | 'brands' | 'organizations', R extends RecordKind>(
  http: ZendeskHttp,
  key: K,
  kind: R,
  options: ReadOptions,
): AsyncGenerator<ListPage<RecordOf<R>>, void, undefined> {
  const settings = settingsFor(http, options, key);
  const schema = envelope(key).and(listMeta);
  let cursor: string | null = null;
  for (let page = 1; ; page++) {
    const searchParams = new URLSearchParams({ 'page[size]': String(LIST_PAGE_SIZE) });
    if (cursor !== null) searchParams.set('page[after]', cursor);
    const requestCursor: string | null = cursor;
    const fetched: FetchedPage<{ records: RecordOf<R>[]; hasMore: boolean; next: string | null }> = await fetchWithRetries(settings, {
      path: LIST_PATHS[key],
      searchParams,
      context: { ...contextOf(http), cursor: requestCursor },
      page,
      validate: (value, status) => {
        const context = { status, cursor: requestCursor };
        const parsed = schema.safeParse(value);
        if (!parsed.success) throwInvalid(`${key} list: ${shapeProblem(parsed)}`, context);
        const body = value as Record<K, unknown[]> & z.infer<typeof listMeta>;
        const next = body.meta.after_cursor ?? null;
        // Without a new cursor, following has_more would ask for this very page forever.
        if (body.meta.has_more && (next === null || next === requestCursor)) {
          throwInvalid(`${key} list: meta.has_more is true but meta.after_cursor is ${next === null ? 'missing' : 'the cursor of the request'}`, context);
        }
        return { records: checkRecords(kind, body[key], context), hasMore: body.meta.has_more, next };
      },
      rewordError: (error, answer) => reword(error, answer, `the ${key} list`, http),
    });
    settings.log.debug({ page, records: fetched.body.records.length, requests: fetched.requests }, `${key} page`);
    yield { records: fetched.body.records, requests: fetched.requests, sentAt: fetched.sentAt };
    if (!fetched.body.hasMore) return;
    cursor = fetched.body.next;
  }
}

function contextOf(http: ZendeskHttp): ResponseContext {
  return clientContext(zendeskHttpInfo(http));
}

function throwInvalid(problem: string, context: ZendeskErrorContext): never {
  throw new InvalidResponse(problem, context);
}

/** responses.ts words refusals for one ticket's conversation log; these name what was read. */
function reword(error: unknown, answer: RawResponse | undefined, what: string, http: ZendeskHttp): unknown {
  if (!answer || !(error instanceof ZendeskError) || error instanceof RateLimited) return error;
  const info = zendeskHttpInfo(http);
  const at = info ? ` at ${info.host}` : '';
  const said = describeBody(answer.body, answer.headers.get('content-type'), info?.secrets);
  const detail = `${answer.status} ${STATUS_CODES[answer.status] ?? 'status'}${said ? `: ${said}` : ''}`;
  const context = { status: error.status, cursor: error.cursor };
  if (error instanceof Forbidden) return new Forbidden(`Zendesk${at} does not allow reading ${what} with these credentials (${detail})`, context, { cause: error });
  if (error instanceof TicketNotFound) return new TicketNotFound(`Zendesk${at} has no ${what} (${detail}); check ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL`, context, { cause: error });
  if (error instanceof BadRequest) return new BadRequest(`Zendesk${at} rejected the request for ${what} (${detail})`, context, { cause: error });
  return error;
}
