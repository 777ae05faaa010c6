import { describe, expect, it } from 'vitest';
import { mapPage } from '../../src/sync/map-page.ts';
import { redactSystemMetadata } from '../../src/sync/redact.ts';
import { messagingEvent, seedEvent } from './events.ts';

const PERSONAL = ['ip_address', 'location', 'latitude', 'longitude'];

describe('redactSystemMetadata', () => {
  it('removes the four personal fields and keeps the rest', () => {
    const metadata = seedEvent().metadata;
    expect(redactSystemMetadata(metadata)).toStrictEqual({
      custom: {},
      public: true,
      system: { client: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)' },
      ticket_version: 4,
    });
  });

  it('does not mutate, and returns other shapes as they are', () => {
    const metadata = seedEvent().metadata;
    const before = structuredClone(metadata);
    redactSystemMetadata(metadata);
    expect(metadata).toStrictEqual(before);
    for (const value of [undefined, null, 'x', [], { system: 'x' }, { system: { client: 'c' } }]) {
      expect(redactSystemMetadata(value)).toBe(value);
    }
  });
});

describe('mapPage with redactSystemMetadata', () => {
  // The metadata column is taken from raw by the page statement (test/db/store-page.test.ts).
  it('removes the fields from raw, keeping client', () => {
    const event = seedEvent();
    const [row] = mapPage([event], { ticketId: 1, redactSystemMetadata: true }).events;
    const system = (row.raw as { metadata: { system: Record<string, unknown> } }).metadata.system;
    for (const field of PERSONAL) expect(system).not.toHaveProperty(field);
    expect(system.client).toBe('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)');
    const { metadata: _redacted, ...rest } = row.raw as Record<string, unknown>;
    const { metadata: _original, ...expectedRest } = seedEvent() as Record<string, unknown>;
    expect(rest).toStrictEqual(expectedRest);
    expect(row).toMatchObject({ public: true, ticketVersion: 4 });
  });

  it('keeps everything when not asked', () => {
    const [row] = mapPage([seedEvent()], { ticketId: 1 }).events;
    expect(row.raw).toStrictEqual(seedEvent());
    expect((row.raw as { metadata: { system: object } }).metadata.system).toHaveProperty('ip_address', '123.45.67.89');
  });

  it('tolerates events without system metadata', () => {
    const events = [messagingEvent({ metadata: undefined }), messagingEvent({ metadata: { system: null } })];
    const rows = mapPage(events, { ticketId: 1, redactSystemMetadata: true });
    expect((rows.events[0].raw as { metadata?: unknown }).metadata).toBeUndefined();
    expect((rows.events[1].raw as { metadata: unknown }).metadata).toStrictEqual({ system: null });
  });
});
