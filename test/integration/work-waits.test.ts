// What `convlog work` says while a rate limit holds it back, against the simulator and a real
// database: a worker has no progress bar, so each long wait is one structured log line naming
// the limit (convlog's own budget and its variable, or Zendesk's 429) and how long it lasts,
// once per wait however many tickets wait behind it.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKFILL_QUEUE } from '../../src/queue/boss.ts';
import { killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { spendBudget, spendOutside, waitLines, firstWaitLine, ownBudgetWait, retryAfterWait } from '../helpers/rate-waits.ts';
import { bossFor, createFixture, range, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopped(worker: Convlog): Promise<void> {
  worker.kill('SIGTERM');
  expect((await worker.exited).code, worker.stderr().slice(-3000)).toBe(0);
}

describe('convlog work held back by a rate limit', { timeout: 120_000 }, () => {
  it('logs one line per wait for its own budget, naming CONVLOG_RATE_LIMIT and the wait, not one per ticket', async () => {
    fixture = await createFixture({ tickets: 10 }, { queue: range(1, 10) });
    // Another worker spent this minute's 10 requests: four tickets wait at once for the next.
    await spendBudget(fixture.database.pool, 'conversation_log', 10);
    const worker = startConvlog(['work', '--concurrency', '4'], { env: { ...fixture.env, CONVLOG_RATE_LIMIT: '10', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(worker);
    expect(line, worker.stderr().slice(-3000)).toMatchObject({
      level: 30,
      budget: 'conversation_log',
      setting: 'CONVLOG_RATE_LIMIT',
      cause: 'budget',
      limitPerWindow: 10,
      windowMs: 60_000,
      msg: expect.stringMatching(/^waiting \d+ s for the rate limit \(10 requests a minute for all processes, CONVLOG_RATE_LIMIT\)$/),
    });
    // Beyond the budget's own pacing (2 × 60 s ÷ 10), which gets no line.
    expect(line.waitMs).toBeGreaterThanOrEqual(12_000);
    expect(line.msg).toContain(`waiting ${Math.ceil((line.waitMs as number) / 1000)} s`);
    // The other three tickets wait behind the same permit: no line of their own.
    await pause(3_000);
    expect(waitLines(worker.stderr()), worker.stderr().slice(-3000)).toHaveLength(1);
    await stopped(worker);
  });

  it("names Zendesk's 429 and its Retry-After when Zendesk refuses the requests", async () => {
    // Zendesk allows 2 conversation-log requests every 30 s, and another integration has spent
    // them: convlog's budget (100,000 a minute here) knows nothing of it until the 429.
    fixture = await createFixture({ tickets: 4, rateLimit: 2, window: 30 }, { queue: range(1, 4) });
    await spendOutside(`${fixture.sim.url}/api/v2/tickets/1/conversation_log`, 2);
    const worker = startConvlog(['work'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(worker);
    expect(line, worker.stderr().slice(-3000)).toMatchObject(retryAfterWait('conversation_log', 'CONVLOG_RATE_LIMIT', 'conversation-log'));
    // The window's rest: up to 30 s, at least what the process start left of it.
    expect(line.waitMs).toBeGreaterThanOrEqual(5_000);
    expect(line.waitMs).toBeLessThanOrEqual(30_000);
    await stopped(worker);
  });

  it('names CONVLOG_ACCOUNT_RATE_LIMIT when a scheduled backfill waits for the account-wide budget', async () => {
    fixture = await createFixture({ tickets: 5 }, { queue: [] });
    // A tick of `convlog schedule`: the backfill reads the export, then the groups, brands and
    // organizations lists, one request each, under the account-wide budget (10 a minute), which
    // another process spent this minute.
    await spendBudget(fixture.database.pool, 'account', 10);
    const boss = await bossFor(fixture, false);
    try {
      await boss.send(BACKFILL_QUEUE, { since: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    } finally {
      await boss.stop({ graceful: false, timeout: 2_000 });
    }
    const worker = startConvlog(['work'], { env: { ...fixture.env, CONVLOG_ACCOUNT_RATE_LIMIT: '10', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(worker);
    expect(line, worker.stderr().slice(-3000)).toMatchObject(ownBudgetWait('account', 'CONVLOG_ACCOUNT_RATE_LIMIT', 10));
    expect(line.waitMs).toBeGreaterThanOrEqual(12_000);
    await stopped(worker);
  });
});
