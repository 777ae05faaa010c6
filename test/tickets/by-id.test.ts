// Tickets queued by id get their tickets row in the same run (show_many, under the account-wide
// budget), through the real CLI against the simulator; two processes share that budget.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { ensureBudget } from '../../src/db/rate-budget.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { describeWindows, requestsPerWindow } from '../helpers/sim-windows.ts';
import { EMAIL, TOKEN } from '../backfill/helpers.ts';
import { simShowMany } from './helpers.ts';

const SLOW = 150_000;
const ACCOUNT_KINDS = new Set(['show_many', 'groups', 'brands', 'organizations', 'ticket', 'users_me', 'webhooks']);

let database: TestDatabase;
let sim: Simulator | undefined;
let origin = 0;

beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await database?.close();
});

async function start(options: SimulatorOptions): Promise<Simulator> {
  origin = Date.now();
  sim = await startSimulator({ rateLimit: 0, exportRateLimit: 0, seed: 2, ...options });
  return sim;
}

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: database.url,
  ZENDESK_BASE_URL: sim!.url,
  ZENDESK_EMAIL: EMAIL,
  ZENDESK_API_TOKEN: TOKEN,
  ...extra,
});

async function storedRows(): Promise<Map<number, { via_channel: string | null; group_id: number | null; brand_id: number | null; tags: string[] | null }>> {
  const { rows } = await database.pool.query<{ id: number; via_channel: string | null; group_id: number | null; brand_id: number | null; tags: string[] | null }>(
    'select id::int, via_channel, group_id::float8 as group_id, brand_id::float8 as brand_id, tags from zendesk.tickets',
  );
  return new Map(rows.map(({ id, ...row }) => [id, row]));
}

async function expectRowsAsServed(ids: number[]): Promise<void> {
  const served = await simShowMany(sim!, ids);
  const stored = await storedRows();
  expect(served.length).toBeGreaterThan(0);
  for (const t of served) {
    expect(stored.get(t.id), `ticket ${t.id}`).toEqual({ via_channel: t.via?.channel ?? null, group_id: t.group_id ?? null, brand_id: t.brand_id ?? null, tags: t.tags ?? null });
  }
  expect(stored.size).toBe(served.length);
}

describe('tickets queued by id', () => {
  it('convlog sync gives each ticket its tickets row within the same run', async () => {
    await start({ tickets: 30, ticketSizes: { 3: 5, 5: 5, 12: 5 } });
    const result = await runCli(['sync', '3', '5', '12'], { env: env(), timeoutMs: SLOW });
    expect(result.code, result.stderr).toBe(0);
    const showMany = sim!.requests.filter((r) => r.kind === 'show_many');
    expect(showMany.map((r) => [r.status, r.query.ids])).toEqual([[200, '3,5,12']]);
    await expectRowsAsServed([3, 5, 12]);
    expect(showMany[0].query.ids).toBe('3,5,12');
    // show_many cannot side-load brands: their list is read once, and the views show names.
    expect(sim!.requests.filter((r) => r.kind === 'brands').map((r) => r.status)).toEqual([200]);
    const names = await database.pool.query(
      `select count(brand_name)::int as named, count(*) filter (where brand_name like 'brand %')::int as unnamed from zendesk.ticket_conversations`,
    );
    expect(names.rows).toEqual([{ named: 3, unnamed: 0 }]);

    const status = await runCli(['status'], { env: { DATABASE_URL: database.url }, timeoutMs: SLOW });
    expect(status.stdout).toMatch(/^context +3 tickets \(0 deleted\), \d+ groups?, [1-9]\d* brands?, \d+ organizations?$/m);
    expect(status.stdout).toMatch(/^budget +account: .*2 requests,/m);
  }, SLOW);

  it('convlog sync reads again the rows of tickets it already holds: a ticket solved since shows solved', async () => {
    const sim = await start({ tickets: 30, ticketSizes: { 3: 5, 5: 5 } });
    sim.updateTicket(3, { status: 'open' });
    expect((await runCli(['sync', '3', '5'], { env: env(), timeoutMs: SLOW })).code).toBe(0);
    sim.updateTicket(3, { status: 'solved' });
    sim.resetRequests();
    const again = await runCli(['sync', '3', '5'], { env: env(), timeoutMs: SLOW });
    expect(again.code, again.stderr).toBe(0);
    expect(sim.requests.filter((r) => r.kind === 'show_many').map((r) => [r.status, r.query.ids])).toEqual([[200, '3,5']]);
    const { rows } = await database.pool.query(`select ticket_id::int, ticket_status from zendesk.ticket_conversations order by ticket_id`);
    expect(rows).toEqual([
      { ticket_id: 3, ticket_status: 'solved' },
      { ticket_id: 5, ticket_status: (await simShowMany(sim, [5]))[0].status },
    ]);
  }, SLOW);

  it('convlog enqueue reads them 100 a request, and only those without a row', async () => {
    await start({ tickets: 250, deleted: [17] });
    const first = await runCli(['enqueue', '--range', '1..150'], { env: env(), timeoutMs: SLOW });
    expect(first.code, first.stderr).toBe(0);
    await expectRowsAsServed(Array.from({ length: 150 }, (_, i) => i + 1));
    expect((await storedRows()).has(17)).toBe(false); // deleted: show_many leaves it out

    sim!.resetRequests();
    const second = await runCli(['enqueue', '--range', '101..250'], { env: env(), timeoutMs: SLOW });
    expect(second.code, second.stderr).toBe(0);
    const asked = sim!.requests.filter((r) => r.kind === 'show_many').flatMap((r) => r.query.ids.split(',').map(Number));
    // 101..150 have rows already; 17 is not in this range.
    expect(asked).toEqual(Array.from({ length: 100 }, (_, i) => i + 151));
    await expectRowsAsServed(Array.from({ length: 250 }, (_, i) => i + 1));
  }, SLOW);

  it('convlog enqueue leaves more tickets than a minute of the account budget reads to the backfill, and says so', async () => {
    await start({ tickets: 250 });
    // 2 requests a minute read 200 tickets: 250 without a row would keep enqueue waiting.
    const result = await runCli(['enqueue', '--range', '1..250'], { env: env({ CONVLOG_ACCOUNT_RATE_LIMIT: '2' }), timeoutMs: SLOW });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/queued 250 tickets/);
    expect(result.stdout).toMatch(/250 of these tickets have no ticket row yet: reading them by id would take about 2 min of the account-wide budget, so enqueue leaves them to "convlog backfill"/);
    expect(sim!.requests.filter((r) => r.kind === 'show_many')).toEqual([]);
    expect((await storedRows()).size).toBe(0);
    // At most a minute's worth is read at once.
    const small = await runCli(['enqueue', '--range', '300..399'], { env: env({ CONVLOG_ACCOUNT_RATE_LIMIT: '2' }), timeoutMs: SLOW });
    expect(small.code, small.stderr).toBe(0);
    expect(sim!.requests.filter((r) => r.kind === 'show_many')).toHaveLength(1);
  }, SLOW);

  it('a failure reading them keeps the queueing, warns, and status counts the tickets without a row', async () => {
    await start({ tickets: 20, apiToken: 'another-token' });
    const result = await runCli(['enqueue', '1', '2', '3'], { env: env(), timeoutMs: SLOW });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/queued 3 tickets/);
    expect(result.stderr).toMatch(/could not read the queued tickets/);
    expect((await storedRows()).size).toBe(0);
    const status = await runCli(['status', '--json'], { env: { DATABASE_URL: database.url }, timeoutMs: SLOW });
    expect(JSON.parse(status.stdout).context).toMatchObject({ tickets: 0, withoutRow: 3 });
  }, SLOW);
});

describe('the account-wide budget', () => {
  it('two enqueue processes reading show_many together never exceed it, without a 429', async () => {
    // Windows of 3 s: Zendesk's `resets` is in whole seconds, too coarse to place a window of 1 s
    // (test/budget/simulation.test.ts). With 1 s windows this test had to allow a 429.
    const limit = 5;
    const windowS = 3;
    await start({ tickets: 1000, accountRateLimit: limit, window: windowS, latency: 20 });
    await ensureBudget(database.pool, BUDGET_NAMES.account, limit, windowS * 1000);
    const settings = env({ CONVLOG_ACCOUNT_RATE_LIMIT: String(limit), LOG_LEVEL: 'info' });
    const results = await Promise.all([
      runCli(['enqueue', '--range', '1..500'], { env: settings, timeoutMs: SLOW }),
      runCli(['enqueue', '--range', '501..1000'], { env: settings, timeoutMs: SLOW }),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const windows = requestsPerWindow(sim!.requests, { origin, windowMs: windowS * 1000, kinds: ACCOUNT_KINDS });
    const seen = describeWindows(windows, windowS * 1000);
    // 1,000 tickets, 100 a request, and the brands list (some tickets name a deleted brand, which
    // no list has) once, or once per process when the second looked before the first had
    // remembered that brand gone.
    const ok = (kind: string) => sim!.requests.filter((r) => r.kind === kind && r.status === 200).length;
    expect(ok('show_many'), seen).toBe(10);
    expect(ok('brands'), seen).toBeGreaterThanOrEqual(1);
    expect(ok('brands'), seen).toBeLessThanOrEqual(2);
    expect(windows.reduce((n, w) => n + w.ok, 0), seen).toBe(10 + ok('brands'));
    expect(windows.length, seen).toBeGreaterThanOrEqual(2); // more than the limit: it had to wait
    for (const w of windows) {
      expect(w.ok, seen).toBeLessThanOrEqual(limit);
      expect(w.limited, seen).toBe(0);
    }
    expect((await storedRows()).size).toBe(1000);
  }, SLOW);
});
