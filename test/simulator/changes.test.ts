import { describe, expect, it } from 'vitest';
import type { ExportTicket, Simulator } from '../../src/simulator/index.ts';
import { get, simulator, sleep } from './helpers.ts';

interface ExportBody {
  tickets: ExportTicket[];
  after_cursor: string;
  end_of_stream: boolean;
}

const monthAgo = () => Math.floor(Date.now() / 1000) - 31 * 86_400;

async function exportFrom(sim: Simulator, position: string): Promise<ExportBody> {
  const response = await get(sim, `/api/v2/incremental/tickets/cursor.json?${position}&support_type_scope=all`);
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as ExportBody;
}

/** Exports everything, then returns a function that exports what changed since. */
async function watch(sim: Simulator): Promise<() => Promise<ExportTicket[]>> {
  let cursor = (await exportFrom(sim, `start_time=${monthAgo()}`)).after_cursor;
  return async () => {
    const body = await exportFrom(sim, `cursor=${encodeURIComponent(cursor)}`);
    cursor = body.after_cursor;
    return body.tickets;
  };
}

describe('changing tickets at runtime', () => {
  it('a field update shows in the next export, with a new generated_timestamp', async () => {
    const sim = await simulator({ tickets: 10 });
    const changes = await watch(sim);
    const before = sim.ticket(3);
    // Stamped with the second of the update: between these two readings of the clock, however
    // long the export takes (within 2 s of a reading after it was not).
    const updatedFrom = Math.floor(Date.now() / 1000);
    sim.updateTicket(3, { status: 'solved', group_id: 360_000_000_002, tags: ['vip', 'refund'] });
    const updatedTo = Math.floor(Date.now() / 1000);
    const [changed, ...others] = await changes();
    expect(others).toEqual([]);
    expect(changed).toMatchObject({ id: 3, status: 'solved', group_id: 360_000_000_002, tags: ['vip', 'refund'], subject: before.subject, via: before.via });
    expect(changed.generated_timestamp).toBeGreaterThanOrEqual(updatedFrom);
    expect(changed.generated_timestamp).toBeLessThanOrEqual(updatedTo);
    expect(changed.updated_at).not.toBe(before.updated_at);
    expect({ ...sim.ticket(3), url: `${sim.url}/api/v2/tickets/3.json` }).toEqual(changed);
    expect(await changes()).toEqual([]);
  });

  it('rejects a bad update with one clear error and changes nothing', async () => {
    const sim = await simulator({ tickets: 3 });
    const changes = await watch(sim);
    const before = sim.ticket(2);
    expect(() => sim.updateTicket(2, { status: 'banana' })).toThrow(/updateTicket\(2\): status must be one of new, open, pending, hold, solved, closed/);
    expect(() => sim.updateTicket(2, { id: 7 } as never)).toThrow(/cannot change id/);
    expect(() => sim.updateTicket(4, { status: 'open' })).toThrow(/ticket 4 does not exist/);
    expect(sim.ticket(2)).toEqual(before);
    expect(await changes()).toEqual([]);
  });

  it('soft-deletes, restores and permanently deletes', async () => {
    const sim = await simulator({ tickets: 6 });
    const changes = await watch(sim);
    const original = sim.ticket(4);
    sim.deleteTicket(4);
    expect((await changes()).map((t) => [t.id, t.status])).toEqual([[4, 'deleted']]);
    expect((await get(sim, '/api/v2/tickets/4/conversation_log.json')).status).toBe(404);
    sim.restoreTicket(4);
    const [restored] = await changes();
    expect(restored).toMatchObject({ id: 4, status: original.status, subject: original.subject });
    expect((await get(sim, '/api/v2/tickets/4/conversation_log.json')).status).toBe(200);
    sim.deleteTicket(4, { permanently: true });
    expect(await changes()).toEqual([expect.objectContaining({ id: 4, status: 'deleted', subject: 'SCRUBBED', requester_id: null })]);
    expect(() => sim.restoreTicket(4)).toThrow(/permanently deleted/);
    expect(sim.options()).toMatchObject({ deleted: [], scrubbed: [4] });
  });

  it('a silent system update moves generated_timestamp but not updated_at', async () => {
    const sim = await simulator({ tickets: 4 });
    const changes = await watch(sim);
    const before = sim.ticket(2);
    await sleep(1100);
    sim.markChanged(2, { silent: true });
    const [touched] = await changes();
    expect(touched.id).toBe(2);
    expect(touched.updated_at).toBe(before.updated_at);
    expect(touched.generated_timestamp).toBeGreaterThan(before.generated_timestamp);
    sim.markChanged(2);
    const [loud] = await changes();
    expect(Date.parse(loud.updated_at) / 1000).toBe(loud.generated_timestamp);
  });

  it("clockOffset: changes, new events and each answer's Date header are on the account's clock, minutes off this machine's", async () => {
    const sim = await simulator({ tickets: 4, clockOffset: -600 });
    const changes = await watch(sim);
    const [event] = sim.appendEvents(3, 1);
    const [changed] = await changes();
    const accountSec = Date.now() / 1000 - 600;
    expect(changed.generated_timestamp).toBeGreaterThan(accountSec - 5);
    expect(changed.generated_timestamp).toBeLessThanOrEqual(accountSec);
    expect(Date.parse(event.created_at) / 1000).toBeGreaterThan(accountSec - 5);
    const date = Date.parse((await get(sim, '/api/v2/brands')).headers.get('date')!) / 1000;
    expect(date).toBeGreaterThan(accountSec - 5);
    expect(date).toBeLessThanOrEqual(accountSec);
    // The export's start_time must be a minute old by the account's clock too.
    expect((await get(sim, `/api/v2/incremental/tickets/cursor.json?start_time=${Math.floor(accountSec) - 30}`)).status).toBe(400);
  });
});
