// The queue as an operator watches it: how many sync jobs wait, and how long the oldest has
// waited (the sync lag). Read from pg-boss's job table, one indexed query per scrape.
import type pg from 'pg';
import { BOSS_SCHEMA, SYNC_QUEUE } from './boss.ts';

export interface QueueMetrics {
  /** Waiting for a worker. */
  queued: number;
  /** Failed once, waiting for their retry time. */
  retrying: number;
  running: number;
  /**
   * Seconds the longest-waiting job has waited: a queued one since it was created (one held back
   * while Zendesk or Postgres is away included: that is lag too), a retrying one since its retry
   * fell due. A retry's backoff (5 s to 5 minutes) is not lag: counted from the job's creation, one
   * failing ticket showed a quarter of an hour of it while the workers sat idle. 0 when none waits.
   */
  oldestWaitingSeconds: number;
}

/** `timeoutMs`: the query's limit (pg's query_timeout), as for storedMetrics (src/db/stored-metrics.ts). */
export async function queueMetrics(pool: pg.Pool, timeoutMs: number, queue = SYNC_QUEUE): Promise<QueueMetrics> {
  const { rows } = await pool.query<{ queued: number; retrying: number; running: number; oldest: number | null }>({
    text: `select count(*) filter (where state = 'created')::int as queued,
            count(*) filter (where state = 'retry')::int as retrying,
            count(*) filter (where state = 'active')::int as running,
            extract(epoch from now() - min(case when state = 'created' then created_on when state = 'retry' and start_after <= now() then start_after end))::float8 as oldest
       from ${BOSS_SCHEMA}.job
      where name = $1 and state in ('created', 'retry', 'active')`,
    values: [queue],
    query_timeout: timeoutMs,
  } as pg.QueryConfig);
  const row = rows[0];
  return { queued: row.queued, retrying: row.retrying, running: row.running, oldestWaitingSeconds: Math.max(0, row.oldest ?? 0) };
}
