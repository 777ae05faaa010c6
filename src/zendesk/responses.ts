// The one place where what came back from Zendesk (or failed to) becomes a value or one of the
// error classes in src/errors/zendesk-errors.ts. Messages are for a person reading
// `ticket_sync.last_error`: short, naming the ticket and host, never carrying a credential.
import { STATUS_CODES } from 'node:http';
import { isNetworkError, isTimeoutError } from 'ky';
import { causeChain, hideSecrets, networkErrorReason } from '../errors/messages.ts';
import {
  BadRequest,
  CutOffResponse,
  Forbidden,
  InvalidCursor,
  InvalidResponse,
  NotZendeskApi,
  RateLimited,
  ServerError,
  TicketNotFound,
  Unauthorized,
  ZendeskError,
  type ZendeskErrorContext,
} from '../errors/zendesk-errors.ts';
import type { ZendeskAuth } from '../config.ts';
import { describeBody, errorCodes } from './describe-body.ts';
import type { ZendeskHttpInfo } from './http.ts';
import { decodeBody, parseJsonBytes } from './json-bytes.ts';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from './rate-limit.ts';

export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body as text. */
  readonly body: string;
  /** The body as received, when it was read as bytes: a 2xx is parsed from these. */
  readonly bytes?: Buffer;
}

/** A response read as bytes; its text is decoded only when something reads it (a message). */
export function receivedResponse(status: number, headers: Headers, bytes: Buffer): RawResponse {
  let text: string | undefined;
  return {
    status,
    headers,
    bytes,
    get body() {
      return (text ??= decodeBody(bytes));
    },
  };
}

export interface ResponseContext extends ZendeskErrorContext {
  /** `acme.zendesk.com`: which account a person should look at. */
  host?: string;
  /** Per-attempt timeout, to say how long we waited. */
  timeoutMs?: number;
  /** Exact strings (token, base64 credential) that must never reach a message. */
  secrets?: readonly string[];
  /** The configured base URL (ZENDESK_BASE_URL, or the subdomain's), for messages about the URL itself. */
  baseUrl?: string;
  /** What was asked for, relative to the base URL (`api/v2/users/me.json`). */
  path?: string;
  /** Which credentials were sent, so that a 401 names their variables only; unknown: all of them. */
  auth?: ZendeskAuth['kind'];
}

/** What every message about a client's requests needs of it (createZendeskHttp registers it). */
export function clientContext(info: ZendeskHttpInfo | undefined): ResponseContext {
  return { host: info?.host, timeoutMs: info?.timeoutMs, secrets: info?.secrets, auth: info?.auth };
}

/** The variables to check after a 401: those of the credentials sent (OAuth wins when set). */
const CREDENTIAL_VARIABLES: Record<ZendeskAuth['kind'] | 'unknown', string> = {
  oauth: 'ZENDESK_OAUTH_TOKEN',
  token: 'ZENDESK_EMAIL and ZENDESK_API_TOKEN',
  unknown: 'ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN',
};

/** Used when a 429 carries no Retry-After and no resets: long enough to let a window pass. */
export const DEFAULT_RETRY_AFTER_MS = 10_000;

/** A 2xx body parsed as JSON; any other outcome thrown as the matching ZendeskError. */
export function readJsonResponse(response: RawResponse, context: ResponseContext = {}): unknown {
  if (response.status < 200 || response.status >= 300) throw errorForResponse(response, context);
  const errorContext = contextOf(context, response.status);
  try {
    return response.bytes ? parseJsonBytes(response.bytes) : (JSON.parse(response.body) as unknown);
  } catch (error) {
    if (response.body.trim() === '') throw new InvalidResponse('the body is empty', errorContext, { cause: error });
    if (looksTruncated(response.body, error)) {
      throw new CutOffResponse(`the JSON body is cut off after ${response.body.length} characters`, errorContext, { cause: error });
    }
    const problem = `the body is not JSON: ${describeBody(response.body, response.headers.get('content-type'), context.secrets)}`;
    throw new InvalidResponse(problem, errorContext, { cause: error });
  }
}

/** The error for a non-2xx response. */
export function errorForResponse(response: RawResponse, context: ResponseContext = {}): ZendeskError {
  const { status } = response;
  const errorContext = contextOf(context, status);
  const detail = describeBody(response.body, response.headers.get('content-type'), context.secrets);
  const what = `${status} ${STATUS_CODES[status] ?? 'status'}${detail ? `: ${detail}` : ''}`;
  const ticket = context.ticketId !== undefined ? `ticket ${context.ticketId}` : 'the request';
  const at = context.host ? ` at ${context.host}` : '';
  const say = (text: string) => hideSecrets(text, context.secrets);

  if (status === 401) {
    return new Unauthorized(
      say(`Zendesk${at} refused the credentials (${what}); check ${CREDENTIAL_VARIABLES[context.auth ?? 'unknown']}`),
      errorContext,
    );
  }
  if (status === 403) return new Forbidden(say(`Zendesk${at} does not allow reading ${ticket} (${what})`), errorContext);
  if (status === 404) {
    // Only Zendesk's own word that the record is gone means the ticket is: an unknown route
    // (InvalidEndpoint: /api/v2 twice in the URL) or a web server that is not Zendesk answers 404
    // for every ticket, and taking that for a deletion would remove every stored ticket.
    if (!saysRecordNotFound(response.body)) return notZendeskApi(response, context);
    return new TicketNotFound(say(`${capitalise(ticket)} was not found${at}: deleted or never existed (${what})`), errorContext);
  }
  if (status === 429) {
    const retryAfterMs = retryAfterMsOf(response.headers);
    return new RateLimited(
      say(`Zendesk${at} rate limit reached for ${ticket} (${what}); retry after ${Math.ceil(retryAfterMs / 1000)} s`),
      retryAfterMs,
      errorContext,
    );
  }
  // Only a request that sent a cursor can have had it refused; on a first page the fault is in
  // the other page parameters (page[size]), and saying "the saved cursor" would mislead.
  if (status === 400 && context.cursor && errorCodes(response.body).includes('InvalidPaginationParameter')) {
    return new InvalidCursor(
      say(`Zendesk${at} no longer accepts the saved page cursor of ${ticket} (${what}); re-read it from the first event`),
      errorContext,
    );
  }
  // A request timeout is a proxy's (or Zendesk's front end's) moment, not a verdict on the request.
  if (status === 408) return new ServerError(say(`Zendesk${at} timed out waiting for the request for ${ticket} (${what})`), errorContext);
  if (status >= 400 && status < 500) return new BadRequest(say(`Zendesk${at} rejected the request for ${ticket} (${what})`), errorContext);
  if (status >= 500) return new ServerError(say(`Zendesk${at} failed while serving ${ticket} (${what})`), errorContext);
  // 1xx/3xx reaching us means a proxy or redirect we did not follow: not a page, worth a retry.
  return new InvalidResponse(say(`unexpected status ${what}`), errorContext);
}

/**
 * True unless a 404's body shows it is not about the record: Zendesk answers a missing record
 * with JSON (`{"error": "RecordNotFound"}`, or `{"errors": [{"code", "title"}]}` on newer
 * endpoints), and an unknown route with `InvalidEndpoint`. A body that is not a JSON object (a web
 * server's HTML page, text, nothing) or that names InvalidEndpoint is not Zendesk saying the ticket
 * is gone. Any other JSON object is taken at its word: stopping every worker at each real deletion
 * because Zendesk worded a 404 in a way not listed here would be worse, and a URL that is not
 * Zendesk's API is caught before any ticket is read (the start-up check of /users/me).
 */
function saysRecordNotFound(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
  const record = parsed as Record<string, unknown>;
  if (squash(record.error) === 'invalidendpoint') return false;
  const items = Array.isArray(record.errors) ? record.errors : [];
  return !items.some((item) => !!item && typeof item === 'object' && squash((item as Record<string, unknown>).code) === 'invalidendpoint');
}

function squash(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase().replace(/[^a-z]/g, '') : '';
}

/** Which setting gave this base URL, as far as the URL tells: a path or another host is ZENDESK_BASE_URL's. */
export function zendeskUrlSetting(baseUrl: string): 'ZENDESK_BASE_URL' | 'ZENDESK_SUBDOMAIN' {
  try {
    const url = new URL(baseUrl.includes('://') ? baseUrl : `https://${baseUrl}`);
    return /\.zendesk\.com$/i.test(url.hostname) && url.pathname.replace(/\/+$/, '') === '' ? 'ZENDESK_SUBDOMAIN' : 'ZENDESK_BASE_URL';
  } catch {
    return 'ZENDESK_BASE_URL';
  }
}

/**
 * NotZendeskApi for an answer that shows the configured URL does not lead to Zendesk's API,
 * naming the setting, the URL (without credentials) and what it answered, in one line.
 */
export function notZendeskApi(response: RawResponse, context: ResponseContext = {}): NotZendeskApi {
  const { status } = response;
  const detail = describeBody(response.body, response.headers.get('content-type'), context.secrets).replace(/\s+/g, ' ');
  const base = (context.baseUrl ?? (context.host ? `the server at ${context.host}` : 'Zendesk')).replace(/\/+$/, '');
  const setting = zendeskUrlSetting(context.baseUrl ?? context.host ?? '');
  const asked = context.path ? ` for /${context.path.replace(/^\/+/, '')}` : '';
  const said = detail ? ` (${detail})` : ' (an empty body)';
  const hint =
    setting === 'ZENDESK_SUBDOMAIN'
      ? 'check ZENDESK_SUBDOMAIN (acme for https://acme.zendesk.com)'
      : "it must be the account's root URL, e.g. https://acme.zendesk.com (no /api/v2), or a proxy that passes /api/v2/ on to it";
  const message = `${setting} (${base}) answered ${status} ${STATUS_CODES[status] ?? 'status'}${asked}${said}, which is not Zendesk's API: ${hint}`;
  return new NotZendeskApi(hideSecrets(message, context.secrets), contextOf(context, status));
}

/**
 * A request that produced no response: a timeout or a network failure becomes ServerError
 * (transient). Errors that are not about the network (our own bugs) are returned as they are,
 * with any credential taken out of their text.
 */
export function errorForFailure(error: unknown, context: ResponseContext = {}): unknown {
  if (error instanceof ZendeskError) return error;
  const errorContext = contextOf(context, undefined);
  const host = context.host ?? hostOfRequest(error) ?? 'Zendesk';
  const ticket = context.ticketId !== undefined ? ` for ticket ${context.ticketId}` : '';
  if (isTimeoutError(error)) {
    const waited = context.timeoutMs !== undefined ? ` within ${context.timeoutMs} ms` : '';
    // The ky error holds the Request, whose headers carry the credential: keep only its text.
    const cause = Object.assign(new Error(hideSecrets(error.message, context.secrets)), { name: 'TimeoutError' });
    return new ServerError(`timeout: no response from ${host}${waited}${ticket}`, errorContext, { cause });
  }
  const raw = isNetworkError(error) ? error.cause : error;
  if (isNetworkError(error) || isRawNetworkFailure(raw)) {
    const reason = networkReason(raw);
    return new ServerError(hideSecrets(`cannot reach ${host}${ticket}: ${reason}`, context.secrets), errorContext, { cause: raw });
  }
  // Node's own refusals (an invalid header value) quote the header, credential included, and the
  // message goes on to logs and ticket_sync.last_error.
  if (error instanceof Error && context.secrets?.length) {
    error.message = hideSecrets(error.message, context.secrets);
    if (error.stack) error.stack = hideSecrets(error.stack, context.secrets);
  }
  return error;
}

/** How long a 429 asks us to wait: Retry-After, else the window's reset, else a default. */
export function retryAfterMsOf(headers: Headers): number {
  const retryAfter = parseRetryAfter(headers.get('retry-after'));
  if (retryAfter !== undefined) return retryAfter;
  const resets = /resets\s*=\s*(\d+)/i.exec(headers.get('zendesk-ratelimit-omnilog-index') ?? '')?.[1];
  return resets !== undefined ? Math.min(MAX_RETRY_AFTER_MS, Number(resets) * 1000) : DEFAULT_RETRY_AFTER_MS;
}

/** A JSON document cut short fails at its very end; any other syntax error fails earlier. */
function looksTruncated(body: string, error: unknown): boolean {
  const text = body.trimEnd();
  if (!/^\s*[{[]/.test(text)) return false;
  const message = String(error);
  if (/end of JSON input|Unterminated string/i.test(message)) return true;
  const position = /at position (\d+)/.exec(message)?.[1];
  return position !== undefined && Number(position) >= text.length;
}


function networkReason(error: unknown): string {
  for (const { code } of causeChain(error, { plain: true, depth: 5 })) {
    if (typeof code === 'string') return `${networkErrorReason(code) ?? 'network error'} (${code})`;
  }
  if (error instanceof Error && error.message === 'terminated') return 'connection dropped while reading the response';
  // fetch's own "fetch failed" says nothing; its cause says what did ("redirect count exceeded").
  let said = error instanceof Error ? error.message : 'network error';
  for (const { message } of causeChain((error as { cause?: unknown } | undefined)?.cause, { depth: 5 })) {
    if (message) said = message as string;
  }
  return said;
}

function isRawNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TypeError' && (error.message === 'fetch failed' || error.message === 'terminated')) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && networkErrorReason(code) !== undefined;
}

function hostOfRequest(error: unknown): string | undefined {
  const url = (error as { request?: { url?: unknown } } | undefined)?.request?.url;
  return typeof url === 'string' ? URL.parse(url)?.host : undefined;
}

function contextOf(context: ResponseContext, status: number | undefined): ZendeskErrorContext {
  return { status, ticketId: context.ticketId, cursor: context.cursor };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
