// What `convlog sync` says while it runs and when it ends, against the simulator and a real
// database: a wait for a rate budget (the conversation log's, the account-wide one of the ticket
// rows, a 429's Retry-After, the credential check's) is named, with its length and the setting
// behind it, and the summary counts every request sent, those that failed too.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';
import { spendBudget, spendOutside, until, firstWaitLine, ownBudgetWait, retryAfterWait } from '../helpers/rate-waits.ts';
import { createFixture, logRequests, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

describe('convlog sync under a tight rate limit', { timeout: 120_000 }, () => {
  it('logs the wait for the rate budget, how long and under which setting, instead of falling silent', async () => {
    // Another process spent this minute's 10 requests: the first ticket waits for the next.
    fixture = await createFixture({ tickets: 10 }, { queue: [] });
    await spendBudget(fixture.database.pool, 'conversation_log', 10);
    const sync = startConvlog(['sync', '--range', '1..10'], { env: { ...fixture.env, CONVLOG_RATE_LIMIT: '10', LOG_LEVEL: 'info' } });
    const waitLine = /"waitMs":(\d+),"msg":"waiting (\d+) s for the rate limit \(10 requests a minute for all processes, CONVLOG_RATE_LIMIT\)"/;
    await until(() => waitLine.test(sync.stderr()), 90_000);
    const match = waitLine.exec(sync.stderr());
    expect(match, sync.stderr().slice(-3000)).not.toBeNull();
    const [, waitMs, seconds] = match!.map(Number);
    // Only waits beyond the budget's pacing get a line (2 × 60 s ÷ 10; pacing would flood a log).
    expect(waitMs).toBeGreaterThanOrEqual(12_000);
    expect(seconds).toBe(Math.ceil(waitMs / 1000));
    sync.kill('SIGINT');
    const exit = await sync.exited;
    expect(exit.code, sync.stderr().slice(-3000)).toBe(1);
    expect(sync.stdout()).toMatch(/unfinished \d+ \(interrupted; they stay queued, behind what a later sync queues\)/);
  });

  it('names CONVLOG_ACCOUNT_RATE_LIMIT when the ticket rows wait for the account-wide budget', async () => {
    // The tickets read by id (show_many) under an account-wide budget another process spent.
    fixture = await createFixture({ tickets: 10 }, { queue: [] });
    await spendBudget(fixture.database.pool, 'account', 10);
    const sync = startConvlog(['sync', '--range', '1..10'], { env: { ...fixture.env, CONVLOG_ACCOUNT_RATE_LIMIT: '10', LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(sync);
    expect(line, sync.stderr().slice(-3000)).toMatchObject(ownBudgetWait('account', 'CONVLOG_ACCOUNT_RATE_LIMIT', 10));
    expect(line.waitMs).toBeGreaterThanOrEqual(12_000);
    sync.kill('SIGINT');
    await sync.exited;
  });

  it("names Zendesk's account-wide 429 when another integration spent the account's window", async () => {
    // Zendesk allows 2 account-wide requests every 30 s: another integration sends one, the
    // credential check the other, and show_many is refused until the window ends.
    fixture = await createFixture({ tickets: 10, accountRateLimit: 2, window: 30 }, { queue: [] });
    await spendOutside(`${fixture.sim.url}/api/v2/users/me.json`, 1);
    const sync = startConvlog(['sync', '--range', '1..10'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(sync);
    expect(line, sync.stderr().slice(-3000)).toMatchObject(retryAfterWait('account', 'CONVLOG_ACCOUNT_RATE_LIMIT', 'account-wide'));
    expect(line.waitMs).toBeGreaterThanOrEqual(5_000);
    expect(line.waitMs).toBeLessThanOrEqual(30_000);
    sync.kill('SIGINT');
    await sync.exited;
  });

  it('says why it waits when Zendesk answers its credential check with a 429', async () => {
    // The account-wide window (1 request in 30 s) is spent before sync asks who it is.
    fixture = await createFixture({ tickets: 3, accountRateLimit: 1, window: 30 }, { queue: [] });
    await spendOutside(`${fixture.sim.url}/api/v2/users/me.json`, 1);
    const sync = startConvlog(['sync', '1', '2', '3'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
    const line = await firstWaitLine(sync);
    expect(line, sync.stderr().slice(-3000)).toMatchObject({
      budget: 'account',
      cause: 'retry-after',
      path: 'api/v2/users/me.json',
      msg: expect.stringMatching(/^waiting \d+ s for Zendesk's account-wide rate limit \(it answered 429 Too Many Requests to the credential check/),
    });
    expect(line.waitMs).toBeGreaterThanOrEqual(5_000);
    sync.kill('SIGINT');
    await sync.exited;
  });
});

describe('the summary of convlog sync', { timeout: 120_000 }, () => {
  it('counts the requests that failed, not only those of stored pages', async () => {
    // Every conversation-log request fails (500, 503, 504): nothing is stored, requests are spent.
    fixture = await createFixture({ tickets: 5, failRate: 1 }, { queue: [] });
    const sim = fixture.sim;
    // Stopped as by Ctrl-C after 6 s: the tickets would be retried for many minutes.
    const result = await runCli(['sync', '1', '2', '3'], { env: fixture.env, timeoutMs: 6_000 });
    expect(result.code, result.stderr).toBe(1);
    const sent = logRequests(sim).length;
    expect(sent).toBeGreaterThan(3);
    expect(logRequests(sim).every((r) => r.status >= 500)).toBe(true);
    expect(result.stdout).toMatch(/^synced 0, not_found 0, forbidden 0, failed 0, unfinished 3 \(interrupted; they stay queued, behind what a later sync queues\) \| 0 events read with (\d+) requests$/m);
    // Counted as each permit is taken: a Ctrl-C between a permit and its request (one ticket in
    // flight each) counts a request the simulator never saw.
    const counted = Number(/with (\d+) requests/.exec(result.stdout)![1]);
    expect(counted).toBeGreaterThanOrEqual(sent);
    expect(counted).toBeLessThanOrEqual(sent + 3);
  });

  it('counts the request of a ticket answered 403, which stores no page', async () => {
    fixture = await createFixture({ tickets: 5, forbidden: [2, 3] }, { queue: [] });
    const result = await runCli(['sync', '1', '2', '3'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);
    const events = fixture.sim.eventCount(1);
    expect(logRequests(fixture.sim)).toHaveLength(3);
    expect(result.stdout).toBe(`synced 1, not_found 0, forbidden 2, failed 0 | ${events} events read with 3 requests\n`);
  });

  it('says "1 request", not "1 requests"', async () => {
    fixture = await createFixture({ tickets: 5, forbidden: [2] }, { queue: [] });
    const result = await runCli(['sync', '2'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('synced 0, not_found 0, forbidden 1, failed 0 | 0 events read with 1 request\n');
  });
});
