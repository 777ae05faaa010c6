import { describe, expect, it } from 'vitest';
import { localBudget, MAX_RETRY_AFTER_MS, parseRateLimit, parseRetryAfter } from '../../src/zendesk/rate-limit.ts';

describe('parseRateLimit', () => {
  it('reads the omnilog header and the status of a response', () => {
    const response = new Response('{}', {
      status: 200,
      headers: { 'Zendesk-RateLimit-omnilog-index': 'total=100; remaining=97; resets=42' },
    });
    expect(parseRateLimit(response)).toEqual({ status: 200, total: 100, remaining: 97, resetsMs: 42_000 });
  });

  it('ignores case, spacing and order, and skips malformed parts', () => {
    const headers = new Headers({ 'zendesk-ratelimit-OMNILOG-index': ' Resets = 5 ;REMAINING=0;  total=300 ; junk; total2=x' });
    expect(parseRateLimit(headers)).toEqual({ status: 0, total: 300, remaining: 0, resetsMs: 5000 });
    expect(parseRateLimit(new Headers({ 'zendesk-ratelimit-omnilog-index': 'total=abc; remaining=-1' }))).toEqual({ status: 0 });
  });

  it('caps a window reset as it caps Retry-After: days from a proxy or a clock would hold every worker for them', () => {
    const headers = new Headers({ 'zendesk-ratelimit-omnilog-index': 'total=100; remaining=0; resets=864000' });
    expect(parseRateLimit(headers).resetsMs).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRateLimit(new Headers({ 'zendesk-ratelimit-omnilog-index': 'resets=1e12' })).resetsMs).toBeUndefined();
  });

  it('returns only the status when nothing is known', () => {
    expect(parseRateLimit(new Response(null, { status: 503 }))).toEqual({ status: 503 });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const seconds = new Response(null, { status: 429, headers: { 'Retry-After': '7' } });
    expect(parseRateLimit(seconds, now)).toEqual({ status: 429, retryAfterMs: 7000 });
    const date = new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' });
    expect(parseRateLimit(date, now).retryAfterMs).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('localBudget', () => {
  // Whether a take waited is what onWait reports, not how long it took: a busy machine makes
  // a take that never waits slower than 50 ms.
  it('never blocks until a 429 is observed', async () => {
    const waits: number[] = [];
    const budget = localBudget({ onWait: (ms) => waits.push(ms) });
    budget.observe({ status: 200, total: 100, remaining: 0, resetsMs: 60_000 });
    for (let i = 0; i < 100; i++) await budget.take();
    expect(waits).toEqual([]);
  });

  it('waits out the Retry-After of a 429', async () => {
    const waits: number[] = [];
    const budget = localBudget({ onWait: (ms) => waits.push(ms) });
    // Read before the 429: a pause between the two cannot shorten what is measured below 200.
    const started = Date.now();
    budget.observe({ status: 429, retryAfterMs: 200 });
    await budget.take();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    // What is left of the 200 ms (none, when the machine paused that long after the 429).
    for (const ms of waits) expect(ms).toBeLessThanOrEqual(200);
    const waited = waits.length;
    await budget.take();
    expect(waits).toHaveLength(waited);
  });

  it('stops waiting when aborted', async () => {
    const budget = localBudget();
    budget.observe({ status: 429, retryAfterMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(budget.take(controller.signal)).rejects.toThrow('shutting down');
  });
});
