import { describe, expect, it } from 'vitest';
import { hideSecrets } from '../../src/errors/messages.ts';
import {
  BadRequest,
  Forbidden,
  InvalidCursor,
  InvalidResponse,
  NotZendeskApi,
  RateLimited,
  ServerError,
  TicketNotFound,
  Unauthorized,
} from '../../src/errors/zendesk-errors.ts';
import { describeBody } from '../../src/zendesk/describe-body.ts';
import { DEFAULT_RETRY_AFTER_MS, errorForFailure, errorForResponse, readJsonResponse } from '../../src/zendesk/responses.ts';

const context = { ticketId: 42, cursor: 'abc+/=', host: 'acme.zendesk.com' };

async function raw(body: string | null, init: ResponseInit) {
  const response = new Response(body, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function failure(body: string | null, init: ResponseInit) {
  try {
    readJsonResponse(await raw(body, init), context);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const json = (value: unknown, status: number, headers: Record<string, string> = {}) =>
  failure(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('readJsonResponse', () => {
  it('returns the parsed body of a 2xx', async () => {
    expect(readJsonResponse(await raw('{"events":[],"meta":{"has_more":false}}', { status: 200 }))).toEqual({
      events: [],
      meta: { has_more: false },
    });
  });

  it('turns a cut-off, empty or non-JSON 2xx body into InvalidResponse with ticket and cursor', async () => {
    const cut = await failure('{"events":[{"id":"1","reference":"zen:ti', { status: 200 });
    expect(cut).toBeInstanceOf(InvalidResponse);
    expect((cut as InvalidResponse).problem).toMatch(/cut off after \d+ characters/);
    expect(cut.message).toContain('ticket 42');
    expect(cut.message).toContain('abc+/=');
    expect((cut as InvalidResponse).ticketId).toBe(42);

    const html = await failure('<html><head><title>Maintenance</title></head><body>back soon</body></html>', {
      status: 200,
      headers: { 'content-type': 'text/html' },
    });
    expect((html as InvalidResponse).problem).toBe('the body is not JSON: Maintenance');

    expect(((await failure('', { status: 200 })) as InvalidResponse).problem).toBe('the body is empty');
  });
});

describe('errorForResponse', () => {
  it('maps 401, 403 and 404 with the description of either JSON shape', async () => {
    const unauthorized = await json({ error: "Couldn't authenticate you" }, 401);
    expect(unauthorized).toBeInstanceOf(Unauthorized);
    expect(unauthorized.message).toContain("401 Unauthorized: Couldn't authenticate you");
    expect(unauthorized.message).toContain('ZENDESK_API_TOKEN');

    const forbidden = await json({ error: 'Forbidden', description: 'You do not have access to this page.' }, 403);
    expect(forbidden).toBeInstanceOf(Forbidden);
    expect(forbidden.message).toContain('ticket 42');
    expect(forbidden.message).toContain('Forbidden: You do not have access to this page.');

    const notFound = await json({ error: 'RecordNotFound', description: 'Not found' }, 404);
    expect(notFound).toBeInstanceOf(TicketNotFound);
    expect((notFound as TicketNotFound).status).toBe(404);
    expect(notFound.message).toBe(
      'Ticket 42 was not found at acme.zendesk.com: deleted or never existed (404 Not Found: RecordNotFound: Not found)',
    );
  });

  it('takes a JSON 404 for a deleted ticket, in either shape and however it is worded, unless it names InvalidEndpoint', async () => {
    const listShape = await json({ errors: [{ code: 'RecordNotFound', title: 'Not found' }] }, 404);
    expect(listShape).toBeInstanceOf(TicketNotFound);
    expect(listShape.message).toContain('RecordNotFound: Not found');
    expect(await json({ errors: [{ code: 'TicketNotFound', title: 'Ticket not found', detail: 'No ticket 42' }] }, 404)).toBeInstanceOf(TicketNotFound);
    // Zendesk's wording of a missing record is not promised: a JSON 404 stands for one, or every
    // real deletion would stop the workers. A URL that is not the API is caught at start-up.
    expect(await json({ errors: [{ status: '404', title: 'Not Found' }] }, 404)).toBeInstanceOf(TicketNotFound);
    expect(await json({ error: 'not found' }, 404)).toBeInstanceOf(TicketNotFound);
  });

  it('maps a 404 that is not about a record (an unknown route, a page, no body) to NotZendeskApi, naming the setting and the URL', async () => {
    const at = { ...context, baseUrl: 'http://user:pa55word@127.0.0.1:7101/api/v2', path: 'api/v2/tickets/42/conversation_log' };
    const answers: [string | null, ResponseInit][] = [
      [JSON.stringify({ error: 'InvalidEndpoint', description: 'Not found' }), { status: 404, headers: { 'content-type': 'application/json' } }],
      [JSON.stringify({ errors: [{ code: 'InvalidEndpoint', title: 'Not found' }] }), { status: 404 }],
      ['<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>', { status: 404, headers: { 'content-type': 'text/html' } }],
      ['Cannot GET /api/v2/api/v2/tickets/42/conversation_log', { status: 404, headers: { 'content-type': 'text/plain' } }],
      ['', { status: 404 }],
      [null, { status: 404 }],
    ];
    for (const [body, init] of answers) {
      const error = errorForResponse(await raw(body, init), at);
      expect(error, String(body)).toBeInstanceOf(NotZendeskApi);
      expect(error.status).toBe(404);
      expect(error.message).toMatch(
        /^ZENDESK_BASE_URL \(http:\/\/user:\[redacted\]@127\.0\.0\.1:7101\/api\/v2\) answered 404 Not Found for \/api\/v2\/tickets\/42\/conversation_log \(.+\), which is not Zendesk's API: it must be the account's root URL, e\.g\. https:\/\/acme\.zendesk\.com/,
      );
      expect(error.message).not.toContain('pa55word');
      expect(error.message).not.toMatch(/\n/);
    }
    // The subdomain's URL names ZENDESK_SUBDOMAIN.
    const subdomain = errorForResponse(await raw('<html><title>Help Center</title></html>', { status: 404 }), { ...context, baseUrl: 'https://acme.zendesk.com', path: 'api/v2/users/me.json' });
    expect(subdomain.message).toBe(
      "ZENDESK_SUBDOMAIN (https://acme.zendesk.com) answered 404 Not Found for /api/v2/users/me.json (Help Center), which is not Zendesk's API: check ZENDESK_SUBDOMAIN (acme for https://acme.zendesk.com)",
    );
  });

  it('maps 400 InvalidPaginationParameter to InvalidCursor and other 4xx to BadRequest', async () => {
    const cursor = await json({ errors: [{ code: 'InvalidPaginationParameter', title: 'page[after] is not valid' }] }, 400);
    expect(cursor).toBeInstanceOf(InvalidCursor);
    expect(cursor.message).toContain('InvalidPaginationParameter: page[after] is not valid');
    expect((cursor as InvalidCursor).cursor).toBe('abc+/=');
    // A first page sent no cursor: what Zendesk refused is another page parameter.
    const body = JSON.stringify({ errors: [{ code: 'InvalidPaginationParameter', title: 'page[size] is not valid' }] });
    const first = errorForResponse(await raw(body, { status: 400 }), { ...context, cursor: null });
    expect(first).toBeInstanceOf(BadRequest);
    expect(first.message).toBe('Zendesk at acme.zendesk.com rejected the request for ticket 42 (400 Bad Request: InvalidPaginationParameter: page[size] is not valid)');

    const other = await json({ errors: [{ code: 'InvalidParameter', title: 'Bad', detail: 'sort is not valid' }] }, 400);
    expect(other).toBeInstanceOf(BadRequest);
    expect(other.message).toContain('InvalidParameter: Bad: sort is not valid');
    expect(await json({ error: 'Unprocessable' }, 422)).toBeInstanceOf(BadRequest);
  });

  it('maps 429 to RateLimited with the wait from Retry-After, resets, or a default', async () => {
    const withRetryAfter = await failure('Too Many Requests', { status: 429, headers: { 'retry-after': '7' } });
    expect(withRetryAfter).toBeInstanceOf(RateLimited);
    expect((withRetryAfter as RateLimited).retryAfterMs).toBe(7000);
    expect(withRetryAfter.message).toContain('retry after 7 s');

    const withResets = await failure('{}', { status: 429, headers: { 'zendesk-ratelimit-omnilog-index': 'total=100; remaining=0; resets=12' } });
    expect((withResets as RateLimited).retryAfterMs).toBe(12_000);
    expect(((await failure('', { status: 429 })) as RateLimited).retryAfterMs).toBe(DEFAULT_RETRY_AFTER_MS);
  });

  it('maps 5xx to ServerError with a short readable description of HTML or text', async () => {
    const html = `<!DOCTYPE html><html><head><style>body{}</style><title>504 Gateway Time-out</title></head><body>${'x'.repeat(5000)}</body></html>`;
    const gateway = await failure(html, { status: 504, headers: { 'content-type': 'text/html' } });
    expect(gateway).toBeInstanceOf(ServerError);
    expect(gateway.message).toBe('Zendesk at acme.zendesk.com failed while serving ticket 42 (504 Gateway Timeout: 504 Gateway Time-out)');

    const text = await failure(`upstream connect error ${'y'.repeat(1000)}`, { status: 503 });
    expect(text).toBeInstanceOf(ServerError);
    expect(text.message.length).toBeLessThan(400);
    expect(text.message).toContain('…');
  });

  it('maps 408 to ServerError, retried like one: a proxy that timed out says nothing of the request', async () => {
    const timedOut = await failure('Request Timeout', { status: 408 });
    expect(timedOut).toBeInstanceOf(ServerError);
    expect(timedOut.message).toBe('Zendesk at acme.zendesk.com timed out waiting for the request for ticket 42 (408 Request Timeout: Request Timeout)');
  });

  it('maps an unexpected status to InvalidResponse', async () => {
    const error = errorForResponse({ status: 304, headers: new Headers(), body: '' }, context);
    expect(error).toBeInstanceOf(InvalidResponse);
  });
});

describe('describeBody', () => {
  it('keeps descriptions at 200 characters or fewer', () => {
    expect(describeBody(JSON.stringify({ error: 'E', description: 'd'.repeat(500) })).length).toBe(200);
    expect(describeBody('<h1>Bad   gateway</h1>\n<p>nginx</p>', 'text/html')).toBe('Bad gateway');
    expect(describeBody('  plain\n  text  ')).toBe('plain text');
    expect(describeBody(JSON.stringify({ unexpected: true }))).toBe('{"unexpected":true}');
  });
});

describe('redaction', () => {
  it('never repeats a credential echoed in an error body', async () => {
    const token = 'sEcReTtOkEn123456';
    const basic = Buffer.from(`me@acme.test/token:${token}`).toString('base64');
    const body = JSON.stringify({ error: 'Invalid', description: `Authorization: Basic ${basic} token=${token}` });
    const error = errorForResponse(await raw(body, { status: 401 }), { ...context, secrets: [token, basic] });
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain(basic);
    expect(error.message).toContain('[redacted]');
    expect(hideSecrets('Bearer abcdefghijkl0123')).toBe('Bearer [redacted]');
  });

  it('never repeats a credential with a quote or backslash that a JSON body quotes escaped', async () => {
    // A body of a shape describeBody does not know is shown re-serialised: the token's `"` and
    // `\\` come back escaped, and the token as written is no longer in the text.
    const token = 'SEKRIT"TOK\\EN';
    const body = JSON.stringify({ detail: { decoded: `a@example.com/token:${token}` } });
    const error = errorForResponse(await raw(body, { status: 400 }), { ...context, secrets: [token] });
    expect(error.message).not.toContain('SEKRIT');
    expect(error.message).toContain('a@example.com/token:[redacted]');
    expect(hideSecrets('?token=SEKRIT%22TOK%5CEN', [token])).toBe('?token=[redacted]');
  });

  it("takes the credential out of Node's own refusals, which quote the header it was in", () => {
    const token = 'abc\ndefSECRET';
    const refusal = new TypeError(`Headers.append: "Bearer ${token}" is an invalid header value.`);
    const error = errorForFailure(refusal, { ...context, secrets: [token] });
    expect(error).toBe(refusal);
    expect(refusal.message).toBe('Headers.append: "Bearer [redacted]" is an invalid header value.');
    expect(refusal.stack).not.toContain('SECRET');
  });
});
