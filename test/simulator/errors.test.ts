import { describe, expect, it, vi } from 'vitest';
import { get, logPath, simulator } from './helpers.ts';

describe('authentication and missing tickets', () => {
  it('401 without an Authorization header, no rate-limit header, not counted', async () => {
    const sim = await simulator({ tickets: 3, rateLimit: 5 });
    const response = await get(sim, logPath(1), {});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Couldn't authenticate you" });
    expect(response.headers.get('zendesk-ratelimit-omnilog-index')).toBeNull();
    const ok = await get(sim, logPath(1));
    expect(ok.headers.get('zendesk-ratelimit-omnilog-index')).toMatch(/^total=5; remaining=4; resets=\d+$/);
    expect(sim.requests.map((r) => [r.status, r.authorization])).toEqual([[401, false], [200, true]]);
  });

  it('accepts Bearer tokens too, and rejects other schemes', async () => {
    const sim = await simulator({ tickets: 1 });
    expect((await get(sim, logPath(1), { authorization: 'Bearer abc123' })).status).toBe(200);
    expect((await get(sim, logPath(1), { authorization: 'Token abc123' })).status).toBe(401);
  });

  it('404 RecordNotFound for unknown and deleted tickets, 403 for forbidden ones', async () => {
    const sim = await simulator({ tickets: 10, forbidden: [4], deleted: [5], rateLimit: 100 });
    for (const id of [0, 11, 5]) {
      const response = await get(sim, logPath(id));
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'RecordNotFound', description: 'Not found' });
      expect(response.headers.get('zendesk-ratelimit-omnilog-index')).not.toBeNull();
    }
    const denied = await get(sim, logPath(4));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ errors: [{ code: 'Forbidden', title: 'You do not have access to this ticket' }] });
  });

  it('404 InvalidEndpoint for unknown paths', async () => {
    const sim = await simulator();
    const response = await get(sim, '/api/v2/tickets/1/comments.json');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'InvalidEndpoint', description: 'Not found' });
    expect(sim.requests[0]).toMatchObject({ kind: 'other', status: 404, path: '/api/v2/tickets/1/comments.json' });
  });

  it('records every answered request with its query and ticket id', async () => {
    const sim = await simulator({ tickets: 3 });
    await get(sim, logPath(2, 'page[size]=5'));
    expect(sim.requests).toEqual([
      { at: expect.any(Number), method: 'GET', path: '/api/v2/tickets/2/conversation_log.json', query: { 'page[size]': '5' }, status: 200, ticketId: 2, kind: 'conversation_log', authorization: true },
    ]);
    sim.resetRequests();
    expect(sim.requests).toEqual([]);
  });
});

describe('injected faults', () => {
  it('failRate=1 answers 500 JSON, 503 text and 504 HTML', async () => {
    const sim = await simulator({ tickets: 1, failRate: 1, rateLimit: 100 });
    const seen = new Map<number, string>();
    for (let i = 0; i < 30; i++) {
      const response = await get(sim, logPath(1));
      seen.set(response.status, response.headers.get('content-type') ?? '');
      expect(response.headers.get('x-rate-limit')).toBe('700');
      expect(response.headers.get('zendesk-ratelimit-omnilog-index')).toMatch(/^total=100; /);
    }
    expect([...seen.keys()].sort()).toEqual([500, 503, 504]);
    expect(seen.get(500)).toMatch(/json/);
    expect(seen.get(503)).toMatch(/text\/plain/);
    expect(seen.get(504)).toMatch(/html/);
  });

  it('truncateRate=1 cuts 200 bodies mid-way with a matching Content-Length', async () => {
    const sim = await simulator({ tickets: 1, ticketSizes: { 1: 20 }, truncateRate: 1 });
    for (let i = 0; i < 5; i++) {
      const response = await get(sim, logPath(1));
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
      expect(() => JSON.parse(text)).toThrow();
    }
    sim.setOptions({ truncateRate: 0 });
    expect((await (await get(sim, logPath(1))).json()) as object).toHaveProperty('events');
  });

  it('hangRate=1 never answers, and close() still resolves at once', async () => {
    const sim = await simulator({ tickets: 1, hangRate: 1 });
    const pending = get(sim, logPath(1)).then(
      () => 'answered',
      () => 'dropped',
    );
    await vi.waitUntil(() => sim.received.length === 1, { timeout: 5_000 });
    const started = performance.now();
    await sim.close();
    // Left open, the hung socket would hold close() until the client gives up (minutes): 5 s
    // tells the two apart with room for a busy machine, where 500 ms did not.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await pending).toBe('dropped');
    expect(sim.requests).toEqual([]);
  });

  it('a request is received as it arrives, its answer decided then: a hung one stays hung', async () => {
    const sim = await simulator({ tickets: 1, hangRate: 1, latency: 100 });
    const hung = get(sim, logPath(1)).then(
      () => 'answered',
      () => 'dropped',
    );
    await vi.waitUntil(() => sim.received.length === 1, { timeout: 5_000 });
    expect(sim.received).toEqual([expect.objectContaining({ kind: 'conversation_log', ticketId: 1, status: 0 })]);
    sim.setOptions({ hangRate: 0 });
    expect((await get(sim, logPath(1))).status).toBe(200);
    // The first request was decided as it arrived: the fault set off since does not answer it.
    expect(sim.received.map((r) => r.status)).toEqual([0, 200]);
    expect(sim.requests).toEqual([sim.received[1]]);
    sim.resetRequests();
    expect([sim.received, sim.requests]).toEqual([[], []]);
    await sim.close();
    expect(await hung).toBe('dropped');
  });

  it('latency delays answers', async () => {
    const sim = await simulator({ tickets: 1, latency: 150 });
    const started = performance.now();
    await get(sim, logPath(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('malformed tickets break their pages in the requested way', async () => {
    const sim = await simulator({ tickets: 4, ticketSizes: { 1: 3, 2: 3, 3: 3, 4: 3 } });
    sim.setMalformed(1, 'missing-events');
    sim.setMalformed(2, 'missing-reference');
    sim.setMalformed(3, 'wrong-types');
    sim.setMalformed(4, 'not-json');
    const missing = (await (await get(sim, logPath(1))).json()) as Record<string, unknown>;
    expect(missing).not.toHaveProperty('events');
    expect(missing).toHaveProperty('meta');
    const noRef = (await (await get(sim, logPath(2))).json()) as { events: Record<string, unknown>[] };
    expect(noRef.events[0]).not.toHaveProperty('reference');
    expect(noRef.events[1]).toHaveProperty('reference');
    const wrong = (await (await get(sim, logPath(3))).json()) as { events: unknown; meta: { has_more: unknown } };
    expect(Array.isArray(wrong.events)).toBe(false);
    expect(typeof wrong.meta.has_more).toBe('string');
    const html = await get(sim, logPath(4));
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/html/);
    expect(await html.text()).toMatch(/^<!DOCTYPE html>/);
    sim.setMalformed(4, null);
    expect((await (await get(sim, logPath(4))).json()) as object).toHaveProperty('events');
  });

  it('the same seed fails the same requests', async () => {
    const statuses = async () => {
      const sim = await simulator({ tickets: 1, failRate: 0.5, seed: 9 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await get(sim, logPath(1))).status);
      return out;
    };
    const [a, b] = [await statuses(), await statuses()];
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1);
  });
});
