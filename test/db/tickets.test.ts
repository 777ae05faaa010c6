// The ticket-context tables against real Postgres: which state wins, side-loads, deleted
// tickets, and an export page's rows committing with its position.
import { beforeEach, describe, expect, it } from 'vitest';
import { saveExportPage, storeTicketContext, DELETED_REASON } from '../../src/db/tickets.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { loadExportPosition } from '../../src/db/sync-state.ts';
import { mapBrands, mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { exportedTicket, listedBrand, scrubbedTicket, sideLoadedGroup, sideLoadedOrganization, sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();
beforeEach(async () => {
  await database.pool.query(
    'truncate zendesk.tickets, zendesk.groups, zendesk.brands, zendesk.organizations, zendesk.authors, zendesk.ticket_sync, convlog.sync_state cascade',
  );
});

const ticketRow = async (id: number) =>
  (await database.pool.query<Record<string, unknown>>('select * from zendesk.tickets where id = $1', [id])).rows[0];

const POSITION = { cursor: 'after-1', position: '2026-10-02T09:30:00.000Z' };

describe('saveExportPage', () => {
  it('stores the tickets, their side-loads and the position together', async () => {
    const rows = mapTicketContext({
      tickets: [exportedTicket()],
      users: [sideLoadedUser(501), sideLoadedUser(601, { role: 'agent', name: 'Agent Smith' })],
      groups: [sideLoadedGroup(801)],
      organizations: [sideLoadedOrganization(701)],
    });
    const stored = await saveExportPage(database.db, rows, POSITION);
    expect(stored).toEqual({ tickets: 1, authors: 2, groups: 1, organizations: 1, brands: 0, deleted: 0, deletedIds: [], formerPeople: [] });

    expect(await ticketRow(101)).toMatchObject({
      status: 'open',
      via_channel: 'email',
      group_id: '801',
      brand_id: '901',
      tags: ['vip', 'shipping'],
      custom_fields: [{ id: 360001, value: 'order-77' }, { id: 360002, value: null }],
      generated_timestamp: new Date(1_790_000_000 * 1000),
      deleted: false,
    });
    const { rows: names } = await database.pool.query(
      `select g.name as group_name, o.name as organization_name, o.domain_names, r.display_name as requester, a.display_name as assignee, a.type
         from zendesk.tickets t
         join zendesk.groups g on g.id = t.group_id
         join zendesk.organizations o on o.id = t.organization_id
         join zendesk.authors r on r.author_key = 'support:' || t.requester_id
         join zendesk.authors a on a.author_key = 'support:' || t.assignee_id`,
    );
    expect(names).toEqual([
      { group_name: 'Group 801', organization_name: 'Org 701', domain_names: ['example.com'], requester: 'User 501', assignee: 'Agent Smith', type: 'agent' },
    ]);
    expect(await loadExportPosition(database.db)).toMatchObject(POSITION);
  });

  it('never lets an older export overwrite a newer row, and takes a newer one', async () => {
    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ status: 'solved', generated_timestamp: 2000 })] }), POSITION);
    const older = await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ status: 'open', generated_timestamp: 1000 })] }), { ...POSITION, cursor: 'after-2' });
    expect(older.tickets).toBe(0);
    expect(await ticketRow(101)).toMatchObject({ status: 'solved', generated_timestamp: new Date(2_000_000) });
    // The position still moves: the page was handled.
    expect((await loadExportPosition(database.db))?.cursor).toBe('after-2');

    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ status: 'closed', generated_timestamp: 3000 })] }), POSITION);
    expect(await ticketRow(101)).toMatchObject({ status: 'closed', generated_timestamp: new Date(3_000_000) });
  });

  it('reading the same page again changes nothing', async () => {
    const rows = mapTicketContext({ tickets: [exportedTicket()], groups: [sideLoadedGroup(801)], users: [sideLoadedUser(501)] });
    await saveExportPage(database.db, rows, POSITION);
    const before = await ticketRow(101);
    expect(await saveExportPage(database.db, rows, POSITION)).toEqual({ tickets: 0, authors: 0, groups: 0, organizations: 0, brands: 0, deleted: 0, deletedIds: [], formerPeople: [] });
    expect(await ticketRow(101)).toEqual(before);
  });

  it('marks deleted and scrubbed tickets in tickets and as not_found in ticket_sync', async () => {
    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ id: 55, generated_timestamp: 100 })] }), POSITION);
    await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (55, 'synced')`);
    const stored = await saveExportPage(
      database.db,
      mapTicketContext({ tickets: [scrubbedTicket(55, 200), exportedTicket({ id: 56, status: 'deleted', generated_timestamp: 200 })] }),
      POSITION,
    );
    expect(stored).toMatchObject({ tickets: 2, deleted: 2 });
    expect(await ticketRow(55)).toMatchObject({ status: 'deleted', deleted: true, subject: 'SCRUBBED', group_id: null, tags: [] });
    expect(await ticketRow(56)).toMatchObject({ status: 'deleted', deleted: true, group_id: '801' });
    const { rows } = await database.pool.query('select ticket_id, status, last_error from zendesk.ticket_sync order by 1');
    expect(rows).toEqual([
      { ticket_id: '55', status: 'not_found', last_error: DELETED_REASON },
      { ticket_id: '56', status: 'not_found', last_error: DELETED_REASON },
    ]);
  });

  it('writes nothing, position included, when the statement fails', async () => {
    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ id: 1 })] }), POSITION);
    const broken = mapTicketContext({ tickets: [exportedTicket({ id: 2 })] });
    // A row the database refuses (status is required) fails the whole statement.
    (broken.tickets[0] as { status: unknown }).status = null;
    await expect(saveExportPage(database.db, broken, { ...POSITION, cursor: 'after-2' })).rejects.toThrow(/status/);
    expect(await ticketRow(2)).toBeUndefined();
    expect((await loadExportPosition(database.db))?.cursor).toBe('after-1');
  });
});

describe('storeTicketContext', () => {
  it('stores a ticket read by id, which a later export with its change time replaces', async () => {
    const byId = exportedTicket({ status: 'new', generated_timestamp: undefined, updated_at: '2026-10-02T09:30:00Z' });
    await storeTicketContext(database.db, mapTicketContext({ tickets: [byId] }));
    expect(await ticketRow(101)).toMatchObject({ status: 'new', generated_timestamp: null });

    // An export of an earlier change does not undo it; one of a later change replaces it.
    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ status: 'open', generated_timestamp: Date.parse('2026-10-01T00:00:00Z') / 1000 })] }), POSITION);
    expect(await ticketRow(101)).toMatchObject({ status: 'new' });
    await saveExportPage(database.db, mapTicketContext({ tickets: [exportedTicket({ status: 'pending', generated_timestamp: Date.parse('2026-10-02T09:30:00Z') / 1000 })] }), POSITION);
    expect(await ticketRow(101)).toMatchObject({ status: 'pending', generated_timestamp: new Date('2026-10-02T09:30:00Z') });
  });

  it('does not put back a ticket deleted while it was being read by id; a read asked for after the deletion stores it', async () => {
    const read = mapTicketContext({ tickets: [exportedTicket({ generated_timestamp: undefined })] });
    const askedAt = new Date();
    await storeTicketContext(database.db, read, { askedAt });
    await purgeTicket(database.db, 101, { how: '404', mode: 'purge' });
    expect(await ticketRow(101)).toBeUndefined();

    // A show_many asked for before the purge and answered after it.
    expect((await storeTicketContext(database.db, read, { askedAt })).tickets).toBe(0);
    expect(await ticketRow(101)).toBeUndefined();

    // Asked for after the tombstone: restored in Zendesk, or queued again after a purge command.
    const { rows } = await database.pool.query<{ deleted_at: Date }>('select deleted_at from zendesk.ticket_sync where ticket_id = 101');
    const afterTombstone = new Date(rows[0].deleted_at.getTime() + 1);
    expect((await storeTicketContext(database.db, read, { askedAt: afterTombstone })).tickets).toBe(1);
    expect(await ticketRow(101)).toMatchObject({ status: 'open', deleted: false });
  });

  it('stores brands, and replaces a group or brand only by a record not older than the stored one', async () => {
    await storeTicketContext(database.db, { brands: mapBrands([listedBrand(901)]), groups: mapTicketContext({ tickets: [], groups: [sideLoadedGroup(801)] }).groups });
    const renamed = await storeTicketContext(database.db, {
      brands: mapBrands([listedBrand(901, { name: 'Acme Renamed', updated_at: '2026-02-01T00:00:00Z' })]),
      groups: mapTicketContext({ tickets: [], groups: [sideLoadedGroup(801, { name: 'Stale', updated_at: '2025-06-01T00:00:00Z' })] }).groups,
    });
    expect(renamed).toMatchObject({ brands: 1, groups: 0 });
    const { rows } = await database.pool.query(`select (select name from zendesk.brands where id = 901) as brand, (select name from zendesk.groups where id = 801) as "group"`);
    expect(rows[0]).toEqual({ brand: 'Acme Renamed', group: 'Group 801' });
  });

  it('fills authors from users without erasing what the conversation log told', async () => {
    await database.pool.query(
      `insert into zendesk.authors (author_key, support_user_id, type, display_name, avatar_url) values ('support:501', 501, 'user', 'Ana', 'https://example.com/ana.png')`,
    );
    await storeTicketContext(database.db, mapTicketContext({ tickets: [], users: [sideLoadedUser(501, { name: 'Ana Lima' }), sideLoadedUser(502)] }));
    const { rows } = await database.pool.query('select author_key, display_name, avatar_url from zendesk.authors order by 1');
    expect(rows).toEqual([
      { author_key: 'support:501', display_name: 'Ana Lima', avatar_url: 'https://example.com/ana.png' },
      { author_key: 'support:502', display_name: 'User 502', avatar_url: null },
    ]);
  });

  it('takes a user record only when it is not older by its own updated_at than the one stored, whatever came first', async () => {
    const user = (name: string, updatedAt: string | null) => mapTicketContext({ tickets: [], users: [sideLoadedUser(501, { name, updated_at: updatedAt })] });
    const stored = async () => {
      const { rows } = await database.pool.query<{ display_name: string; at: Date }>(`select display_name, user_updated_at as at from zendesk.authors where author_key = 'support:501'`);
      return { display_name: rows[0].display_name, at: rows[0].at.toISOString() };
    };
    await storeTicketContext(database.db, user('Ana Lima', '2026-09-02T00:00:00Z'));
    // A read answered late, with the name before the change: nothing changes, by an export page either.
    expect(await storeTicketContext(database.db, user('Ana', '2026-09-01T00:00:00Z'))).toMatchObject({ authors: 0 });
    expect(await saveExportPage(database.db, user('Ana', '2026-09-01T00:00:00Z'), POSITION)).toMatchObject({ authors: 0 });
    expect(await stored()).toEqual({ display_name: 'Ana Lima', at: '2026-09-02T00:00:00.000Z' });
    // A newer record is taken, if only for its time; one without a time as before.
    expect(await storeTicketContext(database.db, user('Ana Lima', '2026-09-03T00:00:00Z'))).toMatchObject({ authors: 1 });
    expect(await stored()).toEqual({ display_name: 'Ana Lima', at: '2026-09-03T00:00:00.000Z' });
    await storeTicketContext(database.db, user('Ana L.', null));
    expect(await stored()).toEqual({ display_name: 'Ana L.', at: '2026-09-03T00:00:00.000Z' });
  });
});
