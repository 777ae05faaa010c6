// The permit statement and the shared budget against a real Postgres, without Zendesk, on
// virtual time (every statement is handed its "now"): how many permits a window grants and when,
// how responses correct it, pauses and aborts.
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { MissingRetryAfter } from '../../src/errors/convlog-errors.ts';
import { readBudgets } from '../../src/db/budget-report.ts';
import { ensureBudget, observeBudget, takePermit } from '../../src/db/rate-budget.ts';
import { OBSERVE, TAKE } from '../../src/db/rate-budget-sql.ts';
import { sharedBudget, type BudgetWait } from '../../src/db/shared-budget.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { T0, VirtualClock } from './virtual-time.ts';

let counter = 0;
let name: string;

const database = useTestDatabase();
beforeEach(() => {
  name = `test_${++counter}`;
});

const budgetRow = async (nowMs = T0) => (await readBudgets(database.pool, { nowMs })).find((b) => b.name === name)!;
const take = (limit: number, nowMs: number, marginMs = 100) => takePermit(database.pool, name, limit, marginMs, { nowMs }).then((r) => r!);

describe('the permit statement', () => {
  it('never grants more than the limit to 20 concurrent takers', async () => {
    await ensureBudget(database.pool, name, 7, 60_000, { nowMs: T0 });
    const wide = new pg.Pool({ connectionString: database.url, max: 20 });
    try {
      // Every connection open first, so the 20 statements really run at once.
      const clients = await Promise.all(Array.from({ length: 20 }, () => wide.connect()));
      clients.forEach((c) => c.release());
      const results = await Promise.all(Array.from({ length: 20 }, () => takePermit(wide, name, 7, 100, { nowMs: T0 + 10 })));
      const granted = results.filter((r) => r!.granted);
      expect(granted).toHaveLength(7);
      // Refused takers are told to come back when the window ends, not to poll.
      for (const r of results.filter((r) => !r!.granted)) expect(r!.waitMs).toBe(60_000 - 10 + 1);
      // Half the window's allowance (3 of 7) goes at once; the rest is spaced over the window.
      const sendTimes = granted.map((r) => r!.nowMs + r!.waitMs).sort((a, b) => a - b);
      expect(sendTimes.slice(0, 3)).toEqual([T0 + 10, T0 + 10, T0 + 10]);
      expect(sendTimes[6] - sendTimes[0]).toBeGreaterThan(30_000);
      expect(await budgetRow()).toMatchObject({ spent: 7, totalTaken: 7 });
    } finally {
      await wide.end();
    }
  });

  it('grants a fresh window once the old one has ended, not before', async () => {
    await ensureBudget(database.pool, name, 2, 1_000, { nowMs: T0 });
    const first = [await take(2, T0), await take(2, T0), await take(2, T0)];
    expect(first.map((r) => r.granted)).toEqual([true, true, false]);
    expect(first[2].waitMs).toBe(1_001);
    expect((await take(2, T0 + 999)).granted).toBe(false);
    expect((await take(2, T0 + 1_001)).granted).toBe(true);
  });

  it('lets half of a fresh window go at once, then spaces the rest over what is left of it', async () => {
    await ensureBudget(database.pool, name, 100, 60_000, { nowMs: T0 });
    const results = [];
    for (let i = 0; i < 101; i++) results.push(await take(100, T0));
    expect(results.slice(0, 50).map((r) => r.waitMs)).toEqual(Array(50).fill(0));
    const sendTimes = results.slice(50, 100).map((r) => (expect(r.granted).toBe(true), r.waitMs));
    // Paced: the last of the window goes near its end (before the 2 s kept in hand), evenly.
    expect(sendTimes[49]).toBeGreaterThan(50_000);
    expect(sendTimes[49]).toBeLessThan(58_000);
    for (let i = 10; i < 50; i++) expect(sendTimes[i] - sendTimes[i - 1]).toBeGreaterThan(900);
    expect(results[100]).toMatchObject({ granted: false, waitMs: 60_001 });
  });

  it('paces from the first permit once another client is seen, in this window and the next', async () => {
    await ensureBudget(database.pool, name, 100, 60_000, { nowMs: T0 });
    expect(await take(100, T0)).toMatchObject({ granted: true, waitMs: 0 });
    // The server counted 11 requests, 1 of them ours; its window ends in 50 s.
    await observeBudget(database.pool, name, { status: 200, total: 100, remaining: 89, resetsMs: 50_000 }, { nowMs: T0 + 10 });
    const spacing = async (at: number) => {
      const waits = [];
      for (let i = 0; i < 20; i++) waits.push((await take(100, at)).waitMs);
      return waits;
    };
    // A tenth of the window may still go ahead of its place; the rest waits.
    const now = await spacing(T0 + 20);
    expect(now.filter((w) => w === 0).length).toBeLessThanOrEqual(10);
    expect(now[19]).toBeGreaterThan(5_000);
    // The next window (from T0 + 50 s) remembers the other client: still paced.
    const next = await spacing(T0 + 50_020);
    expect(next.filter((w) => w === 0).length).toBeLessThanOrEqual(10);
    // A whole window later with nothing seen of it, bursts are back.
    const later = await spacing(T0 + 170_020);
    expect(later).toEqual(Array(20).fill(0));
  });

  it('counts what another client spent, from remaining, and grants only what is left', async () => {
    await ensureBudget(database.pool, name, 10, 60_000, { nowMs: T0 });
    for (let i = 0; i < 3; i++) expect((await take(10, T0)).granted).toBe(true);
    // Our first response: the server has counted 7 requests, only 1 of them ours.
    await observeBudget(database.pool, name, { status: 200, total: 10, remaining: 3, resetsMs: 30_000 }, { nowMs: T0 });
    const row = await budgetRow();
    expect(row.others).toBe(6);
    expect(row.serverRemaining).toBe(3);
    // 10 - 6 others = 4 for us, 3 taken: one left, but held for the other client, which at its
    // pace (6 in the first half of the window) will want more than that before the window ends.
    const held = await take(10, T0);
    expect(held.granted).toBe(false);
    expect(held.waitMs).toBeLessThanOrEqual(30_001);
    // Once it has spent all but one, nothing is left for us until the window ends, with the server's.
    await observeBudget(database.pool, name, { status: 200, total: 10, remaining: 1, resetsMs: 30_000 }, { nowMs: T0 });
    const refused = await take(10, T0);
    expect(refused).toMatchObject({ granted: false, waitMs: 30_001 });
  });

  it('a 429 pauses until Retry-After and closes the window', async () => {
    await ensureBudget(database.pool, name, 10, 60_000, { nowMs: T0 });
    expect((await take(10, T0)).granted).toBe(true);
    await observeBudget(database.pool, name, { status: 429, total: 10, remaining: 0, resetsMs: 20_000, retryAfterMs: 20_000 }, { nowMs: T0 });
    // Saying why: every process, this one or not, words the wait as the 429's.
    expect(await take(10, T0 + 5_000)).toMatchObject({ granted: false, waitMs: 15_000, paused: true });
    const row = await budgetRow(T0 + 5_000);
    expect(row.totalRateLimited).toBe(1);
    expect(row.pausedUntil).toBe(new Date(T0 + 20_000).toISOString());
    expect((await take(10, T0 + 20_001)).granted).toBe(true);
  });

  it('refuses a 429 that does not say how long to wait, and changes nothing', async () => {
    await ensureBudget(database.pool, name, 10, 60_000, { nowMs: T0 });
    const before = await budgetRow();
    await expect(observeBudget(database.pool, name, { status: 429, total: 10, remaining: 0 }, { nowMs: T0 })).rejects.toThrow(MissingRetryAfter);
    expect(await budgetRow()).toEqual(before);
  });

  it('a smaller server total caps the window', async () => {
    await ensureBudget(database.pool, name, 300, 60_000, { nowMs: T0 });
    expect((await take(300, T0)).granted).toBe(true);
    await observeBudget(database.pool, name, { status: 200, total: 2, remaining: 1, resetsMs: 30_000 }, { nowMs: T0 });
    expect((await take(300, T0)).granted).toBe(true);
    expect((await take(300, T0)).granted).toBe(false);
  });

  // Inlined, each step's expressions were pasted into the next step's, so the last step held the
  // whole chain many times over: planning and running one permit cost tens of milliseconds.
  it.each([
    ['take', TAKE, ['plan_check', 10, 100, T0, 'key', 'pid 1 on host']],
    ['observe', OBSERVE, ['plan_check', 200, 10, 5, 30_000, null, null, T0]],
  ])('computes each step of the %s statement once, as a CTE of its own', async (_, sql, values) => {
    const steps = [...sql.matchAll(/(\w+) as (?:materialized )?\($/gm)].map((m) => m[1]);
    expect(steps.length).toBeGreaterThanOrEqual(5);
    const { rows } = await database.pool.query(`explain (format json) ${sql}`, values);
    const planned = [...JSON.stringify(rows[0]['QUERY PLAN']).matchAll(/"Subplan Name":"CTE (\w+)"/g)].map((m) => m[1]);
    expect(planned.sort()).toEqual(steps.sort());
  });
});

/** How `work` has settled by the next turn of the event loop: what it did at once, or 'pending'. */
function beforeNextTurn(work: Promise<unknown>): Promise<string> {
  const outcome = work.then(
    () => 'resolved',
    (error: Error) => `rejected: ${error.message}`,
  );
  return Promise.race([outcome, new Promise<string>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('sharedBudget', () => {
  it('rejects at once when the signal is already aborted, and promptly when aborted while waiting', async () => {
    const budget = sharedBudget(database.pool, { name, limitPerWindow: 1, windowMs: 60_000 });
    await budget.take();
    // "At once" and "promptly" are: settled before the event loop turns (no statement, no timer
    // in between), not within so many milliseconds, which a busy machine outlasts.
    const aborted = AbortSignal.abort(new Error('gone'));
    expect(await beforeNextTurn(budget.take(aborted))).toBe('rejected: gone');

    // The window is spent: this taker would wait about a minute, on the real clock.
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await beforeNextTurn(waiting)).toBe('pending');
    controller.abort(new Error('shutting down'));
    expect(await beforeNextTurn(waiting)).toBe('rejected: shutting down');
  });

  it('a 429 seen by one process pauses the others', async () => {
    const clock = new VirtualClock();
    const options = { name, limitPerWindow: 100, windowMs: 60_000, clock };
    const a = sharedBudget(clock.counting(database.pool), options);
    const b = sharedBudget(clock.counting(database.pool), options);
    await a.take();
    await a.observe({ status: 429, retryAfterMs: 1_500 });
    let tookAt = 0;
    const taken = b.take().then(() => (tookAt = clock.now()));
    await clock.run(T0 + 60_000, () => tookAt > 0);
    await taken;
    expect(tookAt).toBe(T0 + 1_500);
    expect((await budgetRow()).totalRateLimited).toBe(1);
  });

  it("tells of a wait behind another process's 429 as a 429's, not as its own window's", async () => {
    const clock = new VirtualClock();
    const options = { name, limitPerWindow: 100, windowMs: 60_000, clock };
    const a = sharedBudget(clock.counting(database.pool), options);
    const b = sharedBudget(clock.counting(database.pool), options);
    const told: (BudgetWait | undefined)[] = [];
    b.watch((wait) => told.push(wait));
    await a.take();
    await a.observe({ status: 429, retryAfterMs: 8_000 });
    let took = false;
    const taken = b.take().then(() => (took = true));
    await clock.run(T0 + 60_000, () => took);
    await taken;
    // b saw no 429 itself: only the row says why it waits.
    expect(told).toEqual([{ budget: name, waitMs: 8_000, reason: 'paused', limitPerWindow: 100, windowMs: 60_000 }, undefined]);
  });

  it('serves takers of one process in order, one permit each: half a window at once, the rest spaced', async () => {
    const clock = new VirtualClock();
    const budget = sharedBudget(clock.counting(database.pool), { name, limitPerWindow: 10, windowMs: 2_000, clock });
    const order: number[] = [];
    const times: number[] = [];
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => budget.take().then(() => (order.push(i), times.push(clock.now())))));
    await clock.run(T0 + 2_000, () => order.length === 8);
    await all;
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(times.slice(0, 5)).toEqual(Array(5).fill(T0));
    // Past the burst, about 300 ms apart (what is left of 1.6 s, over the 5 permits left).
    expect(times[7] - times[5]).toBeGreaterThan(400);
    expect(times[7]).toBeLessThan(T0 + 1_600);
    expect((await budgetRow(clock.now())).spent).toBe(8);
  });
});
