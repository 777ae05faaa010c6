// `convlog sync IDS` is someone waiting at a terminal: its tickets are queued above a backlog
// (a backfill's, an enqueue's), so its workers take them next instead of working through hours of
// other tickets first. Webhook tickets still go before them (SYNC_PRIORITY, src/queue/enqueue.ts),
// and while other tickets come first the progress line says how many, so it does not look stuck.
// Stopped with Ctrl-C, it leaves its tickets queued as a backlog: nobody waits for them any more.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enqueueTickets, SYNC_PRIORITY, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { jobsByState, lowerWaitingJobs } from '../../src/queue/queue-stats.ts';
import { liveQueueWorkers } from '../../src/queue/queue-workers.ts';
import { runCli, startConvlog } from '../helpers/cli.ts';
import { bossFor, createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** When each ticket's job was taken by a worker, by ticket id (jobs not taken are left out). */
async function takenAt(f: Fixture): Promise<Map<number, number>> {
  const { rows } = await f.database.pool.query<{ key: string; at: Date }>(
    `select singleton_key as key, started_on as at from pgboss.job where name = 'ticket-sync' and started_on is not null`,
  );
  return new Map(rows.map((r) => [Number(r.key), r.at.getTime()]));
}

/** The last time any of `ids` was taken, and the first time any other ticket was (Infinity: none was). */
function split(taken: Map<number, number>, ids: number[]): { last: number; firstOther: number } {
  const own = ids.map((id) => taken.get(id));
  expect(own.every((at) => at !== undefined), 'every one of these was taken').toBe(true);
  const others = [...taken].filter(([id]) => !ids.includes(id)).map(([, at]) => at);
  return { last: Math.max(...(own as number[])), firstOther: Math.min(Infinity, ...others) };
}

describe('convlog sync behind a backlog', { timeout: 120_000 }, () => {
  it("takes its own tickets before a backlog queued earlier, and raises a ticket of the backlog it names", async () => {
    // The walkthrough's case: 200 ids the simulator does not have (each a 404) queued first by
    // `enqueue`; one worker slot. Oldest first, ticket 5 would wait for all of them.
    fixture = await createFixture({ tickets: 20, ticketSizes: { 5: 30 } }, { queue: range(1_000, 1_199) });
    const result = await runCli(['sync', '5', '1050', '--concurrency', '1'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^synced 1, not_found 1, forbidden 0, failed 0 \| /);
    // Both were taken before any ticket of the backlog: ticket 1050, waiting in it, was raised.
    const { last, firstOther } = split(await takenAt(fixture), [5, 1_050]);
    expect(last).toBeLessThan(firstOther);
    // The slot may take a ticket or two more before it sees its own are done, not the backlog.
    expect((await jobsByState(fixture.database.pool)).created).toBeGreaterThan(150);
  });

  it('lets webhook tickets go first, and says on its progress line how many other tickets are ahead', async () => {
    // Three webhook tickets of 30 pages each, every page 100 ms: the one worker slot spends
    // seconds on them before ticket 5, long enough for a progress line (one every 5 s) between.
    fixture = await createFixture({ tickets: 20, ticketSizes: { 5: 10, 11: 3_000, 12: 3_000, 13: 3_000 }, latency: 100 }, { queue: range(1_000, 1_099) });
    const boss = await bossFor(fixture, false);
    try {
      await enqueueTickets(boss, fixture.database.db, [11, 12, 13], { priority: WEBHOOK_PRIORITY });
    } finally {
      await boss.stop({ graceful: false, timeout: 2_000 });
    }
    const result = await runCli(['sync', '5', '--concurrency', '1'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^also worked \d+ other queued tickets it took while these were pending: synced 3(, not_found \d+)?$/);
    // The webhook tickets first, then ticket 5, then (in the moment before it stops) the backlog.
    const taken = await takenAt(fixture);
    const webhooks = split(taken, [11, 12, 13]);
    expect(webhooks.last).toBeLessThan(taken.get(5)!);
    expect(taken.get(5)!).toBeLessThan(split(taken, [5, 11, 12, 13]).firstOther);

    const progress = result.stderr.trimEnd().split('\n').filter((line) => line.startsWith('sync: '));
    const waiting = progress.filter((line) => /^sync: 0\/1 ticket, [\d,]+ events, \d+ requests? \([123] other tickets? ahead\)$/.test(line));
    expect(waiting.length, result.stderr).toBeGreaterThan(0);
    // Done, nothing is ahead any more: the last line is the count alone.
    expect(progress.at(-1)).toMatch(/^sync: 1\/1 ticket, [\d,]+ events, \d+ requests$/);
    expect((await jobsByState(fixture.database.pool)).created).toBeGreaterThan(50);
  });

  it('stopped with Ctrl-C, leaves its tickets queued behind what a later sync queues', async () => {
    // Ten tickets of six pages, every page 100 ms, one slot: stopped after 3 s, most are still waiting.
    const slow = Object.fromEntries(range(1, 10).map((id) => [id, 600]));
    fixture = await createFixture({ tickets: 20, ticketSizes: slow, latency: 100 }, { queue: [] });
    const stopped = await runCli(['sync', '--range', '1..10', '--concurrency', '1'], { env: fixture.env, timeoutMs: 3_000 });
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stdout).toMatch(/unfinished \d+ \(interrupted; they stay queued, behind what a later sync queues\)/);
    const { rows } = await fixture.database.pool.query<{ priority: number; n: number }>(
      `select priority, count(*)::int as n from pgboss.job where name = 'ticket-sync' and state in ('created', 'retry') group by priority`,
    );
    expect(rows).toEqual([{ priority: 0, n: expect.any(Number) }]);
    expect(rows[0].n).toBeGreaterThan(3);

    const laterStart = new Date();
    const later = await runCli(['sync', '20', '--concurrency', '1'], { env: fixture.env });
    expect(later.code, later.stderr).toBe(0);
    const takenSince = [...(await takenAt(fixture))].filter(([, at]) => at >= laterStart.getTime()).sort((a, b) => a[1] - b[1]);
    expect(takenSince[0][0]).toBe(20);
  });

  it('leaves them at its priority while another process works the queue: another sync may be waiting for the same tickets', async () => {
    const slow = Object.fromEntries(range(1, 10).map((id) => [id, 600]));
    fixture = await createFixture({ tickets: 20, ticketSizes: slow, latency: 100 }, { queue: [] });
    const work = startConvlog(['work', '--concurrency', '1'], { env: fixture.env });
    try {
      await vi.waitUntil(async () => (await liveQueueWorkers(fixture!.database.pool)).some((w) => w.pid === work.process.pid), { timeout: 30_000, interval: 100 });
      const stopped = await runCli(['sync', '--range', '1..10', '--concurrency', '1'], { env: fixture.env, timeoutMs: 3_000 });
      expect(stopped.code, stopped.stderr).toBe(1);
      expect(stopped.stdout).toMatch(/unfinished \d+ \(interrupted; they stay queued\)/);
      const { rows } = await fixture.database.pool.query<{ priority: number }>(
        `select distinct priority from pgboss.job where name = 'ticket-sync' and state in ('created', 'retry')`,
      );
      expect(rows).toEqual([{ priority: SYNC_PRIORITY }]);
    } finally {
      work.kill('SIGTERM');
      await work.exited;
    }
  });

  it("puts back only the jobs at sync's priority: a webhook's keeps its place, and other tickets' are left alone", async () => {
    fixture = await createFixture({ tickets: 20 }, { queue: [] });
    const boss = await bossFor(fixture, false);
    try {
      await enqueueTickets(boss, fixture.database.db, [1, 2], { priority: SYNC_PRIORITY });
      await enqueueTickets(boss, fixture.database.db, [3], { priority: WEBHOOK_PRIORITY });
      await enqueueTickets(boss, fixture.database.db, [4]);
    } finally {
      await boss.stop({ graceful: false, timeout: 2_000 });
    }
    expect(await lowerWaitingJobs(fixture.database.pool, [1, 3, 4], SYNC_PRIORITY)).toEqual([1]);
    const { rows } = await fixture.database.pool.query<{ key: string; priority: number }>(
      `select singleton_key as key, priority from pgboss.job where name = 'ticket-sync' order by singleton_key::int`,
    );
    expect(rows).toEqual([
      { key: '1', priority: 0 },
      { key: '2', priority: SYNC_PRIORITY },
      { key: '3', priority: WEBHOOK_PRIORITY },
      { key: '4', priority: 0 },
    ]);
  });
});
