// One limit for the account, told truthfully. A one-off `CONVLOG_RATE_LIMIT=7 convlog sync 1`
// wrote its 7 into the shared budget's row, and `status` went on showing "of 7" long after it
// ended while every worker ran with 100; processes set differently each decided their permits by
// their own limit, and nothing said so. Now the lowest limit of the processes taking permits
// applies, each process that disagrees says so once, and status shows the limit in force.
// The "workers" here are shared budgets of this test's process, on connections of their own; the
// one-off that disagrees with them is a process of its own.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { sharedBudget, type SharedBudget } from '../../src/db/shared-budget.ts';
import { runCli, runProgram } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
let pool: pg.Pool;
let held: SharedBudget[] = [];

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, seed: 1, ticketSizes: { 1: 20, 2: 20 } });
  pool = new pg.Pool({ connectionString: fixture.database.url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await fixture?.close();
});
beforeEach(async () => {
  await Promise.all(held.map((budget) => budget.release()));
  held = [];
  // A fresh window for each test: permits spent before would pace the next test's at 7 a minute.
  await pool.query('delete from convlog.rate_budgets');
});

/** A process taking conversation-log permits with `limit`: it has taken one and goes on taking part. */
async function taking(limit: number): Promise<SharedBudget> {
  const budget = sharedBudget(pool, { name: BUDGET_NAMES.conversationLog, limitPerWindow: limit, setting: 'CONVLOG_RATE_LIMIT' });
  await budget.take();
  held.push(budget);
  return budget;
}

const env = (limit: number) => ({ ...fixture.env, CONVLOG_RATE_LIMIT: String(limit) });
const firstBudgetLine = (stdout: string) => stdout.split('\n').find((line) => line.startsWith('budget '));
const conversationLog = (json: string) => JSON.parse(json).rateBudgets.find((b: { name: string }) => b.name === BUDGET_NAMES.conversationLog);

it("a one-off command's limit ends with it: status shows no 7 once it has", { timeout: 120_000 }, async () => {
  const sync = await runCli(['sync', '1'], { env: env(7), timeoutMs: 60_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const status = await runCli(['status'], { env: env(100), timeoutMs: 60_000 });
  expect(status.code, status.stderr).toBe(0);
  expect(firstBudgetLine(status.stdout)).toMatch(
    /^budget {5}conversation_log: [1-9]\d* of 100 spent this 60 s window \(no process is taking permits: each applies its own CONVLOG_RATE_LIMIT, 100 here, and the lowest applies while several do\); /,
  );
  const json = await runCli(['status', '--json'], { env: env(100), timeoutMs: 60_000 });
  expect(conversationLog(json.stdout)).toMatchObject({ limitPerWindow: null, takers: [] });
});

it('a one-off set lower than the running processes says so once, and leaves their limit in force when it ends', { timeout: 120_000 }, async () => {
  await taking(100);
  // A process of its own, as a command typed in another terminal.
  const sync = await runProgram(['sync', '2'], { env: env(7), timeoutMs: 60_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const told = sync.stderr.split('\n').filter((line) => line.includes('CONVLOG_RATE_LIMIT is'));
  expect(told).toHaveLength(1);
  expect(JSON.parse(told[0])).toMatchObject({
    level: 40,
    msg: 'CONVLOG_RATE_LIMIT is 7 in this process but 100 in the other processes taking permits: the lowest applies to every process, so together they keep to 7 requests a minute while this one runs',
  });
  const json = await runCli(['status', '--json'], { env: env(100), timeoutMs: 60_000 });
  expect(conversationLog(json.stdout)).toMatchObject({ limitPerWindow: 100, takers: [expect.objectContaining({ limit: 100 })] });
  const status = await runCli(['status'], { env: env(100), timeoutMs: 60_000 });
  expect(firstBudgetLine(status.stdout)).toMatch(/^budget {5}conversation_log: [1-9]\d* of 100 spent this 60 s window; /);
});

it('while processes disagree, status shows the lowest as the limit in force, and who asks for which', { timeout: 60_000 }, async () => {
  await taking(100);
  await taking(100);
  await taking(7);
  const me = `pid ${process.pid} on `;
  const status = await runCli(['status'], { env: env(300), timeoutMs: 30_000 });
  expect(status.code, status.stderr).toBe(0);
  expect(firstBudgetLine(status.stdout)).toContain(
    ` of 7 spent this 60 s window (the processes taking permits disagree on CONVLOG_RATE_LIMIT: 7 in ${me}`,
  );
  expect(firstBudgetLine(status.stdout)).toMatch(/, 100 in pid \d+ on [^;]+; the lowest applies to all, 300 here\); /);
  const json = await runCli(['status', '--json'], { env: env(300), timeoutMs: 30_000 });
  expect(conversationLog(json.stdout)).toMatchObject({
    limitPerWindow: 7,
    takers: [expect.objectContaining({ limit: 7 }), expect.objectContaining({ limit: 100 }), expect.objectContaining({ limit: 100 })],
  });
});
