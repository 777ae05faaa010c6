// A 429 whose Retry-After is days or years long (a proxy's or a clock's error). Past 2^31 ms a
// Node timer fires after 1 ms, so honouring it as given sent request after request without pause,
// and the shared budget passed the same pause to every worker. It is capped instead.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, timerMs } from '../../src/timing.ts';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS, parseRetryAfter } from '../../src/zendesk/rate-limit.ts';
import { retryAfterMsOf } from '../../src/zendesk/responses.ts';
import { clientFor, drain, recordingBudget } from './helpers.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A Zendesk that answers every request 429 with these headers. */
async function zendeskRefusing(headers: Record<string, string>): Promise<{ url: string; requests: number[] }> {
  const requests: number[] = [];
  server = createServer((_req, res) => {
    requests.push(Date.now());
    res.writeHead(429, { 'content-type': 'application/json', ...headers }).end('{"error":"TooManyRequests"}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('a 429 asking for an absurdly long wait', { timeout: 30_000 }, () => {
  it('is capped at MAX_RETRY_AFTER_MS, as seconds, as a date and as a window reset', () => {
    const now = Date.parse('2026-12-04T00:00:00Z');
    expect(parseRetryAfter('99999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('60', now)).toBe(60_000);
    expect(retryAfterMsOf(new Headers({ 'zendesk-ratelimit-omnilog-index': 'total=100; remaining=0; resets=99999999' }))).toBe(MAX_RETRY_AFTER_MS);
    expect([timerMs(1e12), timerMs(-5), timerMs(Number.NaN), timerMs(250)]).toEqual([MAX_TIMER_MS, 0, 0, 250]);
  });

  it('makes one request and then waits, instead of sending again at once', async () => {
    const zendesk = await zendeskRefusing({ 'retry-after': '99999999' });
    const budget = recordingBudget();
    const signal = AbortSignal.timeout(1500);
    await expect(drain(clientFor(zendesk.url), 7, { budget, signal })).rejects.toThrow();
    expect(zendesk.requests).toHaveLength(1);
    expect(budget.observed[0]).toMatchObject({ status: 429, retryAfterMs: MAX_RETRY_AFTER_MS });
  });
});

// The other end: a 429 asking for no wait, answered to every request (a proxy, a misbehaving
// gateway). Taken at its word, the client sent request after request without pause.
describe('a 429 asking for no wait at all', { timeout: 30_000 }, () => {
  it('still holds requests back MIN_RETRY_AFTER_MS, and tells the budget so', async () => {
    const zendesk = await zendeskRefusing({ 'retry-after': '0' });
    const budget = recordingBudget();
    const signal = AbortSignal.timeout(2500);
    await expect(drain(clientFor(zendesk.url), 7, { budget, signal })).rejects.toThrow();
    // At 0, 1 and 2 s: three requests in 2.5 s, not hundreds.
    expect(zendesk.requests.length).toBeGreaterThanOrEqual(2);
    expect(zendesk.requests.length).toBeLessThanOrEqual(3);
    zendesk.requests.slice(1).forEach((at, i) => expect(at - zendesk.requests[i]).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS - 50));
    expect(budget.observed[0]).toMatchObject({ status: 429, retryAfterMs: MIN_RETRY_AFTER_MS });
  });
});
