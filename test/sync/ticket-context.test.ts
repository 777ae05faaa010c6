// Tickets read by id and the account lists, end to end: a local server answering like Zendesk,
// real Postgres, and the account-wide budget's own row in convlog.rate_budgets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { readAccountLists, readChangedTickets, readMissingTickets, type TicketContextDeps } from '../../src/sync/ticket-context.ts';
import { budgetFor } from '../../src/db/budgets.ts';
import { contextIds, loadAccountListsRead, rememberGoneBrands, saveAccountListsRead } from '../../src/db/sync-state.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { clientFor } from '../zendesk/helpers.ts';
import { exportedTicket, listedBrand, sideLoadedGroup, sideLoadedOrganization, sideLoadedUser, VIA_SHAPES } from './tickets.ts';

let server: http.Server;
let baseUrl: string;
const seen: URL[] = [];
/** What the brands list answers with (Zendesk may refuse it to these credentials). */
let brandsStatus = 200;
/** The Date header of the brands list's first answer (Zendesk's clock): null for none, undefined for Node's own. */
let brandsDate: string | null | undefined;
/** Tickets the server knows; others are left out of show_many answers, as Zendesk does. */
const known = new Map<number, Record<string, unknown>>();
/** Runs before show_many answers: what happens in Zendesk while the answer is on its way. */
let beforeShowMany: (() => Promise<void>) | undefined;

const database = useTestDatabase();
beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    seen.push(url);
    let body: unknown;
    if (url.pathname === '/api/v2/tickets/show_many.json') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').map(Number);
      const answer = ids.flatMap((id) => known.get(id) ?? []);
      await beforeShowMany?.();
      body = { tickets: answer, users: [sideLoadedUser(501)], groups: [sideLoadedGroup(801)], organizations: [sideLoadedOrganization(701)] };
    } else if (url.pathname === '/api/v2/brands' && brandsStatus !== 200) {
      res.writeHead(brandsStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Forbidden', description: 'You do not have access to this page.' }));
      return;
    } else if (url.pathname === '/api/v2/brands') {
      const first = url.searchParams.get('page[after]') === null;
      if (first && brandsDate === null) res.sendDate = false;
      else if (first && typeof brandsDate === 'string') res.setHeader('date', brandsDate);
      body = { brands: [listedBrand(first ? 901 : 902)], meta: { has_more: first, after_cursor: first ? 'b2' : null } };
    } else if (url.pathname === '/api/v2/groups') {
      body = { groups: [sideLoadedGroup(801), sideLoadedGroup(802, { deleted: true })], meta: { has_more: false } };
    } else {
      body = { organizations: [sideLoadedOrganization(701)], meta: { has_more: false } };
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-rate-limit': '700', 'x-rate-limit-remaining': '600' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(async () => {
  seen.length = 0;
  known.clear();
  brandsStatus = 200;
  brandsDate = undefined;
  beforeShowMany = undefined;
  await database.pool.query('truncate zendesk.tickets, zendesk.groups, zendesk.brands, zendesk.organizations, zendesk.authors, zendesk.ticket_sync cascade');
  await database.pool.query(`delete from convlog.rate_budgets where name = 'account'`);
});

const deps = (): TicketContextDeps => ({
  db: database.db,
  http: clientFor(baseUrl),
  budget: budgetFor('account', database.pool, 100, silentLogger),
  log: silentLogger,
});

describe('readMissingTickets', () => {
  it('reads a ticket whose only row records its deletion (kept under keep): restored, it gets its current row', async () => {
    // Under keep, a 404 leaves the row marked deleted; the ticket's next finished sync removes that
    // row once the ticket is back. Counted as a row, it kept the restored ticket from being read,
    // and a sync by id left it with none: no status, subject or group in ticket_conversations.
    await database.pool.query(`insert into zendesk.tickets (id, status, deleted, raw) values (5, 'deleted', true, '{}'), (6, 'open', false, '{}')`);
    known.set(5, exportedTicket({ id: 5, status: 'open', generated_timestamp: undefined }));
    known.set(6, exportedTicket({ id: 6, status: 'solved', generated_timestamp: undefined }));

    const result = await readMissingTickets(deps(), [5, 6]);

    expect(seen.find((u) => u.pathname.endsWith('show_many.json'))?.searchParams.get('ids')).toBe('5');
    expect(result.stored).toBe(1);
    const { rows } = await database.pool.query('select id::int, status, deleted from zendesk.tickets order by id');
    expect(rows).toEqual([{ id: 5, status: 'open', deleted: false }, { id: 6, status: 'open', deleted: false }]);
  });

  it('reads only tickets without a row, stores them with their context, and spends the account budget', async () => {
    for (const id of [1, 2, 3]) known.set(id, exportedTicket({ id, via: VIA_SHAPES.whatsapp, generated_timestamp: undefined }));
    await database.pool.query(`insert into zendesk.tickets (id, status, deleted, raw) values (1, 'open', false, '{}')`);

    const result = await readMissingTickets(deps(), [1, 2, 3, 3, 4]);

    // show_many once; its tickets name brand 901, which has no row: the brands list (two pages).
    expect(seen.map((url) => `${url.pathname} ${url.searchParams.get('ids') ?? url.searchParams.get('page[after]')}`)).toEqual([
      '/api/v2/tickets/show_many.json 2,3,4',
      '/api/v2/brands null',
      '/api/v2/brands b2',
    ]);
    expect(result).toEqual({ stored: 2, missing: [4], brands: 2, requests: 3 });
    const { rows } = await database.pool.query(
      `select t.id, t.via_channel, g.name as group_name, r.display_name as requester, b.name as brand_name
         from zendesk.tickets t left join zendesk.groups g on g.id = t.group_id
         left join zendesk.authors r on r.author_key = 'support:' || t.requester_id
         left join zendesk.brands b on b.id = t.brand_id order by t.id`,
    );
    expect(rows).toEqual([
      { id: '1', via_channel: null, group_name: null, requester: null, brand_name: null },
      { id: '2', via_channel: 'whatsapp', group_name: 'Group 801', requester: 'User 501', brand_name: 'Brand 901' },
      { id: '3', via_channel: 'whatsapp', group_name: 'Group 801', requester: 'User 501', brand_name: 'Brand 901' },
    ]);
    const budget = await database.pool.query(`select total_taken from convlog.rate_budgets where name = 'account'`);
    expect(budget.rows).toEqual([{ total_taken: '3' }]);
  });

  it('reads the brands list only when a stored ticket names a brand without a row', async () => {
    known.set(5, exportedTicket({ id: 5, brand_id: 901 }));
    known.set(6, exportedTicket({ id: 6, brand_id: null }));
    await database.pool.query(`insert into zendesk.brands (id, name, raw) values (901, 'Brand 901', '{}')`);

    expect(await readMissingTickets(deps(), [5, 6])).toEqual({ stored: 2, missing: [], brands: 0, requests: 1 });
    expect(seen.map((url) => url.pathname)).toEqual(['/api/v2/tickets/show_many.json']);
  });

  it('reads the brands list for a brand a ticket names once: missing from it, the brand is remembered gone', async () => {
    // Brand 999 was deleted in Zendesk; the ticket still names it. Each `sync` of the ticket read
    // the whole brands list again for it.
    known.set(9, exportedTicket({ id: 9, brand_id: 999 }));
    await database.pool.query(`delete from convlog.sync_state where key = 'account_lists'`);
    const brandRequests = () => seen.filter((url) => url.pathname === '/api/v2/brands').length;

    expect(await readChangedTickets(deps(), [9], { brandsList: true })).toMatchObject({ stored: 1, brands: 2 });
    expect(brandRequests()).toBe(2);
    const { rows } = await database.pool.query(`select value from convlog.sync_state where key = 'account_lists'`);
    expect(rows).toEqual([{ value: { readAt: null, zendeskReadAt: null, gone: { groups: [], brands: [999], organizations: [] } } }]);

    // The ticket changes (a new comment, say) and is synced again: read by id, stored, no list.
    known.set(9, exportedTicket({ id: 9, brand_id: 999, updated_at: '2026-10-03T09:30:00Z', generated_timestamp: 1_790_100_000 }));
    expect(await readChangedTickets(deps(), [9], { brandsList: true })).toMatchObject({ stored: 1, brands: 0 });
    expect(brandRequests()).toBe(2);

    // A backfill's record of the lists (which knew only brand 7 gone) keeps its read time and other
    // kinds; the brands found gone join its own.
    await database.pool.query(
      `update convlog.sync_state set value = '{"readAt": "2026-12-01T00:00:00.000Z", "zendeskReadAt": "2026-11-30T23:58:00.000Z", "gone": {"groups": [5], "brands": [7]}}' where key = 'account_lists'`,
    );
    known.set(10, exportedTicket({ id: 10, brand_id: 998 }));
    expect(await readChangedTickets(deps(), [9, 10], { brandsList: true })).toMatchObject({ stored: 1 });
    expect(brandRequests()).toBe(4);
    const after = await database.pool.query(`select value from convlog.sync_state where key = 'account_lists'`);
    const [{ value }] = after.rows;
    expect({ ...value, gone: { ...value.gone, brands: value.gone.brands.sort((a: number, b: number) => a - b) } }).toEqual({ readAt: '2026-12-01T00:00:00.000Z', zendeskReadAt: '2026-11-30T23:58:00.000Z', gone: { groups: [5], brands: [7, 998, 999], organizations: [] } });
  });

  it("keeps the brands a read by id remembered gone when a backfill saves the copy it loaded before", async () => {
    await database.pool.query(`delete from convlog.sync_state where key = 'account_lists'`);
    await saveAccountListsRead(database.db, { readAt: '2026-12-01T00:00:00.000Z', zendeskReadAt: null, gone: contextIds((kind) => (kind === 'groups' ? [5] : [])) });
    const loadedByBackfill = await loadAccountListsRead(database.db);
    await rememberGoneBrands(database.db, [999]);
    await saveAccountListsRead(database.db, { readAt: '2026-12-02T00:00:00.000Z', zendeskReadAt: '2026-12-01T23:59:58.000Z', gone: contextIds((kind) => [...loadedByBackfill.gone[kind], ...(kind === 'brands' ? [7] : [])]) });
    expect(await loadAccountListsRead(database.db)).toEqual({ readAt: '2026-12-02T00:00:00.000Z', zendeskReadAt: '2026-12-01T23:59:58.000Z', gone: { groups: [5], brands: [999, 7], organizations: [] } });
  });

  it('keeps the tickets it stored when the brands list is refused, and says so', async () => {
    known.set(8, exportedTicket({ id: 8, brand_id: 901 }));
    brandsStatus = 403;
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });

    expect(await readMissingTickets({ ...deps(), log }, [8])).toEqual({ stored: 1, missing: [], brands: 0, requests: 1 });
    expect(seen.map((url) => url.pathname)).toEqual(['/api/v2/tickets/show_many.json', '/api/v2/brands']);
    expect((await database.pool.query('select id::int from zendesk.tickets')).rows).toEqual([{ id: 8 }]);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([expect.stringMatching(/^could not read the brands list/)]);
  });

  it('keeps no row of a ticket deleted while show_many was answering', async () => {
    known.set(101, exportedTicket({ generated_timestamp: undefined }));
    known.set(102, exportedTicket({ id: 102, generated_timestamp: undefined }));
    await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (101, 'synced'), (102, 'synced')`);
    // The ticket is in the answer, but its deletion is recorded (a 404 on its log) before the answer is stored.
    beforeShowMany = async () => {
      await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
    };

    const result = await readMissingTickets(deps(), [101, 102]);
    expect(result.stored).toBe(1);
    const { rows } = await database.pool.query('select id from zendesk.tickets order by id');
    expect(rows).toEqual([{ id: '102' }]);
    // Its requester is also ticket 102's, so stays.
    expect((await database.pool.query('select author_key from zendesk.authors')).rows).toEqual([{ author_key: 'support:501' }]);

    // Read again now, after the tombstone (restored in Zendesk, say): stored.
    beforeShowMany = undefined;
    expect((await readMissingTickets(deps(), [101])).stored).toBe(1);
  });

  it('brings back no person of a ticket deleted while show_many was answering', async () => {
    known.set(101, exportedTicket({ generated_timestamp: undefined }));
    await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (101, 'synced')`);
    await readChangedTickets(deps(), [101], { brandsList: false });
    const authors = async () => (await database.pool.query<{ author_key: string }>('select author_key from zendesk.authors order by 1')).rows.map((r) => r.author_key);
    expect(await authors()).toEqual(['support:501']);

    // The purge removes the requester nothing else names; the answer side-loads them again.
    beforeShowMany = async () => {
      await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
    };
    await readChangedTickets(deps(), [101], { brandsList: false });
    expect(await authors()).toEqual([]);
    expect((await database.pool.query('select id from zendesk.tickets')).rows).toEqual([]);
  });

  it('stores no deleted state a read by id returns: the 404 of the sync it is made for removes the rows', async () => {
    // Stored, it marked the row and the tombstone and removed nothing: the ticket left
    // ticket_conversations while its events still counted in every other view.
    await database.pool.query(`insert into zendesk.tickets (id, status, deleted, raw) values (7, 'open', false, '{}')`);
    await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (7, 'synced')`);
    known.set(7, exportedTicket({ id: 7, status: 'deleted', generated_timestamp: undefined, updated_at: '2030-01-01T00:00:00Z' }));
    known.set(8, exportedTicket({ id: 8, status: 'deleted', generated_timestamp: undefined }));

    const result = await readChangedTickets(deps(), [7, 8], { brandsList: false });

    expect(result.stored).toBe(0);
    expect((await database.pool.query('select id::int, status, deleted from zendesk.tickets order by id')).rows).toEqual([{ id: 7, status: 'open', deleted: false }]);
    expect((await database.pool.query('select ticket_id::int, status, deleted_at from zendesk.ticket_sync order by 1')).rows).toEqual([{ ticket_id: 7, status: 'synced', deleted_at: null }]);
    // Nor does it bring back a person only the deleted ticket names.
    expect((await database.pool.query('select author_key from zendesk.authors')).rows).toEqual([]);
  });

  it('sends nothing when every ticket has its row', async () => {
    await database.pool.query(`insert into zendesk.tickets (id, status, deleted, raw) values (7, 'open', false, '{}')`);
    expect(await readMissingTickets(deps(), [7])).toEqual({ stored: 0, missing: [], brands: 0, requests: 0 });
    expect(seen).toEqual([]);
  });
});

describe('readAccountLists', () => {
  it('stores every page of brands, groups (deleted ones too) and organizations', async () => {
    expect(await readAccountLists(deps())).toEqual({ brands: 2, groups: 2, organizations: 1, requests: 4, zendeskReadAt: expect.any(String) });
    const { rows } = await database.pool.query(
      `select (select array_agg(name order by id) from zendesk.brands) as brands,
              (select array_agg(deleted order by id) from zendesk.groups) as group_deleted,
              (select array_agg(name) from zendesk.organizations) as organizations`,
    );
    expect(rows[0]).toEqual({ brands: ['Brand 901', 'Brand 902'], group_deleted: [false, true], organizations: ['Org 701'] });
  });

  it("says when the read started by Zendesk's clock (its first answer's Date header), not this machine's", async () => {
    brandsDate = 'Tue, 01 Dec 2026 10:00:00 GMT';
    const { zendeskReadAt } = await readAccountLists(deps());
    // Less the time the answer took: no later than Zendesk read the list.
    expect(Date.parse(zendeskReadAt!)).toBeLessThanOrEqual(Date.parse('2026-12-01T10:00:00Z'));
    expect(Date.parse(zendeskReadAt!)).toBeGreaterThan(Date.parse('2026-12-01T09:59:55Z'));
  });

  it('says it does not know when the answer has no Date header', async () => {
    brandsDate = null;
    expect(await readAccountLists(deps())).toMatchObject({ brands: 2, zendeskReadAt: null });
  });
});
