// A deletion convlog already learned (a 404 meeting the ticket's sync, after a deletion webhook
// or on a schedule) is listed again by a later backfill page. Under purge the ticket row is gone,
// so the page's deleted row is new to the tickets table, but the tombstone must keep saying how
// the deletion was learned (docs/tickets.md).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 10, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});
const backfill = (since?: number) => backfillOf(f, { since });
const tomb = async (id: number) =>
  (await f.database.pool.query('select status, deleted_how, last_error from zendesk.ticket_sync where ticket_id = $1', [id])).rows[0];

it("a tombstone a 404 wrote keeps saying when and how the deletion was learned after the next backfill", async () => {
  await backfill(nowSec() - 400 * DAY);
  expect((await syncTicket(f.deps, 3)).status).toBe('synced');
  f.sim.deleteTicket(3, { permanently: true });
  f.sim.deleteTicket(4);
  await f.database.pool.query(`update zendesk.ticket_sync set permanent_deletion_reported_at = now() where ticket_id = 3`); // as serve does for a permanently_deleted webhook
  expect((await syncTicket(f.deps, 3)).status).toBe('not_found');
  expect((await syncTicket(f.deps, 4)).status).toBe('not_found');
  const before = { 3: await tomb(3), 4: await tomb(4) };
  expect(before[3]).toMatchObject({ deleted_how: '404: permanently deleted' });
  expect(before[4]).toMatchObject({ deleted_how: '404' });

  await backfill();
  expect({ 3: await tomb(3), 4: await tomb(4) }).toEqual(before);
});
