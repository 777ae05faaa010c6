// The README's ticket-context example queries return the rows the simulator's own data says they
// should (test/analyst/readme.test.ts only checks that every query returns some rows).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncedDataset, type Dataset } from '../analyst/dataset.ts';
import { readmeQuery } from '../helpers/docs.ts';
import { simList, simShowMany, type SimTicket } from './helpers.ts';

let data: Dataset;
let served: SimTicket[];
let groupName: (t: SimTicket) => string;
let brandName: (t: SimTicket) => string;

beforeAll(async () => {
  data = await syncedDataset();
  served = await simShowMany(data.sim, Array.from({ length: 43 }, (_, i) => i + 1));
  const groups = new Map((await simList(data.sim, 'groups')).map((g) => [g.id, g.name]));
  const brands = new Map((await simList(data.sim, 'brands')).map((b) => [b.id, b.name]));
  groupName = (t) => (t.group_id == null ? '(no group)' : (groups.get(t.group_id) ?? `group ${t.group_id}`));
  brandName = (t) => (t.brand_id == null ? '(no brand)' : (brands.get(t.brand_id) ?? `brand ${t.brand_id}`));
}, 120_000);
afterAll(async () => {
  await data?.close();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await data.database.pool.query(sql)).rows;
}

const byKey = (list: Record<string, unknown>[], key: string) => [...list].sort((a, b) => String(a[key]).localeCompare(String(b[key])));

describe('README ticket-context queries', () => {
  it('first reply time by group counts the solved tickets created in the last month, per group', async () => {
    const newest = Math.max(...served.map((t) => Date.parse(t.created_at!)));
    const month = new Date(newest);
    const start = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - 1, 1);
    const end = Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1);
    const expected = new Map<string, number>();
    for (const t of served) {
      const created = Date.parse(t.created_at!);
      if (['solved', 'closed'].includes(t.status) && created >= start && created < end) expected.set(groupName(t), (expected.get(groupName(t)) ?? 0) + 1);
    }
    expect(expected.size).toBeGreaterThan(0);
    const got = (await rows(readmeQuery('last_month'))).map((r) => ({ group: r.group, solved_tickets: Number(r.solved_tickets) }));
    expect(byKey(got, 'group')).toEqual(byKey([...expected].map(([group, n]) => ({ group, solved_tickets: n })), 'group'));
  });

  it('messaging and e-mail volume by brand matches the tickets the simulator serves', async () => {
    const expected = new Map<string, { brand: string; messaging: number; email: number; tickets: number }>();
    for (const t of served.filter((t) => t.status !== 'deleted')) {
      const row = expected.get(brandName(t)) ?? { brand: brandName(t), messaging: 0, email: 0, tickets: 0 };
      if (t.from_messaging_channel) row.messaging++;
      if (t.via?.channel === 'email') row.email++;
      row.tickets++;
      expected.set(row.brand, row);
    }
    expect(expected.size).toBeGreaterThan(1);
    const got = (await rows(readmeQuery("via_channel = 'email'"))).map((r) => ({ brand: r.brand, messaging: Number(r.messaging), email: Number(r.email), tickets: Number(r.tickets) }));
    expect(byKey(got, 'brand')).toEqual(byKey([...expected.values()], 'brand'));
  });

  it('open tickets whose customer is waiting are new or open tickets of the group named', async () => {
    const got = await rows(readmeQuery("coalesce(ticket_status, 'open') IN ('new', 'open')"));
    expect(got.length).toBeGreaterThan(0);
    const byId = new Map(served.map((t) => [t.id, t]));
    for (const row of got) {
      const tickets = (row.tickets as string[]).map(Number);
      expect(Number(row.customers_waiting)).toBe(tickets.length);
      for (const id of tickets) {
        const t = byId.get(id)!;
        expect(['new', 'open'], `ticket ${id}`).toContain(t.status);
        expect(groupName(t), `ticket ${id}`).toBe(row.group);
      }
    }
  });
});
