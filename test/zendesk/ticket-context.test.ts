// The account-wide reads (show_many, groups/brands/organizations lists) and the export's
// side-loads, against a tiny local server answering with Zendesk-shaped JSON.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Forbidden, InvalidResponse } from '../../src/errors/zendesk-errors.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { pageIncrementalExport } from '../../src/zendesk/incremental-export.ts';
import { listBrands, listGroups, listOrganizations, showManyTickets, type ReadOptions } from '../../src/zendesk/ticket-context.ts';
import { exportedTicket, listedBrand, sideLoadedGroup, sideLoadedOrganization, sideLoadedUser } from '../sync/tickets.ts';
import { clientFor, recordingBudget, rejection } from './helpers.ts';

type Reply = { status?: number; body: unknown; headers?: Record<string, string> };
let server: http.Server;
let baseUrl: string;
let reply: (url: URL) => Reply;
const seen: URL[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    seen.push(url);
    const { status = 200, body, headers } = reply(url);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const fast: ReadOptions = { maxAttempts: 1, retryBaseMs: 1 };

describe('showManyTickets', () => {
  it('asks for 100 ids a request with side-loads, through the budget, and reports ids Zendesk left out', async () => {
    reply = (url) => {
      const ids = (url.searchParams.get('ids') ?? '').split(',').map(Number).filter((id) => id !== 13);
      return {
        body: { tickets: ids.map((id) => exportedTicket({ id, generated_timestamp: undefined })), users: [sideLoadedUser(501)], groups: [sideLoadedGroup(801)], organizations: [] },
        headers: { 'X-Rate-Limit': '700', 'X-Rate-Limit-Remaining': '650' },
      };
    };
    const budget = recordingBudget();
    const ids = [...Array.from({ length: 250 }, (_, i) => i + 1), 5];
    const batches = await collect(showManyTickets(clientFor(baseUrl), ids, { ...fast, budget }));

    expect(seen.map((url) => [url.pathname, url.searchParams.get('ids')?.split(',').length, url.searchParams.get('include')])).toEqual([
      ['/api/v2/tickets/show_many.json', 100, 'users,groups,organizations'],
      ['/api/v2/tickets/show_many.json', 100, 'users,groups,organizations'],
      ['/api/v2/tickets/show_many.json', 50, 'users,groups,organizations'],
    ]);
    expect(batches.map((b) => b.tickets.length)).toEqual([99, 100, 50]);
    expect(batches[0].missing).toEqual([13]);
    expect(batches[0].users.map((u) => u.id)).toEqual([501]);
    expect(budget.taken).toBe(3);
    expect(budget.observed[0]).toMatchObject({ status: 200, total: 700, remaining: 650 });
  });

  it('waits out a 429 with the budget and asks again', async () => {
    let calls = 0;
    reply = () => (++calls === 1 ? { status: 429, body: { error: 'TooManyRequests' }, headers: { 'Retry-After': '0' } } : { body: { tickets: [exportedTicket({ id: 4 })] } });
    const budget = recordingBudget();
    const [batch] = await collect(showManyTickets(clientFor(baseUrl), [4], { ...fast, budget }));
    expect(batch).toMatchObject({ requests: 2, missing: [] });
    expect(budget.taken).toBe(2);
    // Retry-After: 0 still holds back a second (MIN_RETRY_AFTER_MS).
    expect(budget.observed[0]).toMatchObject({ status: 429, retryAfterMs: 1000 });
  });

  it('fails on a malformed ticket, naming it and the field', async () => {
    reply = () => ({ body: { tickets: [exportedTicket({ id: 8, brand_id: 'x' })] } });
    const error = await rejection(collect(showManyTickets(clientFor(baseUrl), [8], fast)));
    expect(error).toBeInstanceOf(InvalidResponse);
    expect(error.message).toMatch(/ticket 8: brand_id: expected a positive integer id, got "x"/);
  });

  it('refuses an id that is not a positive integer before sending anything', async () => {
    await expect(collect(showManyTickets(clientFor(baseUrl), [1, -2], fast))).rejects.toThrow(RangeError);
    expect(seen).toEqual([]);
  });
});

describe('the groups, brands and organizations lists', () => {
  it('follows page[after] while has_more, encoding the cursor, and stops on has_more false', async () => {
    reply = (url) =>
      url.searchParams.get('page[after]') === null
        ? { body: { brands: [listedBrand(901)], meta: { has_more: true, after_cursor: 'x+y/=' }, links: {} } }
        : { body: { brands: [listedBrand(902)], meta: { has_more: false, after_cursor: 'last' }, links: {} } };
    const pages = await collect(listBrands(clientFor(baseUrl), fast));
    expect(pages.flatMap((p) => p.records.map((b) => b.id))).toEqual([901, 902]);
    expect(seen.map((url) => url.pathname + url.search)).toEqual(['/api/v2/brands?page%5Bsize%5D=100', '/api/v2/brands?page%5Bsize%5D=100&page%5Bafter%5D=x%2By%2F%3D']);
  });

  it('reads groups and organizations the same way', async () => {
    reply = (url) =>
      url.pathname.endsWith('groups')
        ? { body: { groups: [sideLoadedGroup(801, { deleted: true })], meta: { has_more: false } } }
        : { body: { organizations: [sideLoadedOrganization(701)], meta: { has_more: false } } };
    expect((await collect(listGroups(clientFor(baseUrl), fast)))[0].records[0]).toMatchObject({ id: 801, deleted: true });
    expect((await collect(listOrganizations(clientFor(baseUrl), fast)))[0].records[0]).toMatchObject({ id: 701, domain_names: ['example.com'] });
  });

  it('fails rather than loop when has_more comes without a new cursor', async () => {
    reply = () => ({ body: { groups: [], meta: { has_more: true, after_cursor: null } } });
    const error = await rejection(collect(listGroups(clientFor(baseUrl), fast)));
    expect(error).toBeInstanceOf(InvalidResponse);
    expect(error.message).toMatch(/meta.has_more is true but meta.after_cursor is missing/);
  });

  it('names the list a 403 refused, without the credentials', async () => {
    reply = () => ({ status: 403, body: { error: 'Forbidden', description: 'You do not have access to this page' } });
    const error = await rejection(collect(listBrands(clientFor(baseUrl), fast)));
    expect(error).toBeInstanceOf(Forbidden);
    expect(error.message).toMatch(/does not allow reading the brands list/);
  });
});

describe('the export page', () => {
  it('asks for every ticket (AI agents included) with side-loads, and hands the side-loads on', async () => {
    reply = () => ({
      body: {
        tickets: [exportedTicket()],
        users: [sideLoadedUser(501)],
        groups: [sideLoadedGroup(801)],
        organizations: [sideLoadedOrganization(701)],
        after_cursor: 'c1',
        end_of_stream: true,
      },
    });
    const [page] = await collect(pageIncrementalExport(clientFor(baseUrl), { startTime: 100 }, fast));
    expect(seen[0].searchParams.get('support_type_scope')).toBe('all');
    expect(seen[0].searchParams.get('include')).toBe('users,groups,organizations');
    const rows = mapTicketContext(page, { cursor: page.cursorBefore });
    expect(rows.tickets.map((t) => [t.id, t.viaChannel, t.groupId])).toEqual([[101, 'email', 801]]);
    expect([rows.authors.length, rows.groups.length, rows.organizations.length]).toEqual([1, 1, 1]);
  });
});
