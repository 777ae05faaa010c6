// Postgres refuses to update one row twice in one INSERT ... ON CONFLICT DO UPDATE, so a page
// must never yield two rows with the same key, whatever Zendesk repeats.
import { describe, expect, it } from 'vitest';
import { mapPage } from '../../src/sync/map-page.ts';
import { attachment, messagingEvent, seedEvent } from './events.ts';

const ticketId = 7;

describe('mapPage: one row per key', () => {
  it('keeps the last occurrence of a repeated event, in the position of that occurrence', () => {
    const first = messagingEvent({ content: { type: 'text', text: 'old' } });
    const other = messagingEvent();
    const again = { ...first, content: { type: 'text', text: 'edited' } };
    const rows = mapPage([first, other, again], { ticketId });
    expect(rows.events.map((row) => (row.raw as { reference: string }).reference)).toEqual([other.reference, first.reference]);
    expect(rows.events[1].bodyText).toBe('edited');
    expect(rows.events[1].raw).toStrictEqual(again);
  });

  it('takes attachments only from the kept occurrence of an event', () => {
    const first = messagingEvent({ attachments: [attachment(1)] });
    const again = { ...first, attachments: [attachment(2)] };
    const rows = mapPage([first, again], { ticketId });
    expect(rows.attachments.map((row) => row.id)).toEqual([2]);
  });

  it('merges a repeated author: later values win, missing ones do not erase', () => {
    const full = {
      'zen:support:user_id': 55,
      'zen:sunco:user_id': 'abc',
      type: 'agent',
      display_name: 'Old Name',
      avatar_url: 'https://example.com/a.png',
    };
    const sparse = { 'zen:support:user_id': 55, display_name: 'New Name', type: null };
    const rows = mapPage([messagingEvent({ author: full }), messagingEvent({ author: sparse })], { ticketId });
    expect(rows.authors).toEqual([
      {
        authorKey: 'support:55',
        supportUserId: 55,
        suncoUserId: 'abc',
        type: 'agent',
        displayName: 'New Name',
        avatarUrl: 'https://example.com/a.png',
        writtenAt: new Date('2025-04-22T09:24:26Z'),
      },
    ]);
    expect(rows.events.map((row) => row.authorKey)).toEqual(['support:55', 'support:55']);
  });

  it('merges a repeated author by the time each event was written, not its place on the page', () => {
    const agent = { 'zen:support:user_id': 56, type: 'agent', display_name: 'Kim Park' };
    const customer = { 'zen:support:user_id': 56, type: 'user', display_name: 'Kim', avatar_url: 'https://example.com/k.png' };
    // The newer event first (a page Zendesk ordered otherwise, or two events of one second).
    const rows = mapPage([messagingEvent({ id: 'N', reference: 'zen:n', author: agent, created_at: '2025-06-01T00:00:00Z' }), messagingEvent({ id: 'O', reference: 'zen:o', author: customer, created_at: '2024-01-01T00:00:00Z' })], { ticketId });
    expect(rows.authors).toEqual([
      // The avatar only the older event had is as of that event: against a row stored from an event
      // between the two, it says nothing (test/db/author-as-of-event.test.ts).
      {
        authorKey: 'support:56',
        supportUserId: 56,
        suncoUserId: null,
        type: 'agent',
        displayName: 'Kim Park',
        avatarUrl: 'https://example.com/k.png',
        avatarUrlAsOf: new Date('2024-01-01T00:00:00Z'),
        writtenAt: new Date('2025-06-01T00:00:00Z'),
      },
    ]);
  });

  it('merges three sightings of one author by the time of the event each value came from', () => {
    const sam = (fields: Record<string, unknown>) => ({ 'zen:support:user_id': 57, type: 'agent', display_name: 'Sam', ...fields });
    // Out of order: the 2024 avatar is newer than the 2023 one the 2025 event carried over.
    const rows = mapPage(
      [
        messagingEvent({ id: 'A', reference: 'zen:a3', author: sam({ avatar_url: 'https://x/2023.png' }), created_at: '2023-01-01T00:00:00Z' }),
        messagingEvent({ id: 'B', reference: 'zen:b3', author: sam({}), created_at: '2025-01-01T00:00:00Z' }),
        messagingEvent({ id: 'C', reference: 'zen:c3', author: sam({ avatar_url: 'https://x/2024.png' }), created_at: '2024-01-01T00:00:00Z' }),
      ],
      { ticketId },
    );
    expect(rows.authors).toEqual([
      expect.objectContaining({ avatarUrl: 'https://x/2024.png', avatarUrlAsOf: new Date('2024-01-01T00:00:00Z'), writtenAt: new Date('2025-01-01T00:00:00Z') }),
    ]);
  });

  it('keeps one row per attachment and thumbnail id, the last one seen', () => {
    const thumb = (id: number, name: string) => ({ id, file_name: name });
    const a = messagingEvent({
      attachments: [attachment(10, { file_name: 'first.pdf', thumbnails: [thumb(100, 't-first')] }), attachment(10, { file_name: 'twice.pdf' })],
    });
    const b = messagingEvent({
      attachments: [attachment(11), attachment('10', { file_name: 'last.pdf', thumbnails: [thumb(100, 't-last')] })],
    });
    const rows = mapPage([a, b], { ticketId });
    expect(rows.attachments.map((row) => [row.id, row.fileName, row.eventReference])).toEqual([
      [11, 'file.pdf', b.reference],
      [10, 'last.pdf', b.reference],
    ]);
    expect(rows.thumbnails.map((row) => [row.id, row.fileName, row.attachmentId])).toEqual([[100, 't-last', 10]]);
  });

  it('yields unique keys in every table for a page full of repeats', () => {
    const events = Array.from({ length: 50 }, (_, i) => {
      const event = seedEvent();
      event.reference = `zen:ticket_event:${i % 5}`;
      return event;
    });
    const rows = mapPage(events, { ticketId });
    const unique = (keys: unknown[]) => new Set(keys).size === keys.length;
    expect(rows.events).toHaveLength(5);
    expect(unique(rows.events.map((row) => (row.raw as { reference: string }).reference))).toBe(true);
    expect(rows.authors).toHaveLength(1);
    expect(rows.attachments).toHaveLength(1);
    expect(rows.thumbnails).toHaveLength(1);
    // Every foreign key points at a row of the same page.
    const references = new Set(rows.events.map((row) => (row.raw as { reference: string }).reference));
    const attachmentIds = new Set(rows.attachments.map((row) => row.id));
    expect(rows.attachments.every((row) => references.has(row.eventReference))).toBe(true);
    expect(rows.thumbnails.every((row) => attachmentIds.has(row.attachmentId))).toBe(true);
  });
});
