// Every budget hears how long a 429 holds everyone back, even when Zendesk's answer says nothing
// about it: the Zendesk side fills in the wait, so no budget keeps a default of its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createZendeskHttp, type RateLimitInfo, type RequestBudget } from '../../src/zendesk/index.ts';
import { fetchWithRetries } from '../../src/zendesk/fetch-with-retries.ts';
import { DEFAULT_RETRY_AFTER_MS } from '../../src/zendesk/responses.ts';
import { accountRateLimitOf } from '../../src/zendesk/ticket-context.ts';

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Answers the first request with a bare 429 (plus `headers`), every later one with `{}`. */
async function zendeskAnswering429(headers: Record<string, string>): Promise<string> {
  let requests = 0;
  server = http.createServer((_, response) => {
    if (requests++ === 0) response.writeHead(429, headers).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/**
 * What the budget is told about the 429; it never makes anyone wait. The fetch is then stopped:
 * it would sit out the wait it was given (ten seconds by default) before asking again.
 */
async function observedBy429(
  headers: Record<string, string>,
  // Like an endpoint whose headers say nothing about a 429's wait.
  rateLimitOf: (response: Response) => RateLimitInfo = (response) => ({ status: response.status }),
): Promise<RateLimitInfo[]> {
  const baseUrl = await zendeskAnswering429(headers);
  const observed: RateLimitInfo[] = [];
  const stop = new AbortController();
  const budget: RequestBudget = {
    take: async () => {},
    observe: (info) => {
      observed.push(info);
      if (info.status === 429) stop.abort();
    },
  };
  const fetched = fetchWithRetries(
    {
      http: createZendeskHttp({ baseUrl, auth: { kind: 'token', email: 'a@example.com', token: 't' }, requestTimeoutMs: 5_000 }),
      budget,
      signal: stop.signal,
      log: silentLogger,
      maxAttempts: 1,
      retryBaseMs: 1,
      maxBackoffMs: 1,
      maxServerRetryAfterMs: 1,
      logName: 'test',
      rateLimitOf,
    },
    { path: 'api/v2/anything.json', searchParams: new URLSearchParams(), context: {}, page: 1, validate: (value) => value },
  );
  await expect(fetched).rejects.toThrow();
  return observed;
}

describe('a 429 reaching the budget', () => {
  it('carries the default wait when Zendesk gives neither Retry-After nor a reset', async () => {
    expect(await observedBy429({})).toEqual([{ status: 429, retryAfterMs: DEFAULT_RETRY_AFTER_MS }]);
  });

  it("carries the window's reset when that is all Zendesk says", async () => {
    const observed = await observedBy429({ 'Zendesk-RateLimit-omnilog-index': 'total=100; remaining=0; resets=3' });
    expect(observed).toEqual([{ status: 429, retryAfterMs: 3_000 }]);
  });

  it("carries the account-wide window's reset (ratelimit-reset) for show_many and the lists", async () => {
    const account = { 'X-Rate-Limit': '700', 'X-Rate-Limit-Remaining': '0', 'ratelimit-limit': '700', 'ratelimit-remaining': '0', 'ratelimit-reset': '45' };
    const observed = await observedBy429(account, accountRateLimitOf);
    expect(observed).toEqual([{ status: 429, total: 700, remaining: 0, resetsMs: 45_000, retryAfterMs: 45_000 }]);
    // Retry-After, when given, still comes first.
    expect(accountRateLimitOf(new Response(null, { status: 429, headers: { ...account, 'Retry-After': '7' } })).retryAfterMs).toBe(7_000);
  });
});
