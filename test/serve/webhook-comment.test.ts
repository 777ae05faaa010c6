// The comment a ticket.comment_added webhook carries, as webhookAction reads it: every field
// Zendesk sends, and each way a comment can be malformed (the ticket is still synced then).
import { describe, expect, it } from 'vitest';
import { sampleTicketEvent, webhookAction } from '../../src/serve/webhook-events.ts';

const COMMENT = { id: '8100000000001', body: 'Where is my order?', is_public: true, author: { id: '42', is_staff: false, name: 'Ana' } };

const commentAdded = (comment: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'zen:event-type:ticket.comment_added',
  id: 'evt-9',
  time: '2026-11-30T12:00:01Z',
  subject: 'zen:ticket:123',
  detail: { id: '123' },
  event: { comment },
  ...extra,
});

describe('webhookAction reads the comment of a comment_added event', () => {
  it('returns it with the sync: id, body, visibility, author and the time of the event', () => {
    expect(webhookAction(commentAdded(COMMENT))).toEqual({
      kind: 'sync',
      ticketId: 123,
      eventId: 'evt-9',
      type: 'zen:event-type:ticket.comment_added',
      comment: {
        commentId: '8100000000001',
        body: 'Where is my order?',
        isPublic: true,
        authorZendeskId: 42,
        authorName: 'Ana',
        authorIsStaff: false,
        writtenAt: '2026-11-30T12:00:01.000Z',
        raw: COMMENT,
      },
    });
  });

  it('keeps an internal note by an agent, and a numeric comment id as text', () => {
    const note = { id: 77, body: 'checked the logs', is_public: false, author: { id: 9, is_staff: true, name: 'Alex' } };
    expect(webhookAction(commentAdded(note))).toMatchObject({
      comment: { commentId: '77', isPublic: false, authorZendeskId: 9, authorIsStaff: true, authorName: 'Alex' },
    });
  });

  it('leaves out what the author does not say well: a bot id (-1), no name, no staff flag, no author', () => {
    const bot = { ...COMMENT, author: { id: '-1', name: ' ', is_staff: 'yes' } };
    expect(webhookAction(commentAdded(bot))).toMatchObject({ comment: { authorZendeskId: null, authorName: null, authorIsStaff: null } });
    const { author: _, is_public: __, ...bare } = COMMENT;
    expect(webhookAction(commentAdded(bare))).toMatchObject({ comment: { authorZendeskId: null, authorName: null, authorIsStaff: null, isPublic: null } });
  });

  it('makes the text safe for Postgres: no NUL, no lone surrogate', () => {
    const dirty = { ...COMMENT, body: 'a\u0000b\ud800', author: { ...COMMENT.author, name: 'A\u0000na' } };
    const action = webhookAction(commentAdded(dirty));
    expect(action).toMatchObject({ comment: { body: 'ab\ufffd', authorName: 'Ana' } });
    expect(JSON.stringify(action)).not.toMatch(/\\u0000|\\ud800/);
  });

  it.each([
    ['no comment', undefined],
    ['a comment that is not an object', 'hello'],
    ['a comment that is an array', [COMMENT]],
    ['no comment id', { ...COMMENT, id: undefined }],
    ['a blank comment id', { ...COMMENT, id: '  ' }],
    ['a comment id that is an object', { ...COMMENT, id: { n: 1 } }],
    ['a fractional comment id', { ...COMMENT, id: 1.5 }],
    ['no body', { ...COMMENT, body: undefined }],
    ['a body that is not text', { ...COMMENT, body: { html: '<p>hi</p>' } }],
  ])('syncs the ticket without a comment for %s', (_name, comment) => {
    expect(webhookAction(commentAdded(comment))).toEqual({ kind: 'sync', ticketId: 123, eventId: 'evt-9', type: 'zen:event-type:ticket.comment_added' });
  });

  it.each([
    ['no time', { time: undefined }],
    ['a time that is not a date', { time: 'yesterday' }],
    ['a bare number', { time: '1' }],
    ['year 0, which Postgres does not have', { time: '0000-06-01T00:00:00Z' }],
    ['a time before 1970', { time: '1969-12-31T23:59:59Z' }],
    ['a time past year 9999 once in UTC', { time: '9999-12-31T23:00:00-05:00' }],
  ])('syncs the ticket without a comment for %s', (_name, extra) => {
    expect(webhookAction(commentAdded(COMMENT, extra))).not.toHaveProperty('comment');
  });

  it('keeps the first and last times it accepts', () => {
    expect(webhookAction(commentAdded(COMMENT, { time: '1970-01-01T00:00:00Z' }))).toMatchObject({ comment: { writtenAt: '1970-01-01T00:00:00.000Z' } });
    expect(webhookAction(commentAdded(COMMENT, { time: '9999-12-31T23:59:59Z' }))).toMatchObject({ comment: { writtenAt: '9999-12-31T23:59:59.000Z' } });
  });

  it("records no comment for `convlog webhook test`'s sample: Zendesk has no such comment", () => {
    const sample = sampleTicketEvent(123, 'convlog-test-1');
    expect(webhookAction(sample)).toEqual({ kind: 'sync', ticketId: 123, eventId: 'convlog-test-1', type: 'zen:event-type:ticket.comment_added' });
  });

  it('reads comments of comment_added only: a redaction re-reads the ticket, a trigger has none', () => {
    expect(webhookAction({ ...commentAdded(COMMENT), type: 'zen:event-type:ticket.comment_redacted' })).toEqual({
      kind: 'full',
      ticketId: 123,
      eventId: 'evt-9',
      type: 'zen:event-type:ticket.comment_redacted',
      // When: a comment_added for a comment written up to then may carry the text redacted.
      at: '2026-11-30T12:00:01.000Z',
    });
    expect(webhookAction({ ...commentAdded(COMMENT), type: 'zen:event-type:ticket.comment_redacted', time: 'soon' })).not.toHaveProperty('at');
    expect(webhookAction({ ticket_id: '123', event: { comment: COMMENT }, time: '2026-11-30T12:00:01Z' })).toEqual({ kind: 'sync', ticketId: 123, type: 'trigger' });
  });
});
