// A permit granted (paced, with a wait before sending) by process B, then a 429 seen by process A:
// the docs promise the 429 pauses every process sharing the budget until its Retry-After. The row's
// pause is read again only after a paced wait: a permit sent at once costs one statement.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sharedBudget } from '../../src/db/shared-budget.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { T0, VirtualClock } from './virtual-time.ts';

const database = useTestDatabase();

describe('a 429 seen by another process', () => {
  it('holds back a permit this process was already granted but has not used yet', async () => {
    const clock = new VirtualClock();
    const options = { name: 'reserved_vs_429', limitPerWindow: 10, windowMs: 60_000, clock };
    const a = sharedBudget(clock.counting(database.pool), options);
    const b = sharedBudget(clock.counting(database.pool), options);
    // A spends the free half of the window at once.
    for (let i = 0; i < 5; i++) await a.take();
    // B's permit is paced: granted, to be sent a few seconds from now.
    let bSentAt = 0;
    const bTake = b.take().then(() => (bSentAt = clock.now()));
    await clock.run(T0 + 1_000);
    expect(bSentAt).toBe(0);
    // A's next request is answered 429, Retry-After 30 s: every process must wait until T0 + 31 s.
    await a.observe({ status: 429, total: 10, remaining: 0, resetsMs: 30_000, retryAfterMs: 30_000 });
    const pausedUntil = clock.now() + 30_000;
    await clock.run(T0 + 120_000, () => bSentAt > 0);
    await bTake;
    expect(bSentAt, `B sent at T0 + ${bSentAt - T0} ms, inside the pause that ends at T0 + ${pausedUntil - T0} ms`).toBeGreaterThanOrEqual(pausedUntil);
  });

  it('reads the pause again only for a paced permit, not for one sent at once', async () => {
    const clock = new VirtualClock();
    const statements: string[] = [];
    const pool = new Proxy(database.pool, {
      get: (target, key) =>
        key === 'query'
          ? (config: string | pg.QueryConfig, ...rest: unknown[]) => {
              statements.push(typeof config === 'string' ? 'text' : (config.name ?? 'text'));
              return (target.query as (...a: unknown[]) => Promise<unknown>)(config, ...rest);
            }
          : Reflect.get(target, key),
    });
    const budget = sharedBudget(clock.counting(pool), { name: 'paused_reads', limitPerWindow: 10, windowMs: 60_000, clock });
    await budget.take(); // creates the row
    statements.length = 0;
    for (let i = 0; i < 4; i++) await budget.take();
    expect(statements).toEqual(Array(4).fill('convlog_take_permit'));
    statements.length = 0;
    const paced = budget.take();
    await clock.run(T0 + 60_000);
    await paced;
    expect(statements).toEqual(['convlog_take_permit', 'convlog_budget_paused']);
  });
});
