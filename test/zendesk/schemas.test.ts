import { describe, expect, it } from 'vitest';
import { InvalidResponse } from '../../src/errors/zendesk-errors.ts';
import { validateConversationLogPage } from '../../src/zendesk/schemas.ts';
import seedPage from '../fixtures/seed-page.json' with { type: 'json' };
import seedEvent from '../fixtures/seed-event.json' with { type: 'json' };

const page = (events: unknown[], meta: Record<string, unknown> = { has_more: false, after_cursor: 'abc' }) => ({ events, meta });

function problemOf(value: unknown): string {
  try {
    validateConversationLogPage(value, { ticketId: 9, cursor: 'c+/=' });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidResponse);
    expect((error as InvalidResponse).ticketId).toBe(9);
    expect((error as InvalidResponse).message).toContain('ticket 9');
    expect((error as InvalidResponse).message).toContain('c+/=');
    return (error as InvalidResponse).problem;
  }
  throw new Error('expected an InvalidResponse');
}

describe('validateConversationLogPage', () => {
  it('accepts the documented page and hands back the very same objects', () => {
    const input = structuredClone(seedPage);
    const snapshot = structuredClone(seedPage);
    const validated = validateConversationLogPage(input);
    expect(validated).toBe(input);
    expect(validated.events[0]).toBe(input.events[0]);
    expect(validated).toStrictEqual(snapshot);
    expect(JSON.stringify(validated)).toBe(JSON.stringify(snapshot));
  });

  it('passes unknown event types, content shapes and extra fields through untouched', () => {
    const odd = {
      ...structuredClone(seedEvent),
      type: 'Messaging::SomethingNew',
      content: { type: 'carousel', items: [{ title: 'a', actions: [] }] },
      author: {},
      brand_new_field: { nested: [1, null, 'x'] },
    };
    const input = page([odd], { has_more: false, after_cursor: null, extra: true });
    const validated = validateConversationLogPage(structuredClone(input));
    expect(validated).toStrictEqual(input);
  });

  it('accepts a missing or null after_cursor on the last page', () => {
    expect(() => validateConversationLogPage(page([], { has_more: false }))).not.toThrow();
    expect(() => validateConversationLogPage(page([], { has_more: false, after_cursor: null }))).not.toThrow();
  });

  it('says precisely what is wrong and where', () => {
    const events = Array.from({ length: 5 }, () => structuredClone(seedEvent) as Record<string, unknown>);
    events[3].reference = '';
    expect(problemOf(page(events))).toBe('events[3].reference: expected a non-empty string, got an empty string');

    const noId = structuredClone(seedEvent) as Record<string, unknown>;
    delete noId.id;
    expect(problemOf(page([noId]))).toBe('events[0].id: expected a non-empty string, got nothing');

    const badDate = { ...structuredClone(seedEvent), created_at: 'yesterday' };
    expect(problemOf(page([badDate]))).toBe('events[0].created_at: expected an ISO 8601 timestamp, got "yesterday"');

    const numericType = { ...structuredClone(seedEvent), type: 7 };
    expect(problemOf(page([numericType]))).toBe('events[0].type: expected a non-empty string, got number 7');

    expect(problemOf(page([1]))).toBe('events[0]: expected an event object, got number 1');
    expect(problemOf({ meta: { has_more: false } })).toBe('events: expected an array of events, got nothing');
    expect(problemOf(page([], { has_more: 'no' }))).toBe('meta.has_more: expected true or false, got "no"');
    expect(problemOf(page([], { has_more: false, after_cursor: 5 }))).toBe('meta.after_cursor: expected a string or null, got number 5');
    expect(problemOf(null)).toBe('(body): expected a JSON object with events and meta, got null');
  });

  it('refuses has_more without a cursor to follow', () => {
    expect(problemOf(page([], { has_more: true, after_cursor: null }))).toBe(
      'meta.after_cursor: expected a cursor because meta.has_more is true, got null',
    );
  });

  it('lists a few problems and counts the rest', () => {
    const events = Array.from({ length: 6 }, () => ({ ...structuredClone(seedEvent), reference: '' }));
    const problem = problemOf(page(events));
    expect(problem.split('; ')).toHaveLength(3);
    expect(problem).toMatch(/\(and 3 more problems\)$/);
  });
});
