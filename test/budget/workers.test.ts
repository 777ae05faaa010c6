// The shared budget end to end, on the real clock: two `convlog work` processes against one
// database and the simulator, which counts every request per fixed window as Zendesk would.
// Everything else about the budget runs on virtual time (simulation.test.ts, permit.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUDGET_NAMES } from '../../src/db/budgets.ts';
import { ensureBudget } from '../../src/db/rate-budget.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { describeWindows, requestsPerWindow } from '../helpers/sim-windows.ts';

// Zendesk's `resets` is in whole seconds, so the budget needs a window some seconds long to
// place it (simulation.test.ts): with windows of 1 s this test met a 429 about once in ten runs.
const WINDOW_S = 3;
const CREDENTIALS = { ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'sim-token' };

let database: TestDatabase;
let sim: Simulator;
let origin: number;

async function start(options: SimulatorOptions): Promise<void> {
  origin = Date.now();
  sim = await startSimulator({ window: WINDOW_S, latency: 50, seed: 3, ...options });
}

beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await sim?.close();
  await database?.close();
});

async function enqueue(ids: number[]): Promise<void> {
  const boss = await startBoss(database, silentLogger);
  try {
    await enqueueTickets(boss, database.db, ids);
  } finally {
    await boss.stop({ graceful: false, timeout: 2_000 });
  }
}

async function outcomes() {
  const { rows } = await database.pool.query<{ failed: number; retries: number; synced: number }>(
    `select (select count(*)::int from pgboss.job where name = 'ticket-sync' and state = 'failed') as failed,
            (select coalesce(sum(retry_count), 0)::int from pgboss.job where name = 'ticket-sync') as retries,
            (select count(*)::int from zendesk.ticket_sync where status = 'synced') as synced`,
  );
  return rows[0];
}

function workers(count: number, rateLimit: number) {
  const env = { DATABASE_URL: database.url, ZENDESK_BASE_URL: sim.url, ...CREDENTIALS, CONVLOG_RATE_LIMIT: String(rateLimit) };
  return Promise.all(Array.from({ length: count }, () => runCli(['work', '--until-idle'], { env, timeoutMs: 60_000 })));
}

describe('two worker processes sharing one budget', () => {
  it('stay within it together: never more than the limit in a window, no 429', async () => {
    const tickets = [1, 2, 3, 4];
    await start({ tickets: 4, rateLimit: 10, ticketSizes: Object.fromEntries(tickets.map((id) => [id, 450])) });
    await ensureBudget(database.pool, BUDGET_NAMES.conversationLog, 10, WINDOW_S * 1000);
    await enqueue(tickets);

    const results = await workers(2, 10);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const windows = requestsPerWindow(sim.requests, { origin, windowMs: WINDOW_S * 1000, kinds: new Set(['conversation_log']) });
    // Every window in the message: a failure says whether a request spilled past a window's end.
    const seen = describeWindows(windows, WINDOW_S * 1000);
    expect(windows.reduce((n, w) => n + w.ok, 0), seen).toBe(20); // 4 tickets × 5 pages, at least 2 windows
    for (const w of windows) {
      expect(w.ok, seen).toBeLessThanOrEqual(10);
      expect(w.limited, seen).toBe(0);
    }
    expect(await outcomes()).toEqual({ failed: 0, retries: 0, synced: 4 });

    // The workers have ended: no limit is in force, and status names the one a process started with its settings would apply.
    const env = { env: { DATABASE_URL: database.url, CONVLOG_RATE_LIMIT: '10' } };
    const [status, text] = await Promise.all([runCli(['status', '--json'], env), runCli(['status'], env)]);
    const budget = JSON.parse(status.stdout).rateBudgets.find((b: { name: string }) => b.name === BUDGET_NAMES.conversationLog);
    expect(budget).toMatchObject({ limitPerWindow: null, takers: [], windowMs: WINDOW_S * 1000, totalTaken: 20, totalRateLimited: 0, serverTotal: 10 });
    expect(text.stdout).toMatch(/budget +conversation_log: \d+ of 10 spent this 3 s window \(no process is taking permits: .*\); .*0 429s seen; 20 requests/);
  }, 60_000);
});

