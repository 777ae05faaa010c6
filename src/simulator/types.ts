// Shapes shared by the simulator's modules and its public API.

/** Author of an event. Every field is optional in the real API. */
export interface EventAuthor {
  avatar_url?: string;
  display_name?: string;
  type?: 'user' | 'agent' | 'bot' | (string & {});
  'zen:sunco:user_id'?: string;
  'zen:support:user_id'?: number;
  [extra: string]: unknown;
}

export interface EventAttachment {
  content_type: string;
  content_url: string;
  deleted: boolean;
  file_name: string;
  height?: number;
  id: number;
  inline: boolean;
  mapped_content_url: string;
  size: number;
  thumbnails?: EventAttachment[];
  url: string;
  width?: number;
  [extra: string]: unknown;
}

/**
 * One conversation-log event as the API serves it. Deliberately loose: the API is in early
 * access and adds event types and content shapes without notice.
 */
export interface ConversationEvent {
  attachments: EventAttachment[];
  author: EventAuthor;
  content: { type: string; [field: string]: unknown };
  created_at: string;
  id: string;
  metadata: {
    custom: Record<string, unknown>;
    public?: boolean;
    system: Record<string, unknown>;
    ticket_version: number;
    [extra: string]: unknown;
  };
  received_at?: string;
  reference: string;
  source?: { type: string; [extra: string]: unknown };
  type: string;
  [extra: string]: unknown;
}

/** A conversation-log page as served. */
export interface PageBody {
  events: ConversationEvent[];
  links: { next: string | null; prev: string | null };
  meta: { after_cursor: string | null; before_cursor: string | null; has_more: boolean };
}

export type MalformedKind = 'missing-events' | 'missing-reference' | 'wrong-types' | 'not-json';

export type RequestKind = 'conversation_log' | 'export' | 'users_me' | 'show_many' | 'ticket' | 'groups' | 'brands' | 'organizations' | 'webhooks' | 'other';

export interface SimRequest {
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  ticketId?: number;
  kind: RequestKind;
  /** Whether an Authorization header was sent. */
  authorization?: boolean;
}

export interface TicketVia {
  channel: string;
  source: { from: Record<string, unknown>; to: Record<string, unknown>; rel: string | null };
}

export interface CustomFieldValue {
  id: number;
  value: unknown;
}

/** A ticket as the incremental export and show_many serve it (without its url). */
export interface ExportTicket {
  id: number;
  external_id: string | null;
  via: TicketVia;
  created_at: string;
  updated_at: string;
  generated_timestamp: number;
  type: string | null;
  subject: string;
  raw_subject: string;
  description: string;
  priority: string | null;
  status: string;
  recipient: string | null;
  requester_id: number | null;
  submitter_id: number | null;
  assignee_id: number | null;
  organization_id: number | null;
  group_id: number | null;
  collaborator_ids: number[];
  follower_ids: number[];
  email_cc_ids: number[];
  problem_id: number | null;
  has_incidents: boolean;
  is_public: boolean;
  due_at: string | null;
  tags: string[];
  custom_fields: CustomFieldValue[];
  fields: CustomFieldValue[];
  satisfaction_rating: Record<string, unknown> | null;
  sharing_agreement_ids: number[];
  followup_ids: number[];
  ticket_form_id: number | null;
  brand_id: number | null;
  allow_channelback: boolean;
  allow_attachments: boolean;
  from_messaging_channel: boolean;
  [extra: string]: unknown;
}

/** Fields tests may change at runtime (sim.updateTicket). */
export type TicketPatch = Partial<Pick<ExportTicket, 'subject' | 'status' | 'priority' | 'type' | 'assignee_id' | 'group_id' | 'organization_id' | 'brand_id' | 'tags' | 'custom_fields' | 'satisfaction_rating'>>;
