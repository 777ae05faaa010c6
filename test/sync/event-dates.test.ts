// Times Postgres cannot store never reach it: a received_at outside the years 1 to 9999 (or in a
// form JavaScript reads loosely) is stored as no time, and a created_at out of that range is a
// malformed page, named as such, instead of a statement Postgres refuses on every run.
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { date } from '../../src/sync/fields.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { validateConversationLogPage } from '../../src/zendesk/schemas.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { messagingEvent } from './events.ts';

describe('received_at as read from an event', () => {
  it('is UTC when it names no zone, whatever the worker\'s own zone', () => {
    // A worker in New York: JavaScript alone reads a zone-less time as local, four hours off.
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(new Date('2025-04-22T09:24:26').toISOString()).toBe('2025-04-22T13:24:26.000Z');
      expect(date('2025-04-22T09:24:26')?.toISOString()).toBe('2025-04-22T09:24:26.000Z');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(date('2025-04-22T09:24:26.5+02:00')?.toISOString()).toBe('2025-04-22T07:24:26.500Z');
    expect(date('2025-04-22')?.toISOString()).toBe('2025-04-22T00:00:00.000Z');
  });

  it('is no time when Postgres could not store it or it is not an ISO 8601 date', () => {
    for (const value of ['0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '9999-12-31T23:00:00-05:00', '1', 'May 1, 2025', '', 42]) {
      expect(date(value), String(value)).toBeNull();
    }
  });
});

describe('storing events with such times', () => {
  const database = useTestDatabase();
  const TICKET = 4343;
  let run: string;
  beforeAll(async () => {
    ({ run } = await startRun(database.db, TICKET, { full: true }));
  });

  it.each(['0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '0001-01-01T00:30:00+01:00'])('stores an event whose received_at is %s, with no received_at', async (receivedAt) => {
    const event = messagingEvent({ received_at: receivedAt });
    validateConversationLogPage({ events: [event], meta: { has_more: false } });
    const rows = mapPage([event], { ticketId: TICKET });
    await storePage(database.db, preparePage(rows, { ticketId: TICKET, run, afterCursor: 'c', requests: 1 }));
    const { rows: stored } = await database.pool.query('select received_at, raw->>$2 as sent from zendesk.conversation_events where reference = $1', [event.reference, 'received_at']);
    expect(stored).toEqual([{ received_at: null, sent: receivedAt }]);
  });

  it('refuses a page whose event was created in year 0 as malformed, naming the field', () => {
    const event = messagingEvent({ created_at: '0000-01-01T00:00:00Z' });
    expect(() => validateConversationLogPage({ events: [event], meta: { has_more: false } })).toThrow(/created_at: expected a time in the years 1 to 9999 \(UTC\), got "0000-01-01T00:00:00Z"/);
  });
});
