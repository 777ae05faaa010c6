// The event → action mapping, one case per event type Zendesk sends, and the signature check.
import { describe, expect, it } from 'vitest';
import { signWebhook, timestampSkewSeconds, verifyWebhookSignature } from '../../src/serve/signature.ts';
import { SUBSCRIBED_EVENT_TYPES, webhookAction } from '../../src/serve/webhook-events.ts';

const event = (type: string, ticketId: unknown = '123', extra: Record<string, unknown> = {}) => ({
  type: `zen:event-type:ticket.${type}`,
  id: 'evt-1',
  subject: `zen:ticket:${String(ticketId)}`,
  detail: { id: ticketId },
  ...extra,
});

describe('webhookAction', () => {
  it.each([
    ['comment_added', 'sync'],
    ['created', 'sync'],
    ['status_changed', 'sync'],
    // The ticket's own fields: its row is read again, its conversation log is not.
    ['priority_changed', 'row'],
    ['tags_changed', 'row'],
    // But a bot's handover reassigns the ticket, and the handover is in the log.
    ['agent_assignment_changed', 'sync'],
    ['group_assignment_changed', 'sync'],
    ['custom_field_changed', 'row'],
    ['custom_status_changed', 'row'],
    ['undeleted', 'sync'],
    ['merged', 'sync'],
    ['comment_redacted', 'full'],
    ['comment_made_private', 'full'],
    ['attachment_redacted_from_comment', 'full'],
    ['soft_deleted', 'deleted'],
    // A ticket change Zendesk adds later still means the ticket changed.
    ['some_future_change', 'sync'],
  ])('ticket.%s → %s', (type, kind) => {
    expect(webhookAction(event(type))).toEqual({ kind, ticketId: 123, eventId: 'evt-1', type: `zen:event-type:ticket.${type}` });
  });

  it('ticket.permanently_deleted → deleted, permanently: the 404 that follows cannot tell an erasure from the bin', () => {
    const type = 'zen:event-type:ticket.permanently_deleted';
    expect(webhookAction(event('permanently_deleted'))).toEqual({ kind: 'deleted', ticketId: 123, eventId: 'evt-1', type, permanently: true });
  });

  it('subscribes to every type it maps', () => {
    for (const type of SUBSCRIBED_EVENT_TYPES) expect(webhookAction({ type, id: 'e', detail: { id: 5 } }).kind).not.toBe('ignore');
  });

  it('subscribes to every change of stored events and every deletion: without them a redaction waits for the next full read', () => {
    const types = ['comment_redacted', 'comment_made_private', 'attachment_redacted_from_comment', 'soft_deleted', 'permanently_deleted', 'undeleted'];
    expect(SUBSCRIBED_EVENT_TYPES).toEqual(expect.arrayContaining(types.map((t) => `zen:event-type:ticket.${t}`)));
  });

  it('takes the ticket id from detail.id, else from the subject', () => {
    expect(webhookAction({ type: 'zen:event-type:ticket.created', subject: 'zen:ticket:77' })).toMatchObject({ kind: 'sync', ticketId: 77 });
    expect(webhookAction(event('created', 88))).toMatchObject({ ticketId: 88 });
  });

  it('refuses a ticket event whose subject names something else, or another ticket than detail.id', () => {
    expect(webhookAction({ type: 'zen:event-type:ticket.created', id: 'e', subject: 'zen:user:16', detail: { id: '16' } }).kind).toBe('invalid');
    expect(webhookAction({ type: 'zen:event-type:ticket.created', id: 'e', subject: 'zen:ticket:16', detail: { id: '17' } }).kind).toBe('invalid');
    expect(webhookAction({ type: 'zen:event-type:ticket.created', id: 'e', subject: 42, detail: { id: '16' } }).kind).toBe('invalid');
    // detail.id alone, as some test sends carry it, still names the ticket.
    expect(webhookAction({ type: 'zen:event-type:ticket.created', id: 'e', detail: { id: '16' } })).toMatchObject({ kind: 'sync', ticketId: 16 });
  });

  it('reads trigger bodies: ticket_id as a string or a number, no event id', () => {
    expect(webhookAction({ ticket_id: '123' })).toEqual({ kind: 'sync', ticketId: 123, type: 'trigger' });
    expect(webhookAction({ ticket_id: 456, comment: 'x' })).toEqual({ kind: 'sync', ticketId: 456, type: 'trigger' });
  });

  it('reads a trigger body\'s "full": true as a full re-read, false or absent as a plain sync', () => {
    expect(webhookAction({ ticket_id: '123', full: true })).toEqual({ kind: 'full', ticketId: 123, type: 'trigger' });
    expect(webhookAction({ ticket_id: '123', full: false })).toEqual({ kind: 'sync', ticketId: 123, type: 'trigger' });
    expect(webhookAction({ ticket_id: '123' })).toEqual({ kind: 'sync', ticketId: 123, type: 'trigger' });
  });

  it.each([
    ['a string', 'yes', 'a string'],
    ['the string "true"', 'true', 'a string'],
    ['a number', 1, 'a number'],
    ['null', null, 'null'],
    ['an object', { on: true }, 'an object'],
    ['an array', [true], 'an array'],
  ])('refuses a trigger body whose "full" is %s, saying what it is and not repeating it', (_name, full, kind) => {
    expect(webhookAction({ ticket_id: '123', full })).toEqual({ kind: 'invalid', reason: 'invalid_field', problem: `"full" must be true or false, not ${kind}` });
  });

  it('reads a trigger body with a "type" field of its own (the ticket\'s type) as a trigger body', () => {
    expect(webhookAction({ ticket_id: '8', type: 'incident' })).toEqual({ kind: 'sync', ticketId: 8, type: 'trigger' });
    // {{ticket.ticket_type}} of a ticket without one.
    expect(webhookAction({ ticket_id: '8', type: '' })).toEqual({ kind: 'sync', ticketId: 8, type: 'trigger' });
    expect(webhookAction({ ticket_id: '8', full: true, type: 'Question' })).toEqual({ kind: 'full', ticketId: 8, type: 'trigger' });
    expect(webhookAction({ ticket_id: '8', type: 7 })).toEqual({ kind: 'sync', ticketId: 8, type: 'trigger' });
    // Without its ticket id it is a trigger body that names no ticket, refused (400) so the admin sees it.
    expect(webhookAction({ type: 'incident' })).toMatchObject({ kind: 'invalid', reason: 'no_ticket' });
  });

  it('leaves a "full" in an event body alone: the event type says what to do', () => {
    expect(webhookAction(event('created', '123', { full: 'yes' }))).toMatchObject({ kind: 'sync', ticketId: 123 });
  });

  it('ignores event types about anything but tickets', () => {
    expect(webhookAction({ type: 'zen:event-type:user.created', detail: { id: '1' } })).toEqual({ kind: 'ignore', type: 'zen:event-type:user.created' });
    expect(webhookAction({ type: 'zen:event-type:organization.created' }).kind).toBe('ignore');
  });

  it.each([
    ['not an object', [1, 2]],
    ['null', null],
    ['a string', 'ticket 1'],
    ['an event without its ticket', { type: 'zen:event-type:ticket.created', id: 'e' }],
    ['an unrendered placeholder', { ticket_id: '{{ticket.id}}' }],
    ['zero', { ticket_id: 0 }],
    ['a negative id', { ticket_id: -4 }],
    ['a fraction', { ticket_id: 1.5 }],
    ['no id at all', { comment: 'hello' }],
  ])('is invalid for %s', (_name, body) => {
    expect(webhookAction(body)).toMatchObject({ kind: 'invalid', reason: 'no_ticket' });
  });
});

describe('signature', () => {
  const body = Buffer.from('{"ticket_id":"1"}');
  const timestamp = '2026-11-30T12:00:00Z';

  it('matches Zendesk\'s scheme: base64 HMAC-SHA256 of timestamp + body', () => {
    // Computed independently: printf '%s' '2026-11-30T12:00:00Z{"ticket_id":"1"}' | openssl dgst -sha256 -hmac secret-one -binary | base64
    expect(signWebhook('secret-one', timestamp, body)).toBe('Gp5ttyl063tD3rR4tEereumdhUQPYhLs11VXGqTsPmE=');
  });

  it('accepts any of the secrets and nothing else', () => {
    const signature = signWebhook('secret-two', timestamp, body);
    expect(verifyWebhookSignature(['secret-one', 'secret-two'], timestamp, body, signature)).toBe(true);
    expect(verifyWebhookSignature(['secret-one'], timestamp, body, signature)).toBe(false);
    expect(verifyWebhookSignature(['secret-two'], '2026-11-30T12:00:01Z', body, signature)).toBe(false);
    expect(verifyWebhookSignature(['secret-two'], timestamp, body, signature.slice(0, 10))).toBe(false);
  });

  it('measures the timestamp\'s distance from now, and refuses what is not a date', () => {
    const now = Date.parse(timestamp);
    expect(timestampSkewSeconds('2026-11-30T11:55:00Z', now)).toBe(300);
    expect(timestampSkewSeconds('2026-11-30T12:00:30Z', now)).toBe(30);
    expect(timestampSkewSeconds(String(now / 1000 - 10), now)).toBe(10);
    expect(timestampSkewSeconds('soon', now)).toBeUndefined();
  });
});
