import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { InvalidCursor } from '../../src/errors/zendesk-errors.ts';
import { pageConversationLog } from '../../src/zendesk/conversation-log.ts';
import type { ZendeskHttp } from '../../src/zendesk/http.ts';
import { asReceived, clientFor, drain, recordingBudget, rejection } from './helpers.ts';

let sim: Simulator;
let http: ZendeskHttp;

beforeAll(async () => {
  sim = await startSimulator({
    tickets: 10,
    seed: 1,
    ticketSizes: { 1: 0, 2: 1, 3: 100, 4: 101, 5: 2500, 6: 250, 7: 30 },
    rateLimit: 0,
    window: 60,
  });
  http = clientFor(sim.url);
});
afterAll(() => sim.close());
beforeEach(() => sim.resetRequests());

describe('paging a whole ticket', () => {
  it.each([
    [1, 0, 1],
    [2, 1, 1],
    [3, 100, 1],
    [4, 101, 2],
    [5, 2500, 25],
  ])('ticket %i: %i events in %i requests, each exactly once and as served', async (ticketId, count, requests) => {
    const { pages, events } = await drain(http, ticketId);
    expect(events).toHaveLength(count);
    expect(new Set(events.map((event) => event.reference)).size).toBe(count);
    expect(events).toStrictEqual(asReceived(sim.events(ticketId)));
    expect(sim.requests).toHaveLength(requests);
    expect(sim.requests.every((r) => r.query['page[size]'] === '100' && r.ticketId === ticketId)).toBe(true);
    expect(pages.map((page) => page.hasMore)).toEqual([...Array(requests - 1).fill(true), false]);
    // Each page was asked for with the cursor of the one before.
    pages.forEach((page, i) => expect(page.cursorBefore).toBe(i === 0 ? null : pages[i - 1].afterCursor));
    expect(pages.every((page) => page.requests === 1)).toBe(true);
  });

  it('keeps a cursor to resume from on the last page, and none for an empty ticket', async () => {
    const empty = await drain(http, 1);
    expect(empty.pages[0]).toMatchObject({ cursorBefore: null, afterCursor: null, hasMore: false, events: [] });
    const { pages } = await drain(http, 4);
    expect(pages.at(-1)!.afterCursor).toEqual(expect.any(String));
  });

  it('honours a smaller page size', async () => {
    const { pages, events } = await drain(http, 6, { pageSize: 40 });
    expect(pages.map((page) => page.events.length)).toEqual([40, 40, 40, 40, 40, 40, 10]);
    expect(events).toStrictEqual(asReceived(sim.events(6)));
    expect(sim.requests.every((r) => r.query['page[size]'] === '40')).toBe(true);
  });

  it('fetches lazily: one request per page the caller asks for', async () => {
    const pager = pageConversationLog(http, 5);
    const first = await pager.next();
    expect(first.value && first.value.events).toHaveLength(100);
    expect(sim.requests).toHaveLength(1);
    await pager.return();
    expect(sim.requests).toHaveLength(1);
  });

  it('refuses a page size Zendesk would reject, before any request', async () => {
    await expect(drain(http, 3, { pageSize: 101 })).rejects.toThrow(RangeError);
    await expect(drain(http, 3, { pageSize: 0 })).rejects.toThrow(RangeError);
    expect(sim.requests).toHaveLength(0);
  });
});

describe('resuming from a saved cursor', () => {
  it('returns only events appended since, and an unchanged ticket costs one request', async () => {
    const first = await drain(http, 7);
    const saved = first.pages.at(-1)!.afterCursor;
    expect(saved).toMatch(/\+/);
    expect(saved).toMatch(/\//);

    sim.resetRequests();
    const unchanged = await drain(http, 7, { afterCursor: saved });
    expect(unchanged.events).toEqual([]);
    expect(sim.requests).toHaveLength(1);
    expect(unchanged.pages[0].afterCursor).toBe(saved);

    const appended = asReceived(sim.appendEvents(7, 150));
    sim.resetRequests();
    const resumed = await drain(http, 7, { afterCursor: saved });
    expect(resumed.events).toStrictEqual(appended);
    expect(sim.requests).toHaveLength(2);

    // The cursor arrived intact, so it was sent percent-encoded (a raw "+" would become a space).
    expect(sim.requests[0].query['page[after]']).toBe(saved);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('surfaces a cursor Zendesk no longer accepts as InvalidCursor, at once', async () => {
    const error = await rejection(drain(http, 3, { afterCursor: 'bm90IGEgY3Vyc29y+/==' }));
    expect(error).toBeInstanceOf(InvalidCursor);
    expect((error as InvalidCursor).cursor).toBe('bm90IGEgY3Vyc29y+/==');
    expect(error.message).toContain('ticket 3');
    expect(sim.requests).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('reports every response to the budget', async () => {
    const budget = recordingBudget();
    await drain(http, 4, { budget });
    expect(budget.taken).toBe(2);
    expect(budget.observed.map((info) => info.status)).toEqual([200, 200]);
  });

  it('waits for Retry-After after a 429 and then succeeds, every attempt through the budget', async () => {
    const limited = await startSimulator({ tickets: 3, seed: 2, ticketSizes: { 1: 500 }, rateLimit: 2, window: 1 });
    try {
      const budget = recordingBudget();
      const { pages, events } = await drain(clientFor(limited.url), 1, { budget });
      expect(events).toStrictEqual(asReceived(limited.events(1)));

      const tooMany = budget.observed.filter((info) => info.status === 429);
      expect(tooMany.length).toBeGreaterThan(0);
      expect(tooMany.every((info) => info.retryAfterMs! >= 1000)).toBe(true);
      expect(budget.observed.find((info) => info.status === 200)).toMatchObject({ total: 2, resetsMs: expect.any(Number) });
      expect(budget.taken).toBe(limited.requests.length);
      expect(pages.reduce((sum, page) => sum + page.requests, 0)).toBe(limited.requests.length);

      // After each 429 the next request waited out the Retry-After and was served.
      limited.requests.forEach((request, i) => {
        if (request.status !== 429) return;
        const next = limited.requests[i + 1];
        expect(next.status).toBe(200);
        expect(next.at - request.at).toBeGreaterThanOrEqual(900);
      });
    } finally {
      await limited.close();
    }
  });

  it('waits out every 429 as the headers ask even when the budget never waits, and never gives up', async () => {
    const limited = await startSimulator({ tickets: 3, seed: 3, ticketSizes: { 1: 250 }, rateLimit: 1, window: 1 });
    try {
      const careless = { take: async () => {}, observe: () => {} };
      const { events } = await drain(clientFor(limited.url), 1, { budget: careless });
      expect(events).toHaveLength(250);
      const limitedAnswers = limited.requests.filter((r) => r.status === 429).length;
      // Each page after the first meets at most one 429 per window: no request is sent before Retry-After.
      expect(limitedAnswers).toBeGreaterThan(0);
      expect(limitedAnswers).toBeLessThanOrEqual(4);
    } finally {
      await limited.close();
    }
  });
});
