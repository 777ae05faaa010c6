import { describe, expect, it } from 'vitest';
import { authorKey, authorRow } from '../../src/sync/author-key.ts';

const SUPPORT = 'zen:support:user_id';
const SUNCO = 'zen:sunco:user_id';

describe('authorKey', () => {
  it('prefers a positive support id', () => {
    expect(authorKey({ [SUPPORT]: 123, [SUNCO]: 'abc', type: 'agent', display_name: 'A' })).toBe('support:123');
  });

  it('accepts a support id given as a digit string, in canonical form', () => {
    expect(authorKey({ [SUPPORT]: '123' })).toBe('support:123');
    expect(authorKey({ [SUPPORT]: '00123' })).toBe('support:123');
  });

  it('falls back to the sunco id for bots (support id -1) and unusable support ids', () => {
    expect(authorKey({ [SUPPORT]: -1, [SUNCO]: 'bot1', type: 'bot' })).toBe('sunco:bot1');
    for (const bad of [0, 1.5, '12a', '', null, true, {}, [], Number.NaN, 2 ** 60]) {
      expect(authorKey({ [SUPPORT]: bad, [SUNCO]: 's' })).toBe('sunco:s');
    }
  });

  it('falls back to anonymous when there is no usable id', () => {
    expect(authorKey({ [SUPPORT]: -1, [SUNCO]: '  ', type: 'user', display_name: 'Ann' })).toBe('anonymous:user:Ann');
    expect(authorKey({ display_name: 'Ann' })).toBe('anonymous:unknown:Ann');
    expect(authorKey({ type: 'bot' })).toBe('anonymous:bot:');
    expect(authorKey({ type: 5, display_name: ['x'] })).toBe('anonymous:unknown:');
    expect(authorKey({})).toBe('anonymous:unknown:');
  });

  it('is null without an author object, and never throws', () => {
    for (const none of [undefined, null, 'agent', 42, true, [], [{ [SUPPORT]: 1 }]]) {
      expect(authorKey(none)).toBeNull();
    }
  });

  it('makes keys Postgres can store', () => {
    expect(authorKey({ [SUNCO]: 'a\u0000b' })).toBe('sunco:ab');
    expect(authorKey({ type: 'user', display_name: 'x\uD800' })).toBe('anonymous:user:x\uFFFD');
  });
});

describe('authorRow', () => {
  it('keeps the support id as received, -1 included', () => {
    expect(authorRow({ [SUPPORT]: -1, [SUNCO]: 'bot1', type: 'bot', display_name: 'Bot', avatar_url: 'u' })).toEqual({
      authorKey: 'sunco:bot1',
      supportUserId: -1,
      suncoUserId: 'bot1',
      type: 'bot',
      displayName: 'Bot',
      avatarUrl: 'u',
    });
  });

  it('nulls fields that are absent or of the wrong type', () => {
    expect(authorRow({ [SUPPORT]: 'x', [SUNCO]: 9, type: 1, display_name: null, avatar_url: {} })).toEqual({
      authorKey: 'sunco:9',
      supportUserId: null,
      suncoUserId: '9',
      type: null,
      displayName: null,
      avatarUrl: null,
    });
    expect(authorRow({ [SUPPORT]: '77' })?.supportUserId).toBe(77);
  });

  it('is null without an author object', () => {
    expect(authorRow(undefined)).toBeNull();
    expect(authorRow('someone')).toBeNull();
  });
});
