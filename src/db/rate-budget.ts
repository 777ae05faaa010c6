// Every statement on convlog.rate_budgets but the read status and /metrics make (budget-report.ts),
// the permit's SQL being in rate-budget-sql.ts: one row per Zendesk budget (conversation_log,
// export), shared by every worker process through Postgres.
// Each permit is ONE atomic statement that locks the row, rolls the fixed window, and either
// grants a send time or says how long to wait.
//
// The row mirrors Zendesk's fixed window as well as the headers let us know it:
// - window_started_at + window_ms: our estimate of the server's window. It is an upper bound of
//   the true end (every response says `resets` in whole seconds, rounded up, and we read it after
//   the request arrived), tightened by the smallest estimate seen. Whole seconds place only a
//   window some seconds long: Zendesk's are a minute; with 1 s windows the estimate can fall
//   anywhere in the server's window, and the tests use 3 s (test/budget/simulation.test.ts).
// - state.endLow: a lower bound of the same end (a permit's send time + resets - 1 s). Permits
//   are paced so the last one is sent before it, so none spills into the next server window.
// - spent: permits granted in the window by every process. state.others: requests the server
//   counted that we did not send (another integration): the highest count a response of ours
//   reported (`total - remaining`) less our responses seen in the window. Permits are granted
//   while spent < min(our limit, server total) - others (others counting only once another
//   client is seen: until then, what the server counted may be our own requests in flight).
// - Bursts and pacing: while nobody else spends (the server never counted more requests than we
//   granted, in this window or the previous one) and less than half of the window's allowance is
//   spent, permits go at once, so a short sync never waits. Past that, or once another client is
//   seen, what is left is spaced evenly over what is left of the window, so that the other
//   client's requests and ours share the window without a 429.
// - paused_until: after a 429, nobody sends before its Retry-After (which callers always give),
//   not even a process holding a permit it was granted before (it reads the pause again).
// - One limit for the account: each process asks with its own (CONVLOG_RATE_LIMIT), and the
//   lowest of the processes taking part applies to every permit, so a process set lower only slows
//   the others and none can take the account past what any of them was told. state.takers holds
//   each taker's limit and when it last asked; it takes part until it releases its entry (as its
//   command closes) or, killed, until TAKER_WINDOWS windows after its last ask. limit_per_window
//   is the limit that applied to the last permit (or release).
// Times are epoch milliseconds of the database's clock, the one clock all processes share. Every
// statement takes an optional `nowMs` that stands in for that clock: tests run on virtual time.
import type pg from 'pg';
import { MissingRetryAfter } from '../errors/convlog-errors.ts';
import { processNamed } from '../text.ts';
import { NOW, OBSERVE, TAKE, TAKING_PART } from './rate-budget-sql.ts';

export { FREE_SHARE, TAKER_WINDOWS } from './rate-budget-sql.ts';

export interface TakeResult {
  /** True: a permit is yours; send once waitMs has passed. False: ask again after waitMs. */
  granted: boolean;
  waitMs: number;
  /** The database clock when the statement ran (epoch ms). */
  nowMs: number;
  /** Not granted because a 429 (this process's or another's) holds every sender until its Retry-After. */
  paused: boolean;
  /** The limit this permit was decided by: the lowest of every live taker's, this one's included. */
  limitApplied: number;
  /** The other live takers' limits (the lowest, with its process told apart, and the highest); null when there are none. */
  others: { low: number; lowProcess: string; high: number } | null;
}

/** Who asks for permits: a key of its own, one per process, and its process in words ("pid 42 on host-a"). */
export interface Taker {
  key: string;
  process: string;
}

/** Callers of the statement itself (tests) are one taker: sharedBudget gives each instance its own. */
const DIRECT_TAKER: Taker = { key: 'direct', process: 'a direct caller' };

export interface Observation {
  status: number;
  total?: number;
  remaining?: number;
  resetsMs?: number;
  retryAfterMs?: number;
  /** A database time (epoch ms) no later than the moment this request was sent. */
  sentAfterMs?: number;
}

/** In place of the database clock (epoch ms), for tests on virtual time; production passes none. */
export interface At {
  nowMs?: number;
}

/** Zendesk's windows are a minute long. */
export const DEFAULT_WINDOW_MS = 60_000;

/**
 * Creates the budget's row if missing. A windowMs given here replaces the stored one (and forgets
 * the learned phase); without it, the stored window stays (default a minute).
 */
export async function ensureBudget(pool: pg.Pool, name: string, limitPerWindow: number, windowMs?: number, at: At = {}): Promise<void> {
  await pool.query(
    `insert into convlog.rate_budgets (name, limit_per_window, window_ms, window_started_at)
     values ($1, $2, coalesce($3::int, ${DEFAULT_WINDOW_MS}), to_timestamp(${NOW('$4')} / 1000))
     on conflict (name) do update
        set window_ms = excluded.window_ms, state = rate_budgets.state - 'aligned' - 'endLow', updated_at = now()
      where $3::int is not null and rate_budgets.window_ms <> $3::int`,
    [name, limitPerWindow, windowMs ?? null, at.nowMs ?? null],
  );
  // A 429's pause is at most 15 minutes (MAX_RETRY_AFTER_MS, src/zendesk/rate-limit.ts). One much
  // further away was kept by a version that took any Retry-After as given (years, from a proxy):
  // nothing would be sent again, and no answer would ever correct it. A starting process ends it.
  await pool.query(
    `update convlog.rate_budgets set paused_until = null
      where name = $1 and paused_until > to_timestamp((${NOW('$2')} + ${STALE_PAUSE_MS}) / 1000)`,
    [name, at.nowMs ?? null],
  );
}

/** Beyond any pause a 429 sets now (15 minutes), with room for clocks that disagree. */
const STALE_PAUSE_MS = 20 * 60_000;

/**
 * One permit, atomically: granted with the time to wait before sending, or a wait before asking
 * again. `taker` is recorded as taking part, with its limit, until it releases (releaseTaker) or
 * goes quiet; every permit is decided by the lowest limit of the takers taking part.
 */
export async function takePermit(
  pool: pg.Pool,
  name: string,
  limitPerWindow: number,
  sendMarginMs: number,
  at: At = {},
  taker: Taker = DIRECT_TAKER,
): Promise<TakeResult | null> {
  // Named: each connection plans the statement once, not once per permit.
  const { rows } = await pool.query<{
    granted: boolean;
    wait_ms: number;
    now_ms: number;
    paused: boolean;
    limit_applied: number;
    other_low: number | null;
    other_high: number | null;
    other_low_who: string | null;
    other_low_instance: string | null;
  }>({
    name: 'convlog_take_permit',
    text: TAKE,
    values: [name, limitPerWindow, sendMarginMs, at.nowMs ?? null, taker.key, taker.process],
  });
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    granted: r.granted,
    waitMs: Math.ceil(r.wait_ms),
    nowMs: r.now_ms,
    paused: r.paused,
    limitApplied: r.limit_applied,
    others: r.other_low === null ? null : { low: r.other_low, lowProcess: processNamed(r.other_low_who ?? 'another process', r.other_low_instance), high: r.other_high ?? r.other_low },
  };
}

/**
 * The taker stops taking part: its limit no longer applies, from now, not once it goes quiet. The
 * stored limit becomes the lowest of the takers left (unchanged with none).
 */
export async function releaseTaker(pool: pg.Pool, name: string, key: string, at: At = {}): Promise<void> {
  await pool.query(
    `update convlog.rate_budgets b
        set state = b.state #- array['takers', $2::text],
            limit_per_window = coalesce((
              select min((t.value->>0)::int) from jsonb_each(b.state->'takers') t
               where t.key <> $2::text and ${TAKING_PART('t.value', NOW('$3'), 'b.window_ms')}), b.limit_per_window),
            updated_at = clock_timestamp()
      where b.name = $1 and b.state->'takers' ? $2::text`,
    [name, key, at.nowMs ?? null],
  );
}

/**
 * The limit in force for every permit of the budget: the lowest of the processes taking part.
 * Null while none does: each then applies its own as it asks, so a caller planning for the
 * budget (the full reads' share) goes by its own setting.
 */
export async function limitInForce(pool: pg.Pool, name: string, at: At = {}): Promise<number | null> {
  const { rows } = await pool.query<{ lowest: number | null }>(
    `select min((t.value->>0)::int) as lowest
       from convlog.rate_budgets b, jsonb_each(coalesce(b.state->'takers', '{}'::jsonb)) t
      where b.name = $1 and ${TAKING_PART('t.value', NOW('$2'), 'b.window_ms')}`,
    [name, at.nowMs ?? null],
  );
  return rows[0]?.lowest ?? null;
}

/** How long a 429 still holds every sender (0: none does), read without locking the row. */
export async function pausedForMs(pool: pg.Pool, name: string, at: At = {}): Promise<number> {
  const { rows } = await pool.query<{ wait_ms: number }>({
    name: 'convlog_budget_paused',
    text: `select greatest(0, extract(epoch from paused_until) * 1000 - ${NOW('$2')})::float8 as wait_ms
             from convlog.rate_budgets where name = $1`,
    values: [name, at.nowMs ?? null],
  });
  return Math.ceil(rows[0]?.wait_ms ?? 0);
}

/** Corrects the shared state with what one response said. */
export async function observeBudget(pool: pg.Pool, name: string, seen: Observation, at: At = {}): Promise<void> {
  if (seen.status === 429 && seen.retryAfterMs === undefined) throw new MissingRetryAfter(name);
  await pool.query({ name: 'convlog_observe_budget', text: OBSERVE, values: [
    name,
    seen.status,
    seen.total ?? null,
    seen.remaining ?? null,
    seen.resetsMs ?? null,
    seen.retryAfterMs ?? null,
    seen.sentAfterMs ?? null,
    at.nowMs ?? null,
  ] });
}
