// `sync` asks Zendesk who its credentials belong to before it queues anything, so that wrong
// credentials stop it with nothing changed, instead of leaving every ticket it was given queued
// with a 401. It asks /users/me, which costs nothing from the conversation-log budget, so that
// re-syncing an unchanged ticket still costs that budget one request. The same request tells
// whether the host exists and answers at all: a mistyped subdomain or a wrong port is reported
// at once rather than after each ticket's retries run out; and whether what answers is Zendesk's
// API: a base URL with /api/v2 in it, or one of a web server that is not Zendesk, answers 404
// (or a page) for every request, which the sync must never meet.
import { causeChain, errorMessage, unreachableReason } from '../errors/messages.ts';
import { BadRequest, InvalidResponse, NotZendeskApi, ServerError, TicketNotFound, Unauthorized, ZendeskUnreachable } from '../errors/zendesk-errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { logWait } from '../timing.ts';
import { fetchWithRetries } from './fetch-with-retries.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { localBudget } from './rate-limit.ts';
import { clientContext, notZendeskApi, zendeskUrlSetting, type RawResponse, type ResponseContext } from './responses.ts';

export interface CredentialCheck {
  http: ZendeskHttp;
  log?: Logger;
  signal?: AbortSignal;
}

/**
 * Rejects with Unauthorized, naming `whatWaits`, when Zendesk refuses the credentials (or takes
 * them for an anonymous visitor); with NotZendeskApi, naming `whatWaits`, when what answers is not
 * Zendesk's API (a 404, a page that is not JSON, JSON without a user); and with ZendeskUnreachable
 * when the host does not resolve, refuses the connection, fails the TLS handshake (an https://
 * URL of a plain-HTTP port), does not answer, or closes the connection without an HTTP answer
 * (twice: a port that is no HTTP server). Any other outcome (a 5xx, a 403) is left to the sync,
 * which meets it with its own retries.
 */
export async function checkCredentials(check: CredentialCheck, whatWaits: string): Promise<void> {
  const log = check.log ?? silentLogger;
  const info = zendeskHttpInfo(check.http);
  const where = info?.host ? ` at ${info.host}` : '';
  const origin = info?.origin ?? info?.host ?? 'Zendesk';
  const context = clientContext(info);
  try {
    await fetchWithRetries(
      {
        http: check.http,
        // The account-wide limit (700 a minute) is far away; one request needs no shared budget.
        // But other integrations spend it too: a 429 holds this request back, and says so.
        budget: localBudget({ onWait: (waitMs) => logCheckWait(log, waitMs) }),
        signal: check.signal,
        log,
        maxAttempts: 2,
        retryBaseMs: 500,
        maxBackoffMs: 2_000,
        maxServerRetryAfterMs: 5_000,
        logName: 'credential check',
        rateLimitOf: (response) => ({ status: response.status }),
      },
      {
        path: 'api/v2/users/me.json',
        searchParams: new URLSearchParams(),
        context,
        page: 1,
        // Not retried: a host that does not resolve or refuses connections will not in a second,
        // and a server that is not Zendesk's API will not become it. A timeout is retried once (a
        // slow answer is not no answer) and judged below.
        rewordError: (error, answer) => asZendeskUnreachable(error, origin, { retried: false }) ?? notTheApi(error, answer, context) ?? error,
        validate: (value) => {
          const user = (value as { user?: unknown } | null)?.user;
          // Zendesk always answers with a user, whose id is null for an anonymous visitor.
          if (!user || typeof user !== 'object') throw new InvalidResponse('the body has no user', { status: 200 });
          const id = (user as { id?: unknown }).id;
          if (id === null || id === undefined) {
            throw new Unauthorized(`Zendesk${where} took the credentials for an anonymous visitor; check ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN`);
          }
          return id;
        },
      },
    );
  } catch (error) {
    if (error instanceof Unauthorized) {
      throw new Unauthorized(`${error.message}; ${whatWaits}`, { status: error.status }, { cause: error });
    }
    if (error instanceof NotZendeskApi) {
      throw new NotZendeskApi(`${error.message}; ${whatWaits}`, { status: error.status }, { cause: error });
    }
    if (error instanceof ZendeskUnreachable) throw error;
    const unanswered = asZendeskUnreachable(error, origin, { retried: true });
    if (unanswered) throw unanswered;
    log.debug({ err: errorMessage(error) }, 'credential check: no verdict; the sync will meet this too');
  }
}

/** A 429 on /users/me holds back everything that waits for this check (a sync, a worker's tickets): long enough, it is logged. */
function logCheckWait(log: Logger, waitMs: number): void {
  logWait(log, {
    text: "Zendesk's account-wide rate limit (it answered 429 Too Many Requests to the credential check; its Retry-After is waited out)",
    waitMs,
    context: { budget: 'account', cause: 'retry-after', path: 'api/v2/users/me.json' },
  });
}

/**
 * NotZendeskApi when /users/me's answer shows the URL does not lead to Zendesk's API: any 404
 * (even RecordNotFound: the account's root has a /users/me), a 2xx that is not JSON or has no
 * user, or a refusal (4xx other than 401, 403, 429) whose body is not JSON. Else undefined: a 5xx,
 * an empty or cut-off body, a 403 may be Zendesk having a bad moment, and the sync meets them.
 */
function notTheApi(error: unknown, answer: RawResponse | undefined, context: ResponseContext): NotZendeskApi | undefined {
  if (error instanceof NotZendeskApi) return error;
  if (!answer) return undefined;
  const text = answer.body.trim();
  const json = text.startsWith('{') || text.startsWith('[');
  if (error instanceof TicketNotFound) return notZendeskApi(answer, context);
  if (error instanceof BadRequest && !json) return notZendeskApi(answer, context);
  if (error instanceof InvalidResponse && answer.status >= 200 && answer.status < 300 && text !== '' && (!json || parses(text))) {
    return notZendeskApi(answer, context);
  }
  return undefined;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * ZendeskUnreachable when `error` (a mapped ServerError) is a request that never reached a server,
 * else undefined. A timeout, or a connection closed without an HTTP answer, counts only once the
 * request was `retried`: one slow answer or one dropped connection is not an absent host, but a
 * port that closes every connection, or answers something that is not HTTP, is no HTTP server.
 */
export function asZendeskUnreachable(error: unknown, origin: string, options: { retried: boolean }): ZendeskUnreachable | undefined {
  if (!(error instanceof ServerError)) return undefined;
  const reason = reasonOf(error.cause, options.retried);
  if (!reason) return undefined;
  const setting = zendeskUrlSetting(origin);
  return new ZendeskUnreachable(`cannot reach Zendesk at ${origin}: ${reason} (check ${setting})`, {}, { cause: error });
}

function reasonOf(cause: unknown, retried: boolean): string | undefined {
  if ((cause as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return retried ? 'no answer within the request timeout, twice (CONVLOG_REQUEST_TIMEOUT)' : undefined;
  }
  for (const { code, name } of causeChain(cause, { plain: true, depth: 5 })) {
    const reason = typeof code === 'string' ? unreachableReason(code) : undefined;
    if (reason) return reason;
    const notHttp = code === 'UND_ERR_SOCKET' || name === 'HTTPParserError';
    if (retried && notHttp) {
      return 'the server closed the connection without an HTTP answer, twice (is that port an HTTP server?)';
    }
  }
  return undefined;
}
