// `schedule --tz Europe/Berlin` printed its next runs in UTC only, so "0 6 * * *" read as 05:00
// (or 04:00) where a person expects 06:00. They are now the zone's, with its offset, the first
// run's UTC beside; a schedule in UTC prints as before. A zone pg-boss takes but Intl refuses
// (UTC+5) registered the schedule and then failed printing it: it is now refused before.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNextRuns } from '../../src/commands/schedule.ts';
import { createEmptyDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';

const at = (iso: string) => new Date(iso);
const checks = 'pg-boss checks schedules every 30 s: it starts within 30 s of that';

let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await createEmptyDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it("says the next runs in the schedule's zone, with its offset, and the first one's UTC beside", () => {
  const runs = [at('2026-12-03T05:00:00Z'), at('2026-12-03T05:15:00Z'), at('2026-12-04T05:00:00Z')];
  expect(describeNextRuns(runs, undefined, at('2026-12-02T20:00:00Z'), 'Europe/Berlin')).toBe(
    `next run at about 2026-12-03 06:00+01:00 Europe/Berlin (05:00 UTC; ${checks}); then about 06:15, 2026-12-04 06:00+01:00 Europe/Berlin`,
  );
  // UTC as before.
  expect(describeNextRuns(runs, undefined, at('2026-12-02T20:00:00Z'))).toBe(`next run at about 2026-12-03 05:00 UTC (${checks}); then about 05:15 UTC, 2026-12-04 05:00 UTC`);
  // The clocks change between two runs (New York, 8 March 2026): the second says its own offset.
  expect(describeNextRuns([at('2026-03-08T06:30:00Z'), at('2026-03-08T07:30:00Z')], undefined, at('2026-03-08T06:00:00Z'), 'America/New_York')).toBe(
    `next run at about 2026-03-08 01:30-05:00 America/New_York (06:30 UTC; ${checks}); then about 03:30-04:00`,
  );
  // Another day in UTC than in the zone: the UTC date is given; a recent tick is the zone's too.
  expect(describeNextRuns([at('2026-12-03T23:30:00Z')], at('2026-12-03T23:29:30Z'), at('2026-12-03T23:29:50Z'), 'Asia/Tokyo')).toBe(
    'first run within 30 s, with workers running (the 2026-12-04 08:29+09:00 Asia/Tokyo tick, 20 s ago, is still due: pg-boss runs a tick up to a minute late); ' +
      `next run at about 2026-12-04 08:30+09:00 Asia/Tokyo (2026-12-03 23:30 UTC; ${checks})`,
  );
});

it('convlog schedule --tz prints them so', { timeout: 60_000 }, async () => {
  const result = await runCli(['schedule', '--cron', '0 6 * * *', '--tz', 'Europe/Berlin', '--since', '7d'], { env: { DATABASE_URL: db.url } });
  expect(result.code, result.stderr).toBe(0);
  // +01:00 in winter, +02:00 in summer: 05:00 or 04:00 UTC.
  expect(result.stdout).toMatch(/^scheduled backfill "0 6 \* \* \*" \(Europe\/Berlin\): (first run within 30 s.*; )?next run at about \d{4}-\d\d-\d\d 06:00\+0([12]):00 Europe\/Berlin \(0[45]:00 UTC; pg-boss checks/);
});

it('a zone pg-boss takes but convlog cannot print (UTC+5, system) is one line, exit 2, and changes no schedule', { timeout: 60_000 }, async () => {
  const pool = new pg.Pool({ connectionString: db.url });
  try {
    const schedules = () => pool.query('select name, cron, timezone, data from pgboss.schedule order by name').then((r) => r.rows);
    const before = await schedules();
    expect(before, 'the Europe/Berlin schedule of the test above').toEqual([expect.objectContaining({ cron: '0 6 * * *', timezone: 'Europe/Berlin' })]);
    for (const zone of ['UTC+5', 'UTC+05:30', 'system', 'local']) {
      const result = await runCli(['schedule', '--cron', '0 7 * * *', '--since', '30d', '--tz', zone], { env: { DATABASE_URL: db.url } });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toBe(`convlog schedule: invalid --tz "${zone}": give an IANA time zone such as UTC, Europe/Berlin or America/New_York\n`);
      expect(result.stdout).toBe('');
      expect(await schedules(), `--tz ${zone} changed no schedule`).toEqual(before);
    }
  } finally {
    await pool.end();
  }
});
