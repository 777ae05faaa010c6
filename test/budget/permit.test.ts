// The permit statement and the shared budget against a real Postgres, without Zendesk: how
// many permits a window grants, how responses correct it, pauses and aborts.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBudget, observeBudget, readBudgets, takePermit } from '../../src/db/rate-budget.ts';
import { sharedBudget } from '../../src/db/shared-budget.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
let counter = 0;
let name: string;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});
beforeEach(() => {
  name = `test_${++counter}`;
});

const budgetRow = async () => (await readBudgets(database.pool)).find((b) => b.name === name)!;

describe('the permit statement', () => {
  it('never grants more than the limit to 20 concurrent takers', async () => {
    await ensureBudget(database.pool, name, 7, 60_000);
    const wide = new pg.Pool({ connectionString: database.url, max: 20 });
    try {
      // Every connection open first, so the 20 statements really run at once.
      const clients = await Promise.all(Array.from({ length: 20 }, () => wide.connect()));
      clients.forEach((c) => c.release());
      const results = await Promise.all(Array.from({ length: 20 }, () => takePermit(wide, name, 7, 100)));
      const granted = results.filter((r) => r!.granted);
      expect(granted).toHaveLength(7);
      // Refused takers are told to come back when the window ends, not to poll.
      for (const r of results.filter((r) => !r!.granted)) expect(r!.waitMs).toBeGreaterThan(40_000);
      // Granted send times are spread over the window, none in the same instant past the burst.
      const sendTimes = granted.map((r) => r!.nowMs + r!.waitMs).sort((a, b) => a - b);
      expect(sendTimes[6] - sendTimes[0]).toBeGreaterThan(30_000);
      expect((await budgetRow()).spent).toBe(7);
      expect((await budgetRow()).totalTaken).toBe(7);
    } finally {
      await wide.end();
    }
  });

  it('grants a fresh window after the old one ends', async () => {
    await ensureBudget(database.pool, name, 2, 1_000);
    const first = [await takePermit(database.pool, name, 2, 0), await takePermit(database.pool, name, 2, 0), await takePermit(database.pool, name, 2, 0)];
    expect(first.map((r) => r!.granted)).toEqual([true, true, false]);
    await new Promise((resolve) => setTimeout(resolve, first[2]!.waitMs));
    expect((await takePermit(database.pool, name, 2, 0))!.granted).toBe(true);
  });

  it('counts what another client spent, from remaining, and grants only what is left', async () => {
    await ensureBudget(database.pool, name, 10, 60_000);
    for (let i = 0; i < 3; i++) expect((await takePermit(database.pool, name, 10, 100))!.granted).toBe(true);
    // Our first response: the server has counted 7 requests, only 1 of them ours.
    await observeBudget(database.pool, name, { status: 200, total: 10, remaining: 3, resetsMs: 30_000 });
    const row = await budgetRow();
    expect(row.others).toBe(6);
    expect(row.serverRemaining).toBe(3);
    // 10 - 6 others = 4 for us, 3 taken: one left, but held for the other client, which at its
    // pace (6 in the first half of the window) will want more than that before the window ends.
    const held = await takePermit(database.pool, name, 10, 100);
    expect(held!.granted).toBe(false);
    expect(held!.waitMs).toBeLessThanOrEqual(30_001);
    // Once it has spent all but one, nothing is left for us until the window ends, with the server's.
    await observeBudget(database.pool, name, { status: 200, total: 10, remaining: 1, resetsMs: 30_000 });
    const refused = await takePermit(database.pool, name, 10, 100);
    expect(refused!.granted).toBe(false);
    expect(refused!.waitMs).toBeGreaterThan(25_000);
    expect(refused!.waitMs).toBeLessThanOrEqual(30_001);
  });

  it('a 429 pauses until Retry-After and closes the window', async () => {
    await ensureBudget(database.pool, name, 10, 60_000);
    expect((await takePermit(database.pool, name, 10, 100))!.granted).toBe(true);
    await observeBudget(database.pool, name, { status: 429, total: 10, remaining: 0, resetsMs: 20_000, retryAfterMs: 20_000 });
    const refused = await takePermit(database.pool, name, 10, 100);
    expect(refused!.granted).toBe(false);
    expect(refused!.waitMs).toBeGreaterThan(15_000);
    const row = await budgetRow();
    expect(row.totalRateLimited).toBe(1);
    expect(row.pausedUntil).not.toBeNull();
  });

  it('a smaller server total caps the window', async () => {
    await ensureBudget(database.pool, name, 300, 60_000);
    expect((await takePermit(database.pool, name, 300, 100))!.granted).toBe(true);
    await observeBudget(database.pool, name, { status: 200, total: 2, remaining: 1, resetsMs: 30_000 });
    expect((await takePermit(database.pool, name, 300, 100))!.granted).toBe(true);
    expect((await takePermit(database.pool, name, 300, 100))!.granted).toBe(false);
  });
});

describe('sharedBudget', () => {
  it('rejects at once when the signal is already aborted, and promptly when aborted while waiting', async () => {
    const budget = sharedBudget(database.pool, { name, limitPerWindow: 1, windowMs: 60_000 });
    await budget.take();
    const aborted = AbortSignal.abort(new Error('gone'));
    let started = Date.now();
    await expect(budget.take(aborted)).rejects.toThrow('gone');
    expect(Date.now() - started).toBeLessThan(50);

    // The window is spent: this taker would wait about a minute.
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 200);
    started = Date.now();
    await expect(waiting).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('a 429 seen by one process pauses the others', async () => {
    const a = sharedBudget(database.pool, { name, limitPerWindow: 100, windowMs: 60_000 });
    const b = sharedBudget(database.pool, { name, limitPerWindow: 100, windowMs: 60_000 });
    await a.take();
    await a.observe({ status: 429, retryAfterMs: 1_500 });
    const started = Date.now();
    await b.take();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_300);
    expect((await budgetRow()).totalRateLimited).toBe(1);
  });

  it('serves takers of one process in order, one permit each, spaced over the window', async () => {
    const budget = sharedBudget(database.pool, { name, limitPerWindow: 10, windowMs: 2_000 });
    const order: number[] = [];
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, (_, i) => budget.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // One may go early (a tenth of the window); the rest are ~160 ms apart.
    expect(Date.now() - started).toBeGreaterThan(400);
    expect((await budgetRow()).spent).toBe(5);
  });
});
