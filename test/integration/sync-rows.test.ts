// Everything the simulator serves is stored exactly once, as served: tickets of every size and
// the default mix with its oddities, synced through the real queue and workers.
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Expected, expectedCounts, expectedRows } from '../helpers/oracle.ts';
import { createFixtureWithBoss, logRequests, range, rowCounts, storedRows, syncViaQueue, type FixtureWithBoss, type Stored } from '../helpers/sync-fixture.ts';

/** Every difference between what should be stored and what is, as readable lines. */
function differences(expected: Expected, stored: Stored): string[] {
  const out: string[] = [];
  for (const [reference, want] of expected.events) {
    const got = stored.events.get(reference);
    if (!got) out.push(`event ${reference} missing`);
    else if (got.ticketId !== want.ticketId) out.push(`event ${reference} has ticket ${got.ticketId}, want ${want.ticketId}`);
    else if (!isDeepStrictEqual(got.raw, want.raw)) out.push(`event ${reference}: raw differs from what the simulator served`);
  }
  for (const reference of stored.events.keys()) if (!expected.events.has(reference)) out.push(`event ${reference} was never served`);
  for (const key of expected.authors) if (!stored.authors.has(key)) out.push(`author ${key} missing`);
  for (const key of stored.authors) if (!expected.authors.has(key)) out.push(`author ${key} unexpected`);
  for (const kind of ['attachments', 'thumbnails'] as const) {
    for (const [id, want] of expected[kind]) {
      const got = stored[kind].get(id);
      if (!isDeepStrictEqual(got, want)) out.push(`${kind} ${id}: stored ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    for (const id of stored[kind].keys()) if (!expected[kind].has(id)) out.push(`${kind} ${id} unexpected`);
  }
  return out;
}

describe('tickets of 0, 1, 100, 101 and 2,500 events', { timeout: 90_000 }, () => {
  const sizes: Record<number, number> = { 1: 0, 2: 1, 3: 100, 4: 101, 5: 2500 };
  let fixture: FixtureWithBoss;

  beforeAll(async () => {
    fixture = await createFixtureWithBoss({ tickets: 5, ticketSizes: sizes }, { pageSize: 100 });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('stores every event, author, attachment and thumbnail once, raw as served, with the fewest requests', async () => {
    const { code, output } = await syncViaQueue(fixture, range(1, 5), { concurrency: 3 });
    expect(code).toBe(0);
    expect(output[0]).toMatch(/^synced 5, not_found 0, forbidden 0, failed 0 \| 2,702 events read with 30 requests$/);

    const expected = expectedRows(fixture.sim, range(1, 5));
    expect(expected.events.size).toBe(2702);
    expect(expected.attachments.size).toBeGreaterThan(50);
    expect(expected.thumbnails.size).toBeGreaterThan(10);
    expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expected));
    expect(differences(expected, await storedRows(fixture.database))).toEqual([]);

    for (const [id, size] of Object.entries(sizes)) {
      const ticketId = Number(id);
      // 100 per page; an empty ticket still costs its one request.
      expect(logRequests(fixture.sim, ticketId), `ticket ${id}`).toHaveLength(Math.max(1, Math.ceil(size / 100)));
    }
    const { rows } = await fixture.database.pool.query(
      'select ticket_id::int as id, status, events_synced, pages_synced, events_last_run, requests_last_run, last_error from zendesk.ticket_sync order by ticket_id',
    );
    expect(rows).toEqual(
      Object.entries(sizes).map(([id, size]) => ({
        id: Number(id),
        status: 'synced',
        events_synced: size,
        pages_synced: Math.max(1, Math.ceil(size / 100)),
        // The run's, summed over its pages (the first sync reads everything).
        events_last_run: size,
        requests_last_run: Math.max(1, Math.ceil(size / 100)),
        last_error: null,
      })),
    );
  });
});

describe('the default mix (tickets 1..40, seed 1)', { timeout: 90_000 }, () => {
  let fixture: FixtureWithBoss;
  const ids = range(1, 40);

  beforeAll(async () => {
    fixture = await createFixtureWithBoss({ tickets: 40, seed: 1 });
    expect((await syncViaQueue(fixture, ids, { concurrency: 4 })).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('stores everything served, exactly once, raw deep-equal to what was served', async () => {
    const expected = expectedRows(fixture.sim, ids);
    expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expected));
    expect(differences(expected, await storedRows(fixture.database))).toEqual([]);
    // Authors recur across tickets (agents, the bot, returning customers): one row each.
    expect(expected.authors.size).toBeLessThan(expected.events.size / 2);
  });

  it('keeps unknown event types and content shapes instead of dropping them', async () => {
    const stored = await storedRows(fixture.database);
    // Ticket 22 would be one too, but ends in 2: an empty ticket.
    for (const ticketId of [11, 33]) {
      const event = fixture.sim.events(ticketId)[1];
      expect(['Voice::CallRecording', 'Messaging::ConversationStatusChange']).toContain(event.type);
      expect(stored.events.get(event.reference)).toMatchObject({ ticketId, type: event.type, raw: event });
    }
    for (const ticketId of [13, 26, 39]) {
      const event = fixture.sim.events(ticketId)[2];
      expect(event.content.type).toBe('audio');
      expect(stored.events.get(event.reference)).toMatchObject({ ticketId, raw: event });
    }
  });

  it('stores events with NUL and lone surrogates sanitised, not dropped (tickets 17 and 34)', async () => {
    const stored = await storedRows(fixture.database);
    for (const ticketId of [17, 34]) {
      const served = fixture.sim.events(ticketId)[0];
      const text = JSON.stringify(served);
      expect(text, 'the simulator serves the hostile characters').toContain('\\u0000');
      expect(text).toMatch(/\\ud83d(?!\\ude)/);
      const row = stored.events.get(served.reference)!;
      expect(row, `ticket ${ticketId} event 0 stored`).toBeDefined();
      const raw = JSON.stringify(row.raw);
      expect(raw).not.toContain('\\u0000');
      expect(raw.isWellFormed()).toBe(true);
      expect(JSON.stringify(row.raw)).not.toMatch(/\\ud8/);
      expect(raw).toContain('\ufffd');
      expect(row.bodyText).toBeTruthy();
      expect(row.bodyText!.includes('\u0000')).toBe(false);
      expect(row.bodyText!.isWellFormed()).toBe(true);
    }
    const { rows } = await fixture.database.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status <> 'synced'`);
    expect(rows[0].n).toBe(0);
  });
});
