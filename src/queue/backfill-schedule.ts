// The backfill's schedule: what `convlog schedule` registers (a pg-boss schedule on the backfill
// queue, stored in Postgres, so it survives restarts and fires once per tick however many workers
// run; backfill-job.ts runs each tick), and the ticks pg-boss will send.
import { PgBoss } from 'pg-boss';
import { UsageError } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import { quoted } from '../text.ts';
import { BACKFILL_QUEUE, BOSS_SCHEMA, type BackfillJobData } from './boss.ts';

/** The one schedule convlog keeps (pg-boss's schedule key). */
const SCHEDULE_KEY = '';

/**
 * How long pg-boss keeps a tick due (its OCCURRENCE_WINDOW_SECONDS): each check, every 30 s (its
 * cronMonitorIntervalSeconds), sends a job for a tick of the last minute, a tick from before the
 * schedule was created included. So `* * * * *` created at 18:42:10 runs the 18:42 tick at the
 * next check, not at 18:43.
 */
const DUE_FOR_MS = 60_000;
const CHECK_EVERY_MS = 30_000;

/**
 * Whether a due tick is still under a minute old when pg-boss's next check comes (within 30 s),
 * so surely sent then; an older one is sent only if a check comes before it is a minute old.
 */
export function dueAtNextCheck(tick: Date, now: Date): boolean {
  return now.getTime() - tick.getTime() + CHECK_EVERY_MS < DUE_FOR_MS;
}

/** The tick of the last minute, if there is one: pg-boss still sends it, unless it has already. */
export function dueTick(boss: Pick<PgBoss, 'previewSchedule'>, cron: string, tz: string, now: Date): Date | undefined {
  const [tick] = boss.previewSchedule(cron.trim(), { tz, count: 1, from: new Date(now.getTime() - DUE_FOR_MS) });
  return tick && tick.getTime() <= now.getTime() ? tick : undefined;
}

export interface ScheduleInfo {
  cron: string;
  timezone: string;
  /** Where the first run starts when no export position is saved. */
  since: string | null;
  createdOn: Date;
  updatedOn: Date;
  lastJobId: string | null;
  /** The next three ticks, the first of them a tick of the last minute pg-boss has yet to send (stillDue). */
  next: Date[];
  /** next[0] is past, but due: a check within 30 s sends it, if it is not a minute old by then. */
  stillDue: boolean;
}

/**
 * Checks a cron expression (5 fields: pg-boss also reads 6, seconds first, but it looks for due
 * schedules every 30 s and a backfill runs at most once a minute, so a seconds field would
 * promise what never happens; @hourly style aliases; or an
 * RFC 5545 rule such as FREQ=DAILY;BYHOUR=6) the way pg-boss will read it. Throws one UsageError.
 */
export function validateCron(boss: Pick<PgBoss, 'previewSchedule'>, cron: string, tz = 'UTC'): Date[] {
  const text = cron.trim();
  const fields = text.split(/\s+/).length;
  const alias = /^@\w+$/.test(text);
  const shaped = alias || /^(RRULE:)?FREQ=/i.test(text) || /^DTSTART/i.test(text) || fields === 5;
  try {
    if (!shaped) throw new Error(`expected 5 fields (minute hour day month weekday), got ${text === '' ? 'nothing' : fields}`);
    if (text === '@secondly') throw new Error('@secondly is a run every second, and pg-boss looks for due schedules every 30 s');
    // pg-boss's parser answers others with a piece of the word ("cannot resolve alias \"reb\"").
    if (alias && !CRON_NAMES.includes(text)) throw new Error(`${quoted(text)} is not a schedule name pg-boss knows: ${CRON_NAMES.join(', ')}`);
    const ticks = boss.previewSchedule(text, { tz, count: 3, from: new Date() });
    // A rule's seconds (FREQ=SECONDLY, BYSECOND=0,30) promise what @secondly would.
    const gap = Math.min(...ticks.slice(1).map((tick, i) => tick.getTime() - ticks[i].getTime()));
    if (gap < 60_000) throw new Error(`it runs ${Math.round(gap / 1000)} s apart, and pg-boss looks for due schedules every 30 s: at most once a minute`);
    return ticks;
  } catch (error) {
    throw new UsageError(
      `invalid --cron ${quoted(cron)}: ${errorMessage(error)}; use 5 fields such as "*/15 * * * *" (every 15 minutes) or "0 6 * * *" (06:00 ${tz})`,
    );
  }
}

/** The @names pg-boss's cron parser reads (less @secondly, which validateCron refuses). */
const CRON_NAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@weekdays', '@weekends'];

export async function registerSchedule(boss: PgBoss, cron: string, options: { tz?: string; since?: string } = {}): Promise<void> {
  const data: BackfillJobData = options.since ? { since: options.since } : {};
  await boss.schedule(BACKFILL_QUEUE, cron.trim(), data, { tz: options.tz ?? 'UTC', key: SCHEDULE_KEY });
}

/** Removes the schedule; false when there was none. */
export async function removeSchedule(boss: PgBoss): Promise<boolean> {
  const existing = await boss.getSchedules(BACKFILL_QUEUE);
  for (const schedule of existing) await boss.unschedule(BACKFILL_QUEUE, schedule.key);
  return existing.length > 0;
}

/** For `convlog status`: the backfill schedule(s), with their next ticks. */
export async function scheduleStatus(boss: PgBoss, now = new Date()): Promise<ScheduleInfo[]> {
  const schedules = await boss.getSchedules(BACKFILL_QUEUE);
  const infos: ScheduleInfo[] = [];
  for (const s of schedules) {
    const tz = s.timezone || 'UTC';
    let next: Date[] = [];
    let due: Date | undefined;
    try {
      next = boss.previewSchedule(s.cron, { tz, count: 3, from: now });
      due = dueTick(boss, s.cron, tz, now);
    } catch {
      // A row pg-boss itself cannot read; status still lists it.
    }
    // The job pg-boss sent last, made at or after the due tick, is that tick's run.
    const last = due && s.lastJobId ? await boss.getJobById(BACKFILL_QUEUE, s.lastJobId) : null;
    const stillDue = due !== undefined && !(last && last.createdOn.getTime() >= due.getTime());
    infos.push({
      cron: s.cron,
      timezone: tz,
      since: (s.data as BackfillJobData | undefined)?.since ?? null,
      createdOn: s.createdOn,
      updatedOn: s.updatedOn,
      lastJobId: s.lastJobId ?? null,
      next: stillDue ? [due!, ...next].slice(0, 3) : next,
      stillDue,
    });
  }
  return infos;
}

/**
 * pg-boss reads expressions without a database: an instance that is never started is just its
 * parser, so a bad --cron or --tz fails before anything is opened. The zone must also be one Intl
 * knows, which prints the next runs after the schedule is registered: pg-boss takes zones Intl
 * refuses (UTC+5, system, local), and one such left a schedule registered by a command that failed.
 */
export function checkSchedule(cron: string, tz: string, now: Date): { next: Date[]; recent: Date | undefined } {
  const parser = new PgBoss({ connectionString: 'postgres://unused@localhost/unused', schema: BOSS_SCHEMA });
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    parser.previewSchedule('* * * * *', { tz, count: 1, from: now });
  } catch (error) {
    throw new UsageError(`invalid --tz ${quoted(tz)}: give an IANA time zone such as UTC, Europe/Berlin or America/New_York`, { cause: error });
  }
  const next = validateCron(parser, cron, tz);
  return { next, recent: dueTick(parser, cron, tz, now) };
}
