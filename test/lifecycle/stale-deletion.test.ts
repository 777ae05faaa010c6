// An older export page read again (`backfill --since` a past date on a database that is caught
// up) that still lists a ticket as deleted, when Zendesk restored it since: the deletion is
// stale, and the ticket keeps its rows, under purge and under keep. The stale pages come from a
// second simulator of the same seed, started earlier, in which the ticket is deleted: its
// export serves the deleted state at an older generated_timestamp than the fixture's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill, type BackfillDeps } from '../../src/queue/backfill.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const SEED = 31;
const KEPT = 1;
const RESTORED = 6;
let f: FixtureWithBoss;
let stale: Simulator;

beforeAll(async () => {
  stale = await startSimulator({ seed: SEED, tickets: 6, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0, deleted: [KEPT, RESTORED] });
  // Every ticket's generated_timestamp on the fixture's simulator is then at least a second later.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  f = await createFixtureWithBoss({ seed: SEED, tickets: 6, accountRateLimit: 0 });
});
afterAll(async () => {
  await stale?.close();
  await f?.close();
});

const deps = (sim: Simulator, onDelete: 'purge' | 'keep'): BackfillDeps => ({
  db: f.database.db,
  pool: f.database.pool,
  boss: f.boss,
  http: sim === f.sim ? f.deps.http : createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 }),
  budget: localBudget(),
  accountBudget: localBudget(),
  log: silentLogger,
  onDelete,
});
const backfill = (sim: Simulator, onDelete: 'purge' | 'keep' = 'purge') => runBackfill(deps(sim, onDelete), { since: nowSec() - 400 * DAY });

const one = async (sql: string, id: number) => (await f.database.pool.query(sql, [id])).rows[0];
const state = async (id: number) => ({
  events: (await one('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1', id)).n,
  timeline: (await one('select count(*)::int as n from zendesk.conversation_timeline where ticket_id = $1', id)).n,
  sync: await one('select status, deleted_how from zendesk.ticket_sync where ticket_id = $1', id),
  deletedRow: (await one('select count(*)::int as n from zendesk.tickets where id = $1 and deleted', id)).n,
});

it('a deleted state older than the stored ticket row removes nothing', async () => {
  await backfill(f.sim);
  await syncTicket(f.deps, KEPT);
  const before = await state(KEPT);
  expect(before.events).toBeGreaterThan(0);
  expect(before.sync).toEqual({ status: 'synced', deleted_how: null });

  const result = await backfill(stale);
  expect(result.deleted).toBe(0);
  expect(await state(KEPT)).toEqual(before);
});

it('under keep, a ticket restored and synced after the deletion (its deleted row gone) is not marked again', async () => {
  const keep = { ...f.deps, onDelete: 'keep' as const };
  await syncTicket(keep, RESTORED);
  f.sim.deleteTicket(RESTORED);
  await backfill(f.sim, 'keep');
  expect((await state(RESTORED)).sync).toEqual({ status: 'not_found', deleted_how: 'export' });
  f.sim.restoreTicket(RESTORED);
  expect((await syncTicket(keep, RESTORED)).status).toBe('synced');
  const restored = await state(RESTORED);
  expect(restored).toMatchObject({ sync: { status: 'synced', deleted_how: null }, deletedRow: 0 });
  expect(restored.events).toBeGreaterThan(0);
  expect(restored.timeline).toBe(restored.events);

  // The stale page's deleted state is a month old; the restored ticket's log was served since.
  const result = await backfill(stale, 'keep');
  expect(result.deleted).toBe(0);
  expect(await state(RESTORED)).toEqual(restored);
  expect((await one('select count(*)::int as n from zendesk.ticket_conversations where ticket_id = $1', RESTORED)).n).toBe(1);
});
