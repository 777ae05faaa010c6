// storePage takes some columns from `raw` in SQL instead of sending them twice. What it stores
// must be exactly what mapPage computed, for every content shape, or analysts would see
// columns that disagree with `raw`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePage, storePage } from '../../src/db/store-page.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { messagingEvent, seedEvent, seedPage } from '../sync/events.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const TICKET = 4242;

const events: ApiEvent[] = [
  seedEvent(),
  ...seedPage().events,
  messagingEvent(),
  messagingEvent({ content: { type: 'html', body: 42 } }),
  messagingEvent({ content: { type: 'HTML', body: '<p>not html</p>' } }),
  messagingEvent({ content: [{ type: 'html', body: '<p>an array</p>' }] }),
  messagingEvent({ content: 'a bare string' }),
  messagingEvent({ content: null, metadata: null }),
  messagingEvent({ content: undefined, metadata: undefined }),
  messagingEvent({ content: { type: 'html' }, metadata: { public: false } }),
  messagingEvent({ content: { type: 'html', body: '<p>caf\u00e9 \u{1F600} "quoted" \\ back</p>' } }),
];

describe('storePage', () => {
  it('stores every column as mapPage computed it, those taken from raw included', async () => {
    const rows = mapPage(events, { ticketId: TICKET });
    await storePage(database.db, preparePage(rows, { ticketId: TICKET, afterCursor: 'c1', requests: 1 }));
    const { rows: stored } = await database.pool.query<Record<string, unknown>>(
      `select reference, event_id, type, body_html, body_text, content_type, content, metadata, raw
         from zendesk.conversation_events where ticket_id = $1`,
      [TICKET],
    );
    const byReference = new Map(stored.map((row) => [row.reference, row]));
    expect(byReference.size).toBe(rows.events.length);
    for (const row of rows.events) {
      expect(byReference.get(row.reference), row.reference).toEqual({
        reference: row.reference,
        event_id: row.eventId,
        type: row.type,
        body_html: row.bodyHtml,
        body_text: row.bodyText,
        content_type: row.contentType,
        content: row.content,
        metadata: row.metadata,
        raw: row.raw,
      });
    }
    // The cases above would prove nothing if none of them had HTML.
    expect(rows.events.filter((row) => row.bodyHtml !== null).length).toBeGreaterThanOrEqual(2);
  });

  it('saves the cursor with the page and counts what changed', async () => {
    const rows = mapPage(events, { ticketId: TICKET });
    const again = await storePage(database.db, preparePage(rows, { ticketId: TICKET, afterCursor: 'c2', requests: 2 }));
    expect(again.eventsWritten).toBe(0);
    const { rows: sync } = await database.pool.query('select after_cursor, pages_synced from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
    expect(sync).toEqual([{ after_cursor: 'c2', pages_synced: 2 }]);
  });
});
