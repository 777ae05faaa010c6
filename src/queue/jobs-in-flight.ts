// The ticket-sync jobs a worker has in flight, and handing them back to the queue when the process
// is told to exit at once (a second stop signal), or leaves them behind having given up on
// Postgres: otherwise each would stay `active` in pg-boss, and its ticket `syncing`, until its
// heartbeat lapsed and pg-boss gave it to another worker, an attempt spent.
import type { JobWithMetadata } from 'pg-boss';
import type pg from 'pg';
import type { Db } from '../db/connection.ts';
import { recordStatus } from '../db/ticket-status.ts';
import { withinTime } from '../timing.ts';
import type { SyncJobData } from './boss.ts';
import { holdJob } from './queue-stats.ts';

/** The status of a ticket whose run the process left when told to exit at once. */
export const EXITED_AT_ONCE =
  'interrupted: the process was told to exit at once (a second stop signal) before this run ended; the next run resumes from the saved cursor';
/** The status of a ticket whose run a worker left when it gave up on a Postgres that did not answer. */
export const LEFT_WITHOUT_POSTGRES =
  'interrupted: the worker gave up on a Postgres that did not answer before this run ended; the next run resumes from the saved cursor';

export interface JobsInFlight {
  taken(job: JobWithMetadata<SyncJobData>): void;
  /** The job's run has started: its status is written under that run's fence (recordStatus). */
  runStarted(job: JobWithMetadata<SyncJobData>, run: string): void;
  ended(job: JobWithMetadata<SyncJobData>): void;
  /** How many jobs are in flight: taken and not yet ended. */
  count(): number;
  /**
   * Each job back to the queue at once, its attempt unspent (holdJob, as for a ticket waiting for
   * Zendesk), and its ticket `queued` with the reason (EXITED_AT_ONCE unless told). Both are
   * fenced, to the job's attempt and to its run, so a job that ended meanwhile is left as it is.
   * `via`: connections to use instead of the worker's own (which may be the ones that went silent).
   * Resolves to how many were handed back (held) and how many of their tickets were marked
   * `queued`; with `withinMs`, once that time is up, counting those done by then.
   */
  handBack(options?: { reason?: string; via?: { pool: pg.Pool; db: Db }; withinMs?: number }): Promise<{ handedBack: number; marked: number }>;
}

export function jobsInFlight(pool: pg.Pool, db: Db): JobsInFlight {
  // Keyed by the job as fetched, not its id: a job whose claim this worker lost (its heartbeat
  // lapsed) can be fetched again, with the same id, by another slot while the first run winds down.
  const flying = new Map<JobWithMetadata<SyncJobData>, { run?: string }>();
  return {
    taken: (job) => void flying.set(job, {}),
    runStarted: (job, run) => void flying.set(job, { run }),
    ended: (job) => void flying.delete(job),
    count: () => flying.size,
    handBack: async ({ reason = EXITED_AT_ONCE, via = { pool, db }, withinMs } = {}) => {
      const done = { handedBack: 0, marked: 0 };
      const handBackOne = async (job: JobWithMetadata<SyncJobData>, run: string | undefined) => {
        if (!(await holdJob(via.pool, job, 0))) return;
        done.handedBack += 1;
        if (await recordStatus(via.db, job.data.ticketId, { status: 'queued', reason, interrupted: true }, run, { upkeep: false })) done.marked += 1;
      };
      const all = Promise.all([...flying].map(([job, { run }]) => handBackOne(job, run).catch(() => {})));
      await (withinMs === undefined ? all : withinTime(all, withinMs));
      return { ...done };
    },
  };
}
