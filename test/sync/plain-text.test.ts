import { describe, expect, it } from 'vitest';
import { plainText } from '../../src/sync/plain-text.ts';

describe('plainText: html', () => {
  const html = (body: string) => plainText({ type: 'html', body });

  it('decodes entities', () => {
    expect(html('<p>Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#128512; &nbsp;ok</p>')).toBe('Tom & Jerry <3 été 😀 \u00a0ok');
  });

  it('drops script and style, link targets and images', () => {
    expect(
      html('<style>p{color:red}</style><p>See <a href="https://x.example/a">the docs</a> <img src="y.png" alt="logo"></p><script>alert(1)</script>'),
    ).toBe('See the docs');
  });

  it('keeps paragraphs and line breaks as newlines and does not wrap', () => {
    const long = 'word '.repeat(40).trim();
    expect(html(`<div><p>one</p><p>${long}</p>a<br>b<br></div>`)).toBe(`one\n\n${long}\n\na\nb`);
  });

  it('keeps table cells apart and headings as written', () => {
    expect(html('<h2>Order Status</h2><table><tr><th>Order</th><td>12</td></tr><tr><td>Total</td><td>$5</td></tr></table>')).toBe(
      'Order Status\n\nOrder 12\nTotal $5',
    );
  });

  it('is null for markup without words and for a missing body', () => {
    expect(html('<p><img src="x.png"></p>')).toBeNull();
    expect(html('')).toBeNull();
    expect(plainText({ type: 'html', body: 5 })).toBeNull();
  });
});

describe('plainText: messaging shapes', () => {
  it('text: the message only, not its reply actions', () => {
    expect(plainText({ type: 'text', text: 'Hi!', actions: [{ reply: { text: 'Talk to a human' } }] })).toBe('Hi!');
  });

  it('image: its text, else its alt text', () => {
    expect(plainText({ type: 'image', mediaUrl: 'https://x/y.png', text: 'look', altText: 'alt' })).toBe('look');
    expect(plainText({ type: 'image', mediaUrl: 'https://x/y.png', altText: 'a cat' })).toBe('a cat');
    expect(plainText({ type: 'image', mediaUrl: 'https://x/y.png' })).toBeNull();
  });

  it('file: its text, else the file name from the media URL', () => {
    expect(plainText({ type: 'file', mediaUrl: 'https://x/y.pdf', text: 'invoice' })).toBe('invoice');
    expect(plainText({ type: 'file', mediaUrl: 'https://x/a/My%20Invoice.pdf?sig=1#p' })).toBe('My Invoice.pdf');
    expect(plainText({ type: 'file', mediaUrl: 'https://x/a/%E0%A4%A.pdf' })).toBe('%E0%A4%A.pdf');
    expect(plainText({ type: 'file' })).toBeNull();
  });

  it('carousel and list: item titles and descriptions', () => {
    const items = [{ title: 'Plan A', description: 'cheap' }, { title: 'Plan B' }, 'junk', { description: 7 }];
    expect(plainText({ type: 'carousel', items })).toBe('Plan A\ncheap\nPlan B');
    expect(plainText({ type: 'list', items, actions: [] })).toBe('Plan A\ncheap\nPlan B');
    expect(plainText({ type: 'list', items: 'none' })).toBeNull();
  });

  it('form: the field labels', () => {
    const fields = [
      { type: 'text', name: 'name', label: 'Your name' },
      { type: 'email', name: 'email', label: 'Email' },
      { type: 'select', name: 'topic', options: [{ name: 'a', label: 'A' }] },
    ];
    expect(plainText({ type: 'form', fields })).toBe('Your name\nEmail\ntopic');
  });

  it('formResponse: one "label: value" line per answered field', () => {
    const fields = [
      { type: 'text', name: 'name', label: 'Your name', text: 'Ann' },
      { type: 'email', name: 'email', label: 'Email', email: 'ann@example.com' },
      { type: 'select', name: 'topic', label: 'Topic', select: [{ name: 'b', label: 'Billing' }, { name: 'r' }] },
      { type: 'text', name: 'empty', label: 'Skipped' },
    ];
    expect(plainText({ type: 'formResponse', fields })).toBe('Your name: Ann\nEmail: ann@example.com\nTopic: Billing, r');
    expect(plainText({ type: 'formResponse', fields: [], textFallback: 'Name: Ann' })).toBe('Name: Ann');
  });

  it('location: name and address, else the coordinates', () => {
    expect(
      plainText({ type: 'location', coordinates: { lat: 1, long: 2 }, location: { name: 'HQ', address: '1 Main St' } }),
    ).toBe('HQ\n1 Main St');
    expect(plainText({ type: 'location', coordinates: { lat: 45.5, long: -73.6 } })).toBe('45.5, -73.6');
    expect(plainText({ type: 'location', coordinates: 'x' })).toBeNull();
  });

  it('template: only its text', () => {
    expect(plainText({ type: 'template', template: { name: 'welcome' } })).toBeNull();
    expect(plainText({ type: 'template', template: {}, text: 'Welcome!' })).toBe('Welcome!');
  });
});

describe('plainText: voice', () => {
  it('voice_recording: its transcription, not its numbers or recording URL', () => {
    const call = { type: 'voice_recording', from: '+14155550123', to: '+18005550100', duration: 64, recording_url: 'https://x.example/recording' };
    expect(plainText({ ...call, transcription_text: 'Caller asked about a late delivery.' })).toBe('Caller asked about a late delivery.');
    expect(plainText({ ...call, transcription_text: '  ' })).toBeNull();
    expect(plainText(call)).toBeNull();
  });
});

describe('plainText: anything else', () => {
  it('unknown shapes: a top-level text or body', () => {
    expect(plainText({ type: 'sticker', text: 'thumbs up' })).toBe('thumbs up');
    expect(plainText({ type: 'note', body: 'plain body' })).toBe('plain body');
    expect(plainText({ body: 'no type at all' })).toBe('no type at all');
    expect(plainText({ type: 'sticker', id: 5 })).toBeNull();
  });

  it('never throws on values that are not content objects', () => {
    for (const value of [undefined, null, 0, 'text', true, [], [{ type: 'text', text: 'x' }], { type: 5 }]) {
      expect(plainText(value)).toBeNull();
    }
    for (const type of ['html', 'text', 'image', 'file', 'carousel', 'list', 'form', 'formResponse', 'location', 'template']) {
      for (const junk of [null, 1, 'x', [], {}]) {
        expect(() => plainText({ type, body: junk, text: junk, items: junk, fields: junk, location: junk, coordinates: junk, mediaUrl: junk })).not.toThrow();
      }
    }
  });

  it('returns text Postgres can store', () => {
    expect(plainText({ type: 'text', text: 'a\u0000b\uDC00' })).toBe('ab\uFFFD');
    expect(plainText({ type: 'html', body: '<p>&#0;x&#xD800;</p>' })).toBe('\uFFFDx\uFFFD');
  });
});
