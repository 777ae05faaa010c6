// A version that took any Retry-After as given could leave a budget paused for years (a proxy's
// Retry-After: 99999999): nothing is sent, so no answer ever corrects it. A process starting on
// the budget ends such a pause; one a 429 can set now (at most 15 minutes) stays.
import { expect, it } from 'vitest';
import { ensureBudget, pausedForMs } from '../../src/db/rate-budget.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

async function pauseFor(name: string, ms: number): Promise<void> {
  await database.pool.query(`update convlog.rate_budgets set paused_until = clock_timestamp() + $2::float8 * interval '1 millisecond' where name = $1`, [name, ms]);
}

it('ends a pause no 429 can set any more when a process starts on the budget, and keeps one it can', async () => {
  await ensureBudget(database.pool, 'stale', 100, 60_000);
  await pauseFor('stale', 3 * 365 * 86_400_000);
  await ensureBudget(database.pool, 'stale', 100, 60_000);
  expect(await pausedForMs(database.pool, 'stale')).toBe(0);

  await ensureBudget(database.pool, 'live', 100, 60_000);
  await pauseFor('live', 10 * 60_000);
  await ensureBudget(database.pool, 'live', 100, 60_000);
  const left = await pausedForMs(database.pool, 'live');
  expect(left).toBeGreaterThan(9 * 60_000);
  expect(left).toBeLessThanOrEqual(10 * 60_000);
});
