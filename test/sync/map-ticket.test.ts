import { describe, expect, it } from 'vitest';
import { InvalidResponse } from '../../src/errors/zendesk-errors.ts';
import { isScrubbed, mapBrands, mapTicketContext, ticketRow } from '../../src/sync/map-ticket.ts';
import { checkRecord } from '../../src/zendesk/ticket-schemas.ts';
import { exportedTicket, listedBrand, scrubbedTicket, sideLoadedGroup, sideLoadedOrganization, sideLoadedUser, VIA_SHAPES } from './tickets.ts';

function thrown(fn: () => unknown): InvalidResponse {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidResponse);
    return error as InvalidResponse;
  }
  throw new Error('expected an InvalidResponse');
}

describe('mapTicketContext', () => {
  it('maps every column of an exported ticket and keeps the whole ticket, unknown fields included, in raw', () => {
    const ticket = exportedTicket({ brand_new_field: { kept: true } });
    const { tickets } = mapTicketContext({ tickets: [ticket] });
    expect(tickets).toEqual([
      {
        id: 101,
        subject: 'Where is my order?',
        status: 'open',
        priority: 'high',
        type: 'question',
        viaChannel: 'email',
        via: VIA_SHAPES.email,
        requesterId: 501,
        submitterId: 501,
        assigneeId: 601,
        groupId: 801,
        organizationId: 701,
        brandId: 901,
        tags: ['vip', 'shipping'],
        customFields: [{ id: 360001, value: 'order-77' }, { id: 360002, value: null }],
        satisfactionRating: { score: 'good', comment: 'Thanks!' },
        fromMessagingChannel: false,
        createdAt: new Date('2026-10-01T08:00:00Z'),
        updatedAt: new Date('2026-10-02T09:30:00Z'),
        generatedTimestamp: new Date(1_790_000_000 * 1000),
        deleted: false,
        raw: ticket,
      },
    ]);
    expect(tickets[0].raw).toHaveProperty('brand_new_field', { kept: true });
  });

  it.each(Object.entries(VIA_SHAPES))('takes via.channel of a %s ticket and keeps the rest of via', (_, via) => {
    const row = ticketRow(checkRecord('ticket', exportedTicket({ via })));
    expect(row.viaChannel).toBe(via.channel);
    expect(row.via).toEqual(via);
  });

  it('accepts a ticket without via, and a messaging ticket flagged from_messaging_channel', () => {
    const [withoutVia, messaging] = mapTicketContext({
      tickets: [exportedTicket({ id: 1, via: undefined }), exportedTicket({ id: 2, via: VIA_SHAPES.whatsapp, from_messaging_channel: true, subject: null })],
    }).tickets;
    expect(withoutVia).toMatchObject({ viaChannel: null, via: null });
    expect(messaging).toMatchObject({ viaChannel: 'whatsapp', fromMessagingChannel: true, subject: null });
  });

  it('marks a ticket in the bin (status deleted) deleted and keeps its fields', () => {
    const [row] = mapTicketContext({ tickets: [exportedTicket({ status: 'deleted' })] }).tickets;
    expect(row).toMatchObject({ status: 'deleted', deleted: true, groupId: 801, tags: ['vip', 'shipping'] });
  });

  it('maps a scrubbed, permanently deleted ticket: deleted, its blanked fields empty', () => {
    const [row] = mapTicketContext({ tickets: [scrubbedTicket(55, 1_790_000_500)] }).tickets;
    expect(row).toMatchObject({
      id: 55,
      status: 'deleted',
      deleted: true,
      viaChannel: null,
      requesterId: null,
      groupId: null,
      brandId: null,
      tags: [],
      satisfactionRating: null,
      generatedTimestamp: new Date(1_790_000_500 * 1000),
    });
  });

  it('tells an erasure (scrubbed) from the bin: only the former is removed under CONVLOG_ON_DELETE=keep', () => {
    const rows = mapTicketContext({ tickets: [scrubbedTicket(55, 1_790_000_500), exportedTicket({ id: 56, status: 'deleted' }), exportedTicket({ id: 57, subject: 'SCRUBBED' })] }).tickets;
    expect(rows.map((row) => [row.id, isScrubbed(row)])).toEqual([
      [55, true],
      [56, false],
      // A live ticket whose subject happens to read so is not deleted at all.
      [57, false],
    ]);
  });

  it('keeps the latest state of a ticket listed twice in one page', () => {
    const { tickets } = mapTicketContext({
      tickets: [exportedTicket({ status: 'solved', generated_timestamp: 300 }), exportedTicket({ status: 'open', generated_timestamp: 200 })],
    });
    expect(tickets.map((t) => t.status)).toEqual(['solved']);
  });

  it('turns side-loaded users into support authors: names for requesters and assignees', () => {
    const { authors } = mapTicketContext({
      tickets: [],
      users: [
        sideLoadedUser(501),
        sideLoadedUser(601, { role: 'admin', name: 'Agent Smith', photo: { content_url: 'https://acme.zendesk.com/photos/601.png' } }),
        sideLoadedUser(602, { role: 'agent', name: null, updated_at: null }),
      ],
    });
    const updated = new Date('2026-09-01T00:00:00Z');
    expect(authors).toEqual([
      { authorKey: 'support:501', supportUserId: 501, suncoUserId: null, type: 'user', displayName: 'User 501', avatarUrl: null, userUpdatedAt: updated },
      { authorKey: 'support:601', supportUserId: 601, suncoUserId: null, type: 'agent', displayName: 'Agent Smith', avatarUrl: 'https://acme.zendesk.com/photos/601.png', userUpdatedAt: updated },
      { authorKey: 'support:602', supportUserId: 602, suncoUserId: null, type: 'agent', displayName: null, avatarUrl: null, userUpdatedAt: null },
    ]);
  });

  it('maps side-loaded groups and organizations, and listed brands', () => {
    const group = sideLoadedGroup(801, { is_public: false });
    const organization = sideLoadedOrganization(701, { external_id: 42 });
    const { groups, organizations } = mapTicketContext({ tickets: [], groups: [group], organizations: [organization] });
    expect(groups).toEqual([
      {
        id: 801,
        name: 'Group 801',
        description: 'Second line',
        isPublic: false,
        isDefault: false,
        deleted: false,
        createdAt: new Date('2025-01-01T00:00:00Z'),
        updatedAt: new Date('2026-01-01T00:00:00Z'),
        raw: group,
      },
    ]);
    expect(organizations[0]).toMatchObject({ id: 701, name: 'Org 701', domainNames: ['example.com'], tags: ['enterprise'], groupId: 801, externalId: '42', raw: organization });
    expect(mapBrands([listedBrand(901), listedBrand(902, { active: false })])).toMatchObject([
      { id: 901, name: 'Brand 901', subdomain: 'brand901', brandUrl: 'https://brand901.zendesk.com', active: true, isDefault: true },
      { id: 902, active: false, isDefault: false },
    ]);
  });

  it('removes characters Postgres refuses from a subject instead of failing the page', () => {
    const [row] = mapTicketContext({ tickets: [exportedTicket({ subject: 'nul\u0000 here' })] }).tickets;
    expect(row.subject).toBe('nul here');
  });
});

describe('a malformed record fails the page, naming the record and the field', () => {
  it('names the ticket and the field', () => {
    const error = thrown(() =>
      mapTicketContext({ tickets: [exportedTicket({ id: 7 }), exportedTicket({ id: 17, via: { channel: { nested: true } } })] }, { cursor: 'c9' }),
    );
    expect(error.ticketId).toBe(17);
    expect(error.cursor).toBe('c9');
    expect(error.message).toMatch(/ticket 17/);
    expect(error.message).toMatch(/via\.channel: expected a string, got an object/);
  });

  it.each([
    [{ tags: ['vip', 3] }, /tags\[1\]: expected a string, got number 3/],
    [{ group_id: 'eight' }, /group_id: expected a positive integer id, got "eight"/],
    [{ updated_at: 'yesterday' }, /updated_at: expected an ISO 8601 timestamp/],
    [{ status: null }, /status: expected a status string, got null/],
    [{ custom_fields: { id: 1 } }, /custom_fields: expected an array, got an object/],
  ])('%o', (overrides, message) => {
    expect(thrown(() => mapTicketContext({ tickets: [exportedTicket(overrides)] })).message).toMatch(message);
  });

  it('names a ticket without a usable id as such', () => {
    expect(thrown(() => mapTicketContext({ tickets: [exportedTicket({ id: 'abc' })] })).message).toMatch(/a ticket without a usable id|ticket abc: id/);
  });

  it('names a bad side-loaded user, group or organization', () => {
    expect(thrown(() => mapTicketContext({ tickets: [], users: [sideLoadedUser(5, { name: 12 })] })).message).toMatch(/user 5: name: expected a string/);
    expect(thrown(() => mapTicketContext({ tickets: [], groups: [sideLoadedGroup(8, { deleted: 'no' })] })).message).toMatch(/group 8: deleted: expected true or false/);
    expect(thrown(() => mapBrands([listedBrand(9, { active: 1 })])).message).toMatch(/brand 9: active/);
  });
});
