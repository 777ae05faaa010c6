// Every budget as `convlog status` and `/metrics` show it: one read of convlog.rate_budgets
// (rate-budget.ts explains the row), the current window's figures only while it lasts, and the
// processes taking permits, lowest limit first. A read alone: it locks no row and takes part in
// no budget.
import type pg from 'pg';
import { NOW, TAKING_PART } from './rate-budget-sql.ts';
import type { At } from './rate-budget.ts';

/** A process taking permits from a budget, as status shows it. */
export interface BudgetTaker {
  /** Its limit per window (its CONVLOG_RATE_LIMIT, or the setting of the budget). */
  limit: number;
  /** "pid 42 on host-a"; `id`, its taker key, tells apart processes of the same pid and host. */
  process: string;
  id: string;
  /** When it last asked for a permit. */
  lastAskedAt: string;
}

export interface BudgetRow {
  name: string;
  /** The limit in force: the lowest of the takers' limits. Null while no process takes permits (each applies its own as it asks). */
  limitPerWindow: number | null;
  /** The processes taking permits (asked within TAKER_WINDOWS windows, not released), lowest limit first. */
  takers: BudgetTaker[];
  /** The send time of the latest permit granted, by any process (null before the first). */
  lastSentAt: string | null;
  windowMs: number;
  /** Permits granted in the current window (0 once it has ended). */
  spent: number;
  windowEndsAt: string;
  /** Zendesk's last `remaining`, while its window lasts. */
  serverRemaining: number | null;
  serverTotal: number | null;
  /** What other clients spent in the current window, as far as the headers tell. */
  others: number;
  pausedUntil: string | null;
  totalTaken: number;
  totalRateLimited: number;
  totalWaitMs: number;
  totalWaits: number;
}

/**
 * Every budget as `convlog status` and `/metrics` show it. `timeoutMs`: the query's limit (pg's
 * query_timeout), for a scrape that must not wait on a connection gone half-open.
 */
export async function readBudgets(pool: pg.Pool, at: At = {}, timeoutMs?: number): Promise<BudgetRow[]> {
  const { rows } = await pool.query<{
    name: string;
    limit_per_window: number | null;
    takers: { limit: number; process: string; id: string; at: number }[];
    last_sent_at: Date | null;
    window_ms: number;
    spent: number;
    window_ends_at: Date;
    server_remaining: number | null;
    server_total: number | null;
    others: number;
    paused_until: Date | null;
    total_taken: string;
    total_rate_limited: string;
    total_wait_ms: string;
    total_waits: string;
  }>({
    text: `select name, window_ms,
            (select min((t->>'limit')::int) from jsonb_array_elements(takers) t) as limit_per_window,
            takers,
            to_timestamp((state->>'sentAt')::float8 / 1000) as last_sent_at,
            case when live then spent else 0 end as spent,
            window_started_at + window_ms * interval '1 millisecond' as window_ends_at,
            case when live then server_remaining end as server_remaining,
            (state->>'serverTotal')::int as server_total,
            case when live then coalesce((state->>'others')::int, 0) else 0 end as others,
            case when paused_until > now_at then paused_until end as paused_until,
            total_taken, total_rate_limited, total_wait_ms,
            coalesce((state->>'waits')::bigint, 0) as total_waits
       from (select r.*, now_at, now_at < window_started_at + window_ms * interval '1 millisecond' as live,
                    (select coalesce(jsonb_agg(jsonb_build_object('limit', (t.value->>0)::int, 'process', t.value->>2, 'id', t.key, 'at', (t.value->>1)::float8)
                                               order by (t.value->>0)::int, t.value->>2, t.key), '[]'::jsonb)
                       from jsonb_each(coalesce(r.state->'takers', '{}'::jsonb)) t
                      where ${TAKING_PART('t.value', 'now_ms', 'r.window_ms')}) as takers
               from convlog.rate_budgets r, (select ${NOW('$1')} as now_ms) n, to_timestamp(n.now_ms / 1000) as now_at) b
      order by name`,
    values: [at.nowMs ?? null],
    query_timeout: timeoutMs,
  } as pg.QueryConfig);
  return rows.map((r) => ({
    name: r.name,
    limitPerWindow: r.limit_per_window,
    takers: r.takers.map((t) => ({ limit: t.limit, process: t.process, id: t.id, lastAskedAt: new Date(t.at).toISOString() })),
    lastSentAt: r.last_sent_at?.toISOString() ?? null,
    windowMs: r.window_ms,
    spent: r.spent,
    windowEndsAt: r.window_ends_at.toISOString(),
    serverRemaining: r.server_remaining,
    serverTotal: r.server_total,
    others: r.others,
    pausedUntil: r.paused_until?.toISOString() ?? null,
    totalTaken: Number(r.total_taken),
    totalRateLimited: Number(r.total_rate_limited),
    totalWaitMs: Number(r.total_wait_ms),
    totalWaits: Number(r.total_waits),
  }));
}
