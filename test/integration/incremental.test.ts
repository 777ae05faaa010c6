// Incremental sync against a real Postgres and the simulator: an unchanged ticket costs one
// request and writes nothing, appended events cost the fewest requests, --full re-reads edits,
// a cursor Zendesk rejects falls back to a full read, and 404 (rows removed)/403 are recorded, not retried.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../../src/simulator/index.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { expectedCounts, expectedRows, sanitized } from '../helpers/oracle.ts';
import { createFixtureWithBoss, jobStates, logRequests, range, rowCounts, rowVersions, storedRows, syncViaQueue, tableSnapshot, ticketSync, versionChanges, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const IDS = range(1, 20);
let fixture: FixtureWithBoss;

function requestsPerTicket(ids: number[]): Record<number, number> {
  return Object.fromEntries(ids.map((id) => [id, logRequests(fixture.sim, id).length]));
}

beforeAll(async () => {
  // Page size 10 gives the larger tickets several pages; 3 (100) and 4 (101) get 10 and 11.
  fixture = await createFixtureWithBoss({ tickets: 20, seed: 1, ticketSizes: { 6: 45 } }, { pageSize: 10 });
  const first = await syncViaQueue(fixture, IDS);
  expect(first.code).toBe(0);
  expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, IDS)));
}, 120_000);
afterAll(async () => {
  await fixture?.close();
});
beforeEach(() => fixture.sim.resetRequests());

describe('incremental sync', { timeout: 90_000 }, () => {
  it('re-syncing unchanged tickets costs exactly one request each and changes no row', async () => {
    const before = await tableSnapshot(fixture.database);
    const versions = await rowVersions(fixture.database);
    const { code, output } = await syncViaQueue(fixture, IDS);
    expect(code).toBe(0);
    // Tickets that fit in one page are read from their first event (same one request), so their events count as read.
    expect(output[0]).toMatch(/^synced 20, not_found 0, forbidden 0, failed 0 \| [\d,]+ events read with 20 requests$/);
    expect(requestsPerTicket(IDS)).toEqual(Object.fromEntries(IDS.map((id) => [id, 1])));
    expect(versionChanges(versions, await rowVersions(fixture.database))).toEqual({ added: [], changed: [], removed: [] });
    expect(await tableSnapshot(fixture.database)).toEqual(before);
    const { rows } = await fixture.database.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'synced' and requests_last_run = 1`);
    expect(rows[0].n).toBe(20);
  });

  it('appended events arrive with the fewest requests, and nothing else changes', async () => {
    const versions = await rowVersions(fixture.database);
    const appended = [
      ...fixture.sim.appendEvents(3, 7), // fewer than a page: 1 request
      ...fixture.sim.appendEvents(6, 25), // 25 at 10 a page: 3 requests
      ...fixture.sim.appendEvents(12, 1), // was empty: 1 request
    ];
    // Every author row, also the requesters and assignees read with the ticket context before they wrote.
    const authorsBefore = new Set([...versions.keys()].filter((k) => k.startsWith('authors:')).map((k) => k.slice('authors:'.length)));

    const { code, output } = await syncViaQueue(fixture, IDS);
    expect(code).toBe(0);
    expect(output[0]).toMatch(/\| [\d,]+ events read with 22 requests$/);
    expect(requestsPerTicket(IDS)).toEqual(Object.fromEntries(IDS.map((id) => [id, id === 6 ? 3 : 1])));

    const changes = versionChanges(versions, await rowVersions(fixture.database));
    expect(changes.changed).toEqual([]);
    expect(changes.removed).toEqual([]);
    const expectedAdded = appended.flatMap((event) => [
      `conversation_events:${event.reference}`,
      ...event.attachments.flatMap((a) => [`attachments:${a.id}`, ...(a.thumbnails ?? []).map((t) => `attachment_thumbnails:${t.id}`)]),
    ]);
    const newAuthors = [...expectedRows(fixture.sim, IDS).authors].filter((k) => !authorsBefore.has(k)).map((k) => `authors:${k}`);
    expect(changes.added).toEqual([...expectedAdded, ...newAuthors].sort());

    const stored = await storedRows(fixture.database);
    for (const event of appended) expect(stored.events.get(event.reference)?.raw).toEqual(sanitized(event));
    expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, IDS)));
    expect((await ticketSync(fixture.database, 6))?.events_synced).toBe(70);
  });

  it('--full picks up an edited event and a deleted attachment; an incremental sync of a multi-page ticket does not', async () => {
    // A comment with an attachment not yet deleted, in a synced ticket longer than a page (one
    // that fits in a page is read whole by every sync: test/lifecycle/sync-lifecycle.test.ts).
    let target: { ticketId: number; event: ConversationEvent } | undefined;
    for (const ticketId of IDS) {
      if (fixture.sim.eventCount(ticketId) <= 10) continue;
      const event = fixture.sim.events(ticketId).find((e) => e.type === 'Comment' && e.attachments.some((a) => !a.deleted));
      if (event) {
        target = { ticketId, event };
        break;
      }
    }
    expect(target, 'a comment with an attachment in tickets 1..20').toBeDefined();
    const { ticketId, event } = target!;
    const attachment = event.attachments.find((a) => !a.deleted)!;
    fixture.sim.editEvent(ticketId, event.reference, (e) => {
      e.content.body = '<div class="zd-comment" dir="auto"><p dir="auto">▇▇▇▇▇▇</p></div>';
      e.attachments.find((a) => a.id === attachment.id)!.deleted = true;
    });
    const attachmentRow = async () =>
      (await fixture.database.pool.query('select deleted from zendesk.attachments where id = $1', [attachment.id])).rows[0];
    const eventRow = async () =>
      (await fixture.database.pool.query('select body_text, raw from zendesk.conversation_events where reference = $1', [event.reference])).rows[0];

    const versions = await rowVersions(fixture.database);
    const incremental = await syncTicket(fixture.deps, ticketId);
    expect(incremental.requests).toBe(1);
    expect(versionChanges(versions, await rowVersions(fixture.database))).toEqual({ added: [], changed: [], removed: [] });
    expect(await attachmentRow()).toEqual({ deleted: false });
    expect((await eventRow()).body_text).not.toContain('▇');

    fixture.sim.resetRequests();
    const full = await syncTicket(fixture.deps, ticketId, { full: true });
    const events = fixture.sim.eventCount(ticketId);
    expect(full).toMatchObject({ status: 'synced', events, eventsWritten: 1, requests: Math.max(1, Math.ceil(events / 10)) });
    expect(logRequests(fixture.sim, ticketId)[0].query['page[after]']).toBeUndefined();
    expect(await attachmentRow()).toEqual({ deleted: true });
    const row = await eventRow();
    expect(row.body_text).toBe('▇▇▇▇▇▇');
    expect(row.raw).toEqual(sanitized(fixture.sim.events(ticketId).find((e) => e.reference === event.reference)));
    // Exactly the edited event and the attachment changed; everything else was left alone.
    expect(versionChanges(versions, await rowVersions(fixture.database))).toEqual({
      added: [],
      changed: [`attachments:${attachment.id}`, `conversation_events:${event.reference}`],
      removed: [],
    });
    // And the full run leaves a cursor from which the next sync costs one request.
    fixture.sim.resetRequests();
    expect((await syncTicket(fixture.deps, ticketId)).requests).toBe(1);
  });

  it('`sync --full` through the queue re-reads every page of every ticket', async () => {
    const before = await tableSnapshot(fixture.database);
    const { code } = await syncViaQueue(fixture, [3, 4], { full: true });
    expect(code).toBe(0);
    expect(requestsPerTicket([3, 4])).toEqual({ 3: 11, 4: 11 }); // 107 and 101 events, 10 a page
    expect(await tableSnapshot(fixture.database)).toEqual(before); // unchanged events are not rewritten
  });

  it('a saved cursor Zendesk rejects falls back to a full re-read with the same rows', async () => {
    const ticketId = 6; // 70 events: 7 pages
    const counts = await rowCounts(fixture.database);
    const versions = await rowVersions(fixture.database);
    await fixture.database.pool.query(`update zendesk.ticket_sync set after_cursor = 'bm90LWEtY3Vyc29y' where ticket_id = $1`, [ticketId]);

    const result = await syncTicket(fixture.deps, ticketId);
    expect(result).toMatchObject({ status: 'synced', events: 70, eventsWritten: 0 });
    const requests = logRequests(fixture.sim, ticketId);
    expect(requests.map((r) => r.status)).toEqual([400, 200, 200, 200, 200, 200, 200, 200]);
    expect(requests[0].query['page[after]']).toBe('bm90LWEtY3Vyc29y');
    expect(requests[1].query['page[after]']).toBeUndefined();
    expect(await rowCounts(fixture.database)).toEqual(counts);
    expect(versionChanges(versions, await rowVersions(fixture.database))).toEqual({ added: [], changed: [], removed: [] });
    const state = await ticketSync(fixture.database, ticketId);
    expect(state).toMatchObject({ status: 'synced', events_synced: 70, last_error: null });
    expect(state?.after_cursor).not.toBe('bm90LWEtY3Vyc29y');

    fixture.sim.resetRequests();
    expect((await syncTicket(fixture.deps, ticketId)).requests).toBe(1);
  });
});

describe('tickets Zendesk will not serve', { timeout: 90_000 }, () => {
  it('404 is recorded as not_found and 403 as forbidden, each after one request, the job completed', async () => {
    fixture.sim.setOptions({ deleted: [7], forbidden: [8] });
    try {
      const { code, output } = await syncViaQueue(fixture, [7, 8, 9]);
      expect(code).toBe(0);
      expect(output[0]).toMatch(/^synced 1, not_found 1, forbidden 1, failed 0 /);
      expect(requestsPerTicket([7, 8, 9])).toEqual({ 7: 1, 8: 1, 9: 1 });
      expect(logRequests(fixture.sim, 7)[0].status).toBe(404);
      expect(logRequests(fixture.sim, 8)[0].status).toBe(403);
      expect(await ticketSync(fixture.database, 7)).toMatchObject({ status: 'not_found', last_error: expect.stringMatching(/404.*deleted/) });
      expect(await ticketSync(fixture.database, 8)).toMatchObject({ status: 'forbidden', last_error: expect.stringMatching(/403/) });
      // The events stored before the ticket went away are removed; the tombstone says how we learned it.
      expect((await rowCounts(fixture.database, [7])).events).toBe(0);
      expect(await ticketSync(fixture.database, 7)).toMatchObject({ deleted_how: '404' });
      const jobs = (await jobStates(fixture.database)).filter((j) => j.ticketId === 7 || j.ticketId === 8);
      expect(jobs.length).toBeGreaterThanOrEqual(2);
      for (const job of jobs) expect(job).toMatchObject({ state: 'completed', retryCount: 0 });
    } finally {
      fixture.sim.setOptions({ deleted: [], forbidden: [] });
    }
  });
});
