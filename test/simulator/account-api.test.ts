import { describe, expect, it } from 'vitest';
import { DELETED_BRAND_ID, DELETED_GROUP_ID, type ExportTicket, type Simulator } from '../../src/simulator/index.ts';
import { get, logPath, simulator, sleep } from './helpers.ts';

interface ListBody {
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
  links: { next: string | null; prev: string | null };
  [list: string]: unknown;
}

async function json<T>(sim: Simulator, path: string): Promise<T> {
  const response = await get(sim, path);
  if (response.status !== 200) throw new Error(`GET ${path} -> ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

describe('show_many', () => {
  it('serves the tickets asked for with the export shape and side-loads, leaving out unknown and deleted ids', async () => {
    const sim = await simulator({ tickets: 30, deleted: [5], scrubbed: [6], forbidden: [7] });
    const body = await json<{ tickets: (ExportTicket & { url: string })[]; users: { id: number }[]; groups: { id: number }[]; organizations: { id: number }[]; count: number }>(
      sim,
      '/api/v2/tickets/show_many.json?ids=3,1,99,5,6,7,2,3&include=users,groups,organizations',
    );
    expect(body.tickets.map((t) => t.id)).toEqual([3, 1, 2]);
    expect(body.count).toBe(3);
    for (const t of body.tickets) expect(t).toEqual({ url: `${sim.url}/api/v2/tickets/${t.id}.json`, ...sim.ticket(t.id) });
    const people = new Set(body.tickets.flatMap((t) => [t.requester_id, t.submitter_id, t.assignee_id]).filter((id) => id !== null));
    expect(new Set(body.users.map((u) => u.id))).toEqual(people);
    // AI-agent tickets are tickets like any other here: show_many has no scope.
    const ai = Array.from({ length: 30 }, (_, i) => i + 1).find((id) => sim.isAiAgentTicket(id))!;
    expect((await json<{ tickets: { id: number }[] }>(sim, `/api/v2/tickets/show_many?ids=${ai}`)).tickets.map((t) => t.id)).toEqual([ai]);
  });

  it('serves one ticket at the url every served ticket carries; 404 for deleted, 403 for forbidden', async () => {
    const sim = await simulator({ tickets: 4, deleted: [2], forbidden: [3] });
    const { tickets } = await json<{ tickets: { id: number; url: string }[] }>(sim, '/api/v2/tickets/show_many.json?ids=1');
    const { ticket } = await json<{ ticket: object }>(sim, tickets[0].url.slice(sim.url.length));
    expect(ticket).toEqual(tickets[0]);
    expect((await get(sim, '/api/v2/tickets/2.json')).status).toBe(404);
    expect((await get(sim, '/api/v2/tickets/3.json')).status).toBe(403);
    expect((await get(sim, '/api/v2/tickets/9.json')).status).toBe(404);
    expect(sim.requests.map((r) => r.kind)).toEqual(['show_many', 'ticket', 'ticket', 'ticket', 'ticket']);
  });

  it.each([
    ['', /ids is required/],
    ['ids=1,x', /ids must be ticket ids/],
    [`ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`, /at most 100/],
    ['ids=1&include=bogus', /unknown side-load/],
  ])('rejects "%s" with 400', async (query, description) => {
    const sim = await simulator({ tickets: 3 });
    const response = await get(sim, `/api/v2/tickets/show_many.json?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'InvalidValue', description: expect.stringMatching(description) });
  });
});

describe('groups, brands and organizations', () => {
  it.each(['groups', 'brands', 'organizations'])('%s: cursor pages follow links.next until has_more is false, and back with links.prev', async (name) => {
    const sim = await simulator();
    const all = (await json<ListBody>(sim, `/api/v2/${name}.json`))[name] as { id: number; name: string }[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: { id: number }[] = [];
    let page = await json<ListBody>(sim, `/api/v2/${name}?page[size]=2`);
    const pages = [page];
    seen.push(...(page[name] as { id: number }[]));
    while (page.meta.has_more) {
      expect(page.links.next).toMatch(new RegExp(`^${sim.url}/api/v2/${name}\\.json\\?page%5Bsize%5D=2&page%5Bafter%5D=`));
      page = await json<ListBody>(sim, page.links.next!.slice(sim.url.length));
      pages.push(page);
      seen.push(...(page[name] as { id: number }[]));
    }
    expect(seen).toEqual(all);
    expect(pages.length).toBe(Math.ceil(all.length / 2));
    expect(page.links.next).toBeNull();
    expect(page.meta.after_cursor).toEqual(expect.any(String));
    if (pages.length > 1) {
      const back = await json<ListBody>(sim, page.links.prev!.slice(sim.url.length));
      expect(back[name]).toEqual(pages[pages.length - 2][name]);
    }
    const bad = await get(sim, `/api/v2/${name}?page[after]=${encodeURIComponent(pages[0].meta.before_cursor!)}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: [{ code: 'InvalidPaginationParameter', title: 'page[after] is not valid' }] });
  });

  it('lists what analysts filter by, and not the group and brand deleted since their tickets were written', async () => {
    const sim = await simulator();
    const groups = (await json<{ groups: { id: number }[] }>(sim, '/api/v2/groups')).groups;
    const brands = (await json<{ brands: { id: number }[] }>(sim, '/api/v2/brands')).brands;
    const organizations = (await json<{ organizations: object[] }>(sim, '/api/v2/organizations')).organizations;
    expect(groups.map((g) => g.id)).not.toContain(DELETED_GROUP_ID);
    expect(brands.map((b) => b.id)).not.toContain(DELETED_BRAND_ID);
    expect(groups[0]).toMatchObject({ name: 'Support', is_public: true, deleted: false, default: true });
    expect(brands[0]).toMatchObject({ name: expect.any(String), subdomain: expect.any(String), brand_url: expect.stringMatching(/^https:/), active: true });
    expect(organizations[0]).toMatchObject({ name: expect.any(String), domain_names: expect.any(Array), tags: expect.any(Array), external_id: expect.any(String) });
  });
});

describe('the account-wide rate limit', () => {
  it('is spent by show_many, the lists and users/me only, and answers 429 with Retry-After when spent', async () => {
    const sim = await simulator({ tickets: 3, rateLimit: 5, exportRateLimit: 5, accountRateLimit: 4, window: 3 });
    // Start at the beginning of a window so the requests below share one.
    await sleep(Number((await get(sim, '/api/v2/brands')).headers.get('ratelimit-reset')) * 1000 + 20);
    const remaining: string[] = [];
    for (const path of ['/api/v2/users/me.json', '/api/v2/tickets/show_many.json?ids=1', '/api/v2/groups', '/api/v2/organizations']) {
      const response = await get(sim, path);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-rate-limit')).toBe('4');
      remaining.push(response.headers.get('x-rate-limit-remaining')!);
      // The conversation log and the export have budgets of their own and leave this one alone.
      expect((await get(sim, logPath(1))).headers.get('x-rate-limit-remaining')).toBe(remaining[remaining.length - 1]);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    const limited = await get(sim, '/api/v2/tickets/show_many.json?ids=1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    expect((await get(sim, '/api/v2/users/me')).status).toBe(429);
    expect((await get(sim, `/api/v2/incremental/tickets/cursor.json?start_time=${Math.floor(Date.now() / 1000) - 3600}`)).status).toBe(200);
    await sleep(Number(limited.headers.get('retry-after')) * 1000 + 20);
    expect((await get(sim, '/api/v2/groups')).status).toBe(200);
    expect(sim.requests.filter((r) => r.status === 429).map((r) => r.kind)).toEqual(['show_many', 'users_me']);
  });

  it('accountRateLimit 0 is unlimited and sends no account headers on those endpoints', async () => {
    const sim = await simulator({ accountRateLimit: 0 });
    for (let i = 0; i < 20; i++) {
      const response = await get(sim, '/api/v2/groups');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-rate-limit')).toBeNull();
      await response.arrayBuffer();
    }
  });
});
