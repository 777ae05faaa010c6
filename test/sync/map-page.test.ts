import { describe, expect, it } from 'vitest';
import { mapPage } from '../../src/sync/map-page.ts';
import { attachment, messagingEvent, seedEvent, seedPage } from './events.ts';

const ticketId = 123;

describe('mapPage: the reference example comment', () => {
  const event = seedEvent();
  const rows = mapPage([event], { ticketId });

  // reference, event id, type, content, metadata and the HTML body are taken from raw by the
  // page statement (test/db/store-page.test.ts checks them); the mapper sends the others.
  it('maps every column of the event row that is not taken from raw', () => {
    expect(rows.events).toEqual([
      {
        ticketId,
        createdAt: new Date('2024-10-09T03:30:43Z'),
        authorKey: 'support:123111233',
        contentType: 'html',
        bodyText: 'big bear attachment public comment email',
        public: true,
        sourceType: null,
        receivedAt: null,
        ticketVersion: 4,
        raw: event,
      },
    ]);
  });

  it('stores raw as received and leaves the input untouched', () => {
    const [row] = rows.events;
    expect(row.raw).toStrictEqual(seedEvent());
    expect(event).toStrictEqual(seedEvent());
  });

  it('maps the author', () => {
    expect(rows.authors).toEqual([
      {
        authorKey: 'support:123111233',
        supportUserId: 123111233,
        suncoUserId: 'a21a91fd1234a',
        type: 'agent',
        displayName: 'Sample Owner',
        avatarUrl: 'https://static.zdassets.com/web_widget/latest/default_avatar.png',
        // As of this event: an older event stored later does not undo it (src/db/store-page.ts).
        writtenAt: rows.events[0].createdAt,
      },
    ]);
    expect(rows.events[0].createdAt).toEqual(new Date('2024-10-09T03:30:43Z'));
  });

  it('maps the attachment and its thumbnail', () => {
    expect(rows.attachments).toEqual([
      {
        id: 8639388162331,
        eventReference: 'zen:ticket_event:8639326502654',
        // The seed event's author, as written on it.
        authorType: 'agent',
        ticketId,
        fileName: 'sample.png',
        contentType: 'image/png',
        contentUrl: 'https://company.zendesk.com/attachments/token/123/?name=sample.png',
        mappedContentUrl: 'https://company.zendesk.com/attachments/token/h123/?name=sample.png',
        url: 'https://company.zendesk.com/api/v2/attachments/13341.json',
        size: 20331,
        width: 128,
        height: 128,
        inline: false,
        deleted: false,
      },
    ]);
    expect(rows.thumbnails).toEqual([
      {
        id: 8639488164605,
        attachmentId: 8639388162331,
        ticketId,
        fileName: 'sample_thumb.png',
        contentType: 'image/png',
        contentUrl: 'https://company.zendesk.com/attachments/token/333/?name=sample_thumb.png',
        mappedContentUrl: 'https://company.zendesk.com/attachments/token/333/?name=sample_thumb.png',
        url: 'https://company.zendesk.com/api/v2/attachments/86395.json',
        size: 10173,
        width: 80,
        height: 80,
        inline: false,
        deleted: false,
      },
    ]);
  });

  it('leaves database defaults unset', () => {
    expect(rows.events[0]).not.toHaveProperty('firstSyncedAt');
    expect(rows.events[0]).not.toHaveProperty('updatedAt');
    expect(rows.authors[0]).not.toHaveProperty('firstSeenAt');
    expect(rows.attachments[0]).not.toHaveProperty('updatedAt');
  });
});

describe('mapPage: the reference example page', () => {
  const page = seedPage();
  const rows = mapPage(page.events, { ticketId });

  it('keys the bot by its Sunshine Conversations id and keeps support id -1', () => {
    expect(rows.events[0].authorKey).toBe('sunco:a21a91fd1234a');
    expect(rows.authors[0]).toEqual({
      authorKey: 'sunco:a21a91fd1234a',
      supportUserId: -1,
      suncoUserId: 'a21a91fd1234a',
      type: 'bot',
      displayName: 'SampleBot',
      avatarUrl: 'https://static.zdassets.com/web_widget/latest/default_avatar.png',
      writtenAt: rows.events[0].createdAt,
    });
  });

  it('maps the messaging event columns', () => {
    expect(rows.events[0]).toMatchObject({
      contentType: 'text',
      bodyText: "Hey! Have a question? I'm here to assist.",
      public: null,
      sourceType: 'zd:answerBot',
      receivedAt: new Date('2025-04-22T09:24:26.861Z'),
      ticketVersion: 0,
    });
  });

  it('keys the end user by support id and keeps paragraphs as newlines', () => {
    expect(rows.events[1].authorKey).toBe('support:8303911923701');
    expect(rows.authors[1]).toEqual({
      authorKey: 'support:8303911923701',
      supportUserId: 8303911923701,
      suncoUserId: null,
      type: 'user',
      displayName: 'sample user',
      avatarUrl: null,
      writtenAt: rows.events[1].createdAt,
    });
    expect(rows.events[1]).toMatchObject({
      public: false,
      bodyText: 'Conversation with wp native\n\nURL: None',
      sourceType: null,
      receivedAt: null,
    });
  });

  it('has no attachment rows for empty attachment lists', () => {
    expect(rows.attachments).toEqual([]);
    expect(rows.thumbnails).toEqual([]);
  });
});

describe('mapPage: tolerance', () => {
  it('never mutates its input', () => {
    const events = [seedEvent(), ...seedPage().events];
    const before = structuredClone(events);
    mapPage(events, { ticketId, redactSystemMetadata: true });
    expect(events).toStrictEqual(before);
  });

  it('gives an event without an author object a null key and no author row', () => {
    const event = messagingEvent();
    delete event.author;
    const rows = mapPage([event], { ticketId });
    expect(rows.events[0].authorKey).toBeNull();
    expect(rows.authors).toEqual([]);
  });

  it('keys an author without ids as anonymous', () => {
    const event = messagingEvent({ author: { type: 'user', display_name: 'Walk-in' } });
    const rows = mapPage([event], { ticketId });
    expect(rows.events[0].authorKey).toBe('anonymous:user:Walk-in');
    expect(rows.authors).toEqual([
      { authorKey: 'anonymous:user:Walk-in', supportUserId: null, suncoUserId: null, type: 'user', displayName: 'Walk-in', avatarUrl: null, writtenAt: new Date('2025-04-22T09:24:26Z') },
    ]);
  });

  it('stores an unknown event type and content shape with raw', () => {
    const event = messagingEvent({
      type: 'Messaging::SomethingNew',
      content: { type: 'hologram', frames: [1, 2, 3], text: 'beam me up' },
      metadata: 'not an object',
      source: 'not an object',
      received_at: 'yesterday-ish',
      attachments: 'nope',
      extra: { nested: [true] },
    });
    const rows = mapPage([event], { ticketId });
    expect(rows.events[0]).toMatchObject({
      contentType: 'hologram',
      bodyText: 'beam me up',
      public: null,
      sourceType: null,
      receivedAt: null,
      ticketVersion: null,
    });
    expect(rows.events[0].raw).toStrictEqual(event);
    expect(rows.attachments).toEqual([]);
  });

  it('reads only well-typed values into columns', () => {
    const event = messagingEvent({
      content: null,
      metadata: { public: 'yes', ticket_version: 1.5 },
      source: { type: 7 },
      attachments: [
        attachment('42', { size: '1000', width: 2.5, height: 1e12, inline: 'no', deleted: null, thumbnails: 'x' }),
        attachment(null),
        attachment('abc'),
        'not an object',
        attachment(43, { thumbnails: [{ id: 'bad' }, { id: 44, file_name: 7 }] }),
      ],
    });
    const rows = mapPage([event], { ticketId });
    expect(rows.events[0]).toMatchObject({ contentType: null, bodyText: null, public: null, sourceType: null, ticketVersion: null });
    expect(rows.attachments.map((row) => row.id)).toEqual([42, 43]);
    expect(rows.attachments[0]).toMatchObject({ size: null, width: null, height: null, inline: null, deleted: null });
    expect(rows.thumbnails).toEqual([expect.objectContaining({ id: 44, attachmentId: 43, fileName: null })]);
    expect(rows.thumbnails[0]).not.toHaveProperty('eventReference');
  });

  it('maps 10,000 events quickly', () => {
    const sources = [seedEvent(), ...seedPage().events];
    const events = Array.from({ length: 10_000 }, (_, i) => {
      const event = structuredClone(sources[i % sources.length]);
      event.reference = `${event.reference}:${i}`;
      return event;
    });
    // A first small page compiles the hot paths, as it would in a long-running worker.
    mapPage(events.slice(0, 100), { ticketId });
    // This thread's CPU time, not wall time: test files run in parallel and other processes
    // share the machine, so time spent waiting for a core would make the bound flaky.
    const started = process.threadCpuUsage();
    const rows = mapPage(events, { ticketId });
    const { user, system } = process.threadCpuUsage(started);
    expect(rows.events).toHaveLength(10_000);
    expect((user + system) / 1000).toBeLessThan(2000);
  });
});
