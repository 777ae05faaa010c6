// A rate-limit header that says total=0 (0 requests of 0) once. Stored as Zendesk's total, it
// made the window's cap 0: no permit, so no request, so no response to replace it, for good.
import { describe, expect, it } from 'vitest';
import { ensureBudget, observeBudget, takePermit } from '../../src/db/rate-budget.ts';
import { OMNILOG_HEADER, parseRateLimit } from '../../src/zendesk/rate-limit.ts';
import { accountRateLimitOf } from '../../src/zendesk/ticket-context.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { T0 } from './virtual-time.ts';

const database = useTestDatabase();

describe('a header that says total=0', () => {
  it('is left out by the parsers, as any other fact that cannot be true', () => {
    const omnilog = new Response('{}', { status: 200, headers: { [OMNILOG_HEADER]: 'total=0; remaining=0; resets=30' } });
    expect(parseRateLimit(omnilog)).toEqual({ status: 200, remaining: 0, resetsMs: 30_000 });
    const account = new Response('{}', { status: 200, headers: { 'X-Rate-Limit': '0', 'ratelimit-limit': '700', 'X-Rate-Limit-Remaining': '0' } });
    expect(accountRateLimitOf(account)).toEqual({ status: 200, total: 700, remaining: 0 });
    const none = new Response('{}', { status: 200, headers: { 'X-Rate-Limit': '0', 'ratelimit-limit': '0' } });
    expect(accountRateLimitOf(none).total).toBeUndefined();
  });

  it('observed anyway, does not stop the budget: a later window grants a permit again', async () => {
    const name = 'total_zero';
    await ensureBudget(database.pool, name, 100, 60_000, { nowMs: T0 });
    expect((await takePermit(database.pool, name, 100, 100, { nowMs: T0 }))!.granted).toBe(true);
    await observeBudget(database.pool, name, { status: 200, total: 0, remaining: 0, resetsMs: 30_000, sentAfterMs: T0 }, { nowMs: T0 + 100 });
    // An hour later, after 60 windows, with CONVLOG_RATE_LIMIT=100 and nothing else spending:
    const later = await takePermit(database.pool, name, 100, 100, { nowMs: T0 + 3_600_000 });
    expect(later!.granted, `refused; told to wait ${later!.waitMs} ms and ask again`).toBe(true);
  });
});
