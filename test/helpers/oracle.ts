// The tests' independent statement of what convlog must store and what the views must answer,
// worked out from the simulator's events in plain loops by the rules the README states. It
// imports no production code from src/sync or src/db, so a bug there cannot hide in both.
import type { ConversationEvent, Simulator } from '../../src/simulator/index.ts';

// ---------------------------------------------------------------------------------------------
// Rows: events (their sanitised raw), authors, attachments and thumbnails.

/** Postgres cannot hold U+0000 nor lone surrogates: they are removed / replaced with U+FFFD. */
export function sanitized<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '').toWellFormed() as T;
  if (Array.isArray(value)) return value.map((v) => sanitized(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [sanitized(k), sanitized(v)])) as T;
  }
  return value;
}

/**
 * `support:<id>` for a positive Support user id, else `sunco:<id>`, else
 * `anonymous:<type>:<display_name>`; null for an event without an author object.
 */
export function expectedAuthorKey(author: unknown): string | null {
  if (author === null || typeof author !== 'object' || Array.isArray(author)) return null;
  const fields = author as Record<string, unknown>;
  const support = fields['zen:support:user_id'];
  if (typeof support === 'number' && support > 0) return `support:${support}`;
  const sunco = fields['zen:sunco:user_id'];
  if (typeof sunco === 'string' && sunco !== '') return `sunco:${sunco}`;
  return `anonymous:${String(fields.type ?? 'unknown')}:${String(fields.display_name ?? '')}`;
}

export interface ExpectedFile {
  id: number;
  ticketId: number;
  eventReference?: string;
  attachmentId?: number;
  fileName: string;
  contentType: string;
  size: number;
  deleted: boolean;
}

export interface Expected {
  /** reference -> the sanitised event, as `raw` must hold it. */
  events: Map<string, { ticketId: number; raw: ConversationEvent }>;
  authors: Set<string>;
  attachments: Map<number, ExpectedFile>;
  thumbnails: Map<number, ExpectedFile>;
}

export function expectedRows(sim: Simulator, ticketIds: readonly number[]): Expected {
  const expected: Expected = { events: new Map(), authors: new Set(), attachments: new Map(), thumbnails: new Map() };
  for (const ticketId of ticketIds) {
    for (const served of sim.events(ticketId)) {
      const event = sanitized(served);
      expected.events.set(event.reference, { ticketId, raw: event });
      const author = expectedAuthorKey(event.author);
      if (author !== null) expected.authors.add(author);
      for (const a of event.attachments) {
        expected.attachments.set(a.id, fileOf(a, ticketId, { eventReference: event.reference }));
        for (const t of a.thumbnails ?? []) expected.thumbnails.set(t.id, fileOf(t, ticketId, { attachmentId: a.id }));
      }
    }
  }
  return expected;
}

function fileOf(a: ConversationEvent['attachments'][number], ticketId: number, link: Partial<ExpectedFile>): ExpectedFile {
  return { id: a.id, ticketId, ...link, fileName: a.file_name, contentType: a.content_type, size: a.size, deleted: a.deleted };
}

export interface Counts {
  events: number;
  authors: number;
  attachments: number;
  thumbnails: number;
}

export function expectedCounts(expected: Expected): Counts {
  return {
    events: expected.events.size,
    authors: expected.authors.size,
    attachments: expected.attachments.size,
    thumbnails: expected.thumbnails.size,
  };
}

// ---------------------------------------------------------------------------------------------
// Views: one ticket at a time, as the analyst views should answer.

export interface TimelineRow {
  ticket_id: number;
  position: number;
  reference: string;
  created_at: string;
  event_type: string;
  event_kind: 'message' | 'internal_note' | 'other';
  author_key: string | null;
  author_name: string | null;
  author_type: string | null;
  channel: string;
  source_type: string | null;
  is_public: boolean | null;
  content_type: string | null;
  media_type: string | null;
  attachment_count: number;
}

export function timeline(ticketId: number, events: ConversationEvent[]): TimelineRow[] {
  return events.map((e, index) => {
    const isPublic = typeof e.metadata.public === 'boolean' ? e.metadata.public : e.type === 'Messaging::ConversationMessage' ? true : null;
    const kind = e.type === 'Comment' && isPublic === false ? 'internal_note' : ['Comment', 'Messaging::ConversationMessage'].includes(e.type) ? 'message' : 'other';
    return {
      ticket_id: ticketId,
      position: index + 1,
      reference: e.reference,
      created_at: new Date(e.created_at).toISOString(),
      event_type: e.type,
      event_kind: kind,
      author_key: expectedAuthorKey(e.author),
      author_name: e.author.display_name ?? null,
      author_type: e.author.type ?? null,
      channel: e.type.split('::')[0].toLowerCase(),
      source_type: e.source?.type ?? null,
      is_public: isPublic,
      content_type: e.content.type,
      media_type: typeof e.content.mediaType === 'string' ? e.content.mediaType : null,
      attachment_count: e.attachments.length,
    };
  });
}

const isMessage = (row: TimelineRow, type: string) => row.event_kind === 'message' && row.author_type === type;
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

export interface ReplyRow {
  ticket_id: number;
  reply_number: number;
  is_first_reply: boolean;
  replied_at: string;
  agent_key: string | null;
  waiting_since: string;
  end_user_messages: number;
  wait_seconds: number;
  reference: string;
  first_waiting_reference: string;
}

export function agentReplies(rows: TimelineRow[]): ReplyRow[] {
  const out: ReplyRow[] = [];
  let waiting: TimelineRow[] = [];
  for (const row of rows) {
    if (isMessage(row, 'user')) waiting.push(row);
    if (!isMessage(row, 'agent')) continue;
    if (waiting.length > 0) {
      out.push({
        ticket_id: row.ticket_id,
        reply_number: out.length + 1,
        is_first_reply: out.length === 0,
        replied_at: row.created_at,
        agent_key: row.author_key,
        waiting_since: waiting[0].created_at,
        end_user_messages: waiting.length,
        wait_seconds: seconds(waiting[0].created_at, row.created_at),
        reference: row.reference,
        first_waiting_reference: waiting[0].reference,
      });
    }
    waiting = [];
  }
  return out;
}

export interface TicketRow {
  ticket_id: number;
  channel: string | null;
  end_user_source: string | null;
  first_event_at: string | null;
  last_event_at: string | null;
  events: number;
  end_user_messages: number;
  agent_messages: number;
  bot_messages: number;
  internal_notes: number;
  other_events: number;
  agents_involved: number;
  attachments: number;
  first_end_user_message_at: string | null;
  first_agent_reply_at: string | null;
  first_agent_reply_seconds: number | null;
  first_reply_agent_key: string | null;
  had_bot: boolean;
  bot_handed_over: boolean;
  handed_over_at: string | null;
  last_message_author_type: string | null;
  unanswered_since: string | null;
}

export function ticketConversation(ticketId: number, rows: TimelineRow[]): TicketRow {
  const count = (test: (row: TimelineRow) => boolean) => rows.filter(test).length;
  let userSeen = false;
  let botSeen = false;
  let firstUser: string | null = null;
  let firstReply: TimelineRow | null = null;
  let handover: string | null = null;
  let unanswered: string | null = null;
  for (const row of rows) {
    if (isMessage(row, 'agent')) {
      if (userSeen && !firstReply) firstReply = row;
      if (botSeen && !handover) handover = row.created_at;
      unanswered = null;
    }
    if (isMessage(row, 'user')) {
      userSeen = true;
      firstUser ??= row.created_at;
      unanswered ??= row.created_at;
    }
    if (isMessage(row, 'bot')) botSeen = true;
  }
  const messages = rows.filter((row) => row.event_kind === 'message');
  const bots = count((row) => isMessage(row, 'bot'));
  return {
    ticket_id: ticketId,
    channel: rows.some((row) => row.channel === 'messaging') ? 'messaging' : (rows[0]?.channel ?? null),
    end_user_source: rows.find((row) => isMessage(row, 'user') && row.channel === 'messaging' && !row.source_type?.startsWith('zd:'))?.source_type ?? null,
    first_event_at: rows[0]?.created_at ?? null,
    last_event_at: rows.at(-1)?.created_at ?? null,
    events: rows.length,
    end_user_messages: count((row) => isMessage(row, 'user')),
    agent_messages: count((row) => isMessage(row, 'agent')),
    bot_messages: bots,
    internal_notes: count((row) => row.event_kind === 'internal_note'),
    other_events: count((row) => row.event_kind === 'other'),
    agents_involved: new Set(rows.filter((row) => isMessage(row, 'agent')).map((row) => row.author_key)).size,
    attachments: rows.reduce((sum, row) => sum + row.attachment_count, 0),
    first_end_user_message_at: firstUser,
    first_agent_reply_at: firstReply?.created_at ?? null,
    first_agent_reply_seconds: firstReply && firstUser ? seconds(firstUser, firstReply.created_at) : null,
    first_reply_agent_key: firstReply?.author_key ?? null,
    had_bot: bots > 0,
    bot_handed_over: handover !== null,
    handed_over_at: handover,
    last_message_author_type: messages.at(-1)?.author_type ?? null,
    unanswered_since: unanswered,
  };
}

export interface AttachmentRow {
  attachment_id: number;
  ticket_id: number;
  created_at: string;
  file_name: string;
  content_type: string;
  file_extension: string | null;
  size: number;
  deleted: boolean;
  thumbnail_count: number;
  event_reference: string;
  is_public: boolean | null;
  author_key: string | null;
  author_type: string | null;
}

export function attachments(ticketId: number, events: ConversationEvent[]): AttachmentRow[] {
  return events.flatMap((e) =>
    e.attachments.map((a) => ({
      attachment_id: a.id,
      ticket_id: ticketId,
      created_at: new Date(e.created_at).toISOString(),
      file_name: a.file_name,
      content_type: a.content_type,
      file_extension: /\.([A-Za-z0-9]{1,10})$/.exec(a.file_name)?.[1].toLowerCase() ?? null,
      size: a.size,
      deleted: a.deleted,
      thumbnail_count: a.thumbnails?.length ?? 0,
      event_reference: e.reference,
      is_public: typeof e.metadata.public === 'boolean' ? e.metadata.public : null,
      author_key: expectedAuthorKey(e.author),
      author_type: e.author.type ?? null,
    })),
  );
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The UTC calendar day of an ISO timestamp, as YYYY-MM-DD. */
export const utcDay = (iso: string) => iso.slice(0, 10);
