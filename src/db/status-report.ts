// Read-only figures for `convlog status`: what is stored, how tickets stand, what failed last,
// what webhooks left pending.
import type pg from 'pg';

export interface StatusReport {
  tickets: Record<string, number>;
  /** Rows stored; those named in `estimated` are Postgres's estimate, not a count (tables past EXACT_UP_TO rows). */
  stored: { events: number; authors: number; attachments: number; thumbnails: number; estimated: StoredTable[] };
  /** The ticket-context tables; `withoutRow` counts tickets queued or synced (no tombstone) that have no tickets row yet. */
  context: { tickets: number; deleted: number; withoutRow: number; groups: number; brands: number; organizations: number };
  oldestUnsynced: { ticketId: number; since: string } | null;
  lastSyncedAt: string | null;
  /** The latest failures recorded, interruptions left out. */
  lastErrors: { ticketId: number; status: string; error: string; at: string }[];
  /**
   * Queued tickets whose last run a shutdown stopped (ticket_sync.interrupted_at): not failures.
   * `latest`: the five most recent, with what last_error recorded of them.
   */
  interrupted: { count: number; latest: { ticketId: number; reason: string; at: string }[] };
  /**
   * Comments `serve` stored from webhooks that no sync has read from the conversation log yet
   * (zendesk.pending_comments); `estimated` as for `stored`.
   */
  pendingComments: { count: number; estimated: boolean };
  /** The database's clock as it was read. */
  at: string;
}

const STORED = { events: 'conversation_events', authors: 'authors', attachments: 'attachments', thumbnails: 'attachment_thumbnails' } as const;
export type StoredTable = keyof typeof STORED;
const PENDING = 'pending_comments';

// Counting the rows of a table reads all of it: at ten million events, seconds of a status that
// should answer at once. Past this many rows status gives the planner's estimate instead: the
// rows per page ANALYZE last saw times the table's pages now, so it follows a growing table.
const EXACT_UP_TO = 1_000_000;

/** For pg_class `c`: the planner's rows per page times the table's pages now (null before any ANALYZE). */
export const PLANNER_ROWS_NOW = `case when c.relpages > 0 and c.reltuples >= 0
  then c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) end`;

/** Rows of each table in schema zendesk: counted up to EXACT_UP_TO, else the planner's estimate. */
async function rowCounts(pool: pg.Pool, tables: readonly string[]): Promise<Map<string, { count: number; estimated: boolean }>> {
  const { rows } = await pool.query<{ name: string; estimate: number | null }>(
    `select c.relname as name,
            (${PLANNER_ROWS_NOW})::float8 as estimate
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'zendesk' and c.relname = any($1::text[])`,
    [tables],
  );
  const estimates = new Map(rows.map((r) => [r.name, r.estimate]));
  const counts = new Map<string, { count: number; estimated: boolean }>();
  for (const table of tables) {
    const estimate = estimates.get(table) ?? null;
    if (estimate !== null && estimate > EXACT_UP_TO) {
      counts.set(table, { count: Math.round(estimate), estimated: true });
    } else {
      // The table names are constants of this module, not input.
      counts.set(table, { count: (await pool.query<{ n: number }>(`select count(*)::int as n from zendesk.${table}`)).rows[0].n, estimated: false });
    }
  }
  return counts;
}

function storedRows(counts: Map<string, { count: number; estimated: boolean }>): StatusReport['stored'] {
  const stored: StatusReport['stored'] = { events: 0, authors: 0, attachments: 0, thumbnails: 0, estimated: [] };
  for (const [key, table] of Object.entries(STORED) as [StoredTable, string][]) {
    const { count, estimated } = counts.get(table)!;
    stored[key] = count;
    if (estimated) stored.estimated.push(key);
  }
  return stored;
}

export async function statusReport(pool: pg.Pool): Promise<StatusReport> {
  const tickets = await pool.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from zendesk.ticket_sync group by status',
  );
  const counts = await rowCounts(pool, [...Object.values(STORED), PENDING]);
  const stored = storedRows(counts);
  const context = await pool.query<StatusReport['context']>(`select
      (select count(*)::int from zendesk.tickets) as tickets,
      (select count(*)::int from zendesk.tickets where deleted) as deleted,
      (select count(*)::int from zendesk.ticket_sync s where s.status in ('queued', 'syncing', 'synced') and s.deleted_at is null
        and not exists (select from zendesk.tickets t where t.id = s.ticket_id)) as "withoutRow",
      (select count(*)::int from zendesk.groups) as groups,
      (select count(*)::int from zendesk.brands) as brands,
      (select count(*)::int from zendesk.organizations) as organizations`);
  const oldest = await pool.query<{ ticketId: string; since: Date }>(
    `select ticket_id as "ticketId", coalesce(queued_at, updated_at) as since from zendesk.ticket_sync
      where status in ('queued', 'syncing') order by coalesce(queued_at, updated_at) limit 1`,
  );
  const last = await pool.query<{ at: Date | null }>('select max(last_synced_at) as at from zendesk.ticket_sync');
  const errors = await pool.query<{ ticketId: string; status: string; error: string; at: Date }>(
    `select ticket_id as "ticketId", status, last_error as error, last_error_at as at from zendesk.ticket_sync
      where last_error is not null and status in ('failed', 'queued') and interrupted_at is null order by last_error_at desc limit 5`,
  );
  // Both read ticket_sync_interrupted_idx, which holds only the interrupted tickets.
  const interrupted = await pool.query<{ n: number }>(
    `select count(*)::int as n from zendesk.ticket_sync where interrupted_at is not null and status = 'queued'`,
  );
  const interruptedLatest = await pool.query<{ ticketId: string; reason: string; at: Date }>(
    `select ticket_id as "ticketId", last_error as reason, interrupted_at as at from zendesk.ticket_sync
      where interrupted_at is not null and status = 'queued' order by interrupted_at desc limit 5`,
  );
  const now = await pool.query<{ at: Date }>('select now() as at');
  const byStatus: Record<string, number> = { queued: 0, syncing: 0, synced: 0, not_found: 0, forbidden: 0, failed: 0 };
  for (const row of tickets.rows) byStatus[row.status] = row.n;
  return {
    tickets: byStatus,
    stored,
    context: context.rows[0],
    oldestUnsynced: oldest.rows[0] ? { ticketId: Number(oldest.rows[0].ticketId), since: oldest.rows[0].since.toISOString() } : null,
    lastSyncedAt: last.rows[0]?.at?.toISOString() ?? null,
    lastErrors: errors.rows.map((r) => ({ ticketId: Number(r.ticketId), status: r.status, error: r.error, at: r.at.toISOString() })),
    interrupted: {
      count: interrupted.rows[0].n,
      latest: interruptedLatest.rows.map((r) => ({ ticketId: Number(r.ticketId), reason: r.reason, at: r.at.toISOString() })),
    },
    pendingComments: counts.get(PENDING)!,
    at: now.rows[0].at.toISOString(),
  };
}

/** Events of `ticketIds` first stored at or after `since` (Postgres's time): what the demo's run added to the tickets it ran. */
export async function eventsStoredSince(pool: pg.Pool, since: string, ticketIds: readonly number[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'select count(*)::int as n from zendesk.conversation_events where first_synced_at >= $1 and ticket_id = any($2::bigint[])',
    [since, ticketIds],
  );
  return rows[0].n;
}

/** Whether any ticket was ever queued or synced here: a database with none was asked of nothing. */
export async function anyTicketRecorded(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ recorded: boolean }>('select exists (select from zendesk.ticket_sync) as recorded');
  return rows[0].recorded;
}
