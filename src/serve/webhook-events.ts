// What a webhook asks convlog to do: a pure function of its parsed body, so every event type
// is decided here and tested without a server.
import { isRecord } from '../sync/fields.ts';
import { commentOfEvent, isoTime, type WebhookComment } from './webhook-comment.ts';

export type { WebhookComment };

export type WebhookAction =
  /** `comment`: the comment a comment_added event carries, shown as pending until the sync stores it. */
  | { kind: 'sync'; ticketId: number; eventId?: string; type: string; comment?: WebhookComment }
  /**
   * The ticket's existing events changed (a redaction): re-read it from the first event. `at`: the
   * webhook's `time`, when it has a usable one.
   */
  | { kind: 'full'; ticketId: number; eventId?: string; type: string; at?: string }
  /**
   * The ticket was deleted in Zendesk: synced, whose 404 the deletion handling takes. `permanently`:
   * erased for good (permanently_deleted), which that 404 alone could not tell from the bin.
   */
  | { kind: 'deleted'; ticketId: number; eventId?: string; type: string; permanently?: true }
  /**
   * A change to the ticket's own fields (assignee, group, priority, tags…), none to its
   * conversation: only its `tickets` row is read again, and no conversation-log request is spent.
   */
  | { kind: 'row'; ticketId: number; eventId?: string; type: string }
  /** An event that concerns no ticket convlog keeps: answered 200 and counted. */
  | { kind: 'ignore'; type: string };

/**
 * `no_ticket`: the body names no ticket to act on. `invalid_field`: it names one, but a field it
 * may carry is not what it may be (a trigger's `full`).
 */
export type WebhookReading = WebhookAction | { kind: 'invalid'; reason: 'no_ticket' | 'invalid_field'; problem: string };

/** What the `type` of every event-subscription body starts with. */
const EVENT_PREFIX = 'zen:event-type:';
const TICKET_EVENT_PREFIX = `${EVENT_PREFIX}ticket.`;

/**
 * A new assignee or group: synced as any change is, since a messaging ticket's bot hands over
 * with one, and the handover is in its conversation log.
 */
const ASSIGNMENT_CHANGES = ['agent_assignment_changed', 'group_assignment_changed'];

/**
 * Changes of the other fields the tickets row keeps (docs/tickets.md), by the names Zendesk
 * documents, which `webhook create` subscribes to; the ticket's type and form have event types
 * too, subscribed to by hand if wanted.
 */
const FIELD_CHANGES = [
  'priority_changed',
  'tags_changed',
  'subject_changed',
  'requester_changed',
  'organization_changed',
  'brand_changed',
  'custom_field_changed',
  'custom_status_changed',
];

/** The event types `convlog webhook create` subscribes to. */
export const SUBSCRIBED_EVENT_TYPES = [
  'comment_added',
  'created',
  'status_changed',
  'comment_redacted',
  'comment_made_private',
  'attachment_redacted_from_comment',
  'soft_deleted',
  'permanently_deleted',
  'undeleted',
  'merged',
  ...ASSIGNMENT_CHANGES,
  ...FIELD_CHANGES,
].map((event) => `${TICKET_EVENT_PREFIX}${event}`);

/** Bodies a trigger sends carry no type; they are named so in metrics and logs. */
const TRIGGER_TYPE = 'trigger';

// Each changes events already stored (text or a file removed, a comment made private): a resumed
// read of a long ticket never sees its earlier pages again, only a full re-read does.
const FULL_REREAD = new Set(['comment_redacted', 'comment_made_private', 'attachment_redacted_from_comment']);
const DELETED = new Set(['soft_deleted', 'permanently_deleted']);
const PERMANENTLY_DELETED = 'permanently_deleted';
// The conversation log holds messages, comments and calls, never a change of these fields: a
// sync for one would spend a conversation-log request (100 a minute by default) to read nothing.
// A status change stays a sync, as do assignments: a messaging ticket's may come with
// conversation events.
const ROW_ONLY = new Set([
  ...FIELD_CHANGES,
  'submitter_changed',
  'type_changed',
  'ticket_type_changed',
  'form_changed',
  'external_id_changed',
  'task_due_at_changed',
  'problem_link_changed',
  'followers_changed',
  'email_ccs_changed',
]);
// Only a new comment is pending: a redacted one is already stored, and its full re-read corrects it.
const COMMENT_ADDED = 'comment_added';

/**
 * Event-subscription bodies (`type`, `id`, `subject: "zen:ticket:123"`, `detail.id`) and
 * trigger bodies (`{"ticket_id": "123"}`, and `"full": true` for a full re-read). Any other
 * `ticket.*` type is a change to the ticket and syncs it, so a type Zendesk adds later is not
 * lost, but for the changes of its fields alone (ROW_ONLY), which have its row read; types about
 * anything else are ignored. Only a `type` starting `zen:event-type:` makes a
 * body an event: a trigger's body may carry a field of that name of its own (`"type":
 * "{{ticket.ticket_type}}"`), and read as an event type it would have been ignored, with a 200.
 */
export function webhookAction(body: unknown): WebhookReading {
  if (!isRecord(body)) return { kind: 'invalid', reason: 'no_ticket', problem: 'the body is not a JSON object' };
  const payload = body;
  const type = typeof payload.type === 'string' && payload.type.startsWith(EVENT_PREFIX) ? payload.type : undefined;
  if (type !== undefined && !type.startsWith(TICKET_EVENT_PREFIX)) return { kind: 'ignore', type };

  const ticketId = type === undefined ? idFrom(payload.ticket_id) : ticketIdOfEvent(payload);
  if (ticketId === undefined) return { kind: 'invalid', reason: 'no_ticket', problem: 'no ticket id in the body' };
  if (type === undefined) return triggerAction(payload, { ticketId, type: TRIGGER_TYPE });
  const eventId = typeof payload.id === 'string' && payload.id.trim() !== '' ? payload.id.trim() : undefined;
  const event = type.slice(TICKET_EVENT_PREFIX.length);
  const base = { ticketId, type, ...(eventId ? { eventId } : {}) };
  if (FULL_REREAD.has(event)) {
    const at = isoTime(payload.time);
    return { kind: 'full', ...base, ...(at ? { at } : {}) };
  }
  if (ROW_ONLY.has(event)) return { kind: 'row', ...base };
  if (DELETED.has(event)) return { kind: 'deleted', ...base, ...(event === PERMANENTLY_DELETED ? { permanently: true as const } : {}) };
  // A malformed comment is no reason to refuse the webhook: the ticket is synced all the same.
  const comment = event === COMMENT_ADDED ? commentOfEvent(payload) : undefined;
  return { kind: 'sync', ...base, ...(comment ? { comment } : {}) };
}

/**
 * A trigger's body says only what its admin wrote into it: the ticket, and `"full": true` when the
 * trigger is about a change to events already stored (a comment redacted, edited or made private
 * by a macro), which a resumed read of a long ticket would never see. Strictly a boolean: a typo
 * such as `"full": "yes"` is refused rather than taken for a plain sync the admin did not ask for.
 */
function triggerAction(payload: Record<string, unknown>, base: { ticketId: number; type: string }): WebhookReading {
  const full = payload.full;
  if (full !== undefined && typeof full !== 'boolean') {
    return { kind: 'invalid', reason: 'invalid_field', problem: `"full" must be true or false, not ${jsonType(full)}` };
  }
  return full ? { kind: 'full', ...base } : { kind: 'sync', ...base };
}

/** What kind of JSON value `value` is, for a message that must not repeat the value itself. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function ticketIdOfEvent(payload: Record<string, unknown>): number | undefined {
  const detail = payload.detail as Record<string, unknown> | undefined;
  const fromDetail = typeof detail === 'object' && detail !== null ? idFrom(detail.id) : undefined;
  if (payload.subject === undefined) return fromDetail;
  // A ticket event names its ticket in the subject too: a subject naming something else (a
  // user), or another ticket than detail.id, leaves no ticket to trust.
  const subject = typeof payload.subject === 'string' ? /^zen:ticket:(\d+)$/.exec(payload.subject.trim()) : null;
  const fromSubject = subject ? idFrom(subject[1]) : undefined;
  if (fromSubject === undefined) return undefined;
  return fromDetail === undefined || fromDetail === fromSubject ? fromSubject : undefined;
}

/** A positive integer id, given as a number or a string of digits (trigger placeholders are strings). */
function idFrom(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,15}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

/**
 * A comment_added event as Zendesk sends it, for `convlog webhook test`. Its comment has no id,
 * so serve records no pending comment: a test must not put a comment Zendesk does not have into
 * a real ticket's timeline.
 */
export function sampleTicketEvent(ticketId: number, eventId: string, at = new Date()): Record<string, unknown> {
  return {
    type: `${TICKET_EVENT_PREFIX}comment_added`,
    account_id: 0,
    id: eventId,
    time: at.toISOString(),
    zendesk_event_version: '2022-11-06',
    subject: `zen:ticket:${ticketId}`,
    detail: { id: String(ticketId) },
    event: { comment: { body: 'convlog webhook test', is_public: false } },
  };
}
