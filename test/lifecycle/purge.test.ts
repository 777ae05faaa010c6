// `convlog purge` and purgeTicket: nothing of a purged ticket stays in schema zendesk but its
// tombstone, authors no other ticket names go with it, an id never stored is named and left
// without a tombstone, and a ticket being synced is refused.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { purge } from '../../src/commands/purge.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { loadConfig } from '../../src/config.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { UsageError } from '../../src/errors/convlog-errors.ts';
import { exitCodeFor } from '../../src/errors/outcome.ts';
import { commandContext } from '../helpers/cli.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 6, ticketSizes: { 1: 30, 2: 12, 3: 40, 4: 8, 5: 8, 6: 8 } }, { pageSize: 10 });
  for (const id of [1, 2, 3, 4, 5, 6]) await syncTicket(fixture.deps, id);
});
afterAll(async () => {
  await fixture?.close();
});

const query = async <T extends object>(text: string, values: unknown[] = []) => (await fixture.database.pool.query<T>(text, values)).rows;

/** Rows that name the ticket, in every table of schema zendesk with a ticket_id or event_reference column. */
async function rowsOf(ticketId: number): Promise<Record<string, number>> {
  const columns = await query<{ table_name: string; column_name: string }>(`
    select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'zendesk' and t.table_type = 'BASE TABLE' and c.column_name in ('ticket_id', 'event_reference')`);
  expect(columns.length).toBeGreaterThanOrEqual(4);
  const found: Record<string, number> = {};
  for (const { table_name, column_name } of columns) {
    const condition =
      column_name === 'ticket_id'
        ? 'ticket_id = $1'
        : 'event_reference in (select reference from zendesk.conversation_events where ticket_id = $1) or event_reference like $2';
    const values = column_name === 'ticket_id' ? [ticketId] : [ticketId, `%:${ticketId}:%`];
    const [{ n }] = await query<{ n: string }>(`select count(*) as n from zendesk."${table_name}" where ${condition}`, values);
    if (Number(n) > 0) found[`${table_name}.${column_name}`] = Number(n);
  }
  const [{ n }] = await query<{ n: string }>('select count(*) as n from zendesk.tickets where id = $1', [ticketId]);
  if (Number(n) > 0) found['tickets.id'] = Number(n);
  return found;
}

const orphanAuthors = () =>
  query(`select author_key from zendesk.authors a
          where not exists (select 1 from zendesk.conversation_events e where e.author_key = a.author_key)
            and not exists (select 1 from zendesk.tickets t where a.support_user_id in (t.requester_id, t.submitter_id, t.assignee_id))`);

function purgeContext(output: string[]): CommandContext {
  const config = { ...loadConfig({}), databaseUrl: fixture.database.url };
  return commandContext({ config: () => config, out: output });
}

it('purge leaves no row of the ticket in schema zendesk but its tombstone, and removes authors only it named', async () => {
  // The ticket's context row names a requester who wrote nothing: a person's name all the same.
  await query(`insert into zendesk.authors (author_key, support_user_id, display_name) values ('support:990001', 990001, 'Only A. Requester')`);
  await query(`insert into zendesk.tickets (id, status, deleted, raw, requester_id) values (1, 'open', false, '{}', 990001)`);
  const before = await rowsOf(1);
  expect(before['conversation_events.ticket_id']).toBe(30);
  expect(before['tickets.id']).toBe(1);
  const onlyHere = await query<{ author_key: string }>(`
    select distinct author_key from zendesk.conversation_events e where ticket_id = 1 and author_key is not null
       and not exists (select 1 from zendesk.conversation_events o where o.author_key = e.author_key and o.ticket_id <> 1)`);
  expect(onlyHere.length).toBeGreaterThan(0);
  const otherTicket = await rowsOf(2);

  const output: string[] = [];
  expect(await purge.run({}, ['1'], purgeContext(output))).toBe(0);
  expect(output.join('\n')).toMatch(/purged 1 ticket: 30 events/);

  expect(await rowsOf(1)).toEqual({ 'ticket_sync.ticket_id': 1 });
  const [tombstone] = await query('select status, deleted_how, events_synced, after_cursor from zendesk.ticket_sync where ticket_id = 1');
  expect(tombstone).toEqual({ status: 'not_found', deleted_how: 'purge command', events_synced: 0, after_cursor: null });
  const remaining = await query('select author_key from zendesk.authors where author_key = any($1)', [[...onlyHere.map((a) => a.author_key), 'support:990001']]);
  expect(remaining).toEqual([]);
  expect(await orphanAuthors()).toEqual([]);
  expect(await rowsOf(2)).toEqual(otherTicket);
  expect(await query('select 1 from zendesk.ticket_conversations where ticket_id = 1')).toEqual([]);
});

it('counts only tickets that held rows as purged, names the others, and leaves no tombstone for an id never stored', async () => {
  const sync = async (id: number) => query('select status, deleted_how from zendesk.ticket_sync where ticket_id = $1', [id]);
  const output: string[] = [];
  // 999: never stored, no ticket_sync row; 1: purged above, only its tombstone left; 4: 8 events.
  // The ids without rows are named ascending, as the refusals name them.
  expect(await purge.run({}, ['999', '4', '1'], purgeContext(output))).toBe(0);
  expect(output).toEqual([expect.stringMatching(/^purged 1 ticket: 8 events, .*; no rows stored for tickets 1, 999$/)]);
  expect(await rowsOf(4)).toEqual({ 'ticket_sync.ticket_id': 1 });
  expect(await sync(999)).toEqual([]);
  expect(await sync(1)).toEqual([{ status: 'not_found', deleted_how: 'purge command' }]);

  const alone: string[] = [];
  expect(await purge.run({}, ['998'], purgeContext(alone))).toBe(0);
  expect(alone).toEqual(['nothing purged: no rows stored for ticket 998']);
  expect(await sync(998)).toEqual([]);
});

it('leaves the tombstone of a ticket Zendesk deleted as it was when there was nothing left to purge', async () => {
  fixture.sim.deleteTicket(5);
  expect((await syncTicket(fixture.deps, 5)).status).toBe('not_found');
  const tombstone = () => query('select status, deleted_how, deleted_at, last_error from zendesk.ticket_sync where ticket_id = 5');
  const before = await tombstone();
  expect(before).toEqual([expect.objectContaining({ status: 'not_found', deleted_how: '404' })]);
  const output: string[] = [];
  expect(await purge.run({}, ['5'], purgeContext(output))).toBe(0);
  expect(output).toEqual(['nothing purged: no rows stored for ticket 5']);
  // Not "removed on request" now: nothing was, and how and when Zendesk's deletion was learned stays.
  expect(await tombstone()).toEqual(before);
});

it('under keep, purgeTicket marks the rows, keeps the authors, and no view counts the ticket', async () => {
  const authorsBefore = await query('select count(*) from zendesk.authors');
  const removed = await purgeTicket(fixture.database.db, 6, { how: '404', mode: 'keep' });
  expect(removed.events).toBe(8);
  expect(await query('select count(*) from zendesk.authors')).toEqual(authorsBefore);
  expect(await query('select 1 from zendesk.conversation_events where ticket_id = 6 and deleted_at is null')).toEqual([]);
  for (const view of ['conversation_timeline', 'ticket_conversations', 'attachments_with_context', 'agent_replies']) {
    expect(await query(`select 1 from zendesk.${view} where ticket_id = 6`), view).toEqual([]);
  }
  const [day] = await query<{ events: number }>('select sum(events)::int as events from zendesk.daily_activity');
  const [live] = await query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events where deleted_at is null');
  expect(day.events).toBe(live.n);
});

it('refuses, changing nothing, while one of the tickets is syncing; purges once it has finished', async () => {
  fixture.sim.setOptions({ latency: 300 });
  const running = syncTicket(fixture.deps, 3, { full: true });
  try {
    for (let i = 0; i < 100; i++) {
      const [row] = await query<{ status: string }>('select status from zendesk.ticket_sync where ticket_id = 3');
      if (row.status === 'syncing') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = { two: await rowsOf(2), three: await rowsOf(3) };
    const refused = await purge.run({}, ['2', '3'], purgeContext([])).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(UsageError);
    expect(exitCodeFor(refused)).toBe(2);
    expect((refused as Error).message).toMatch(/^nothing purged: ticket 3 is queued or syncing/);
    expect((refused as Error).message).not.toMatch(/\n/);
    expect(await rowsOf(2)).toEqual(before.two);
    expect((await rowsOf(3))['conversation_events.ticket_id']).toBeGreaterThanOrEqual(before.three['conversation_events.ticket_id']);
  } finally {
    fixture.sim.setOptions({ latency: 0 });
    await running;
  }
  expect(await purge.run({}, ['2', '3'], purgeContext([]))).toBe(0);
  expect(await rowsOf(2)).toEqual({ 'ticket_sync.ticket_id': 1 });
  expect(await rowsOf(3)).toEqual({ 'ticket_sync.ticket_id': 1 });
});

it('purges a range of millions of ids as fast as the tickets stored in it, naming the rest by count', async () => {
  const stored = (await query<{ id: string }>('select distinct ticket_id as id from zendesk.conversation_events order by 1')).map((r) => Number(r.id));
  expect(stored.length).toBeGreaterThan(0);
  const tombstones = await query('select ticket_id from zendesk.ticket_sync order by 1');
  const output: string[] = [];
  // Every id went into the purge's statements: ten million took minutes, with Ctrl-C waiting for them.
  expect(await purge.run({ range: '1..3000000' }, [], purgeContext(output))).toBe(0);
  const held = Number(/^purged (\d+) tickets?: /.exec(output[0])?.[1]);
  expect(held).toBe(stored.length);
  expect(output[0]).toMatch(new RegExp(`; no rows stored for tickets [\\d, ]+, … \\(${3_000_000 - held} in all\\)$`));
  expect(await query('select 1 from zendesk.conversation_events')).toEqual([]);
  // No tombstone for an id never stored.
  expect(await query('select ticket_id from zendesk.ticket_sync order by 1')).toEqual(tombstones);
});
