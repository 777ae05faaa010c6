import { loadExportPosition } from '../db/sync-state.ts';
import { UsageError } from '../errors/convlog-errors.ts';
import { checkSchedule, dueAtNextCheck, registerSchedule, removeSchedule, scheduleStatus } from '../queue/backfill-schedule.ts';
import { parseSince } from './args.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';

/**
 * The times the expression names are not the times a backfill starts: pg-boss looks for due
 * schedules every 30 s, so the job is sent up to 30 s later, and only a running worker takes it;
 * and a tick less than a minute old when the schedule is created (`recent`) still runs. Times are
 * the schedule's zone's, with its offset (`--tz Europe/Berlin` "at 6" is 06:00+01:00 in winter),
 * the first one's UTC beside.
 */
export function describeNextRuns(times: Date[], recent?: Date, now = new Date(), tz = 'UTC'): string {
  const [first, ...later] = times;
  if (!first) return 'no run ahead';
  const start = zoned(first, tz);
  const then = later.length > 0 ? `; then about ${later.map((d) => shortAfter(d, start, tz)).join(', ')}` : '';
  const next = `next run at about ${start.text} (${utcBeside(first, start, tz)}pg-boss checks schedules every 30 s: it starts within 30 s of that)${then}`;
  if (!recent) return next;
  const ago = Math.floor((now.getTime() - recent.getTime()) / 1000);
  const tick = zoned(recent, tz).text;
  if (dueAtNextCheck(recent, now)) {
    return `first run within 30 s, with workers running (the ${tick} tick, ${ago} s ago, is still due: pg-boss runs a tick up to a minute late); ${next}`;
  }
  return `first run within 30 s if pg-boss checks before the ${tick} tick (${ago} s ago) is a minute old, else at the next tick; ${next}`;
}

interface Zoned {
  /** 2026-12-03 */
  day: string;
  /** 06:00 */
  time: string;
  /** +01:00; empty in UTC, which says "UTC" instead. */
  offset: string;
  /** 2026-12-03 06:00+01:00 Europe/Berlin, or 2026-12-03 05:00 UTC */
  text: string;
}

/** A time as a clock in `tz` reads it. */
function zoned(d: Date, tz: string): Zoned {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'longOffset',
  });
  const part = Object.fromEntries(format.formatToParts(d).map(({ type, value }) => [type, value]));
  const day = `${part.year}-${part.month}-${part.day}`;
  const time = `${part.hour}:${part.minute}`;
  if (tz === 'UTC') return { day, time, offset: '', text: `${day} ${time} UTC` };
  // "GMT+01:00", or "GMT" at offset zero.
  const offset = part.timeZoneName === 'GMT' ? '+00:00' : part.timeZoneName.replace('GMT', '');
  return { day, time, offset, text: `${day} ${time}${offset} ${tz}` };
}

/** A later run: its time alone on the first run's day (with its offset when that changed), else whole. */
function shortAfter(d: Date, start: Zoned, tz: string): string {
  const z = zoned(d, tz);
  if (z.day !== start.day) return z.text;
  if (tz === 'UTC') return `${z.time} UTC`;
  return z.offset === start.offset ? z.time : `${z.time}${z.offset}`;
}

/** The first run in UTC, beside a zone's time ("05:00 UTC; "); nothing when the zone is UTC. */
function utcBeside(d: Date, start: Zoned, tz: string): string {
  if (tz === 'UTC') return '';
  const utc = zoned(d, 'UTC');
  return `${utc.day === start.day ? utc.time : `${utc.day} ${utc.time}`} UTC; `;
}

export const schedule: Command = {
  usage: 'convlog schedule --cron EXPR [--since DATE] [--tz ZONE]   (e.g. --cron "*/15 * * * *" --since 30d)',
  options: { cron: { type: 'string' }, since: { type: 'string' }, tz: { type: 'string' } },
  usageOnError: false,
  async run(values, _positionals, ctx) {
    if (typeof values.cron !== 'string') throw new UsageError('--cron EXPR is required, for example --cron "*/15 * * * *" (every 15 minutes)');
    const given = typeof values.tz === 'string' ? values.tz : 'UTC';
    const now = new Date();
    const { next, recent } = checkSchedule(values.cron, given, now);
    // As the zone database names it (europe/berlin is Europe/Berlin, utc UTC): stored and said so.
    const tz = new Intl.DateTimeFormat('en-US', { timeZone: given }).resolvedOptions().timeZone;
    const since = typeof values.since === 'string' ? new Date(parseSince(values.since).startTime * 1000).toISOString() : undefined;
    const runtime = await openRuntime(ctx);
    try {
      const position = await loadExportPosition(runtime.database.db);
      if (!since && !position) {
        throw new UsageError('no saved export position yet, so the first run would not know where to start: add --since DATE (such as --since 30d) or run "convlog backfill --since DATE" first');
      }
      await registerSchedule(runtime.boss, values.cron, { tz, ...(since ? { since } : {}) });
      // --since only matters while no backfill has saved a position; say which one the next run uses.
      const first = !since
        ? '; runs continue from the saved export position'
        : position
          ? `; runs continue from the saved export position (--since ${since} is kept for a time without one)`
          : `; the first run starts from ${since}`;
      ctx.out(`scheduled backfill "${values.cron.trim()}" (${tz}): ${describeNextRuns(next, recent, now, tz)}${first}`);
      ctx.out('running workers (convlog work) run it; a second "convlog schedule" replaces it, "convlog unschedule" removes it');
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

export const unschedule: Command = {
  usage: 'convlog unschedule',
  options: {},
  async run(_values, _positionals, ctx) {
    const runtime = await openRuntime(ctx);
    try {
      const existing = await scheduleStatus(runtime.boss);
      const removed = await removeSchedule(runtime.boss);
      ctx.out(removed ? `removed the backfill schedule ${existing.map((s) => `"${s.cron}"`).join(', ')}` : 'there was no backfill schedule');
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
