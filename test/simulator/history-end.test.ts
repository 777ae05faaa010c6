// The option historyEnd: every generated date moves by one amount so that the histories end at
// that time instead of late 2025 (for the demo, whose example queries ask about "now"). The same
// events in the same order with the same gaps; without the option, the fixed dates stay.
import { describe, expect, it } from 'vitest';
import { naturalHistoryEndSec, type ConversationEvent, type ExportTicket, type Simulator } from '../../src/simulator/index.ts';
import { get, readAll, simulator } from './helpers.ts';

const TICKETS = 100;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** The time in an event id: its first 10 characters hold the top 50 bits, of which the 48 time bits. */
const idMillis = (id: string) => [...id.slice(0, 10)].reduce((value, char) => value * 32 + CROCKFORD.indexOf(char), 0);
const SUNCO = /^(zen:sunco:conversation_message:)([0-9a-f]{8})([0-9a-f]{16})$/;

async function exportAll(sim: Simulator, startTime: number): Promise<{ tickets: ExportTicket[]; groups: { id: number; created_at: string }[] }> {
  const response = await get(sim, `/api/v2/incremental/tickets/cursor.json?start_time=${startTime}&support_type_scope=all&include=groups,users`);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { tickets: ExportTicket[]; groups: { id: number; created_at: string }[] };
}

/** The event without the fields that hold its time. */
function timeless(event: ConversationEvent): Record<string, unknown> {
  const { created_at: _created, received_at: _received, id: _id, reference: _reference, ...rest } = event;
  return rest;
}

describe('historyEnd', () => {
  it("moves every date of every ticket's log, and the export's created_at, by one amount, ending the histories just before it", async () => {
    const end = '2026-12-01T12:00:00.000Z';
    const endSec = Date.parse(end) / 1000;
    const fixed = await simulator({ tickets: TICKETS });
    const moved = await simulator({ tickets: TICKETS, historyEnd: '2026-12-01T13:00:00+01:00' });
    expect(moved.options().historyEnd).toBe(end);
    expect(fixed.options().historyEnd).toBe('');

    // Without the option the histories are where they always were: from 2025-06-01, ending in late 2025.
    const shift = endSec - 1 - naturalHistoryEndSec(1, TICKETS);
    expect(shift).toBeGreaterThan(300 * 86_400);
    let latestCreated = -Infinity;
    let latestReceived = -Infinity;
    let events = 0;
    for (let id = 1; id <= TICKETS; id++) {
      const [before, after] = await Promise.all([readAll(fixed, id), readAll(moved, id)]);
      expect(after.events.length).toBe(before.events.length);
      expect(after.pages.length).toBe(before.pages.length);
      for (let i = 0; i < before.events.length; i++) {
        const [a, b] = [before.events[i], after.events[i]];
        events++;
        expect(a.created_at < '2026-01-01').toBe(true);
        expect(Date.parse(b.created_at) - Date.parse(a.created_at)).toBe(shift * 1000);
        expect(b.received_at === undefined).toBe(a.received_at === undefined);
        if (a.received_at !== undefined) expect(Date.parse(b.received_at!) - Date.parse(a.received_at)).toBe(shift * 1000);
        // Ids and messaging references carry the time; the rest of them is the same.
        expect(idMillis(b.id) - idMillis(a.id)).toBe(shift * 1000);
        expect(b.id.slice(10)).toBe(a.id.slice(10));
        const [sa, sb] = [SUNCO.exec(a.reference), SUNCO.exec(b.reference)];
        if (sa) {
          expect(parseInt(sb![2], 16) - parseInt(sa[2], 16)).toBe(shift);
          expect(sb![3]).toBe(sa[3]);
        } else expect(b.reference).toBe(a.reference);
        // Same content, authors, attachments, order; so also the same gaps.
        expect(timeless(b)).toEqual(timeless(a));
        latestCreated = Math.max(latestCreated, Date.parse(b.created_at) / 1000);
        latestReceived = Math.max(latestReceived, Date.parse(b.received_at ?? b.created_at) / 1000);
      }
    }
    expect(events).toBeGreaterThan(2500);
    // The latest event or ticket is created in the second before historyEnd; nothing is later.
    for (let id = 1; id <= TICKETS; id++) latestCreated = Math.max(latestCreated, Date.parse(moved.ticket(id).created_at) / 1000);
    expect(latestCreated).toBe(endSec - 1);
    expect(latestReceived).toBeLessThan(endSec);

    // The export: created_at moves with the log; updated_at and generated_timestamp lie in the 30
    // days before historyEnd (before the start, without it), never before the ticket's last event.
    const [a, b] = await Promise.all([exportAll(fixed, 0), exportAll(moved, 0)]);
    expect(b.tickets.map((t) => t.id).sort((x, y) => x - y)).toEqual(a.tickets.map((t) => t.id).sort((x, y) => x - y));
    const fixedById = new Map(a.tickets.map((t) => [t.id, t]));
    for (const t of b.tickets) {
      const before = fixedById.get(t.id)!;
      expect(Date.parse(t.created_at) - Date.parse(before.created_at)).toBe(shift * 1000);
      const log = moved.events(t.id);
      const last = log.length > 0 ? Date.parse(log[log.length - 1].created_at) / 1000 : Date.parse(t.created_at) / 1000;
      const updated = Date.parse(t.updated_at) / 1000;
      expect(updated).toBeGreaterThanOrEqual(last);
      expect(updated).toBeGreaterThan(endSec - 30 * 86_400);
      expect(t.generated_timestamp).toBeGreaterThanOrEqual(updated);
      expect(t.generated_timestamp).toBeLessThan(endSec);
      expect(Date.parse(t.created_at) / 1000).toBeLessThanOrEqual(log.length > 0 ? Date.parse(log[0].created_at) / 1000 : updated);
      expect({ ...t, created_at: 0, updated_at: 0, generated_timestamp: 0, url: 0 }).toEqual({ ...before, created_at: 0, updated_at: 0, generated_timestamp: 0, url: 0 });
    }
    // The account's records (here side-loaded groups) move by the same amount.
    expect(b.groups.length).toBeGreaterThan(0);
    for (const group of b.groups) {
      const before = a.groups.find((g) => g.id === group.id)!;
      expect(Date.parse(group.created_at) - Date.parse(before.created_at)).toBe(shift * 1000);
      expect(Date.parse(group.created_at) / 1000).toBeLessThan(endSec);
    }
  });

  it('ending now: the export still wants a start_time a minute old, finds the last day, and new events come after the history', async () => {
    // "now" is read while the simulator starts: between these two readings of the clock, however
    // long a busy machine takes to start it (a whole second early at most, without milliseconds).
    const startingFrom = Date.now();
    const sim = await simulator({ tickets: 300, historyEnd: 'now' });
    const nowSec = Math.floor(Date.now() / 1000);
    expect(Date.parse(sim.options().historyEnd as string)).toBeGreaterThan(startingFrom - 1_000);
    expect(Date.parse(sim.options().historyEnd as string) / 1000).toBeLessThanOrEqual(nowSec + 1);
    const tooRecent = await get(sim, `/api/v2/incremental/tickets/cursor.json?start_time=${nowSec - 10}`);
    expect(tooRecent.status).toBe(400);
    expect(await tooRecent.text()).toMatch(/older than 1 minute/);
    // Tickets changed in the last day: at least the one whose history ends now.
    const { tickets } = await exportAll(sim, nowSec - 86_400);
    expect(tickets.length).toBeGreaterThan(0);
    expect(tickets.every((t) => t.generated_timestamp <= nowSec + 1)).toBe(true);
    const lastDay = Array.from({ length: 300 }, (_, i) => sim.events(i + 1)).filter((log) => log.some((e) => Date.parse(e.created_at) / 1000 > nowSec - 86_400));
    expect(lastDay.length).toBeGreaterThan(0);

    // A change made now is now, after the newest generated event.
    const id = tickets[tickets.length - 1].id;
    const lastBefore = sim.events(id).at(-1)?.created_at ?? '';
    const addedFrom = Math.floor(Date.now() / 1000);
    const [added] = sim.appendEvents(id, 1);
    const addedTo = Math.floor(Date.now() / 1000);
    expect(added.created_at > lastBefore).toBe(true);
    // Its second, or the one after the last event's when that is the same (never later than now + 1).
    expect(Date.parse(added.created_at) / 1000).toBeGreaterThanOrEqual(addedFrom);
    expect(Date.parse(added.created_at) / 1000).toBeLessThanOrEqual(addedTo + 1);
    expect(sim.ticket(id).generated_timestamp).toBeGreaterThanOrEqual(addedFrom);
  });

  it('is refused unless it is a date or time from 2000 to 2037, or now; a new one at runtime regenerates the data', async () => {
    await expect(simulator({ historyEnd: 'yesterday' })).rejects.toThrow(
      'Invalid simulator options: historyEnd must be an ISO date or time (2026-12-01, 2026-12-01T08:00:00Z; UTC unless it names an offset) or now (got "yesterday")',
    );
    await expect(simulator({ historyEnd: '2026-02-30' })).rejects.toThrow(/historyEnd must be an ISO date/);
    await expect(simulator({ historyEnd: '1999-12-31' })).rejects.toThrow('historyEnd must be from 2000 to 2037');
    await expect(simulator({ historyEnd: new Date(NaN) })).rejects.toThrow(/historyEnd must be an ISO date .*an invalid Date/);
    const sim = await simulator({ tickets: 5, historyEnd: new Date('2026-03-01T00:00:00Z') });
    expect(sim.options().historyEnd).toBe('2026-03-01T00:00:00.000Z');
    // Ticket 2 has no events: its creation counts as part of the history.
    const latest = () => Math.max(...[1, 2, 3, 4, 5].flatMap((id) => [sim.ticket(id).created_at, ...sim.events(id).map((e) => e.created_at)].map(Date.parse)));
    expect(latest()).toBe(Date.parse('2026-02-28T23:59:59Z'));
    sim.setOptions({ historyEnd: '2026-04-01' });
    expect(latest()).toBe(Date.parse('2026-03-31T23:59:59Z'));
    sim.setOptions({ historyEnd: '' });
    expect(latest()).toBeLessThan(Date.parse('2026-01-01'));
  });
});
