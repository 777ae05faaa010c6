// Exact counts read from pg-boss's job table (its cached queue stats can lag a minute, too
// slow for deciding that a queue is empty).
import type pg from 'pg';
import { BOSS_SCHEMA, SYNC_QUEUE } from './boss.ts';

/** Jobs that still need a worker: queued, waiting to retry, or running. */
export async function liveJobs(pool: pg.Pool, queue = SYNC_QUEUE): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from ${BOSS_SCHEMA}.job where name = $1 and state in ('created', 'retry', 'active')`,
    [queue],
  );
  return rows[0].n;
}

export async function jobsByState(pool: pg.Pool, queue = SYNC_QUEUE): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; n: number }>(
    `select state::text as state, count(*)::int as n from ${BOSS_SCHEMA}.job where name = $1 group by state`,
    [queue],
  );
  const counts: Record<string, number> = { created: 0, retry: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** Tickets whose sync job is running now (a handful: workers × concurrency). */
export async function runningTickets(pool: pg.Pool): Promise<Set<number>> {
  const { rows } = await pool.query<{ key: string | null }>(
    `select singleton_key as key from ${BOSS_SCHEMA}.job where name = $1 and state = 'active'`,
    [SYNC_QUEUE],
  );
  return new Set(rows.map((r) => Number(r.key)));
}
