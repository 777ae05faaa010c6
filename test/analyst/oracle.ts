// What each view should hold, worked out from the simulator's events one ticket at a time, in
// plain loops: a second, independent statement of the rules the SQL views implement.
import type { ConversationEvent } from '../../src/simulator/index.ts';
import { authorKey } from '../../src/sync/map-page.ts';

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
      author_key: authorKey(e.author),
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
      author_key: authorKey(e.author),
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
