// A ticket the export serves scrubbed (permanently deleted) leaves nothing behind but its
// tombstone, its requester, submitter and assignee included when nothing else names them. The
// export page's statement replaces the ticket row with the scrubbed one (no people) before the
// purge asks whom the row named: the purge takes the people of the row as it was. A binned
// ticket, whose people the export keeps, is the control.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 40, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

const backfill = (since?: number) => backfillOf(f, { since });
const q = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;

/** The ticket's requester, submitter and assignee that no other stored ticket names. */
async function peopleOnlyOf(id: number): Promise<string[]> {
  const rows = await q<{ key: string }>(
    `select distinct 'support:' || p as key
       from zendesk.tickets t, unnest(array[t.requester_id, t.submitter_id, t.assignee_id]) p
      where t.id = $1 and p is not null
        and not exists (select from zendesk.tickets o where o.id <> $1 and p in (o.requester_id, o.submitter_id, o.assignee_id))
      order by 1`,
    [id],
  );
  return rows.map((r) => r.key);
}
const inAuthors = async (keys: string[]) => (await q<{ author_key: string }>('select author_key from zendesk.authors where author_key = any($1) order by 1', [keys])).map((r) => r.author_key);

it('a scrubbed ticket takes its requester out of authors, as a binned one does under purge', async () => {
  await backfill(nowSec() - 400 * DAY);
  // A messaging ticket, synced in full: its customer writes as a sunco: author, so the
  // support:<requester> row the side-load gave is named by the ticket row alone.
  const [{ id: messaging }] = await q<{ id: number }>(`select id::int from zendesk.tickets where from_messaging_channel and id % 5 not in (0, 4) order by id limit 1`);
  expect((await syncTicket(f.deps, messaging)).status).toBe('synced');
  // Two more tickets, stored by the backfill and not yet synced (their jobs wait in the queue).
  const [{ id: erased }, { id: binned }] = await q<{ id: number }>(
    `select id::int from zendesk.tickets where id <> $1 and id % 5 not in (0, 4) and requester_id is not null order by id limit 2`,
    [messaging],
  );
  const people = { messaging: await peopleOnlyOf(messaging), erased: await peopleOnlyOf(erased), binned: await peopleOnlyOf(binned) };
  for (const keys of Object.values(people)) {
    expect(keys.length).toBeGreaterThan(0);
    expect(await inAuthors(keys)).toEqual(keys);
  }

  f.sim.deleteTicket(messaging, { permanently: true });
  f.sim.deleteTicket(erased, { permanently: true });
  f.sim.deleteTicket(binned);
  await backfill();

  // All three are gone from tickets, with their tombstones.
  expect(await q('select id from zendesk.tickets where id = any($1)', [[messaging, erased, binned]])).toEqual([]);
  const how = await q<{ ticket_id: number; deleted_how: string }>('select ticket_id::int, deleted_how from zendesk.ticket_sync where ticket_id = any($1) order by 1', [[messaging, erased, binned]]);
  expect(how.map((r) => r.deleted_how).sort()).toEqual(['export', 'export: permanently deleted', 'export: permanently deleted']);

  // The binned ticket's people went with it (purge), and so must an erased ticket's.
  expect(await inAuthors(people.binned)).toEqual([]);
  expect({ messaging: await inAuthors(people.messaging), erased: await inAuthors(people.erased) }).toEqual({ messaging: [], erased: [] });
});
