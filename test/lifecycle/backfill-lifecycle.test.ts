// What the backfill does for the data lifecycle: a ticket the export reports deleted loses its
// conversation rows at once (with a tombstone saying the export told us), and long tickets whose
// last read from the first event is too old are queued for one, a bounded number per run.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import type { FullReadPolicy } from '../../src/queue/full-read-sweep.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 12, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

const backfill = (fullReads?: FullReadPolicy) =>
  runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, fullReads },
    { since: nowSec() - 400 * DAY },
  );

const count = async (sql: string, params: unknown[]) => (await f.database.pool.query<{ n: number }>(sql, params)).rows[0].n;

it('a ticket the export reports deleted loses its events, attachments and thumbnails, keeping a tombstone', async () => {
  for (let id = 1; id <= 12; id++) await syncTicket(f.deps, id);
  const { rows: withEvents } = await f.database.pool.query<{ id: number }>(
    'select ticket_id::int as id from zendesk.conversation_events group by 1 order by 1 limit 2',
  );
  const [gone, kept] = withEvents.map((r) => r.id);
  expect(kept).toBeDefined();

  f.sim.deleteTicket(gone);
  await backfill();

  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [gone])).toBe(0);
  expect(await count('select count(*)::int as n from zendesk.attachments where ticket_id = $1', [gone])).toBe(0);
  const { rows } = await f.database.pool.query('select status, deleted_how, deleted_at is not null as dead from zendesk.ticket_sync where ticket_id = $1', [gone]);
  expect(rows[0]).toEqual({ status: 'not_found', deleted_how: 'export', dead: true });
  // Another ticket is untouched, and the deleted one counts in no view.
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [kept])).toBeGreaterThan(0);
  expect(await count('select count(*)::int as n from zendesk.ticket_conversations where ticket_id = $1', [gone])).toBe(0);
});

it('moves the export position past a deleted ticket only together with its purge', async () => {
  const { rows: withEvents } = await f.database.pool.query<{ id: number }>(
    `select ticket_id::int as id from zendesk.conversation_events e
      where not exists (select from zendesk.ticket_sync s where s.ticket_id = e.ticket_id and s.deleted_at is not null)
      group by 1 order by 1 limit 1`,
  );
  const gone = withEvents[0].id;
  const position = async () => (await f.database.pool.query(`select value from convlog.sync_state where key = 'incremental_export'`)).rows[0]?.value;
  const before = await position();
  f.sim.deleteTicket(gone);
  // The purge cannot remove the events: the page's transaction must leave nothing behind.
  await f.database.pool.query(`
    create function public.refuse_purge() returns trigger language plpgsql as $$ begin raise exception 'purge refused'; end $$;
    create trigger refuse_purge before delete on zendesk.conversation_events for each statement execute function public.refuse_purge()`);
  try {
    const failure = await backfill().then(() => undefined, (error: Error) => error);
    expect(String((failure?.cause as Error | undefined)?.message ?? failure?.message)).toMatch(/purge refused/);
  } finally {
    await f.database.pool.query('drop trigger refuse_purge on zendesk.conversation_events; drop function public.refuse_purge()');
  }
  // Not past the deleted ticket: the run continues where the failed one started, before any page
  // (it re-reads from before the latest change seen, so it has seen none yet).
  expect(before?.cursor).toEqual(expect.any(String));
  expect(await position()).toMatchObject({ cursor: null, position: null, startTime: expect.any(Number) });
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [gone])).toBeGreaterThan(0);
  expect(await count('select count(*)::int as n from zendesk.tickets where id = $1 and deleted', [gone])).toBe(0);
  // The next backfill reads the page again and purges the ticket.
  await backfill();
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [gone])).toBe(0);
  expect(await count('select count(*)::int as n from zendesk.ticket_conversations where ticket_id = $1', [gone])).toBe(0);
});

it('queues long tickets whose last full read is too old for a full read, oldest first, as many as the share of the budget covers', async () => {
  await f.database.pool.query('delete from pgboss.job');
  // Three long tickets read from their first event 40, 50 and 60 days ago, one read yesterday.
  for (const [id, days] of [[20, 40], [21, 50], [22, 60], [23, 1]] as const) {
    await f.database.pool.query(
      `insert into zendesk.ticket_sync (ticket_id, status, events_synced, last_full_read_at) values ($1, 'synced', 500, now() - make_interval(days => $2))`,
      [id, days],
    );
  }
  // 500 events: six requests each, so a first share of 12 requests (12 % of 100, no process taking
  // conversation-log permits) covers two of them.
  const result = await backfill({ days: 30, share: 0.12, rateLimit: 100 });
  const { rows } = await f.database.pool.query<{ id: number; full: boolean }>(
    `select (data->>'ticketId')::int as id, (data->>'full')::boolean as full from pgboss.job where name = 'ticket-sync' and (data->>'ticketId')::int >= 20 order by 1`,
  );
  expect(rows).toEqual([
    { id: 21, full: true },
    { id: 22, full: true },
  ]);
  expect(result.fullReads).toBe(2);
  // Not among the changed tickets the export showed, which `queued` counts. The two tickets the
  // tests above deleted are listed again: recorded before, neither queued nor counted deleted.
  expect(result.deletedBefore).toBe(2);
  expect(result.queued).toBe(result.seen - result.alreadyQueued - result.deleted - result.deletedBefore!);
});

it('under keep, a ticket the export reported deleted that is restored and synced counts in every view again, before any backfill', async () => {
  const keep = { ...f.deps, onDelete: 'keep' as const };
  const keepBackfill = () =>
    runBackfill(
      { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'keep' },
      { since: nowSec() - 400 * DAY },
    );
  // One with files and thumbnails: they are marked with the events, and must come back with them.
  const { rows: live } = await f.database.pool.query<{ id: number }>(
    `select e.ticket_id::int as id from zendesk.conversation_events e
      where not exists (select from zendesk.ticket_sync s where s.ticket_id = e.ticket_id and s.deleted_at is not null)
        and exists (select from zendesk.attachment_thumbnails t where t.ticket_id = e.ticket_id)
      group by 1 order by 1 limit 1`,
  );
  const ticketId = live[0].id;
  const events = await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', [ticketId]);
  const files = await count('select count(*)::int as n from zendesk.attachments where ticket_id = $1', [ticketId]);
  const thumbnails = await count('select count(*)::int as n from zendesk.attachment_thumbnails where ticket_id = $1', [ticketId]);
  expect(files * thumbnails).toBeGreaterThan(0);
  const inViews = async () => ({
    conversations: await count('select count(*)::int as n from zendesk.ticket_conversations where ticket_id = $1', [ticketId]),
    timeline: await count('select count(*)::int as n from zendesk.conversation_timeline where ticket_id = $1', [ticketId]),
    files: await count('select count(*)::int as n from zendesk.attachments_with_context where ticket_id = $1', [ticketId]),
    liveThumbnails: await count('select count(*)::int as n from zendesk.attachment_thumbnails where ticket_id = $1 and deleted_at is null', [ticketId]),
  });
  expect(await inViews()).toEqual({ conversations: 1, timeline: events, files, liveThumbnails: thumbnails });

  f.sim.deleteTicket(ticketId);
  await keepBackfill();
  expect(await inViews()).toEqual({ conversations: 0, timeline: 0, files: 0, liveThumbnails: 0 });

  // Restored in Zendesk; its undeleted webhook gets it synced before any backfill runs.
  f.sim.restoreTicket(ticketId);
  expect((await syncTicket(keep, ticketId)).status).toBe('synced');
  expect(await inViews()).toEqual({ conversations: 1, timeline: events, files, liveThumbnails: thumbnails });
  expect(await count('select count(*)::int as n from zendesk.tickets where id = $1 and deleted', [ticketId])).toBe(0);
});
