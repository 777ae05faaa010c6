// Exact counts read from pg-boss's job table (its cached queue stats can lag a minute, too
// slow for deciding that a queue is empty), and the statements that hold, upgrade and delete jobs.
import type pg from 'pg';
import { BOSS_SCHEMA, SYNC_QUEUE } from './boss.ts';

const LIVE = ['created', 'retry', 'active'];

/** Jobs that still need a worker: queued, waiting to retry, or (unless `running` is false) running. */
export async function liveJobs(pool: pg.Pool, queue = SYNC_QUEUE, options: { running?: boolean } = {}): Promise<number> {
  const states = options.running === false ? LIVE.filter((state) => state !== 'active') : LIVE;
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from ${BOSS_SCHEMA}.job where name = $1 and state = any($2::${BOSS_SCHEMA}.job_state[])`,
    [queue, states],
  );
  return rows[0].n;
}

/** Whether the ticket has a sync job waiting, waiting to retry, or running. */
export async function hasLiveSyncJob(pool: pg.Pool, ticketId: number): Promise<boolean> {
  const { rows } = await pool.query<{ live: boolean }>(
    `select exists (select 1 from ${BOSS_SCHEMA}.job where name = $1 and singleton_key = $2 and state = any($3::${BOSS_SCHEMA}.job_state[])) as live`,
    [SYNC_QUEUE, String(ticketId), LIVE],
  );
  return rows[0].live;
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

/** What comes before a `sync`'s tickets (jobsAhead). */
export interface Ahead {
  count: number;
  /** The look stopped at its limit without meeting one of the tickets: there may be more. */
  atLeast: boolean;
}

/**
 * Other tickets' sync jobs that come before the first of `ticketIds` still waiting: those running
 * (they hold workers and spend the same rate budget) and those due that a worker takes first,
 * read in pg-boss's own order (priority, then age) down to the first of `ticketIds`, at most
 * `limit` of them. Two index scans whatever the number of ids or the size of the backlog behind.
 * `{ count: 0 }` once none of `ticketIds` waits: what is left then is their own runs.
 */
export async function jobsAhead(pool: pg.Pool, ticketIds: ReadonlySet<number>, limit = 1_000): Promise<Ahead> {
  const { rows: waiting } = await pool.query<{ key: string; due: boolean }>(
    `select singleton_key as key, start_after <= now() as due from ${BOSS_SCHEMA}.job
      where name = $1 and state < 'active' and not blocked order by priority desc, created_on limit $2`,
    [SYNC_QUEUE, limit],
  );
  const first = waiting.findIndex((row) => ticketIds.has(Number(row.key)));
  if (first < 0 && (waiting.length < limit || !(await anyWaiting(pool, ticketIds)))) return { count: 0, atLeast: false };
  const { rows: running } = await pool.query<{ key: string }>(
    `select singleton_key as key from ${BOSS_SCHEMA}.job where name = $1 and state = 'active'`,
    [SYNC_QUEUE],
  );
  const before = (first < 0 ? waiting : waiting.slice(0, first)).filter((row) => row.due).length;
  return { count: running.filter((row) => !ticketIds.has(Number(row.key))).length + before, atLeast: first < 0 };
}

/** Whether any of these tickets has a sync job waiting (beyond what jobsAhead's look read). */
async function anyWaiting(pool: pg.Pool, ticketIds: ReadonlySet<number>): Promise<boolean> {
  const { rows } = await pool.query(
    `select 1 from ${BOSS_SCHEMA}.job where name = $1 and state < 'active' and singleton_key = any($2::text[]) limit 1`,
    [SYNC_QUEUE, [...ticketIds].map(String)],
  );
  return rows.length > 0;
}

/**
 * Deletes the sync jobs not yet done of tickets above `lastTicketId`, returning their tickets: for
 * the demo, whose database is its own and whose simulator serves tickets 1..N only.
 */
export async function dropSyncJobsAbove(pool: pg.Pool, lastTicketId: number): Promise<number[]> {
  const { rows } = await pool.query<{ key: string }>(
    `delete from ${BOSS_SCHEMA}.job
      where name = $1 and state = any($2::${BOSS_SCHEMA}.job_state[]) and singleton_key ~ '^[0-9]+$' and singleton_key::numeric > $3
      returning singleton_key as key`,
    [SYNC_QUEUE, LIVE, lastTicketId],
  );
  return rows.map((r) => Number(r.key));
}

/**
 * Deletes the waiting sync jobs of `keys` (every ticket's without), returning their tickets:
 * `convlog dequeue` (src/queue/dequeue.ts), on its transaction's client.
 * Locked in ascending ticket order first, as enqueueTickets inserts them: a dequeue and an enqueue
 * or upgrade of the same tickets then wait for each other in one order. A job a worker is taking
 * meanwhile is waited for and then, active, left.
 */
export async function deleteWaitingJobs(client: pg.Pool, keys: readonly string[] | undefined): Promise<number[]> {
  const { rows } = await client.query<{ key: string }>(
    `with doomed as (
       select id from ${BOSS_SCHEMA}.job
        where name = $1 and state in ('created', 'retry') and ($2::text[] is null or singleton_key = any($2::text[]))
        order by length(singleton_key), singleton_key
        for update)
     delete from ${BOSS_SCHEMA}.job j using doomed where j.name = $1 and j.id = doomed.id
     returning j.singleton_key as key`,
    [SYNC_QUEUE, keys ?? null],
  );
  return rows.map((r) => Number(r.key)).sort((a, b) => a - b);
}

/**
 * The job each of `ticketIds` has queued, waiting to retry or running, by ticket: read by an
 * enqueue whose insert these jobs made it skip, so that it can tell later whether the job is gone.
 * Run on every batch with a skipped ticket, under the enqueue lock, so it must not read a
 * backlog: the waiting jobs are found by key in pg-boss's index of waiting jobs (job_i17, whose
 * condition is `state < 'active'`; a `state = any(...)` over all three states matches no such
 * index, and read every live job of the queue), the running ones (as many as workers) by state.
 */
export async function liveJobIds(pool: pg.Pool, ticketIds: readonly number[]): Promise<Map<number, string>> {
  if (ticketIds.length === 0) return new Map();
  const { rows } = await pool.query<{ key: string; id: string }>(
    `select singleton_key as key, id from ${BOSS_SCHEMA}.job
      where name = $1 and singleton_key = any($2::text[]) and state < 'active'
     union all
     select singleton_key, id from ${BOSS_SCHEMA}.job
      where name = $1 and state = 'active' and singleton_key = any($2::text[])`,
    [SYNC_QUEUE, ticketIds.map(String)],
  );
  return new Map(rows.map((r) => [Number(r.key), r.id]));
}

/**
 * Of these tickets, those whose job (by id, from liveJobIds) no longer exists: deleted unrun, by a
 * dequeue (deleteWaitingJobs) or by pg-boss's retention (a job left waiting past it). A job that
 * ran keeps its row, completed or failed, until pg-boss deletes it days later (the queue's
 * deleteAfterSeconds, pg-boss's default of 7 days: SYNC_QUEUE_OPTIONS sets none). Read under
 * whileEnqueueing (src/db/dequeued.ts), whose lock waits for a dequeue deleting jobs to commit.
 */
export async function ticketsWhoseJobIsGone(pool: pg.Pool, jobs: ReadonlyMap<number, string>): Promise<number[]> {
  if (jobs.size === 0) return [];
  // The ids still there, each looked up in the job table's primary key; those missing are told
  // here. An anti join over the same ids may be planned as a hash over the whole table, and so
  // was `id = any($2)` by Postgres 14 (a parallel scan of every job kept, for 2,000 ids among
  // 200,000 jobs: 80-150 ms against 12): the LIMIT keeps each id's lookup a lookup on every release.
  const { rows } = await pool.query<{ id: string }>(
    `select j.id from unnest($2::uuid[]) as asked(id),
       lateral (select id from ${BOSS_SCHEMA}.job where name = $1 and id = asked.id limit 1) j`,
    [SYNC_QUEUE, [...jobs.values()]],
  );
  const present = new Set(rows.map((r) => r.id));
  return [...jobs].filter(([, id]) => !present.has(id)).map(([ticketId]) => ticketId).sort((a, b) => a - b);
}

/** The ticket keys of the sync queue's live jobs: queued, waiting to retry or running. */
export async function liveJobKeys(client: pg.Pool): Promise<string[]> {
  const { rows } = await client.query<{ key: string }>(
    `select singleton_key as key from ${BOSS_SCHEMA}.job where name = $1 and state = any($2::${BOSS_SCHEMA}.job_state[])`,
    [SYNC_QUEUE, LIVE],
  );
  return rows.map((r) => r.key);
}

/**
 * Of `keys` (every ticket without), how many have a job a worker holds, and of those how many
 * whose worker has been silent for STOPPED_AFTER_SECONDS (killed, or cut off).
 */
export async function runningJobs(client: pg.Pool, keys: readonly string[] | undefined): Promise<{ running: number; silent: number }> {
  const { rows } = await client.query<{ running: number; silent: number }>(
    `select count(*)::int as running,
            count(*) filter (where coalesce(heartbeat_on, started_on) < now() - $3 * interval '1 second')::int as silent
       from ${BOSS_SCHEMA}.job
      where name = $1 and state = 'active' and ($2::text[] is null or singleton_key = any($2::text[]))`,
    [SYNC_QUEUE, keys ?? null, STOPPED_AFTER_SECONDS],
  );
  return rows[0];
}

/**
 * A running job's worker beats every HEARTBEAT_SECONDS (10 s); one silent this long has stopped
 * (killed, or cut off from Postgres). Its job stays `active` until a supervising worker (`work`,
 * `sync`) takes it over, so with none up it would look like work in progress for ever.
 */
export const STOPPED_AFTER_SECONDS = 60;

/** Running jobs whose worker has sent no heartbeat for STOPPED_AFTER_SECONDS. */
export async function runningWithoutHeartbeat(pool: pg.Pool, queue = SYNC_QUEUE): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from ${BOSS_SCHEMA}.job
      where name = $1 and state = 'active' and coalesce(heartbeat_on, started_on) < now() - $2 * interval '1 second'`,
    [queue, STOPPED_AFTER_SECONDS],
  );
  return rows[0].n;
}

/**
 * Puts a running job (a ticket's sync; a backfill a shutdown stopped) back in the queue, to be taken again after `delayMs`, without using up
 * an attempt: pg-boss counts an attempt when it claims a job that had started, so clearing
 * started_on (as pg-boss's own restore() does) makes the next claim the same attempt. One
 * statement, fenced to this worker's claim (still active, same attempt), so no other worker can
 * take the job before it is back. retry_count and retry_limit both move up one, leaving the
 * attempts left as they were: pg-boss's complete() after the handler, fenced to the old count,
 * then settles nothing, even when another worker has claimed the job again by then (it would
 * have completed that worker's run). The job's data counts the holds, so that attempts are told
 * without them (holdsOf in src/queue/boss.ts). The price: pg-boss's backoff, which grows with retry_count,
 * waits longer (at most the queue's retryDelayMax) before a later retry of a job held before.
 * Its retention moves with its start, or maintenance would delete it as expired.
 */
export async function holdJob(pool: pg.Pool, job: { id: string; retryCount: number }, delayMs: number, queue = SYNC_QUEUE): Promise<boolean> {
  const { rowCount } = await pool.query(
    `update ${BOSS_SCHEMA}.job
        set state = 'created', started_on = null, heartbeat_on = null,
            retry_count = retry_count + 1, retry_limit = retry_limit + 1,
            data = data || jsonb_build_object('holds', coalesce((data->>'holds')::int, 0) + 1),
            start_after = now() + $3 * interval '1 millisecond',
            keep_until = now() + $3 * interval '1 millisecond' + (keep_until - start_after)
      where name = $1 and id = $2 and state = 'active' and retry_count = $4`,
    [queue, job.id, Math.max(0, Math.round(delayMs)), job.retryCount],
  );
  return rowCount === 1;
}

/**
 * Upgrades tickets' waiting sync jobs, which the one-job-per-ticket queue kept in place of the
 * ones just asked for: to `priority` (never down), so a webhook for a ticket the backfill queued
 * earlier does not wait behind the whole backlog; and to a full re-read, so a redaction reported
 * while a plain sync waits is read (resuming from the cursor would never see the edited event).
 * A job waiting out a retry's backoff (up to 5 minutes) is due at once: the change, a redaction
 * above all, would otherwise wait that long. A running job takes the priority too (its data and
 * due time are its run's): should the run fail, pg-boss retries that same job, and a webhook's
 * ticket would wait out the retry behind the backlog it came from. Returns the tickets changed.
 */
export async function upgradeWaitingJobs(pool: pg.Pool, ticketIds: readonly number[], to: { priority?: number; full?: boolean }): Promise<number[]> {
  const priority = to.priority ?? 0;
  const full = to.full === true;
  if (ticketIds.length === 0 || (priority === 0 && !full)) return [];
  // Two statements, each with a state condition of its own: combined with OR, the waiting jobs'
  // condition no longer matched pg-boss's partial index of live jobs, and Postgres read every one.
  const { rows } = await pool.query<{ key: string }>(
    `update ${BOSS_SCHEMA}.job
        set priority = greatest(priority, $3),
            data = case when $4 then data || '{"full": true}'::jsonb else data end,
            start_after = least(start_after, now())
      where name = $1 and singleton_key = any($2::text[]) and state in ('created', 'retry')
        and (priority < $3 or ($4 and (data->>'full') is distinct from 'true') or start_after > now())
      returning singleton_key as key`,
    [SYNC_QUEUE, ticketIds.map(String), priority, full],
  );
  if (priority > 0) {
    await pool.query(`update ${BOSS_SCHEMA}.job set priority = $3 where name = $1 and singleton_key = any($2::text[]) and state = 'active' and priority < $3`, [
      SYNC_QUEUE,
      ticketIds.map(String),
      priority,
    ]);
  }
  return rows.map((r) => Number(r.key));
}

/**
 * Puts tickets' waiting (or retrying) sync jobs at `from` back to the backlog's priority, 0: a
 * `sync` stopped with Ctrl-C leaves its tickets queued, and nobody waits for them any more, so a
 * later `sync` must not wait behind them all. A job raised above `from` (a webhook's) keeps its
 * place. Returns the tickets changed.
 */
export async function lowerWaitingJobs(pool: pg.Pool, ticketIds: readonly number[], from: number): Promise<number[]> {
  if (ticketIds.length === 0) return [];
  const { rows } = await pool.query<{ key: string }>(
    `update ${BOSS_SCHEMA}.job set priority = 0
      where name = $1 and singleton_key = any($2::text[]) and state in ('created', 'retry') and priority = $3
      returning singleton_key as key`,
    [SYNC_QUEUE, ticketIds.map(String), from],
  );
  return rows.map((r) => Number(r.key));
}
