// The lists' read time is compared with two kinds of time: tickets' change times, which are
// Zendesk's, and, for the hourly read, the time of later runs. A worker's clock may be minutes off
// Zendesk's (clockOffset moves the simulator's) and off other workers' (Date, faked here, moves the
// worker's alone: Postgres keeps the real time). Neither may delay a brand's name, nor read the
// lists at every run.
import { afterEach, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill, type BackfillOptions } from '../../src/queue/backfill.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, nowSec, TOKEN } from './helpers.ts';

const t = backfillTestContext();
const BRAND_2 = 361_000_000_002; // a brand: the export side-loads groups and organizations, never brands
const MIN = 60_000;

async function setup(options: SimulatorOptions = {}): Promise<{ sim: Simulator; run: (o?: BackfillOptions) => ReturnType<typeof runBackfill> }> {
  const sim = await startSimulator({ tickets: 20, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0, ...options });
  t.sims.push(sim);
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  const deps = { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger };
  return { sim, run: (o = {}) => runBackfill(deps, { exportOptions: { retryBaseMs: 5, maxAttempts: 2 }, ...o }) };
}

const listRequests = (sim: Simulator) => sim.requests.filter((r) => ['groups', 'brands', 'organizations'].includes(r.kind)).length;
const brandRow = async (id: number) => (await t.database.pool.query('select count(*)::int as n from zendesk.brands where id = $1', [id])).rows[0].n as number;

afterEach(() => {
  vi.useRealTimers();
});

it("reads the lists for a brand a ticket names after their read, with the worker's clock 10 minutes ahead of Zendesk's", async () => {
  const { sim, run } = await setup({ clockOffset: -10 * 60 });
  expect((await run({ since: nowSec() - 40 * DAY })).accountLists).toHaveProperty('brands');
  // Brand 2 is new since the lists' read, as far as convlog knows: its row is not there. A ticket
  // then names it, at once: its change is after the read by Zendesk's clock, though 10 minutes
  // before the read by the worker's.
  await t.database.pool.query('delete from zendesk.brands where id = $1', [BRAND_2]);
  sim.updateTicket(1, { brand_id: BRAND_2 });
  sim.resetRequests();
  const next = await run();
  expect(next.seen).toBe(1);
  // Compared with the worker's time of the read, the change looked older than it: the brand kept
  // its id, without a name, until the hourly read.
  expect({ accountLists: next.accountLists, listRequests: listRequests(sim), brandRow: await brandRow(BRAND_2) }).toMatchObject({
    accountLists: { brands: expect.any(Number) },
    listRequests: 3,
    brandRow: 1,
  });
});

it("does not read the lists at every run when the worker's clock is 2 hours ahead of Zendesk's", async () => {
  const { sim, run } = await setup({ clockOffset: -120 * 60 });
  await run({ since: nowSec() - 40 * DAY });
  sim.resetRequests();
  // Nothing changed: the lists, read a moment ago, are not due, whichever clock the read time is on.
  expect((await run()).accountLists).toHaveProperty('notDue');
  expect(listRequests(sim)).toBe(0);
});

it("measures the lists' hour by Postgres's clock: a worker 30 minutes behind does not make the next one read them again", async () => {
  const { sim, run } = await setup();
  // Machine a's clock runs 30 minutes behind the database's (and the simulator's, which share this process's Date).
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() - 30 * MIN });
  await run({ since: nowSec() - 40 * DAY });
  vi.useRealTimers();
  // Machine b's clock is right; 35 minutes pass (the saved read time moves back by that much).
  await t.database.pool.query(
    `update convlog.sync_state set value = jsonb_set(value, '{readAt}', to_jsonb((value->>'readAt')::timestamptz - interval '35 minutes')) where key = 'account_lists'`,
  );
  sim.resetRequests();
  const quiet = await run();
  // By a's clock the read was 65 minutes ago: read again at once, though 35 minutes passed.
  expect({ accountLists: quiet.accountLists, listRequests: listRequests(sim) }).toMatchObject({ accountLists: { notDue: expect.anything() }, listRequests: 0 });

  // 26 more minutes: an hour and a minute since the read, by any clock: they are read.
  await t.database.pool.query(
    `update convlog.sync_state set value = jsonb_set(value, '{readAt}', to_jsonb((value->>'readAt')::timestamptz - interval '26 minutes')) where key = 'account_lists'`,
  );
  expect((await run()).accountLists).toHaveProperty('brands');
  expect(listRequests(sim)).toBe(3);
});

it('without a read time by Zendesk\'s clock (an older release\'s record, or no Date header), counts every change as newer than the read', async () => {
  const { sim, run } = await setup();
  expect((await run({ since: nowSec() - 40 * DAY })).accountLists).toHaveProperty('brands');
  await t.database.pool.query(`update convlog.sync_state set value = value - 'zendeskReadAt' where key = 'account_lists'`);
  await t.database.pool.query('delete from zendesk.brands where id = $1', [BRAND_2]);
  sim.updateTicket(1, { brand_id: BRAND_2 });
  expect((await run()).accountLists).toHaveProperty('brands');
  expect(await brandRow(BRAND_2)).toBe(1);
});
