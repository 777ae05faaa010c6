// Read-only figures for `convlog status`: what is stored, how tickets stand, what failed last.
import type pg from 'pg';

export interface StatusReport {
  tickets: Record<string, number>;
  stored: { events: number; authors: number; attachments: number; thumbnails: number };
  /** The ticket-context tables; `withoutRow` counts tickets convlog syncs that have no tickets row yet. */
  context: { tickets: number; deleted: number; withoutRow: number; groups: number; brands: number; organizations: number };
  oldestUnsynced: { ticketId: number; since: string } | null;
  lastSyncedAt: string | null;
  lastErrors: { ticketId: number; status: string; error: string; at: string }[];
}

export async function statusReport(pool: pg.Pool): Promise<StatusReport> {
  const tickets = await pool.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from zendesk.ticket_sync group by status',
  );
  const stored = await pool.query<StatusReport['stored']>(`select
      (select count(*)::int from zendesk.conversation_events) as events,
      (select count(*)::int from zendesk.authors) as authors,
      (select count(*)::int from zendesk.attachments) as attachments,
      (select count(*)::int from zendesk.attachment_thumbnails) as thumbnails`);
  const context = await pool.query<StatusReport['context']>(`select
      (select count(*)::int from zendesk.tickets) as tickets,
      (select count(*)::int from zendesk.tickets where deleted) as deleted,
      (select count(*)::int from zendesk.ticket_sync s where not exists (select from zendesk.tickets t where t.id = s.ticket_id)) as "withoutRow",
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
      where last_error is not null and status in ('failed', 'queued') order by last_error_at desc limit 5`,
  );
  const byStatus: Record<string, number> = { queued: 0, syncing: 0, synced: 0, not_found: 0, forbidden: 0, failed: 0 };
  for (const row of tickets.rows) byStatus[row.status] = row.n;
  return {
    tickets: byStatus,
    stored: stored.rows[0],
    context: context.rows[0],
    oldestUnsynced: oldest.rows[0] ? { ticketId: Number(oldest.rows[0].ticketId), since: oldest.rows[0].since.toISOString() } : null,
    lastSyncedAt: last.rows[0]?.at?.toISOString() ?? null,
    lastErrors: errors.rows.map((r) => ({ ticketId: Number(r.ticketId), status: r.status, error: r.error, at: r.at.toISOString() })),
  };
}
