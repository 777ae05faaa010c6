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

it('a deletion already recorded, read again from the export, is neither counted nor recorded again', async () => {
  // Purged, the ticket had no row to compare the page's with: each re-read stored the deleted
  // state anew, counted it ("2 deleted"), purged again and moved deleted_at.
  f.sim.deleteTicket(6);
  f.sim.deleteTicket(7, { permanently: true });
  const since = nowSec() - DAY;
  const first = await backfill(since);
  // 3 and 4, deleted by the test above, listed again: counted apart, so that the totals add up.
  expect(first).toMatchObject({ deleted: 2, deletedBefore: 2 });
  const stones = async () =>
    (await f.database.pool.query('select ticket_id, status, deleted_at, deleted_how, last_error from zendesk.ticket_sync where ticket_id in (6, 7) order by 1')).rows;
  const before = await stones();
  expect(before.map((r) => r.status)).toEqual(['not_found', 'not_found']);
  expect((await f.database.pool.query('select id from zendesk.tickets where id in (6, 7)')).rows).toEqual([]);

  const again = await backfill(since);
  expect(again).toMatchObject({ deleted: 0, deletedBefore: 4 });
  expect(await stones()).toEqual(before);
  expect((await f.database.pool.query('select id from zendesk.tickets where id in (6, 7)')).rows).toEqual([]);

  // Restored and deleted again after the tombstone: a new deletion, recorded.
  await new Promise((r) => setTimeout(r, 1_100)); // Zendesk's times are whole seconds
  f.sim.restoreTicket(6);
  f.sim.deleteTicket(6);
  const later = await backfill(since);
  expect(later.deleted).toBe(1);
});
