// The backfill as a queued job: what `convlog schedule` registers (a pg-boss schedule on the
// backfill queue, stored in Postgres, so it survives restarts and fires once per tick however many
// workers run) and what `convlog work` runs when a tick arrives.
import type pg from 'pg';
import type { JobWithMetadata, PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { backfillLockHeld, loadExportPosition, loadLastBackfill, type BackfillRun } from '../db/sync-state.ts';
import { BackfillBusy, errorMessage, Interrupted, outcomeOf, UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/connection.ts';
import type { ZendeskHttp } from '../zendesk/http.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';
import { runBackfill, type BackfillDeps } from './backfill.ts';
import { budgetFor } from '../db/budgets.ts';
import { BACKFILL_QUEUE, type BackfillJobData } from './boss.ts';
import { counted, quoted } from '../ids.ts';

/** The one schedule convlog keeps (pg-boss's schedule key). */
export const SCHEDULE_KEY = '';

export interface BackfillWorker {
  /** Stops taking jobs; a backfill in flight stops after its page and is retried later. */
  stop(): Promise<void>;
  /** True while this process runs a backfill. */
  busy(): boolean;
}

/** What a backfill needs of the runtime every syncing command opens (SyncRuntime). */
export interface BackfillRuntime {
  config: Pick<Config, 'exportRateLimit' | 'accountRateLimit' | 'rateLimit' | 'onDelete' | 'fullResyncDays' | 'fullResyncShare'>;
  database: Pick<Database, 'db' | 'pool'>;
  boss: PgBoss;
  deps: { http: ZendeskHttp };
  /** The runtime's own export and account-wide budgets (their waits are shown); else new ones. */
  budgets?: { export: RequestBudget; account: RequestBudget };
}

export function backfillDeps(runtime: BackfillRuntime, log: Logger): BackfillDeps {
  return {
    db: runtime.database.db,
    pool: runtime.database.pool,
    boss: runtime.boss,
    http: runtime.deps.http,
    budget: runtime.budgets?.export ?? budgetFor('export', runtime.database.pool, runtime.config.exportRateLimit, log),
    accountBudget: runtime.budgets?.account ?? budgetFor('account', runtime.database.pool, runtime.config.accountRateLimit, log),
    log,
    onDelete: runtime.config.onDelete,
    // A share of the conversation log's budget, in requests a minute, for the periodic full reads.
    fullReads: { days: runtime.config.fullResyncDays, requestsPerMinute: runtime.config.rateLimit * runtime.config.fullResyncShare },
  };
}

/** Runs backfill jobs in this process (one at a time) until stop(). */
export async function startBackfillWorker(runtime: BackfillRuntime, log: Logger, signal: AbortSignal): Promise<BackfillWorker> {
  const deps = backfillDeps(runtime, log.child({ queue: BACKFILL_QUEUE }));
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  signal.addEventListener('abort', stop, { once: true });

  let running = 0;
  const handle = async (job: JobWithMetadata<BackfillJobData>) => {
    running += 1;
    try {
      await runJob(job);
    } finally {
      running -= 1;
    }
  };
  const runJob = async (job: JobWithMetadata<BackfillJobData>) => {
    const jobLog = deps.log.child({ jobId: job.id });
    const since = job.data?.since ? Date.parse(job.data.since) : Number.NaN;
    const jobSignal = AbortSignal.any([stopping.signal, job.signal]);
    jobLog.info({ attempt: job.retryCount + 1 }, 'backfill started');
    try {
      const result = await runBackfill(
        { ...deps, log: jobLog },
        {
          trigger: 'schedule',
          ...(Number.isFinite(since) ? { fallbackSince: Math.floor(since / 1000) } : {}),
          signal: jobSignal,
          onPage: (p) =>
            jobLog.info(
              { pages: p.pages, seen: p.seen, queued: p.queued, alreadyQueued: p.alreadyQueued, deleted: p.deleted, position: p.position?.toISOString() ?? null },
              'backfill page',
            ),
        },
      );
      if (result.interrupted) throw new Interrupted('backfill interrupted by shutdown; the next run continues from the saved position');
      jobLog.info({ ...result, position: result.position?.toISOString() ?? null }, 'backfill done');
    } catch (error) {
      const outcome = outcomeOf({ error, attempt: job.retryCount + 1, retryLimit: job.retryLimit, claimLost: job.signal.aborted });
      if (outcome.job === 'retry') {
        jobLog.warn({ err: errorMessage(error) }, 'backfill failed; pg-boss retries it');
        throw error;
      }
      if (outcome.job === 'hold') {
        // Zendesk cannot be reached, or refuses the credentials: the next scheduled run continues
        // from the saved position.
        jobLog.warn({ err: errorMessage(error) }, 'backfill stopped; the next scheduled one continues from the saved position');
        return;
      }
      if (outcome.job === 'complete') {
        jobLog.info({ err: errorMessage(error) }, error instanceof BackfillBusy ? 'backfill skipped: another backfill is running' : 'backfill stopped; the next one continues from the saved position');
        return;
      }
      // Retrying cannot help (no position and no --since) or the retries are spent; the run's
      // record keeps the reason for `convlog status`.
      jobLog.error({ err: errorMessage(error) }, 'backfill cannot run');
    }
  };

  const workId = await runtime.boss.work(
    BACKFILL_QUEUE,
    { localConcurrency: 1, batchSize: 1, includeMetadata: true, pollingIntervalSeconds: 2 },
    async ([job]: JobWithMetadata<BackfillJobData>[]) => handle(job),
  );
  return {
    busy: () => running > 0,
    async stop() {
      signal.removeEventListener('abort', stop);
      stop();
      await runtime.boss.offWork(BACKFILL_QUEUE, { id: workId, wait: true });
    },
  };
}

// ---- the schedule ----

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
  const shaped = /^@\w+$/.test(text) || /^(RRULE:)?FREQ=/i.test(text) || /^DTSTART/i.test(text) || fields === 5;
  try {
    if (!shaped) throw new Error(`expected 5 fields (minute hour day month weekday), got ${text === '' ? 'nothing' : fields}`);
    return boss.previewSchedule(text, { tz, count: 3, from: new Date() });
  } catch (error) {
    throw new UsageError(
      `invalid --cron ${quoted(cron)}: ${errorMessage(error)}; use 5 fields such as "*/15 * * * *" (every 15 minutes) or "0 6 * * *" (06:00 ${tz})`,
    );
  }
}

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

export interface BackfillStatus {
  /** The latest change time the saved export position has reached (ISO), or null. */
  position: string | null;
  /** When the position was last saved (ISO), or null when there is none. */
  savedAt: string | null;
  /** Whether a later `convlog backfill` (without --since) can continue. */
  resumable: boolean;
  /** A backfill (`convlog backfill` or a scheduled one) holds the lock now. */
  running: boolean;
  /** The run going on (outcome `running`, its totals so far), else the last one. */
  lastRun: BackfillRun | null;
}

/** For `convlog status`: where the export stands and how the last backfill went. */
export async function backfillStatus(db: Db, pool: pg.Pool): Promise<BackfillStatus> {
  const [position, lastRun, running] = await Promise.all([loadExportPosition(db), loadLastBackfill(db), backfillLockHeld(pool)]);
  return {
    position: position?.position ?? null,
    savedAt: position?.savedAt ?? null,
    resumable: Boolean(position && (position.cursor || position.startTime !== undefined)),
    running,
    lastRun,
  };
}

/** Why a past tick is next, as `convlog schedule` says it (describeNextRuns). */
function stillDueText(tick: Date, after: Date | undefined, now: Date): string {
  const ago = `${Math.floor((now.getTime() - tick.getTime()) / 1000)} s ago`;
  if (dueAtNextCheck(tick, now)) return ` (${ago}, still due: pg-boss runs a tick up to a minute late, within 30 s with workers running)`;
  return ` (${ago}: run if pg-boss checks before it is a minute old${after ? `, else next ${after.toISOString()}` : ''})`;
}

/** One line per fact, for status' text output (status may print these as they are). */
export function describeBackfillStatus(schedules: readonly ScheduleInfo[], backfill: BackfillStatus, now = new Date()): string[] {
  const lines: string[] = [];
  if (schedules.length === 0) lines.push('schedule   none (convlog schedule --cron EXPR)');
  for (const s of schedules) {
    const next = s.next[0] ? `, next ${s.next[0].toISOString()}${s.stillDue ? stillDueText(s.next[0], s.next[1], now) : ''}` : '';
    // A schedule's --since is used only while no position is saved (runBackfill's fallbackSince).
    const since = !s.since ? '' : backfill.resumable ? `, continuing from the saved position (--since ${s.since} is kept for a time without one)` : `, first run from ${s.since}`;
    lines.push(`schedule   backfill "${s.cron}" (${s.timezone})${next}${since}`);
  }
  const at = backfill.position ? `changes up to ${backfill.position}` : 'no changes seen yet';
  lines.push(backfill.resumable ? `export     ${at}, saved ${backfill.savedAt}` : 'export     no saved position (convlog backfill --since DATE)');
  const run = backfill.lastRun;
  const totals = (r: BackfillRun) => `${r.seen} changed, ${r.queued} queued, ${r.deleted} deleted${r.fullReads ? `, ${r.fullReads} queued for a full read` : ''}`;
  if (backfill.running && run?.outcome === 'running') {
    lines.push(`backfill   running since ${run.startedAt} (${run.trigger}, ${run.from}): ${counted(run.pages, 'page')} so far, ${totals(run)}`);
  } else if (backfill.running) {
    // The lock is held, but its run wrote nothing yet (it is starting) or an older release runs it.
    lines.push('backfill   running now (started a moment ago, or by another convlog release)');
  } else if (run?.outcome === 'running') {
    lines.push(
      `backfill   last one stopped without finishing (its process was killed or lost Postgres); last heard of at ${run.finishedAt} ` +
        `(${run.trigger}, ${run.from}) after ${counted(run.pages, 'page')}: ${totals(run)}; "convlog backfill" continues from the saved position`,
    );
  } else if (run) {
    const error = run.error ? `: ${run.error}` : '';
    lines.push(`backfill   last ${run.outcome} at ${run.finishedAt} (${run.trigger}, ${run.from}): ${totals(run)}${error}`);
  }
  return lines;
}
