// What `convlog sync` says while it runs and when it ends, against the simulator and a real
// database: a wait for the rate budget is named, with its length and the setting behind it, and
// the summary counts every request sent, those that failed too.
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';
import { createFixture, logRequests, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await killAll();
  await fixture?.close();
  fixture = undefined;
});

const until = async (what: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
};

describe('convlog sync under a tight rate limit', { timeout: 120_000 }, () => {
  it('logs the wait for the rate budget, how long and under which setting, instead of falling silent', async () => {
    // Zendesk allows 5 requests every 5 s; the budget 3 a minute: after the first permits every
    // request waits many seconds.
    fixture = await createFixture({ tickets: 10, rateLimit: 5, window: 5 }, { queue: [] });
    const sync = startConvlog(['sync', '--range', '1..10'], { env: { ...fixture.env, CONVLOG_RATE_LIMIT: '3', LOG_LEVEL: 'info' } });
    const waitLine = /"waitMs":(\d+),"msg":"waiting (\d+) s for the rate limit \(3 requests a minute for all processes, CONVLOG_RATE_LIMIT\)"/;
    await until(() => waitLine.test(sync.stderr()), 90_000);
    const match = waitLine.exec(sync.stderr());
    expect(match, sync.stderr().slice(-3000)).not.toBeNull();
    const [, waitMs, seconds] = match!.map(Number);
    // Only long waits get a line (pacing a second apart would flood a log).
    expect(waitMs).toBeGreaterThanOrEqual(5_000);
    expect(seconds).toBe(Math.ceil(waitMs / 1000));
    sync.kill('SIGINT');
    const exit = await sync.exited;
    expect(exit.code, sync.stderr().slice(-3000)).toBe(1);
    expect(sync.stdout()).toMatch(/unfinished \d+ \(interrupted; they stay queued\)/);
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
    expect(result.stdout).toMatch(/^synced 0, not_found 0, forbidden 0, failed 0, unfinished 3 \(interrupted; they stay queued\) \| 0 events read with (\d+) requests$/m);
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
});
