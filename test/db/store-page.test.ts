// storePage takes some columns from `raw` in SQL (their only definition); the rest it stores as
// mapPage computed them. Every content shape is covered, or analysts would see columns that
// disagree with `raw`.
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { messagingEvent, seedEvent, seedPage } from '../sync/events.ts';

let run: string;
const database = useTestDatabase();
beforeAll(async () => {
  ({ run } = await startRun(database.db, TICKET, { full: true }));
});

const TICKET = 4242;

const html = '<p>caf\u00e9 \u{1F600} "quoted" \\ back</p>';
/** Each event with the body_html it must get: HTML only for a string body of content type html. */
const cases: [ApiEvent, string | null][] = [
  [seedEvent(), '<div class="zd-comment" dir="auto">big bear attachment public comment email<br></div>'],
  [seedPage().events[0], null],
  [seedPage().events[1], '<div class="zd-comment" dir="auto"><p dir="auto">Conversation with wp native</p>\n\n<p dir="auto">URL: None</p></div>'],
  [messagingEvent(), null],
  [messagingEvent({ content: { type: 'html', body: 42 } }), null],
  [messagingEvent({ content: { type: 'HTML', body: '<p>not html</p>' } }), null],
  [messagingEvent({ content: [{ type: 'html', body: '<p>an array</p>' }] }), null],
  [messagingEvent({ content: 'a bare string' }), null],
  [messagingEvent({ content: null, metadata: null }), null],
  [messagingEvent({ content: undefined, metadata: undefined }), null],
  [messagingEvent({ content: { type: 'html' }, metadata: { public: false } }), null],
  [messagingEvent({ content: { type: 'html', body: html } }), html],
];
const events = cases.map(([event]) => event);

describe('storePage', () => {
  // These columns are defined only by the page statement's SQL over raw; the expectations here
  // are read from the events as sent, not from any production code.
  it('derives reference, event id and type from raw, and the timeline reads content, metadata and body_html from it', async () => {
    const rows = mapPage(events, { ticketId: TICKET });
    await storePage(database.db, preparePage(rows, { ticketId: TICKET, run, afterCursor: 'c1', requests: 1 }));
    const { rows: stored } = await database.pool.query<Record<string, unknown>>(
      `select reference, event_id, event_type as type, body_html, content, metadata from zendesk.conversation_timeline where ticket_id = $1`,
      [TICKET],
    );
    const byReference = new Map(stored.map((row) => [row.reference, row]));
    expect(byReference.size).toBe(cases.length);
    for (const [event, bodyHtml] of cases) {
      expect(byReference.get(event.reference), event.reference).toEqual({
        reference: event.reference,
        event_id: event.id,
        type: event.type,
        body_html: bodyHtml,
        // JSON null and an absent key are both SQL null.
        content: event.content ?? null,
        metadata: event.metadata ?? null,
      });
    }
  });

  it('stores the columns the mapper computed as it computed them', async () => {
    const rows = mapPage(events, { ticketId: TICKET });
    const { rows: stored } = await database.pool.query<Record<string, unknown>>(
      `select ticket_id, created_at, author_key, content_type, body_text, public, source_type, received_at, ticket_version, raw
         from zendesk.conversation_events where ticket_id = $1 order by reference collate "C"`,
      [TICKET],
    );
    const sent = [...rows.events].sort((a, b) => (String((a.raw as ApiEvent).reference) < String((b.raw as ApiEvent).reference) ? -1 : 1));
    expect(stored).toEqual(
      sent.map((row) => ({
        ticket_id: String(row.ticketId),
        created_at: row.createdAt,
        author_key: row.authorKey,
        content_type: row.contentType,
        body_text: row.bodyText,
        public: row.public,
        source_type: row.sourceType,
        received_at: row.receivedAt,
        ticket_version: row.ticketVersion,
        raw: row.raw,
      })),
    );
  });

  it('saves the cursor with the page and counts what changed', async () => {
    const rows = mapPage(events, { ticketId: TICKET });
    const again = await storePage(database.db, preparePage(rows, { ticketId: TICKET, run, afterCursor: 'c2', requests: 2 }));
    expect(again.eventsWritten).toBe(0);
    const { rows: sync } = await database.pool.query('select after_cursor, pages_synced from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
    expect(sync).toEqual([{ after_cursor: 'c2', pages_synced: 2 }]);
  });
});
