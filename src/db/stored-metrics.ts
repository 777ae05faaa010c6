// What /metrics reports about the stored data and the rate budgets. Scraped every few seconds,
// so nothing here scans a big table: events are Postgres's running count of live rows, tickets
// come from the status index.
import type pg from 'pg';
import { readBudgets, type BudgetRow } from './budget-report.ts';
import { PLANNER_ROWS_NOW } from './status-report.ts';

export interface StoredMetrics {
  ticketsByStatus: Record<string, number>;
  /**
   * Postgres's count of live rows (n_live_tup: every commit's inserts and deletes, published within
   * a second or so), not a scan. The planner's estimate (reltuples) would read 0 until autovacuum
   * first analyzes the table and lag between analyzes. After the counts were reset (a crash,
   * pg_stat_reset) this reads low until the next analyze; while it is 0, the planner's estimate
   * scaled to the table's pages now stands in.
   */
  eventsEstimate: number;
  /** As `convlog status` reads them: the limit in force, not the one the row last applied. */
  budgets: BudgetRow[];
}

/**
 * `timeoutMs`: each query's limit (pg's query_timeout). A connection gone half-open never answers;
 * past the limit its query fails and the pool drops the connection, instead of a read that never
 * ends.
 */
export async function storedMetrics(pool: pg.Pool, timeoutMs: number): Promise<StoredMetrics> {
  const query = <R extends pg.QueryResultRow>(text: string) => pool.query<R>({ text, query_timeout: timeoutMs } as pg.QueryConfig);
  const [tickets, events, budgets] = await Promise.all([
    query<{ status: string; n: number }>('select status, count(*)::int as n from zendesk.ticket_sync group by status'),
    query<{ n: number }>(
      `select coalesce(nullif(pg_stat_get_live_tuples(c.oid), 0)::float8, ${PLANNER_ROWS_NOW}, 0)::float8 as n
         from pg_class c where c.oid = 'zendesk.conversation_events'::regclass`,
    ),
    readBudgets(pool, {}, timeoutMs),
  ]);
  return {
    ticketsByStatus: Object.fromEntries(tickets.rows.map((r) => [r.status, r.n])),
    eventsEstimate: events.rows[0]?.n ?? 0,
    budgets,
  };
}
