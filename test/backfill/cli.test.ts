// backfill, schedule, unschedule and enqueue --sql as a person or a scheduler runs them.
import type pg from 'pg';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import { BACKFILL_QUEUE } from '../../src/queue/boss.ts';
import { backfillStatus, scheduleStatus } from '../../src/queue/backfill-job.ts';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import { runCli, startConvlog, type Convlog } from '../helpers/cli.ts';
import { bossFor, createFixture } from '../helpers/sync-fixture.ts';
import { clearQueue, DAY, exportSince, nowSec, queuedTicketIds, savedPosition } from './helpers.ts';

// The tests run concurrently (each has its own database and simulator): most of their time is
// spent waiting for `convlog` processes, a rate limit or a cron tick.
async function setup({ onTestFinished }: TestContext, options: SimulatorOptions = {}) {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const fixture = await createFixture({ tickets: 40, ...options });
  cleanups.push(() => fixture.close());
  const { sim, database } = fixture;
  // The export budget is shared through Postgres and spaces requests over the minute: a high
  // limit keeps multi-page tests quick (the simulator's own limit is what tests exercise).
  const env = { ...fixture.env, CONVLOG_EXPORT_RATE_LIMIT: '600' };
  const cli = (...args: string[]) => runCli(args, { env, timeoutMs: SLOW });
  /** Ticket ids with a sync job; 0 rows when pg-boss was never even started. */
  const queued = () => queuedTicketIds(database.pool).catch((): number[] => []);
  /** A `convlog` child process, SIGKILLed after the test if it is still running. */
  const start = (...args: string[]): Convlog => {
    const child = startConvlog(args, { env });
    cleanups.push(() => {
      child.kill('SIGKILL');
      return child.exited;
    });
    return child;
  };
  /** pg-boss in the test process (no supervision, as startBoss's default), stopped after the test. */
  const startBoss = async () => {
    const boss = await bossFor(fixture, false);
    cleanups.push(() => boss.stop({ graceful: false, timeout: 1_000 }));
    return boss;
  };
  return { sim, database, cli, queued, start, startBoss };
}

const oneLine = (stderr: string) => stderr.trim().split('\n');
/** A scheduled backfill has run to its end (its record says `running` while it goes on). */
async function scheduledRunEnded(database: { db: Db; pool: pg.Pool }): Promise<boolean> {
  const run = (await backfillStatus(database.db, database.pool)).lastRun;
  return run?.trigger === 'schedule' && run.outcome !== 'running';
}
/** Each CLI run starts Node, Postgres connections and pg-boss: seconds apiece on a busy machine. */
const SLOW = 120_000;

describe.concurrent('convlog backfill', () => {
  it('--since 10d queues the tickets changed in the last 10 days; a later run without --since queues only later changes', async (context) => {
    const { sim, cli, queued, database } = await setup(context);
    const before = nowSec();
    const result = await cli('backfill', '--since', '10d');
    expect(result.code, result.stderr).toBe(0);
    const after = nowSec();
    // Tickets within a few seconds of the boundary could fall either way; the simulator spreads 40
    // tickets over 30 days, so there are almost never any.
    const all = await exportSince(sim, before - 31 * DAY);
    const surely = all.filter((t) => t.generated_timestamp >= after - 10 * DAY).map((t) => t.id);
    const maybe = all.filter((t) => t.generated_timestamp >= before - 10 * DAY).map((t) => t.id);
    const got = await queued();
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(40);
    for (const id of surely) expect(got).toContain(id);
    for (const id of got) expect(maybe).toContain(id);
    expect(result.stdout).toMatch(new RegExp(`backfill done: ${got.length} changed ticket\\(s\\) since \\S+: ${got.length} queued, 0 deleted`));
    // Where it starts, said before the first request rather than only in the last line.
    expect(oneLine(result.stderr)[0]).toMatch(/^backfill: reading changes since \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(result.stderr).toMatch(/^backfill: page 1: \d+ changed ticket\(s\), \d+ queued, 0 deleted \| .* position \d{4}-\d\d-\d\dT/m);
    expect(sim.requests.some((r) => r.kind === 'conversation_log')).toBe(false);
    // Its requests were taken from the shared export budget, not the conversation log's.
    const budgets = await database.pool.query<{ name: string; total_taken: number }>('select name, total_taken::int from convlog.rate_budgets');
    expect(budgets.rows).toContainEqual({ name: 'export', total_taken: 1 });

    // Read again: every ticket has its job waiting, and each page line says so, not only the summary.
    const again = await cli('backfill', '--since', '10d');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`^backfill: page 1: ${got.length} changed ticket\\(s\\), 0 queued \\(${got.length} already queued\\), 0 deleted \\| total ${got.length} seen, 0 queued \\(${got.length} already queued\\)`, 'm'));
    expect(again.stdout).toMatch(new RegExp(`: 0 queued \\(${got.length} already queued\\), 0 deleted`));

    await clearQueue(database.pool);
    const position = (await savedPosition(database.pool))?.position;
    expect(position).toEqual(expect.any(String));
    sim.markChanged(7);
    sim.markChanged(33);
    const second = await cli('backfill');
    expect(second.code, second.stderr).toBe(0);
    expect(await queued()).toEqual([7, 33]);
    expect(second.stdout).toMatch(/backfill done: 2 changed ticket\(s\) since the saved position: 2 queued/);
    expect(oneLine(second.stderr)[0]).toBe(`backfill: continuing from the saved position (changes up to ${position!.replace('.000Z', 'Z')})`);
  }, SLOW);

  it('without --since and without a saved position: one line, exit 2, nothing queued; a start less than a minute ago is moved back', async (context) => {
    const { sim, cli, queued } = await setup(context);
    const result = await cli('backfill');
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog backfill: no saved export position yet: run "convlog backfill --since DATE"/)]);
    expect(await queued()).toEqual([]);
    expect(sim.requests).toEqual([]);

    // Zendesk refuses a start_time less than a minute old: "now" becomes a minute ago.
    const now = await cli('backfill', '--since', new Date().toISOString());
    expect(now.code, now.stderr).toBe(0);
    const start = Number(sim.requests[0].query.start_time);
    expect(nowSec() - start).toBeGreaterThanOrEqual(60);
    expect(nowSec() - start).toBeLessThan(90);
  }, SLOW);

  // Every format is checked in input.test.ts; these prove the wiring: one line, exit 2, nothing opened.
  it('a bad --since is one line, exit 2, nothing queued', async (context) => {
    const { sim, cli, queued } = await setup(context);
    const result = await cli('backfill', '--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog backfill: invalid --since ".*": .*ISO date or time.*duration/)]);
    expect(await queued()).toEqual([]);
    expect(sim.requests).toEqual([]);
  }, SLOW);

  it('a killed backfill resumes from its saved cursor and loses nothing', async (context) => {
    // One export request a minute: the first page comes at once, the second has to wait.
    const { sim, cli, queued, database, start } = await setup(context, { exportPageSize: 10, exportRateLimit: 1, window: 60 });
    const child = start('backfill', '--since', '31d');
    // The run saves its start at once, and Zendesk's cursor once the first page is queued.
    const saved = await vi.waitUntil(async () => ((await savedPosition(database.pool))?.cursor ? savedPosition(database.pool) : null), {
      message: 'the first page to be saved',
      timeout: 60_000,
    });
    await vi.waitUntil(async () => sim.requests.some((r) => r.status === 429), { message: 'a 429 on the second page', timeout: 60_000 });
    child.kill('SIGKILL');
    await child.exited;
    const firstPage = await queued();
    expect(firstPage).toHaveLength(10);

    // Later, when Zendesk's window has passed (the shared budget remembers its 429 until then).
    sim.setOptions({ exportRateLimit: 0 });
    await database.pool.query(`delete from convlog.rate_budgets where name = 'export'`);
    sim.resetRequests();
    const resumed = await cli('backfill');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sim.requests[0].query).toEqual({ cursor: saved.cursor, support_type_scope: 'all', include: 'users,groups,organizations' });
    // The other 30, none of them again: nothing skipped, nothing repeated.
    expect(resumed.stdout).toMatch(/backfill done: 30 changed ticket\(s\) since the saved position: 30 queued, 0 deleted/);
    expect(await queued()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, SLOW);

  it('status shows a backfill while it runs, with its totals so far, and one killed halfway as such', async (context) => {
    // One export request a minute: the first page comes at once, the second waits out a 429.
    const { sim, cli, database, start } = await setup(context, { exportPageSize: 10, exportRateLimit: 1, window: 60 });
    const child = start('backfill', '--since', '31d');
    await vi.waitUntil(async () => sim.requests.some((r) => r.status === 429), { message: 'a 429 on the second page', timeout: 60_000 });

    const text = await cli('status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^backfill   running since \S+ \(cli, since \S+\): 1 page\(s\) so far, 10 changed, 10 queued, 0 deleted$/m);
    const json = await cli('status', '--json');
    expect(JSON.parse(json.stdout).backfill).toMatchObject({ running: true, lastRun: { outcome: 'running', trigger: 'cli', pages: 1, seen: 10, queued: 10 } });
    expect(JSON.parse(json.stdout).queue.queued).toBe(10);

    child.kill('SIGKILL');
    await child.exited;
    const after = await cli('status');
    expect(after.stdout).toMatch(
      /^backfill   last one stopped without finishing \(its process was killed or lost Postgres\); last heard of at \S+ \(cli, since \S+\) after 1 page\(s\): 10 changed, 10 queued, 0 deleted; "convlog backfill" continues from the saved position$/m,
    );
    expect(JSON.parse((await cli('status', '--json')).stdout).backfill).toMatchObject({ running: false, lastRun: { outcome: 'running' } });
  }, SLOW);

  it('Ctrl-C before Zendesk answered the first page: "run convlog backfill to continue" is true', async (context) => {
    // Zendesk takes 3 s to answer: the signal comes while the first request is in flight.
    const { sim, cli, queued, database, start } = await setup(context, { latency: 3_000 });
    const child = start('backfill', '--since', '31d');
    // The start is saved before the first request, so it is there to continue from.
    await vi.waitUntil(() => savedPosition(database.pool), { message: 'the start to be saved', timeout: 60_000, interval: 50 });
    child.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(1);
    expect(child.stdout()).toMatch(/^backfill interrupted: 0 changed ticket\(s\) since \S+: 0 queued, 0 deleted .*\| no change seen yet, where to continue saved \|.*; run "convlog backfill" to continue$/m);
    expect(await queued()).toEqual([]);

    sim.setOptions({ latency: 0 });
    const resumed = await cli('backfill');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/backfill done: 40 changed ticket\(s\) since \S+ \(saved before any page came back\): 40 queued/);
    expect(await queued()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, SLOW);
});

describe.concurrent('convlog enqueue --sql', () => {
  it('queues the ids a read-only query returns, together with ids given otherwise; zero rows queue 0', async (context) => {
    const { cli, queued } = await setup(context);
    const result = await cli('enqueue', '9', '--sql', '/* numeric is fine when whole */ select generate_series(1, 5)::bigint union all select 12::numeric');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 7 ticket\(s\), 0 already queued/);
    expect(await queued()).toEqual([1, 2, 3, 4, 5, 9, 12]);

    const none = await cli('enqueue', '--sql', 'select ticket_id from zendesk.ticket_sync where false');
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^queued 0 ticket\(s\)/);
  }, SLOW);

  // Every rejection is checked in input.test.ts; these prove the wiring.
  it('a bad query is one line, exit 2: nothing queued, nothing changed', async (context) => {
    const { cli, queued, database } = await setup(context);
    const seeded = await cli('enqueue', '1', '2', '3');
    expect(seeded.code, seeded.stderr).toBe(0);
    await database.pool.query(`update pgboss.job set state = 'completed' where name = 'ticket-sync'`);
    const cases = [
      ['select (1', /has a syntax error: syntax error at end of input/],
      ['with d as (delete from zendesk.ticket_sync returning ticket_id) select ticket_id from d', /must only read, but it writes/],
      ["select 'abc' as id", /returned text in its first column "id": it must be an integer ticket id/],
    ] as const;
    const results = await Promise.all(cases.map(([sql]) => cli('enqueue', '4', '--sql', sql)));
    for (const [i, result] of results.entries()) {
      expect(result.code).toBe(2);
      expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/^convlog enqueue: --sql .*; nothing was queued$/)]);
      expect(result.stderr).toMatch(cases[i][1]);
    }
    expect(await queued()).toEqual([1, 2, 3]);
    const { rows } = await database.pool.query('select count(*)::int as n from zendesk.ticket_sync');
    expect(rows[0].n).toBe(3);
  }, SLOW);
});

describe.concurrent('convlog schedule / unschedule', () => {
  it('a bad --cron or --tz, or no start, is one line, exit 2, nothing scheduled', async (context) => {
    const { cli, database } = await setup(context);
    const [cron, tz] = await Promise.all([
      cli('schedule', '--cron', '61 * * * *', '--since', '7d'),
      cli('schedule', '--cron', '0 6 * * *', '--tz', 'Mars/Olympus', '--since', '7d'),
    ]);
    expect(cron.code).toBe(2);
    expect(oneLine(cron.stderr)).toEqual([expect.stringMatching(/^convlog schedule: invalid --cron "61 \* \* \* \*": .*use 5 fields/)]);
    const { rows } = await database.pool.query(`select to_regclass('pgboss.schedule') as t`);
    expect(rows[0].t).toBeNull(); // neither opened the database

    expect(tz.code).toBe(2);
    expect(oneLine(tz.stderr)).toEqual([expect.stringMatching(/invalid --tz "Mars\/Olympus"/)]);
    const nowhere = await cli('schedule', '--cron', '0 6 * * *');
    expect(nowhere.code).toBe(2);
    expect(oneLine(nowhere.stderr)).toEqual([expect.stringMatching(/no saved export position yet.*add --since DATE/)]);
    expect(await database.pool.query('select count(*)::int as n from pgboss.schedule').then((r) => r.rows[0].n)).toBe(0);
  }, SLOW);

  it('registers a pg-boss schedule that a running worker fires, runs a backfill from --since, and unschedule removes it', async (context) => {
    const { sim, cli, queued, database, start, startBoss } = await setup(context, { tickets: 8, ticketSizes: { 1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3 } });
    const scheduled = await cli('schedule', '--cron', '* * * * *', '--since', '31d');
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toMatch(/^scheduled backfill "\* \* \* \* \*" \(UTC\): (first run within 30 s.*; )?next run at about \d{4}-\d\d-\d\d \d\d:\d\d UTC \(.*within 30 s.*; the first run starts from \d{4}-/);

    expect((await cli('status')).stdout).toMatch(/^schedule   backfill "\* \* \* \* \*" \(UTC\), next \S+, first run from \d{4}-/m);

    const boss = await startBoss();
    const schedules = await boss.getSchedules(BACKFILL_QUEUE);
    expect(schedules).toEqual([expect.objectContaining({ name: BACKFILL_QUEUE, cron: '* * * * *', timezone: 'UTC', data: { since: expect.any(String) } })]);
    const listed = await scheduleStatus(boss);
    expect(listed).toEqual([expect.objectContaining({ cron: '* * * * *', since: expect.any(String), next: [expect.any(Date), expect.any(Date), expect.any(Date)] })]);

    // A second schedule replaces the first (one schedule per database).
    expect((await cli('schedule', '--cron', '* * * * *', '--since', '31d')).code).toBe(0);
    expect(await boss.getSchedules(BACKFILL_QUEUE)).toHaveLength(1);

    const worker = start('work', '--concurrency', '2');
    await vi.waitUntil(async () => scheduledRunEnded(database), { message: 'the scheduled backfill to run', timeout: 45_000 });
    const status = await backfillStatus(database.db, database.pool);
    expect(status).toMatchObject({ resumable: true, lastRun: { trigger: 'schedule', outcome: 'done', seen: 8, queued: 8 } });
    // The worker then syncs what the backfill queued.
    await vi.waitUntil(
      async () => {
        const { rows } = await database.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'synced'`);
        return rows[0].n === 8;
      },
      { message: 'the queued tickets to sync', timeout: 30_000 },
    );
    expect(sim.requests.filter((r) => r.kind === 'export')[0].query.start_time).toEqual(expect.any(String));
    worker.kill('SIGTERM');
    expect(await worker.exited).toMatchObject({ code: 0, signal: null });
    expect(await queued()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // Now that the backfill saved a position, --since no longer says where the next run starts.
    const rescheduled = await cli('schedule', '--cron', '* * * * *', '--since', '31d');
    expect(rescheduled.stdout).toMatch(/; runs continue from the saved export position \(--since .* is kept for a time without one\)/);
    expect(rescheduled.stdout).not.toMatch(/the first run starts from/);
    const shown = await cli('status');
    expect(shown.stdout).toMatch(/^schedule   backfill "\* \* \* \* \*" \(UTC\), next \S+, continuing from the saved position \(--since \S+ is kept for a time without one\)$/m);
    expect(shown.stdout).not.toMatch(/first run from/);

    const removed = await cli('unschedule');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed the backfill schedule "* * * * *"\n');
    expect(await boss.getSchedules(BACKFILL_QUEUE)).toEqual([]);
    const again = await cli('unschedule');
    expect(again.stdout).toBe('there was no backfill schedule\n');
  }, SLOW);

  it('a schedule made less than a minute after a tick runs that tick at the next check, as it says, not at the next tick', async (context) => {
    const { cli, database, start } = await setup(context, { tickets: 4, ticketSizes: { 1: 1, 2: 1, 3: 1, 4: 1 } });
    // Early in a minute, so that the check a starting worker makes comes while its first tick is due.
    await vi.waitUntil(() => new Date().getUTCSeconds() >= 1 && new Date().getUTCSeconds() <= 20, { timeout: 61_000, interval: 200 });
    const scheduledAt = Date.now();
    const scheduled = await cli('schedule', '--cron', '* * * * *', '--since', '31d');
    expect(scheduled.code, scheduled.stderr).toBe(0);
    const tick = new Date(scheduledAt - (scheduledAt % 60_000)).toISOString().slice(0, 16).replace('T', ' ');
    expect(scheduled.stdout).toMatch(new RegExp(`: first run within 30 s, with workers running \\(the ${tick} UTC tick, \\d+ s ago, is still due.*; next run at about `));

    start('work');
    await vi.waitUntil(async () => scheduledRunEnded(database), { message: 'the scheduled backfill to run', timeout: 45_000 });
    const run = (await backfillStatus(database.db, database.pool)).lastRun;
    // pg-boss sent the tick of the minute the schedule was made in, before the next one came.
    expect(Date.parse(run!.startedAt)).toBeLessThan(scheduledAt - (scheduledAt % 60_000) + 60_000);
    expect(run).toMatchObject({ outcome: 'done', seen: 4 });
  }, SLOW);

  it('a job on the backfill queue (what a tick sends) continues from the saved position in a worker', async (context) => {
    const { sim, cli, queued, database, start, startBoss } = await setup(context, { tickets: 6, ticketSizes: { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1 } });
    expect((await cli('backfill', '--since', '31d')).code).toBe(0);
    await clearQueue(database.pool);
    sim.markChanged(4);

    const worker = start('work');
    const boss = await startBoss();
    await boss.send(BACKFILL_QUEUE, {});
    await vi.waitUntil(async () => scheduledRunEnded(database), { message: 'the backfill job to run', timeout: 60_000 });
    expect((await backfillStatus(database.db, database.pool)).lastRun).toMatchObject({ outcome: 'done', seen: 1, queued: 1, from: 'saved position' });
    expect(await queued()).toEqual([4]);
    worker.kill('SIGTERM');
    expect(await worker.exited).toMatchObject({ code: 0, signal: null });
  }, SLOW);
});
