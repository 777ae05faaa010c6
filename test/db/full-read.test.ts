// What a full read did not see is removed with NOT IN over the seen ids. The first form,
// `<> all(array)`, compared each of a ticket's rows with the whole array: the first sync of a
// 50,000-event ticket spent over a minute in these deletes. The plan must hash the seen ids.
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { expect, it } from 'vitest';
import { removeVanished, SeenRows } from '../../src/db/full-read.ts';
import { notAmong } from '../../src/db/sql-values.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { plansOf, rowsTouched } from '../helpers/plans.ts';

const database = useTestDatabase();

const plan = async (statement: ReturnType<typeof sql>) =>
  JSON.stringify((await database.db.execute(sql`explain (format json) ${statement}`)).rows);

it('plans the vanished-rows deletes with a hash of the seen references and file ids', async () => {
  const references = Array.from({ length: 5_000 }, (_, i) => `zen:ticket_event:${i}`);
  const ids = Array.from({ length: 5_000 }, (_, i) => i + 1);
  for (const statement of [
    sql`delete from zendesk.conversation_events where ticket_id = 1 and ${notAmong(sql`reference`, references, 'text')}`,
    sql`delete from zendesk.attachments where ticket_id = 1 and ${notAmong(sql`id`, ids, 'bigint')}`,
  ]) {
    const text = await plan(statement);
    expect(text).toMatch(/hashed SubPlan/);
    expect(text).not.toMatch(/<> ALL/);
  }
});

it('keeps exactly the rows whose value is among those given, and removes all when none are', async () => {
  await database.pool.query(`create table not_among_t (v text not null)`);
  await database.pool.query(`insert into not_among_t values ('a'), ('b'), ('c')`);
  await database.db.execute(sql`delete from not_among_t where ${notAmong(sql`v`, ['a', 'c', 'zz'], 'text')}`);
  expect((await database.pool.query(`select v from not_among_t order by v`)).rows).toEqual([{ v: 'a' }, { v: 'c' }]);
  await database.db.execute(sql`delete from not_among_t where ${notAmong(sql`v`, [], 'text')}`);
  expect((await database.pool.query(`select count(*)::int as n from not_among_t`)).rows).toEqual([{ n: 0 }]);
});

it("removes what a full read did not see by reading that ticket's rows only, not the tables", async () => {
  // 300 tickets of 10 events, each event with a file and its thumbnail. Each removal must reach
  // the ticket's rows by an index on ticket_id: before migration 0018 the thumbnails had none, and
  // every full read (every first sync) scanned all of them, a cost growing with the database.
  const TICKETS = 300;
  const EVENTS = 10;
  await database.pool.query(
    `insert into zendesk.conversation_events (reference, event_id, ticket_id, type, created_at, raw)
     select 'zen:ticket_event:' || t || '_' || i, i::text, t, 'Comment', now(), '{}'::jsonb
       from generate_series(1, $1::int) t, generate_series(1, $2::int) i`,
    [TICKETS, EVENTS],
  );
  await database.pool.query(
    `insert into zendesk.attachments (id, ticket_id, event_reference)
     select t * 100 + i, t, 'zen:ticket_event:' || t || '_' || i from generate_series(1, $1::int) t, generate_series(1, $2::int) i`,
    [TICKETS, EVENTS],
  );
  await database.pool.query(
    `insert into zendesk.attachment_thumbnails (id, ticket_id, attachment_id)
     select t * 100 + i, t, t * 100 + i from generate_series(1, $1::int) t, generate_series(1, $2::int) i`,
    [TICKETS, EVENTS],
  );
  await database.pool.query('analyze zendesk.conversation_events, zendesk.attachments, zendesk.attachment_thumbnails');

  // Ticket 5's read saw all but its last event; ticket 6's all but its last file and thumbnail.
  const seen = (ticketId: number, lastEvent: boolean, lastFile: boolean) => {
    const rows = new SeenRows();
    for (let i = 1; i <= EVENTS; i++) {
      if (i < EVENTS || !lastEvent) rows.references.add(`zen:ticket_event:${ticketId}_${i}`);
      if (i < EVENTS || !lastFile) {
        rows.attachments.add(ticketId * 100 + i);
        rows.thumbnails.add(ticketId * 100 + i);
      }
    }
    return rows;
  };
  for (const [ticketId, lastEvent, lastFile] of [[5, true, false], [6, false, true]] as const) {
    let vanished;
    // Sequential scans off: a statement that still scans a table has no index to reach the ticket by.
    const plans = await plansOf(database.pool, async (client) => {
      ({ vanished } = await removeVanished(drizzle(client), ticketId, seen(ticketId, lastEvent, lastFile)));
    }, ['enable_seqscan = off']);
    expect({ ticketId, vanished }).toEqual({ ticketId, vanished: lastEvent ? { events: 1, attachments: 0, thumbnails: 0 } : { events: 0, attachments: 1, thumbnails: 1 } });
    for (const table of ['conversation_events', 'attachments', 'attachment_thumbnails']) {
      expect({ ticketId, table, touched: rowsTouched(plans, table) <= 4 * EVENTS }).toEqual({ ticketId, table, touched: true });
    }
  }
  // The rest of the tables is as it was: ticket 5's last event went with its file (cascade); ticket 6's file went.
  const { rows } = await database.pool.query(
    `select (select count(*)::int from zendesk.conversation_events) as events,
            (select count(*)::int from zendesk.attachments) as files,
            (select count(*)::int from zendesk.attachments where deleted_at is not null) as files_marked,
            (select count(*)::int from zendesk.attachment_thumbnails where deleted_at is not null) as thumbnails_marked`,
  );
  expect(rows[0]).toEqual({ events: TICKETS * EVENTS - 1, files: TICKETS * EVENTS - 2, files_marked: 0, thumbnails_marked: 0 });
});

it('every table holding rows of a ticket reaches them by an index led by ticket_id', async () => {
  // A sync's end, a full read's removals, a purge and the per-ticket upkeep all work on one
  // ticket's rows: a table without such an index is read whole by each of them.
  const { rows } = await database.pool.query<{ table: string; indexed: boolean }>(
    `select c.relname as table,
            exists (select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum) as indexed
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'zendesk'
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'ticket_id' and not a.attisdropped
      where c.relkind = 'r'
      order by 1`,
  );
  expect(rows.length).toBeGreaterThanOrEqual(9);
  expect(rows.filter((r) => !r.indexed).map((r) => r.table)).toEqual([]);
});
