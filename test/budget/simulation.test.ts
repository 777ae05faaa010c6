// The shared budget on virtual time: worker processes (sharedBudget and its statements on a real
// Postgres) against a Zendesk that counts requests per fixed window, for minutes of traffic each.
import { beforeEach, describe, expect, it } from 'vitest';
import { readBudgets } from '../../src/db/budget-report.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { otherClient, startWorker, T0, VirtualClock, VirtualZendesk, type WorkerOptions } from './virtual-time.ts';

const MINUTE = 60_000;
/** The benchmark's windows: 50 requests per 10 s, Zendesk's High Volume 300 a minute. */
const WINDOW_MS = 10_000;
let counter = 0;
let budgetName: string;

const database = useTestDatabase();
beforeEach(() => {
  budgetName = `sim_${++counter}`;
});

/** A Zendesk whose windows start 23.456 s off the budget's first guess. */
const zendesk = (limit: number, windowMs = MINUTE) => new VirtualZendesk(limit, windowMs, T0 - 23_456);
const worker = (clock: VirtualClock, server: VirtualZendesk, options: Partial<WorkerOptions>) =>
  startWorker(database.pool, clock, server, {
    name: 'convlog',
    budgetName,
    limitPerWindow: server.limit,
    windowMs: server.windowMs,
    concurrency: 4,
    requests: 1_000_000,
    latencyMs: 250,
    ...options,
  });
/** Requests of the two processes 'a' and 'b' in one window's counts. */
const ofBoth = (counts: Map<string, number>) => (counts.get('a') ?? 0) + (counts.get('b') ?? 0);
const row = async (clock: VirtualClock) => (await readBudgets(database.pool, { nowMs: clock.now() })).find((b) => b.name === budgetName)!;

// A few hundred statements each: well under a second on a quiet machine, more on a busy one.
describe('the shared budget on virtual time', { timeout: 60_000 }, () => {
  it('lets a small sync go at once: 50 requests in a fresh window of 100 never wait', async () => {
    const clock = new VirtualClock();
    const server = zendesk(100);
    const w = worker(clock, server, { requests: 50, latencyMs: 100 });
    await clock.run(T0 + MINUTE, () => w.left() === 0 && w.sent.length === 50);
    await clock.run(T0 + MINUTE);
    await w.finished;
    // 4 at a time, 100 ms each: what the requests take without any budget at all.
    expect(Math.max(...w.sent) - T0).toBeLessThanOrEqual(12 * 100);
    const budget = await row(clock);
    expect(budget).toMatchObject({ totalTaken: 50, totalWaits: 0, totalWaitMs: 0, totalRateLimited: 0 });
    expect(server.requests.filter((r) => r.status === 429)).toHaveLength(0);
  });

  it('at full demand, two processes never exceed the limit in a server window, without a 429, and use ≥ 98 % of it', async () => {
    const clock = new VirtualClock();
    const server = zendesk(50, WINDOW_MS);
    const workers = [worker(clock, server, { name: 'a' }), worker(clock, server, { name: 'b' })];
    const end = T0 + 6 * WINDOW_MS;
    await clock.run(end);
    // Whole windows only: from the first that started after the first request to the last that ended.
    const first = server.windowOf(T0) + 1;
    const windows = server.perWindow(first, server.windowOf(end) - 1);
    expect(windows).toHaveLength(5);
    let ours = 0;
    for (const w of windows) {
      const sent = ofBoth(w.ok);
      expect(sent).toBeLessThanOrEqual(50);
      expect(w.limited.size).toBe(0);
      ours += sent;
    }
    expect(ours / (windows.length * 50)).toBeGreaterThanOrEqual(0.98);
    // Both processes had their share.
    for (const w of workers) expect(w.sent.length).toBeGreaterThan(50);
  });

  it('paces again once another client spends, leaving it its share without a 429 on either side', async () => {
    const clock = new VirtualClock();
    const server = zendesk(50, WINDOW_MS);
    const end = T0 + 6 * WINDOW_MS;
    void otherClient(clock, server, 20, end);
    worker(clock, server, {});
    await clock.run(end);
    const first = server.windowOf(T0) + 1;
    const windows = server.perWindow(first, server.windowOf(end) - 1);
    expect(windows).toHaveLength(5);
    for (const [i, w] of windows.entries()) {
      const ours = w.ok.get('convlog') ?? 0;
      const other = w.ok.get('other') ?? 0;
      expect({ other, limited: w.limited.size }).toEqual({ other: 20, limited: 0 });
      expect(ours + other).toBeLessThanOrEqual(50);
      expect(ours / (50 - other)).toBeGreaterThanOrEqual(0.9);
      // Paced, not a burst: without the other client, half the window goes in its first second.
      const start = server.originMs + (first + i) * server.windowMs;
      const early = server.requests.filter((r) => r.client === 'convlog' && r.at >= start && r.at < start + server.windowMs / 10);
      expect(early.length).toBeLessThanOrEqual(8);
    }
  });

  it('slows down to what another client left of the window, without a 429', async () => {
    const clock = new VirtualClock();
    const server = zendesk(10, 2_000);
    // The other client spends 6 of 10 at the start of the window we begin in.
    for (let i = 0; i < 6; i++) server.arrive(T0, 'other');
    const w = worker(clock, server, { requests: 10, concurrency: 1, windowMs: 2_000, latencyMs: 50 });
    await clock.run(T0 + 10_000, () => w.left() === 0);
    await clock.run(T0 + 10_000);
    await w.finished;
    const window = server.windowOf(T0);
    const inFirst = server.requests.filter((r) => r.client === 'convlog' && server.windowOf(r.at) === window);
    expect(inFirst.length).toBeGreaterThan(0);
    expect(inFirst.length).toBeLessThanOrEqual(4);
    expect(server.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(w.sent).toHaveLength(10);
  });

  // Zendesk says `resets` in whole seconds, so the budget can only place a window some seconds
  // long. With windows of 1 s, trying every 50 ms of offset, 5 runs in 80 met a 429, some without
  // any late send (an offset of 850 ms gave 3, 10 + three 429s, 3 and 4 requests per window).
  it('finds a window of 3 s wherever it starts: two processes that send up to 200 ms late never meet a 429', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 3_000; offset += 250) {
      const clock = new VirtualClock();
      const server = new VirtualZendesk(10, 3_000, T0 - offset);
      budgetName = `sim_offset_${offset}`;
      const options = { requests: 10, windowMs: 3_000, limitPerWindow: 10, latencyMs: 50, jitterMs: 200 };
      const workers = [worker(clock, server, { ...options, name: 'a', seed: offset + 1 }), worker(clock, server, { ...options, name: 'b', seed: offset + 2 })];
      await clock.run(T0 + 30_000, () => workers.every((w) => w.left() === 0));
      await clock.run(T0 + 30_000);
      await Promise.all(workers.map((w) => w.finished));
      const windows = server.perWindow(server.windowOf(T0), server.windowOf(clock.now()));
      const ok = windows.map((w) => ofBoth(w.ok));
      const limited = windows.reduce((n, w) => n + ofBoth(w.limited), 0);
      if (limited > 0 || ok.some((n) => n > 10)) seen.push(`offset ${offset} ms: ${ok.join(' ')} and ${limited} 429s`);
    }
    expect(seen).toEqual([]);
  });

  it('a 429 seen by one process pauses every process until its Retry-After, and the server total is learned', async () => {
    const clock = new VirtualClock();
    // convlog is told 20 a window; Zendesk allows 3.
    const server = zendesk(3, 2_000);
    const workers = [worker(clock, server, { name: 'a', limitPerWindow: 20 }), worker(clock, server, { name: 'b', limitPerWindow: 20 })];
    const end = T0 + 20_000;
    await clock.run(end);
    const limited = server.requests.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    // Its answer comes 125 ms after it was counted; from then until the window ends (its
    // Retry-After) nobody sends, but for the one send time each process may already hold.
    const answered = limited[0].at + 125;
    const pausedUntil = server.originMs + (server.windowOf(limited[0].at) + 1) * server.windowMs;
    const sentDuringPause = workers.flatMap((w) => w.sent).filter((at) => at > answered && at < pausedUntil);
    expect(sentDuringPause.length).toBeLessThanOrEqual(workers.length);
    // Later windows stay within what the server allows.
    const later = server.requests.filter((r) => r.at >= pausedUntil + server.windowMs);
    expect(later.length).toBeGreaterThan(3 * 5);
    expect(later.filter((r) => r.status === 429)).toHaveLength(0);
    const budget = await row(clock);
    expect(budget.serverTotal).toBe(3);
    expect(budget.totalRateLimited).toBe(limited.length);
  });
});
