// The backfill against real Postgres, a real pg-boss and the simulator's incremental export.
import { describe, expect, it } from 'vitest';
import { BackfillBusy, BackfillFailed } from '../../src/errors/convlog-errors.ts';
import { ServerError } from '../../src/errors/zendesk-errors.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { tryRunLock } from '../../src/db/run-locks.ts';
import { loadLastBackfill } from '../../src/db/sync-state.ts';
import { runBackfill, type BackfillDeps, type BackfillOptions } from '../../src/queue/backfill.ts';
import { backfillStatus } from '../../src/queue/backfill-status.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, clearQueue, DAY, EMAIL, exportSince, nowSec, queuedTicketIds, savedPosition, sorted, ticketStatuses, TOKEN } from './helpers.ts';

const t = backfillTestContext();

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ tickets: 60, rateLimit: 0, exportRateLimit: 0, ...options });
  t.sims.push(sim);
  return sim;
}

function deps(sim: Simulator): BackfillDeps {
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  return { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger };
}

const backfill = (sim: Simulator, options: BackfillOptions = {}) => runBackfill(deps(sim), { exportOptions: { retryBaseMs: 5, maxAttempts: 3 }, ...options });

describe('backfill from a date', () => {
  it('queues exactly the tickets changed since then, in pages, without reading any conversation log', async () => {
    const sim = await simulator({ exportPageSize: 7 });
    const since = nowSec() - 10 * DAY;
    const expected = (await exportSince(sim, since)).map((t) => t.id);
    expect(expected.length).toBeGreaterThan(7); // more than a page
    expect(expected.length).toBeLessThan(60); // a real subset
    sim.resetRequests();

    const pages: number[] = [];
    const result = await backfill(sim, { since, onPage: (p) => pages.push(p.page.tickets) });

    expect(await queuedTicketIds(t.database.pool)).toEqual(sorted(expected));
    expect(result).toMatchObject({ seen: expected.length, queued: expected.length, deleted: 0, interrupted: false, pages: Math.ceil(expected.length / 7) });
    expect(pages.reduce((a, b) => a + b, 0)).toBe(expected.length);
    // The export, then the groups, brands and organizations lists once: no conversation log.
    expect(new Set(sim.requests.map((r) => r.kind))).toEqual(new Set(['export', 'groups', 'brands', 'organizations']));
    expect(sim.requests[0].query).toEqual({ start_time: String(since), support_type_scope: 'all', include: 'users,groups,organizations' });
    const statuses = await ticketStatuses(t.database.pool);
    expect(sorted(statuses.keys())).toEqual(sorted(expected));
    expect(new Set(statuses.values())).toEqual(new Set(['queued']));
    const saved = await savedPosition(t.database.pool);
    expect(saved?.cursor).toEqual(expect.any(String));
    expect(Date.parse(saved!.position!)).toBe(result.position!.getTime());
  });

  it('a second run without --since queues only the tickets changed after the first', async () => {
    const sim = await simulator();
    await backfill(sim, { since: nowSec() - 31 * DAY });
    expect(await queuedTicketIds(t.database.pool)).toHaveLength(60);
    await clearQueue(t.database.pool);

    const quiet = await backfill(sim);
    expect(quiet).toMatchObject({ seen: 0, queued: 0, from: 'saved position' });

    sim.markChanged(3);
    sim.appendEvents(41, 2);
    const result = await backfill(sim);
    expect(await queuedTicketIds(t.database.pool)).toEqual([3, 41]);
    expect(result).toMatchObject({ seen: 2, queued: 2 });
    // The export was continued from the saved cursor, not restarted from a time.
    expect(sim.requests.filter((r) => r.kind === 'export').at(-1)!.query.cursor).toEqual(expect.any(String));
  });

  it('a ticket already queued is not queued twice', async () => {
    const sim = await simulator();
    const since = nowSec() - 31 * DAY;
    await backfill(sim, { since });
    const again = await backfill(sim, { since });
    expect(again).toMatchObject({ seen: 60, queued: 0, alreadyQueued: 60 });
    expect(await queuedTicketIds(t.database.pool)).toHaveLength(60);
  });

  it('records deleted tickets as not_found without queueing them or reading their log', async () => {
    const sim = await simulator({ tickets: 20, deleted: [4, 9] });
    const result = await backfill(sim, { since: nowSec() - 31 * DAY });
    expect(result).toMatchObject({ seen: 20, queued: 18, deleted: 2 });
    const queued = await queuedTicketIds(t.database.pool);
    expect(queued).not.toContain(4);
    expect(queued).not.toContain(9);
    const statuses = await ticketStatuses(t.database.pool);
    expect(statuses.get(4)).toBe('not_found');
    expect(statuses.get(9)).toBe('not_found');
    expect(sim.requests.some((r) => r.kind === 'conversation_log')).toBe(false);

    // Deleted later: reported by the next run from the saved position.
    sim.setOptions({ deleted: [4, 9, 12] });
    const later = await backfill(sim);
    expect(later).toMatchObject({ seen: 1, queued: 0, deleted: 1 });
    expect((await ticketStatuses(t.database.pool)).get(12)).toBe('not_found');
  });

  it('an empty export still saves a position that the next run continues from', async () => {
    const sim = await simulator({ tickets: 10 });
    const result = await backfill(sim, { since: nowSec() - 3600 });
    expect(result).toMatchObject({ seen: 0, queued: 0, position: null });
    expect((await savedPosition(t.database.pool))?.cursor).toEqual(expect.any(String));
    sim.markChanged(5);
    expect(await backfill(sim)).toMatchObject({ seen: 1, queued: 1 });
  });

  it('a run from a date that finds no change keeps the position known before, as status shows it', async () => {
    const sim = await simulator({ tickets: 10 });
    const first = await backfill(sim, { since: nowSec() - 400 * DAY });
    const known = first.position!.toISOString();
    expect((await savedPosition(t.database.pool))?.position).toBe(known);

    const quiet = await backfill(sim, { since: nowSec() - 3600 });
    expect(quiet).toMatchObject({ seen: 0, position: first.position });
    expect((await backfillStatus(t.database.db, t.database.pool)).position).toBe(known);
    expect((await loadLastBackfill(t.database.db))?.position).toBe(known);
  });
});

describe('a ticket that changes while its sync is running', () => {
  // Its job cannot be queued twice: the backfill marks it, and the run queues it again as it ends
  // (that end, with a real worker, is test/queue/sync-again.test.ts).
  it('is marked to sync again, and nothing is remembered for a later backfill', async () => {
    const sim = await simulator({ tickets: 10 });
    await backfill(sim, { since: nowSec() - 31 * DAY });
    // Ticket 5's sync is running; the others are done.
    await t.database.pool.query(`update pgboss.job set state = 'completed' where name = 'ticket-sync' and singleton_key <> '5'`);
    await t.database.pool.query(`update pgboss.job set state = 'active', started_on = now() where name = 'ticket-sync' and singleton_key = '5'`);
    await t.database.pool.query(`update zendesk.ticket_sync set status = case when ticket_id = 5 then 'syncing' else 'synced' end`);
    sim.markChanged(5);
    sim.markChanged(6);

    expect(await backfill(sim)).toMatchObject({ seen: 2, queued: 1, alreadyQueued: 1 });
    const { rows } = await t.database.pool.query(`select ticket_id::int as id from zendesk.ticket_sync where sync_again_at is not null`);
    expect(rows).toEqual([{ id: 5 }]);
    const kept = await t.database.pool.query(`select key from convlog.sync_state where key like 'backfill%' order by key`);
    expect(kept.rows).toEqual([{ key: 'backfill_last_run' }]);
  });

  it("queues once the tickets an older release left for the next backfill, and forgets the list", async () => {
    const sim = await simulator({ tickets: 10 });
    await backfill(sim, { since: nowSec() - 31 * DAY });
    await t.database.pool.query(`update pgboss.job set state = 'completed' where name = 'ticket-sync'`);
    await t.database.pool.query(`insert into convlog.sync_state (key, value) values ('backfill_resync', '{"ticketIds": [3, 7]}')`);

    expect(await backfill(sim)).toMatchObject({ seen: 0, queued: 2 });
    const { rows } = await t.database.pool.query(
      `select singleton_key::int as id from pgboss.job where name = 'ticket-sync' and state = 'created' order by 1`,
    );
    expect(rows).toEqual([{ id: 3 }, { id: 7 }]);
    const left = await t.database.pool.query(`select count(*)::int as n from convlog.sync_state where key = 'backfill_resync'`);
    expect(left.rows[0].n).toBe(0);
    expect(await backfill(sim)).toMatchObject({ seen: 0, queued: 0 });
  });
});

describe('interruptions', () => {
  it('a failure on the second page keeps the first page queued and its position saved; the next run resumes there', async () => {
    const sim = await simulator({ exportPageSize: 10 });
    const since = nowSec() - 31 * DAY;
    const all = (await exportSince(sim, since)).map((t) => t.id);
    sim.resetRequests();

    const error = await backfill(sim, {
      since,
      // Zendesk starts failing once the first page is in.
      onPage: () => sim.setOptions({ failRate: 1 }),
    }).then(
      () => new Error('expected the backfill to fail'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(BackfillFailed);
    expect((error as BackfillFailed).cause).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/after 1 page.*continues from there/);
    expect(await queuedTicketIds(t.database.pool)).toEqual(sorted(all.slice(0, 10)));
    const saved = await savedPosition(t.database.pool);

    sim.setOptions({ failRate: 0 });
    sim.resetRequests();
    const resumed = await backfill(sim);
    expect(sim.requests[0].query).toEqual({ cursor: saved!.cursor, support_type_scope: 'all', include: 'users,groups,organizations' });
    expect(resumed).toMatchObject({ seen: 50, queued: 50, pages: 5 });
    expect(await queuedTicketIds(t.database.pool)).toEqual(sorted(all));
  });

  it('an abort stops after the page in flight; nothing is skipped on resume', async () => {
    const sim = await simulator({ exportPageSize: 10 });
    const since = nowSec() - 31 * DAY;
    const controller = new AbortController();
    const result = await backfill(sim, { since, signal: controller.signal, onPage: (p) => p.pages === 2 && controller.abort() });
    expect(result).toMatchObject({ interrupted: true, pages: 2, queued: 20 });
    const rest = await backfill(sim);
    expect(rest).toMatchObject({ interrupted: false, queued: 40 });
    expect(await queuedTicketIds(t.database.pool)).toHaveLength(60);
  });

  it('an abort while the lists are read after the last page is an interruption, and the next run reads them', async () => {
    const sim = await simulator();
    const controller = new AbortController();
    // The one export page is in; Zendesk then takes 10 s to answer the lists, and Ctrl-C comes first.
    const onPage = () => {
      sim.setOptions({ latency: 10_000 });
      setTimeout(() => controller.abort(), 500);
    };
    const started = Date.now();
    const stopped = await backfill(sim, { since: nowSec() - 31 * DAY, signal: controller.signal, onPage });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(stopped).toMatchObject({ interrupted: true, pages: 1, queued: 60, accountLists: null });
    expect(await loadLastBackfill(t.database.db)).toMatchObject({ outcome: 'interrupted', queued: 60 });
    expect(sim.requests.filter((r) => r.kind !== 'export')).toEqual([]);

    sim.setOptions({ latency: 0 });
    const resumed = await backfill(sim);
    expect(resumed).toMatchObject({ interrupted: false, seen: 0, accountLists: { groups: expect.any(Number), brands: expect.any(Number) } });
    expect(await loadLastBackfill(t.database.db)).toMatchObject({ outcome: 'done' });
  });

  it('stopped before the first page came back, it keeps its start: the next run without --since continues from it', async () => {
    const sim = await simulator({ exportPageSize: 25 });
    const since = nowSec() - 31 * DAY;
    const controller = new AbortController();
    controller.abort();
    const stopped = await backfill(sim, { since, signal: controller.signal });
    expect(stopped).toMatchObject({ interrupted: true, pages: 0, queued: 0 });
    expect(sim.requests).toEqual([]);

    const resumed = await backfill(sim);
    expect(sim.requests[0].query).toMatchObject({ start_time: String(since) });
    expect(resumed).toMatchObject({ interrupted: false, seen: 60, queued: 60, from: expect.stringMatching(/saved before any page came back/) });
    expect(await queuedTicketIds(t.database.pool)).toHaveLength(60);
  });

  it('a 429 from the export is waited out, not a failure', async () => {
    const sim = await simulator({ exportPageSize: 20, exportRateLimit: 2, window: 1 });
    const result = await backfill(sim, { since: nowSec() - 31 * DAY });
    expect(result).toMatchObject({ seen: 60, queued: 60, pages: 3 });
    expect(sim.requests.some((r) => r.status === 429)).toBe(true);
    expect(result.requests).toBeGreaterThan(3);
  });
});

describe('guards', () => {
  it('without --since and without a saved position: a usage error, nothing queued', async () => {
    const sim = await simulator();
    await expect(backfill(sim)).rejects.toThrow(/no saved export position yet.*--since/);
    expect(await queuedTicketIds(t.database.pool)).toEqual([]);
    expect(sim.requests).toEqual([]);
    // Bad input changes nothing: no last run is recorded either.
    expect(await loadLastBackfill(t.database.db)).toBeNull();
  });

  it('a schedule fallback (--since given at schedule time) is used only without a saved position', async () => {
    const sim = await simulator({ tickets: 10 });
    const first = await backfill(sim, { fallbackSince: nowSec() - 31 * DAY });
    expect(first).toMatchObject({ seen: 10 });
    const second = await backfill(sim, { fallbackSince: nowSec() - 31 * DAY });
    expect(second).toMatchObject({ seen: 0, from: 'saved position' });
  });

  it('one backfill at a time across processes', async () => {
    const sim = await simulator();
    const lock = await tryRunLock(t.database.pool, 'backfill');
    expect(lock).not.toBeNull();
    try {
      await expect(backfill(sim, { since: nowSec() - DAY })).rejects.toBeInstanceOf(BackfillBusy);
    } finally {
      await lock!.release();
    }
    expect(sim.requests).toEqual([]);
    await expect(backfill(sim, { since: nowSec() - DAY })).resolves.toMatchObject({ interrupted: false });
  });
});
