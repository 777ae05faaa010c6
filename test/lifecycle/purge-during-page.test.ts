// `convlog purge` of a ticket whose run is storing a page. The page's statement held the
// ticket's ticket_sync row while it waited for the authors it upserts; the purge took the authors
// first and then waited for ticket_sync, only to find the ticket syncing and refuse: Postgres
// found a deadlock and aborted one of the two. It now refuses before it locks anything. A third session holding one of the ticket's
// attachments keeps the page's statement between the two, as a large page takes that long.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { purge } from '../../src/commands/purge.ts';
import { loadConfig } from '../../src/config.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { commandContext } from '../helpers/cli.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture({ tickets: 6 });
  for (const id of [1, 2, 3, 4, 5, 6]) await syncTicket(f.deps, id);
});
afterAll(async () => {
  await f?.close();
});

it('is refused at once, and the page is stored, while the ticket\'s run is storing a page', async () => {
  const { rows: withFiles } = await f.database.pool.query<{ ticket_id: string; events: number }>(`
    select a.ticket_id, (select count(*)::int from zendesk.conversation_events e where e.ticket_id = a.ticket_id) as events
      from zendesk.attachments a order by a.ticket_id limit 1`);
  expect(withFiles).toHaveLength(1);
  const ticket = Number(withFiles[0].ticket_id);

  const blocker = await holdRows(f.database.pool, 'select 1 from zendesk.attachments where ticket_id = $1 order by id limit 1 for update', [ticket]);
  let run: Promise<string>;
  let outcome: Promise<string>;
  try {
    // A full read stores the ticket's first page again, its attachments with it.
    run = settled(syncTicket(f.deps, ticket, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const config = { ...loadConfig({}), databaseUrl: f.database.url };
    let done = false;
    outcome = settled(purge.run({}, [String(ticket)], commandContext({ config: () => config, out: [] }))).finally(() => (done = true));
    await sessionsWaitingForLocks(f.database.pool, 2, { done: () => done });
    // Refused before it waits for any row the page holds: it does not sit behind a long page.
    expect(done).toBe(true);
    await blocker.release();
  } finally {
    await blocker.release();
  }
  expect({ purge: await outcome, run: await run }).toEqual({
    purge:
      `nothing purged: ticket ${ticket} is queued or syncing; purge it once the sync has finished, ` +
      `or after "convlog dequeue ${ticket}" has taken it out of the queue (one a worker is syncing stays until its run ends)`,
    run: 'ok',
  });
  const { rows } = await f.database.pool.query<{ status: string; events: number }>(
    `select status, (select count(*)::int from zendesk.conversation_events where ticket_id = $1) as events from zendesk.ticket_sync where ticket_id = $1`,
    [ticket],
  );
  expect(rows).toEqual([{ status: 'synced', events: withFiles[0].events }]);
});
