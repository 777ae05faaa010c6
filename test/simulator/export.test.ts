import { describe, expect, it } from 'vitest';
import { get, simulator } from './helpers.ts';
import type { Simulator } from '../../src/simulator/index.ts';

interface ExportBody {
  tickets: { id: number; updated_at: string; generated_timestamp: number; status: string; subject: string }[];
  after_cursor: string | null;
  after_url: string | null;
  before_cursor: string | null;
  before_url: string | null;
  end_of_stream: boolean;
}

const path = (query: string) => `/api/v2/incremental/tickets/cursor.json?${query}`;
const hourAgo = () => Math.floor(Date.now() / 1000) - 3600;
const monthAgo = () => Math.floor(Date.now() / 1000) - 31 * 86_400;

async function page(sim: Simulator, query: string): Promise<ExportBody> {
  const response = await get(sim, path(query));
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as ExportBody;
}

async function drain(sim: Simulator, first: string): Promise<{ tickets: ExportBody['tickets']; pages: ExportBody[] }> {
  const pages = [await page(sim, first)];
  while (!pages[pages.length - 1].end_of_stream) pages.push(await page(sim, pages[pages.length - 1].after_url!.split('?')[1]));
  return { tickets: pages.flatMap((p) => p.tickets), pages };
}

describe('incremental ticket export', () => {
  it.each([
    ['', /start_time/],
    ['start_time=abc', /start_time/],
    [`start_time=${Math.floor(Date.now() / 1000) - 10}`, /older than 1 minute/],
    ['cursor=nonsense', /cursor/],
    [`start_time=${Math.floor(Date.now() / 1000) - 3600}&per_page=0`, /per_page/],
  ])('rejects "%s" with 400 InvalidValue', async (query, description) => {
    const sim = await simulator();
    const response = await get(sim, path(query));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; description: string };
    expect(body.error).toBe('InvalidValue');
    expect(body.description).toMatch(description);
  });

  it('pages through every ticket by (generated_timestamp, id), ending with end_of_stream', async () => {
    const sim = await simulator({ tickets: 20 });
    const { tickets, pages } = await drain(sim, `start_time=${monthAgo()}&per_page=7&support_type_scope=all`);
    expect(pages.map((p) => p.tickets.length)).toEqual([7, 7, 6]);
    expect(pages.map((p) => p.end_of_stream)).toEqual([false, false, true]);
    expect(tickets.map((t) => t.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const keys = tickets.map((t) => [t.generated_timestamp, t.id]);
    expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    const now = Date.now() / 1000;
    for (const t of tickets) {
      expect(t.generated_timestamp).toBeGreaterThan(now - 31 * 86_400);
      expect(t.generated_timestamp).toBeLessThan(now);
      expect(Date.parse(t.updated_at) / 1000).toBeLessThanOrEqual(t.generated_timestamp);
    }
    expect(pages[2].after_cursor).toMatch(/\+.*\//);
  });

  it('start_time filters on generated_timestamp', async () => {
    const sim = await simulator({ tickets: 50 });
    const all = (await drain(sim, `start_time=${monthAgo()}&support_type_scope=all`)).tickets;
    const middle = all[25].generated_timestamp;
    const recent = (await drain(sim, `start_time=${middle}&support_type_scope=all`)).tickets;
    expect(recent.map((t) => t.id)).toEqual(all.filter((t) => t.generated_timestamp >= middle).map((t) => t.id));
  });

  it('resuming from the final after_cursor returns only tickets changed since', async () => {
    const sim = await simulator({ tickets: 20, ticketSizes: { 9: 5 } });
    const { pages } = await drain(sim, `start_time=${monthAgo()}&per_page=50&support_type_scope=all`);
    const saved = pages[pages.length - 1].after_cursor!;
    const quiet = await page(sim, `cursor=${encodeURIComponent(saved)}&support_type_scope=all`);
    expect(quiet.tickets).toEqual([]);
    expect(quiet.end_of_stream).toBe(true);
    expect(quiet.after_cursor).toEqual(expect.any(String));

    // The changes are stamped with the second they are made in: between these two readings of
    // the clock, however long the machine takes (within 2 s of a later reading was not).
    const changedFrom = Math.floor(Date.now() / 1000);
    sim.markChanged(14);
    sim.appendEvents(9, 2);
    sim.editEvent(3, sim.events(3)[0].reference, (e) => {
      e.attachments = [];
    });
    sim.setOptions({ deleted: [6] });
    const changed = await page(sim, `cursor=${encodeURIComponent(saved)}&support_type_scope=all`);
    expect(changed.tickets.map((t) => t.id).sort((a, b) => a - b)).toEqual([3, 6, 9, 14]);
    expect(changed.tickets.find((t) => t.id === 6)!.status).toBe('deleted');
    const changedTo = Math.floor(Date.now() / 1000);
    for (const t of changed.tickets) expect(t.generated_timestamp).toBeGreaterThanOrEqual(changedFrom);
    for (const t of changed.tickets) expect(t.generated_timestamp).toBeLessThanOrEqual(changedTo);

    const after = await page(sim, `cursor=${encodeURIComponent(changed.after_cursor!)}&support_type_scope=all`);
    expect(after.tickets).toEqual([]);
  });

  it('reports tickets deleted from the start with status "deleted"', async () => {
    const sim = await simulator({ tickets: 5, deleted: [2] });
    const { tickets } = await drain(sim, `start_time=${monthAgo()}&support_type_scope=all`);
    expect(tickets.find((t) => t.id === 2)!.status).toBe('deleted');
    expect(tickets.filter((t) => t.status === 'deleted')).toHaveLength(1);
  });

  it('uses exportPageSize when per_page is absent', async () => {
    const sim = await simulator({ tickets: 12, exportPageSize: 5 });
    const first = await page(sim, `start_time=${monthAgo()}&support_type_scope=all`);
    expect(first.tickets).toHaveLength(5);
    expect(first.end_of_stream).toBe(false);
    expect(first.after_url).toBe(`${sim.url}/api/v2/incremental/tickets/cursor.json?cursor=${encodeURIComponent(first.after_cursor!)}&support_type_scope=all`);
    expect((await page(sim, `start_time=${hourAgo()}`)).tickets).toEqual([]);
  });

  it('requires authentication', async () => {
    const sim = await simulator();
    const response = await get(sim, path(`start_time=${monthAgo()}`), {});
    expect(response.status).toBe(401);
    expect(sim.requests[0].kind).toBe('export');
  });
});
