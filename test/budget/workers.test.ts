// The shared budget end to end: real `convlog work` processes against one database and the
// simulator, which counts every request per fixed window as Zendesk would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONVERSATION_LOG_BUDGET } from '../../src/commands/runtime.ts';
import { ensureBudget, readBudgets } from '../../src/db/rate-budget.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startSimulator, type SimRequest, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { pageConversationLog } from '../../src/zendesk/conversation-log.ts';
import { sharedBudget } from '../../src/db/shared-budget.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const WINDOW_S = 2;
const CREDENTIALS = { ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'sim-token' };
const AUTHORIZATION = `Basic ${Buffer.from('agent@example.com/token:sim-token').toString('base64')}`;

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

/** The simulator's windows: requests counted by status, per window. */
function perWindow(requests: SimRequest[], ticketIds?: Set<number>) {
  const counts = new Map<number, { ok: number; limited: number }>();
  for (const r of requests) {
    if (r.kind !== 'conversation_log' || (ticketIds && !ticketIds.has(r.ticketId!))) continue;
    const window = Math.floor((r.at - origin) / (WINDOW_S * 1000));
    const c = counts.get(window) ?? { ok: 0, limited: 0 };
    if (r.status === 429) c.limited++;
    else c.ok++;
    counts.set(window, c);
  }
  return [...counts.values()];
}

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
    const tickets = [1, 2, 3, 4, 5, 6];
    await start({ tickets: 6, rateLimit: 10, ticketSizes: Object.fromEntries(tickets.map((id) => [id, 450])) });
    await ensureBudget(database.pool, CONVERSATION_LOG_BUDGET, 10, WINDOW_S * 1000);
    await enqueue(tickets);

    const results = await workers(2, 10);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const windows = perWindow(sim.requests);
    expect(windows.reduce((n, w) => n + w.ok, 0)).toBe(30); // 6 tickets × 5 pages
    for (const w of windows) {
      expect(w.ok).toBeLessThanOrEqual(10);
      expect(w.limited).toBe(0);
    }
    expect(await outcomes()).toEqual({ failed: 0, retries: 0, synced: 6 });

    const status = await runCli(['status', '--json'], { env: { DATABASE_URL: database.url } });
    const budget = JSON.parse(status.stdout).rateBudgets.find((b: { name: string }) => b.name === CONVERSATION_LOG_BUDGET);
    expect(budget).toMatchObject({ limitPerWindow: 10, windowMs: 2000, totalTaken: 30, totalRateLimited: 0, serverTotal: 10 });
    const text = await runCli(['status'], { env: { DATABASE_URL: database.url } });
    expect(text.stdout).toMatch(/budget +conversation_log: \d+ of 10 spent this 2 s window; .*0 429s seen; 30 requests/);
  }, 60_000);

  it('a 429 from Zendesk pauses every process until Retry-After; no job fails or spends a retry', async () => {
    const tickets = [1, 2, 3, 4];
    // convlog is told 20 a window, Zendesk allows 3. Another client (ticket 5) keeps Zendesk's
    // window spent until convlog has been refused once, so the 429 does not depend on timing.
    await start({ tickets: 5, rateLimit: 3, latency: 300, ticketSizes: { ...Object.fromEntries(tickets.map((id) => [id, 200])), 5: 1 } });
    await ensureBudget(database.pool, CONVERSATION_LOG_BUDGET, 20, WINDOW_S * 1000);
    await enqueue(tickets);

    const ours = () => sim.requests.filter((r) => r.kind === 'conversation_log' && tickets.includes(r.ticketId ?? 0));
    let greedy = true;
    const spender = (async () => {
      const deadline = Date.now() + 40_000;
      while (greedy && Date.now() < deadline && !ours().some((r) => r.status === 429)) {
        const response = await fetch(`${sim.url}/api/v2/tickets/5/conversation_log`, { headers: { authorization: AUTHORIZATION } });
        await response.arrayBuffer();
        if (response.status === 429) await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const results = await workers(2, 20);
    greedy = false;
    await spender;
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const log = ours();
    const limited = log.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    // Once a 429 is answered (300 ms later), nobody sends until its Retry-After (the window's
    // end), but for the one send time each process may already hold.
    const answered = limited[0].at + 300;
    const pausedUntil = origin + (Math.floor((limited[0].at - origin) / (WINDOW_S * 1000)) + 1) * WINDOW_S * 1000;
    expect(log.filter((r) => r.at > answered + 50 && r.at < pausedUntil - 50).length).toBeLessThanOrEqual(2);
    expect(log.filter((r) => r.status === 200).length).toBe(8);
    // The server's total is learned: later windows stay within it.
    const later = perWindow(log.filter((r) => r.at >= pausedUntil + WINDOW_S * 1000));
    for (const w of later) expect(w.limited).toBe(0);
    expect(await outcomes()).toEqual({ failed: 0, retries: 0, synced: 4 });
    const [budget] = (await readBudgets(database.pool)).filter((b) => b.name === CONVERSATION_LOG_BUDGET);
    expect(budget.totalRateLimited).toBe(limited.length);
    expect(budget.serverTotal).toBe(3);
  }, 90_000);
});

describe('another client on the account', () => {
  it('spending part of the window slows convlog down to what is left, without a 429', async () => {
    await start({ tickets: 2, rateLimit: 10, ticketSizes: { 1: 30, 2: 1 } });
    const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 5_000 });
    const budget = sharedBudget(database.pool, { name: 'others_test', limitPerWindow: 10, windowMs: WINDOW_S * 1000 });
    // Start at the beginning of a simulator window, where another client spends 6 of its 10.
    const windowMs = WINDOW_S * 1000;
    await new Promise((resolve) => setTimeout(resolve, windowMs - ((Date.now() - origin) % windowMs) + 20));
    const window = Math.floor((Date.now() - origin) / windowMs);
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${sim.url}/api/v2/tickets/2/conversation_log`, { headers: { authorization: AUTHORIZATION } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    let pages = 0;
    for await (const page of pageConversationLog(http, 1, { budget, pageSize: 3 })) pages += page.requests;
    expect(pages).toBe(10);

    const ours = sim.requests.filter((r) => r.ticketId === 1);
    expect(ours.filter((r) => r.status === 429)).toHaveLength(0);
    // The window the other client spent in had room for 4 of ours; the rest waited for the next.
    const inFirst = ours.filter((r) => Math.floor((r.at - origin) / windowMs) === window);
    expect(inFirst.length).toBeGreaterThan(0);
    expect(inFirst.length).toBeLessThanOrEqual(4);
    const [row] = (await readBudgets(database.pool)).filter((b) => b.name === 'others_test');
    expect(row.totalRateLimited).toBe(0);
  }, 30_000);
});
