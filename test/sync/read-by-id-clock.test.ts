// A read by id (show_many) asked for before a ticket's tombstone stores no row for it, and one
// asked for after it does (docs/guarantees.md). Both times are Postgres's: the worker's own clock,
// used before, could be seconds off the database's that writes the tombstone. Only Date is faked
// here, to stand in for such a worker; timers stay real.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { readMissingTickets, type TicketContextDeps } from '../../src/sync/ticket-context.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { localBudget } from '../../src/zendesk/index.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { clientFor } from '../zendesk/helpers.ts';
import { exportedTicket, sideLoadedUser } from './tickets.ts';

let server: http.Server;
let baseUrl: string;
let beforeShowMany: (() => Promise<void>) | undefined;

const database = useTestDatabase();
beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (!req.url?.startsWith('/api/v2/tickets/show_many.json')) {
      res.end(JSON.stringify({ brands: [], meta: { has_more: false } }));
      return;
    }
    await beforeShowMany?.();
    res.end(JSON.stringify({ tickets: [exportedTicket({ generated_timestamp: undefined })], users: [sideLoadedUser(501)], groups: [], organizations: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('keeps no row of a ticket deleted while show_many was answering, even when the worker clock is 3 s ahead of Postgres', async () => {
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (101, 'synced')`);
  // Only Date is faked (timers stay real): this worker's clock reads 3 s ahead of the database's.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(new Date(Date.now() + 3_000));
  // While the answer is on its way, the ticket's log answers 404 and its tombstone is written.
  beforeShowMany = async () => {
    await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
  };
  const deps: TicketContextDeps = { db: database.db, http: clientFor(baseUrl), budget: localBudget(), log: silentLogger };
  await readMissingTickets(deps, [101]);
  const { rows } = await database.pool.query('select id from zendesk.tickets');
  // Asked for before the tombstone: no row may come back (it does with a clock that is not the database's).
  expect(rows).toEqual([]);
});

it('stores the row of a ticket read after its tombstone (a restored ticket), even when the worker clock is 3 s behind', async () => {
  await database.pool.query(`delete from zendesk.tickets; delete from zendesk.ticket_sync; insert into zendesk.ticket_sync (ticket_id, status) values (101, 'synced')`);
  await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
  beforeShowMany = undefined;
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(new Date(Date.now() - 3_000));
  const deps: TicketContextDeps = { db: database.db, http: clientFor(baseUrl), budget: localBudget(), log: silentLogger };
  await readMissingTickets(deps, [101]);
  expect((await database.pool.query('select id::int from zendesk.tickets')).rows).toEqual([{ id: 101 }]);
});
