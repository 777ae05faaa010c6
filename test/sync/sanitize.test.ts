import { describe, expect, it } from 'vitest';
import { mapPage } from '../../src/sync/map-page.ts';
import { sanitizeForPostgres, sanitizeString } from '../../src/sync/sanitize.ts';
import { attachment, messagingEvent } from './events.ts';

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const EMOJI = '\uD83D\uDE00';

describe('sanitizeString', () => {
  it('removes NUL and replaces unpaired surrogates', () => {
    expect(sanitizeString('a\u0000b')).toBe('ab');
    expect(sanitizeString(`x${LONE_HIGH}y`)).toBe('x\uFFFDy');
    expect(sanitizeString(`x${LONE_LOW}`)).toBe('x\uFFFD');
    expect(sanitizeString(`${LONE_LOW}${LONE_HIGH}`)).toBe('\uFFFD\uFFFD');
  });

  it('leaves valid text, emoji included, untouched and unchanged in identity', () => {
    const text = `héllo ${EMOJI} 中文`;
    expect(sanitizeString(text)).toBe(text);
  });

  it('joins a surrogate pair that only a NUL kept apart', () => {
    expect(sanitizeString(`${LONE_HIGH}\u0000${LONE_LOW}`)).toBe(EMOJI);
  });
});

describe('sanitizeForPostgres', () => {
  it('cleans every string, keys included, and keeps everything else', () => {
    const input = {
      'k\u0000ey': `v${LONE_HIGH}`,
      list: ['a\u0000', 1, true, null, { deep: [`${LONE_LOW}z`] }],
      n: 1.5,
      ok: `fine ${EMOJI}`,
      empty: {},
    };
    expect(sanitizeForPostgres(input)).toStrictEqual({
      key: 'v\uFFFD',
      list: ['a', 1, true, null, { deep: ['\uFFFDz'] }],
      n: 1.5,
      ok: `fine ${EMOJI}`,
      empty: {},
    });
  });

  it('returns a clean value itself, without copying it', () => {
    const input = { a: { b: ['x', 1, null, true] }, c: `fine ${EMOJI}`, 'é': [] };
    expect(sanitizeForPostgres(input)).toBe(input);
  });

  it('returns a deep copy when something needed repair, and never mutates', () => {
    const input = { a: { b: ['x\u0000'] }, c: 'clean' };
    const before = structuredClone(input);
    const output = sanitizeForPostgres(input);
    expect(input).toStrictEqual(before);
    expect(output.a).not.toBe(input.a);
    expect(output.a.b).not.toBe(input.a.b);
  });

  it('keeps a "__proto__" key as data', () => {
    const input = JSON.parse('{"__proto__": {"x": "y\\u0000"}, "a": 1}') as Record<string, unknown>;
    const output = sanitizeForPostgres(input);
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.hasOwn(output, '__proto__')).toBe(true);
    expect(JSON.stringify(output)).toBe('{"__proto__":{"x":"y"},"a":1}');
  });

  it('passes scalars through', () => {
    expect(sanitizeForPostgres('a\u0000')).toBe('a');
    expect(sanitizeForPostgres(5)).toBe(5);
    expect(sanitizeForPostgres(null)).toBeNull();
    expect(sanitizeForPostgres(undefined)).toBeUndefined();
  });

  it('copies 10,000 realistic events well under half a second', () => {
    const event = messagingEvent({ content: { type: 'html', body: `<p>${'word '.repeat(200)}</p>` } });
    // CPU time, so a busy machine does not fail the test (see map-page.test.ts).
    const started = process.threadCpuUsage();
    for (let i = 0; i < 10_000; i++) sanitizeForPostgres(event);
    const { user, system } = process.threadCpuUsage(started);
    expect((user + system) / 1000).toBeLessThan(500);
  });
});

describe('mapPage: sanitising', () => {
  const dirty = messagingEvent({
    id: 'id\u0000',
    author: { 'zen:sunco:user_id': `s${LONE_HIGH}`, display_name: 'Ann\u0000', type: 'user', avatar_url: 'https://a/b.png' },
    content: { type: 'html', body: `<p>hi\u0000 there ${LONE_LOW}${EMOJI}</p>` },
    metadata: { custom: { 'f\u0000': 'v' }, system: { client: `UA${LONE_HIGH}` }, public: true, ticket_version: 3 },
    source: { type: 'zd:\u0000web' },
    attachments: [attachment(9, { file_name: 'a\u0000.pdf', thumbnails: [{ id: 10, file_name: `t${LONE_LOW}` }] })],
  });
  const rows = mapPage([dirty], { ticketId: 1 });
  const [event] = rows.events;

  // content, metadata and the HTML body are taken from this raw by the page statement.
  it('cleans raw and keeps the rest intact', () => {
    const expected = structuredClone(dirty) as Record<string, any>;
    expected.id = 'id';
    expected.author['zen:sunco:user_id'] = 's\uFFFD';
    expected.author.display_name = 'Ann';
    expected.content.body = `<p>hi there \uFFFD${EMOJI}</p>`;
    expected.metadata.custom = { f: 'v' };
    expected.metadata.system.client = 'UA\uFFFD';
    expected.source.type = 'zd:web';
    expected.attachments[0].file_name = 'a.pdf';
    expected.attachments[0].thumbnails[0].file_name = 't\uFFFD';
    expect(event.raw).toStrictEqual(expected);
  });

  it('cleans every text column', () => {
    expect(event).toMatchObject({
      authorKey: 'sunco:s\uFFFD',
      bodyText: `hi there \uFFFD${EMOJI}`,
      sourceType: 'zd:web',
      public: true,
      ticketVersion: 3,
    });
    expect(rows.authors[0]).toMatchObject({ authorKey: 'sunco:s\uFFFD', suncoUserId: 's\uFFFD', displayName: 'Ann' });
    expect(rows.attachments[0].fileName).toBe('a.pdf');
    expect(rows.thumbnails[0].fileName).toBe('t\uFFFD');
  });

  it('leaves the input as it was', () => {
    expect((dirty.content as { body: string }).body).toContain('\u0000');
  });
});
