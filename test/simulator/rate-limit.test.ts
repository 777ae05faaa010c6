import { describe, expect, it } from 'vitest';
import { get, logPath, simulator, sleep } from './helpers.ts';

const exportPath = (query: string) => `/api/v2/incremental/tickets/cursor.json?${query}`;
const OLD_ENOUGH = () => `start_time=${Math.floor(Date.now() / 1000) - 3600}`;

function parseOmnilog(header: string | null) {
  const match = /^total=(\d+); remaining=(\d+); resets=(\d+)$/.exec(header ?? '');
  if (!match) throw new Error(`bad header ${header}`);
  return { total: Number(match[1]), remaining: Number(match[2]), resets: Number(match[3]) };
}

describe('rate limits', () => {
  it('counts down, answers 429 with Retry-After when spent, and refills after the window', async () => {
    const sim = await simulator({ tickets: 3, rateLimit: 3, window: 2 }); // two seconds: room for the five requests below on a busy machine
    // Start at the beginning of a fresh window so all four requests share one.
    await sleep(parseOmnilog((await get(sim, logPath(1))).headers.get('zendesk-ratelimit-omnilog-index')).resets * 1000 + 20);

    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await get(sim, logPath(i === 2 ? 99 : 1)); // a 404 still spends the budget
      const header = parseOmnilog(response.headers.get('zendesk-ratelimit-omnilog-index'));
      expect(header.total).toBe(3);
      expect(header.resets).toBeGreaterThanOrEqual(1);
      remaining.push(header.remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);

    const limited = await get(sim, logPath(1));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(parseOmnilog(limited.headers.get('zendesk-ratelimit-omnilog-index')).remaining).toBe(0);
    const second = await get(sim, logPath(1));
    // Bodies alternate between JSON and plain text, as Zendesk's do.
    expect(new Set([limited.headers.get('content-type'), second.headers.get('content-type')]).size).toBe(2);

    await sleep(Number(limited.headers.get('retry-after')) * 1000 + 20);
    const refilled = await get(sim, logPath(1));
    expect(refilled.status).toBe(200);
    expect(parseOmnilog(refilled.headers.get('zendesk-ratelimit-omnilog-index')).remaining).toBe(2);
  });

  it('refused requests do not spend the budget; 401s neither', async () => {
    const sim = await simulator({ tickets: 1, rateLimit: 2, window: 60 });
    await get(sim, logPath(1), {});
    await get(sim, logPath(1));
    await get(sim, logPath(1));
    for (let i = 0; i < 3; i++) expect((await get(sim, logPath(1))).status).toBe(429);
    sim.setOptions({ rateLimit: 4 });
    const response = await get(sim, logPath(1));
    expect(response.status).toBe(200);
    expect(parseOmnilog(response.headers.get('zendesk-ratelimit-omnilog-index'))).toMatchObject({ total: 4, remaining: 1 });
    // The conversation log has a budget of its own: it reports the account-wide window, untouched.
    expect(response.headers.get('x-rate-limit')).toBe('700');
    expect(response.headers.get('x-rate-limit-remaining')).toBe('700');
  });

  it('the export has its own budget', async () => {
    const sim = await simulator({ tickets: 2, rateLimit: 1, exportRateLimit: 2, window: 60 });
    expect((await get(sim, exportPath(OLD_ENOUGH()))).status).toBe(200);
    expect((await get(sim, exportPath(OLD_ENOUGH()))).status).toBe(200);
    const limited = await get(sim, exportPath(OLD_ENOUGH()));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await get(sim, logPath(1))).status).toBe(200);
    expect((await get(sim, logPath(1))).status).toBe(429);
  });

  it('rateLimit 0 is unlimited and sends no rate-limit headers', async () => {
    const sim = await simulator({ tickets: 1, rateLimit: 0 });
    for (let i = 0; i < 150; i++) {
      const response = await get(sim, logPath(1, 'page[size]=1'));
      expect(response.status).toBe(200);
      expect(response.headers.get('zendesk-ratelimit-omnilog-index')).toBeNull();
      expect(response.headers.get('x-rate-limit-remaining')).toBeNull();
      await response.arrayBuffer();
    }
  });
});
