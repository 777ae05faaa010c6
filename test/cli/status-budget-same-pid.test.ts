// Containers that share a hostname each run their process as pid 1: the processes taking permits
// from a budget are then all "pid 1 on convlog". status grouped the budget's takers by those words,
// so three read as one process with two limits, and --json gave nothing to tell them apart (as the
// workers line did before, test/cli/status-workers-same-pid.test.ts). A taker is its key, one per
// process: status counts by it and names a taker by it too when its words are another's. Here the
// "processes" are shared budgets of this test's process, so all of the same pid and host, and one
// taker elsewhere.
import os from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { takePermit } from '../../src/db/rate-budget.ts';
import { sharedBudget, type SharedBudget } from '../../src/db/shared-budget.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
let pool: pg.Pool;
const held: SharedBudget[] = [];
const name = BUDGET_NAMES.conversationLog;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, seed: 1 });
  pool = new pg.Pool({ connectionString: fixture.database.url, max: 2 });
});
afterAll(async () => {
  await Promise.all(held.map((b) => b.release()));
  await pool?.end();
  await fixture?.close();
});

it('tells apart processes taking permits that share a pid and host, by their taker key', { timeout: 120_000 }, async () => {
  for (const limit of [100, 100, 7]) {
    const budget = sharedBudget(pool, { name, limitPerWindow: limit, setting: 'CONVLOG_RATE_LIMIT' });
    await budget.take();
    held.push(budget);
  }
  // A process on another host, alone in its words.
  await takePermit(pool, name, 50, 100, {}, { key: 'elsewhere-1', process: 'pid 1 on elsewhere' });
  const env = { ...fixture.env, CONVLOG_RATE_LIMIT: '100' };

  const json = await runCli(['status', '--json'], { env, timeoutMs: 60_000 });
  expect(json.code, json.stderr).toBe(0);
  const takers: { limit: number; process: string; id: string }[] = JSON.parse(json.stdout).rateBudgets.find((b: { name: string }) => b.name === name).takers;
  const here = `pid ${process.pid} on ${os.hostname()}`;
  expect(takers).toEqual([
    expect.objectContaining({ limit: 7, process: here, id: expect.any(String) }),
    expect.objectContaining({ limit: 50, process: 'pid 1 on elsewhere', id: 'elsewhere-1' }),
    expect.objectContaining({ limit: 100, process: here, id: expect.any(String) }),
    expect.objectContaining({ limit: 100, process: here, id: expect.any(String) }),
  ]);
  expect(new Set(takers.map((t) => t.id)).size).toBe(4);

  const status = await runCli(['status'], { env, timeoutMs: 60_000 });
  expect(status.code, status.stderr).toBe(0);
  const as = (i: number) => `${here} as instance ${takers[i].id.slice(0, 8)}`;
  expect(status.stdout.split('\n').find((l) => l.startsWith('budget '))).toContain(
    `(the processes taking permits disagree on CONVLOG_RATE_LIMIT: 7 in ${as(0)}, 50 in pid 1 on elsewhere, 100 in ${as(2)} and ${as(3)}; the lowest applies to all, 100 here)`,
  );
});
