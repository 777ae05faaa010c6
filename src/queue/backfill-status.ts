// What `convlog status` says of backfills: the schedule's next ticks, where the export stands,
// and how the last backfill went.
import type pg from 'pg';
import type { Db } from '../db/connection.ts';
import { backfillLockHeld } from '../db/run-locks.ts';
import { loadExportPosition, loadLastBackfill, type BackfillRun } from '../db/sync-state.ts';
import { counted } from '../text.ts';
import { dueAtNextCheck, type ScheduleInfo } from './backfill-schedule.ts';

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
    const since = !s.since
      ? backfill.resumable
        ? ', continuing from the saved position'
        : ', no saved position to start from (convlog backfill --since DATE, or a schedule with --since)'
      : backfill.resumable
        ? `, continuing from the saved position (--since ${s.since} is kept for a time without one)`
        : `, first run from ${s.since}`;
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
