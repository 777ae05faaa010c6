// schedule and unschedule as a person runs them, and the pg-boss schedule a running worker fires.
import { describe, expect, it, vi } from 'vitest';
import { BACKFILL_QUEUE } from '../../src/queue/boss.ts';
import { scheduleStatus } from '../../src/queue/backfill-schedule.ts';
import { backfillStatus } from '../../src/queue/backfill-status.ts';
import { clearQueue } from './helpers.ts';
import { oneLine, scheduledRunEnded, setup, SLOW } from './cli-setup.ts';

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

  it('a zone written in another case is stored and said as its IANA name', async (context) => {
    // --tz utc printed "00:00+00:00 utc (00:00 UTC; …)": the zone as typed, beside UTC's own line.
    const { cli, startBoss } = await setup(context);
    const scheduled = await cli('schedule', '--cron', '0 6 * * *', '--tz', 'europe/berlin', '--since', '7d');
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toMatch(/^scheduled backfill "0 6 \* \* \*" \(Europe\/Berlin\): next run at about \d{4}-\d\d-\d\d 06:00\+0[12]:00 Europe\/Berlin /);
    const utc = await cli('schedule', '--cron', '0 6 * * *', '--tz', 'utc', '--since', '7d');
    expect(utc.stdout).toMatch(/^scheduled backfill "0 6 \* \* \*" \(UTC\): next run at about \d{4}-\d\d-\d\d 06:00 UTC \(/);
    const boss = await startBoss();
    expect((await boss.getSchedules(BACKFILL_QUEUE)).map((s) => s.timezone)).toEqual(['UTC']);
  }, SLOW);

  it('registers a pg-boss schedule that a running worker fires, runs a backfill from --since, and unschedule removes it', async (context) => {
    const { sim, cli, queued, database, start, startBoss } = await setup(context, { tickets: 8, ticketSizes: { 1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3 } });
    const scheduled = await cli('schedule', '--cron', '* * * * *', '--since', '31d');
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toMatch(/^scheduled backfill "\* \* \* \* \*" \(UTC\): (first run within 30 s.*; )?next run at about \d{4}-\d\d-\d\d \d\d:\d\d UTC \(.*within 30 s.*; the first run starts from \d{4}-/);

    expect((await cli('status')).stdout).toMatch(/^schedule   backfill "\* \* \* \* \*" \(UTC\), next \S+( \([^)]*\))?, first run from \d{4}-/m);

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
    expect(shown.stdout).toMatch(/^schedule   backfill "\* \* \* \* \*" \(UTC\), next \S+( \([^)]*\))?, continuing from the saved position \(--since \S+ is kept for a time without one\)$/m);
    expect(shown.stdout).not.toMatch(/first run from/);
    // Without --since, both say where its runs start too.
    const plain = await cli('schedule', '--cron', '* * * * *');
    expect(plain.stdout).toMatch(/^scheduled backfill "\* \* \* \* \*" \(UTC\): .*; runs continue from the saved export position$/m);
    expect((await cli('status')).stdout).toMatch(/^schedule   backfill "\* \* \* \* \*" \(UTC\), next \S+( \([^)]*\))?, continuing from the saved position$/m);

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
    // The tick is "still due" (schedule's line, status) only while under 30 s old, and the run must
    // start before the next minute: by second 10, not 20, so that a busy machine has 20 s, not 10,
    // for schedule and two status runs, and as long to start the worker.
    await vi.waitUntil(() => new Date().getUTCSeconds() >= 1 && new Date().getUTCSeconds() <= 10, { timeout: 61_000, interval: 200 });
    const scheduledAt = Date.now();
    const scheduled = await cli('schedule', '--cron', '* * * * *', '--since', '31d');
    expect(scheduled.code, scheduled.stderr).toBe(0);
    const tick = new Date(scheduledAt - (scheduledAt % 60_000)).toISOString().slice(0, 16).replace('T', ' ');
    expect(scheduled.stdout).toMatch(new RegExp(`: first run within 30 s, with workers running \\(the ${tick} UTC tick, \\d+ s ago, is still due.*; next run at about `));
    // status agrees: its next run is that tick (it said the next minute's).
    const dueTick = new Date(scheduledAt - (scheduledAt % 60_000));
    const before = JSON.parse((await cli('status', '--json')).stdout).schedules[0];
    expect(before).toMatchObject({ stillDue: true, next: [dueTick.toISOString(), expect.any(String), expect.any(String)] });
    expect((await cli('status')).stdout).toMatch(new RegExp(`^schedule   backfill "\\* \\* \\* \\* \\*" \\(UTC\\), next ${dueTick.toISOString()} \\(\\d+ s ago(, still due|: run if)`, 'm'));

    start('work');
    await vi.waitUntil(async () => scheduledRunEnded(database), { message: 'the scheduled backfill to run', timeout: 45_000 });
    const run = (await backfillStatus(database.db, database.pool)).lastRun;
    // pg-boss sent the tick of the minute the schedule was made in, before the next one came.
    expect(Date.parse(run!.startedAt)).toBeLessThan(scheduledAt - (scheduledAt % 60_000) + 60_000);
    expect(run).toMatchObject({ outcome: 'done', seen: 4 });
    // Sent, that tick is no longer next.
    const after = JSON.parse((await cli('status', '--json')).stdout).schedules[0];
    expect(after.next[0]).not.toBe(dueTick.toISOString());
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
