// What each process's /metrics says, and of what.
// - Webhooks reach `serve` only: a worker's /metrics (work --health-port) carried some 35
//   convlog_webhook* series that were always 0, read on a dashboard as "no webhooks came".
// - convlog_rate_budget_limit showed the limit stored in the budget's row, the one that decided
//   the last permit, which a process killed without releasing its place leaves behind: a one-off
//   at 7 read as the account's limit for good while the workers ran at 100. It is now the limit in
//   force, the lowest of the processes taking permits (as `convlog status` shows it), and this
//   process's own setting is a series of its own.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { sharedBudget, type SharedBudget } from '../../src/db/shared-budget.ts';
import { silentLogger } from '../../src/log.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import { createServeFixture, type ServeFixture } from './serve-fixture.ts';

let serve: ServeFixture;
let worker: Awaited<ReturnType<typeof startHealthServer>>;
let held: SharedBudget[] = [];

// This process's settings, as a worker started with CONVLOG_RATE_LIMIT=300 has them.
const OWN = { [BUDGET_NAMES.conversationLog]: 300, [BUDGET_NAMES.account]: 400, [BUDGET_NAMES.export]: 10 };

beforeAll(async () => {
  serve = await createServeFixture();
  worker = await startHealthServer({ pool: serve.database.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: OWN });
});
afterAll(async () => {
  await Promise.all(held.map((budget) => budget.release()));
  await worker?.close();
  await serve?.close();
});
beforeEach(async () => {
  await Promise.all(held.map((budget) => budget.release()));
  held = [];
  await serve.database.pool.query('delete from convlog.rate_budgets');
});

const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const seriesNamed = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

/** A process taking conversation-log permits with `limit`: it has taken one and goes on taking part. */
async function taking(limit: number): Promise<SharedBudget> {
  const budget = sharedBudget(serve.database.pool, { name: BUDGET_NAMES.conversationLog, limitPerWindow: limit, setting: 'CONVLOG_RATE_LIMIT' });
  await budget.take();
  held.push(budget);
  return budget;
}

it("a worker's /metrics has no webhook series; serve's has every one, and both have the database's", async () => {
  const workers = await scrape(worker.url);
  expect(seriesNamed(workers, 'convlog_webhook')).toEqual([]);
  expect(workers).not.toMatch(/^# (HELP|TYPE) convlog_webhook/m);
  expect(value(workers, 'convlog_database_up')).toBe(1);
  expect(value(workers, 'convlog_queue_depth{state="queued"}')).toBe(0);

  const serves = await scrape(serve.server.url);
  expect(value(serves, 'convlog_database_up')).toBe(1);
  expect(value(serves, 'convlog_webhooks_accepted_total{action="sync"}')).toBe(0);
  expect(value(serves, 'convlog_webhooks_rejected_total{reason="bad_signature"}')).toBe(0);
  expect(value(serves, 'convlog_webhooks_replayed_total')).toBe(0);
  expect(value(serves, 'convlog_webhook_body_bytes')).toBe(0);
  expect(serves).toContain('convlog_webhook_answer_seconds_bucket');
});

it('the limit is the one in force for the account: the lowest of the processes taking permits, not the one the row kept', async () => {
  const workerAt100 = await taking(100);
  const oneOffAt7 = await taking(7);
  let text = await scrape(worker.url);
  expect(value(text, 'convlog_rate_budget_limit{budget="conversation_log"}')).toBe(7);
  expect(value(text, 'convlog_rate_budget_own_limit{budget="conversation_log"}')).toBe(300);
  expect(value(text, 'convlog_rate_budget_own_limit{budget="account"}')).toBe(400);

  // The one-off is killed: it never releases its place, and goes quiet. Its last ask is made
  // older than the two windows a taker takes part for, as two minutes would make it.
  await serve.database.pool.query(
    `update convlog.rate_budgets
        set state = jsonb_set(state, '{takers}', (select jsonb_object_agg(key, case when (value->>0)::int = 7 then jsonb_set(value, '{1}', '0') else value end)
                                                    from jsonb_each(state->'takers')))
      where name = $1`,
    [BUDGET_NAMES.conversationLog],
  );
  expect((await serve.database.pool.query('select limit_per_window from convlog.rate_budgets where name = $1', [BUDGET_NAMES.conversationLog])).rows[0]).toEqual({
    limit_per_window: 7,
  });
  text = await scrape(worker.url);
  expect(value(text, 'convlog_rate_budget_limit{budget="conversation_log"}')).toBe(100);

  // No process takes permits: the limit this one would apply, as status says.
  await workerAt100.release();
  await oneOffAt7.release();
  text = await scrape(worker.url);
  expect(value(text, 'convlog_rate_budget_limit{budget="conversation_log"}')).toBe(300);
});
