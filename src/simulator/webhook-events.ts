// What a ticket change looks like as a Zendesk event-subscription webhook: the event type it is
// published under and the JSON body (type, account_id, id, time, zendesk_event_version, subject,
// detail, event). Zendesk's payloads carry ids as strings and enum values in capitals.
import { randomUUID } from 'node:crypto';
import type { TicketChange } from './store.ts';
import type { ConversationEvent, ExportTicket, TicketPatch } from './types.ts';

export const ACCOUNT_ID = 10_000_001;
const EVENT_VERSION = '2022-11-06';
const PREFIX = 'zen:event-type:ticket.';

const FIELD_EVENTS: Record<keyof TicketPatch, string> = {
  status: 'status_changed',
  subject: 'subject_changed',
  priority: 'priority_changed',
  type: 'type_changed',
  assignee_id: 'agent_assignment_changed',
  group_id: 'group_assignment_changed',
  organization_id: 'organization_changed',
  brand_id: 'brand_changed',
  tags: 'tags_changed',
  custom_fields: 'custom_field_changed',
  satisfaction_rating: 'satisfaction_rating_changed',
};

/**
 * Every event type a webhook may subscribe to: those the simulator publishes, and some Zendesk
 * has that the simulator never sends (it merges no tickets, changes no comment's visibility, and
 * has no requester changes or custom statuses). `conditional_ticket_events` (triggers) is accepted too.
 */
export const EVENT_TYPES = [
  ...new Set(
    [
      ...['comment_added', 'comment_redacted', 'comment_made_private', 'attachment_redacted_from_comment', 'soft_deleted', 'permanently_deleted', 'undeleted', 'created', 'merged'],
      ...['requester_changed', 'custom_status_changed', ...Object.values(FIELD_EVENTS)],
    ].map((name) => PREFIX + name),
  ),
];

export interface WebhookEvent {
  type: string;
  account_id: number;
  id: string;
  time: string;
  zendesk_event_version: string;
  subject: string;
  detail: Record<string, unknown>;
  event: Record<string, unknown>;
}

export function eventTypeOf(change: TicketChange): string {
  switch (change.kind) {
    case 'status_changed':
    case 'field_changed':
      return PREFIX + FIELD_EVENTS[change.field];
    default:
      return PREFIX + change.kind;
  }
}

const id = (value: number | null | undefined) => (value === null || value === undefined ? null : String(value));
const upper = (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : (value ?? null));

/** The ticket as an event's `detail` describes it. */
function ticketDetail(ticket: ExportTicket, actorId: number | null): Record<string, unknown> {
  return {
    actor_id: id(actorId),
    assignee_id: id(ticket.assignee_id),
    brand_id: id(ticket.brand_id),
    created_at: ticket.created_at,
    custom_status: null,
    description: ticket.description,
    external_id: ticket.external_id,
    form_id: id(ticket.ticket_form_id),
    group_id: id(ticket.group_id),
    id: String(ticket.id),
    is_public: ticket.is_public,
    organization_id: id(ticket.organization_id),
    priority: upper(ticket.priority),
    requester_id: id(ticket.requester_id),
    status: upper(ticket.status),
    subject: ticket.subject,
    submitter_id: id(ticket.submitter_id),
    tags: ticket.tags,
    type: upper(ticket.type),
    updated_at: ticket.updated_at,
    via: { channel: ticket.via.channel },
  };
}

function commentOf(event: ConversationEvent): Record<string, unknown> {
  const author = event.author;
  const body = typeof event.content.body === 'string' ? event.content.body : typeof event.content.text === 'string' ? event.content.text : '';
  return {
    comment: {
      author: { id: id(author['zen:support:user_id']), is_staff: author.type === 'agent', name: author.display_name ?? null },
      body,
      id: event.id,
      is_public: event.metadata.public ?? true,
    },
  };
}

function eventBody(change: TicketChange): Record<string, unknown> {
  switch (change.kind) {
    case 'comment_added':
    case 'comment_redacted':
      return commentOf(change.event);
    case 'attachment_redacted_from_comment':
      return { comment: { id: change.event.id } };
    case 'status_changed':
    case 'field_changed': {
      const show = (value: unknown) => (change.field === 'status' || change.field === 'priority' || change.field === 'type' ? upper(value) : value);
      return { current: show(change.current), previous: show(change.previous) };
    }
    default:
      return {};
  }
}

export function webhookEvent(change: TicketChange, ticket: ExportTicket, now: Date): WebhookEvent {
  const actor = change.kind === 'comment_added' ? (change.event.author['zen:support:user_id'] ?? null) : ticket.assignee_id;
  return {
    type: eventTypeOf(change),
    account_id: ACCOUNT_ID,
    id: randomUUID(),
    time: now.toISOString(),
    zendesk_event_version: EVENT_VERSION,
    subject: `zen:ticket:${ticket.id}`,
    detail: ticketDetail(ticket, actor),
    event: eventBody(change),
  };
}
