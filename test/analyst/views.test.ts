// Each analyst view on a known data set: simulator seed 1, tickets 1..40 synced through
// syncTicket (plus a deleted, a forbidden and a failed ticket). Expectations come from the
// simulator's own events (test/helpers/oracle.ts), and a few are pinned by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncedDataset, DELETED, FAILED, FORBIDDEN, SYNCED, type Dataset } from './dataset.ts';
import * as oracle from '../helpers/oracle.ts';

let data: Dataset;
let timelines: Map<number, oracle.TimelineRow[]>;

beforeAll(async () => {
  data = await syncedDataset();
  timelines = new Map(SYNCED.map((id) => [id, oracle.timeline(id, data.events.get(id)!)]));
}, 120_000);
afterAll(async () => {
  await data?.close();
});

/** node-pg gives bigint as string and timestamptz as Date; the oracle uses numbers and ISO strings. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => {
      if (value instanceof Date) return [key, value.toISOString()];
      if (typeof value === 'string' && /^(ticket_id|attachment_id|size|support_user_id)$/.test(key)) return [key, Number(value)];
      return [key, value];
    }),
  );
}

async function rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await data.database.pool.query(sql, params);
  return result.rows.map(plain);
}

const pick = <T extends object>(row: T, keys: readonly (keyof T)[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));
const allTimelineRows = () => SYNCED.flatMap((id) => timelines.get(id)!);

describe('conversation_timeline', () => {
  it('has one row per stored event, in ticket order, with author, channel, visibility and counts', async () => {
    const expected = allTimelineRows();
    const actual = await rows(
      `select ticket_id, position, reference, created_at, event_type, event_kind, author_key, author_name, author_type,
              channel, source_type, is_public, content_type, media_type, attachment_count
         from zendesk.conversation_timeline order by ticket_id, position`,
    );
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);
    // The data set exercises every kind, channel and visibility the view derives.
    expect(new Set(expected.map((r) => r.event_kind))).toEqual(new Set(['message', 'internal_note', 'other']));
    expect(new Set(expected.map((r) => r.channel))).toEqual(new Set(['comment', 'messaging']));
    expect(new Set(expected.map((r) => r.is_public))).toEqual(new Set([true, false, null]));
  });

  it('gives plain text for comments and messages, and the browser where Zendesk recorded one', async () => {
    const [ticket1] = await rows(`select body_text, user_agent from zendesk.conversation_timeline where ticket_id = 1 and position = 1`);
    expect(ticket1.body_text).toMatch(/\S/);
    expect(ticket1.body_text).not.toMatch(/<[a-z]/i);
    expect(ticket1.user_agent).toMatch(/^Mozilla\/5\.0 \(Windows NT/);
    const [{ n }] = await rows(
      `select count(*)::int as n from zendesk.conversation_timeline where content_type in ('html', 'text') and body_text is null`,
    );
    expect(n).toBe(0);
  });

  it('numbers each ticket from 1 without gaps, also when filtered to one ticket', async () => {
    const one = await rows(`select position from zendesk.conversation_timeline where ticket_id = 3 order by position`);
    expect(one.map((r) => r.position)).toEqual(timelines.get(3)!.map((r) => r.position));
    expect(one.length).toBe(100);
  });
});

describe('ticket_conversations', () => {
  const KEYS = [
    'ticket_id', 'channel', 'end_user_source', 'first_event_at', 'last_event_at', 'events', 'end_user_messages',
    'agent_messages', 'bot_messages', 'internal_notes', 'other_events', 'agents_involved', 'attachments',
    'first_end_user_message_at', 'first_agent_reply_at', 'first_agent_reply_seconds', 'first_reply_agent_key',
    'had_bot', 'bot_handed_over', 'handed_over_at', 'last_message_author_type', 'unanswered_since',
  ] as const;

  it('has one row per synced ticket with the counts, first reply and handover the events imply', async () => {
    const actual = await rows(`select ${KEYS.join(', ')} from zendesk.ticket_conversations where ticket_id <= 40 order by ticket_id`);
    const expected = SYNCED.map((id) => oracle.ticketConversation(id, timelines.get(id)!));
    expect(actual).toEqual(expected.map((row) => pick(row, KEYS)));
    // Both outcomes of a bot conversation occur in the data set.
    expect(expected.some((r) => r.had_bot && r.bot_handed_over)).toBe(true);
    expect(expected.some((r) => r.had_bot && !r.bot_handed_over)).toBe(true);
    expect(expected.some((r) => r.unanswered_since !== null)).toBe(true);
  });

  it('matches hand-checked tickets', async () => {
    const byId = new Map((await rows(`select * from zendesk.ticket_conversations`)).map((r) => [r.ticket_id, r]));
    // Ticket 1 (email): two customer comments, an internal note, then Liam's public reply.
    expect(byId.get(1)).toMatchObject({
      channel: 'comment', events: 4, end_user_messages: 2, agent_messages: 1, internal_notes: 1, bot_messages: 0,
      attachments: 3, first_end_user_message_at: '2025-11-11T14:41:45.000Z', first_agent_reply_at: '2025-11-11T14:55:14.000Z',
      first_agent_reply_seconds: 809, first_reply_agent_name: 'Liam Dubois (Support)', had_bot: false, bot_handed_over: false,
      last_message_author_type: 'agent', unanswered_since: null, sync_status: 'synced',
    });
    expect(byId.get(1)!.time_to_first_agent_reply).toMatchObject({ minutes: 13, seconds: 29 });
    // Ticket 6 (messaging): the bot greets, an agent writes; the customer only has the private transcript.
    expect(byId.get(6)).toMatchObject({
      channel: 'messaging', had_bot: true, bot_handed_over: true, handed_over_at: '2025-09-13T18:00:54.000Z',
      end_user_messages: 0, internal_notes: 3, first_agent_reply_at: null,
    });
    // Ticket 11 (messaging from Android): the first agent reply comes 55 s after the customer writes.
    expect(byId.get(11)).toMatchObject({
      end_user_source: 'android', other_events: 1, first_end_user_message_at: '2025-06-30T09:10:33.000Z',
      first_agent_reply_seconds: 55, first_reply_agent_name: 'Liam Dubois (Support)', handed_over_at: '2025-06-30T09:05:17.000Z',
    });
    // Ticket 15: one bot message and nothing else: contained by the bot.
    expect(byId.get(15)).toMatchObject({ events: 1, had_bot: true, bot_handed_over: false });
    // Ticket 2 has no events at all; it is still listed, with zeros.
    expect(byId.get(2)).toMatchObject({ events: 0, channel: null, end_user_messages: 0, had_bot: false, sync_status: 'synced' });
  });

  it('lists tickets that could not be synced, with their reason', async () => {
    const failed = await rows(
      `select ticket_id, sync_status, last_error, events from zendesk.ticket_conversations where sync_status <> 'synced' order by ticket_id`,
    );
    // A deleted ticket counts in no view: only its tombstone in ticket_sync says it was there.
    expect(failed.map((r) => [r.ticket_id, r.sync_status, r.events])).toEqual([
      [FORBIDDEN, 'forbidden', 0],
      [FAILED, 'failed', 0],
    ]);
    expect(failed[1].last_error).toMatch(/expected an array of events/);
    const [tombstone] = await rows(`select status, deleted_how from zendesk.ticket_sync where ticket_id = $1`, [DELETED]);
    expect(tombstone).toEqual({ status: 'not_found', deleted_how: '404' });
    const [fresh] = await rows(`select max(sync_age) < interval '10 minutes' as fresh from zendesk.ticket_conversations`);
    expect(fresh.fresh).toBe(true);
  });
});

describe('attachments_with_context', () => {
  it('has every comment attachment with its event, author and thumbnail count', async () => {
    const expected = SYNCED.flatMap((id) => oracle.attachments(id, data.events.get(id)!)).sort((a, b) => a.attachment_id - b.attachment_id);
    const actual = await rows(
      `select attachment_id, ticket_id, created_at, file_name, content_type, file_extension, size, deleted, thumbnail_count,
              event_reference, is_public, author_key, author_type
         from zendesk.attachments_with_context order by attachment_id`,
    );
    expect(actual).toEqual(expected);
    expect(expected.some((a) => a.thumbnail_count > 1)).toBe(true);
    expect(expected.some((a) => a.deleted)).toBe(true);
  });
});

describe('agent_replies', () => {
  it('has one row per agent message that answers a waiting customer, with the wait', async () => {
    const expected = SYNCED.flatMap((id) => oracle.agentReplies(timelines.get(id)!));
    const actual = await rows(
      `select ticket_id, reply_number, is_first_reply, replied_at, agent_key, waiting_since, end_user_messages, wait_seconds,
              reference, first_waiting_reference
         from zendesk.agent_replies order by ticket_id, reply_number`,
    );
    expect(actual).toEqual(expected);
    expect(expected.some((r) => r.end_user_messages > 1)).toBe(true);
  });

  it('agrees with ticket_conversations on the first reply', async () => {
    const mismatches = await rows(
      `select t.ticket_id from zendesk.ticket_conversations t
         full join (select * from zendesk.agent_replies where is_first_reply) r using (ticket_id)
        where t.first_agent_reply_at is distinct from r.replied_at
           or t.first_agent_reply_seconds is distinct from r.wait_seconds`,
    );
    expect(mismatches).toEqual([]);
  });
});

describe('author_activity', () => {
  it('has one row per author with what they wrote and, for agents, their reply times', async () => {
    const all = allTimelineRows();
    const replies = SYNCED.flatMap((id) => oracle.agentReplies(timelines.get(id)!));
    const keys = [...new Set(all.map((r) => r.author_key))].sort();
    const expected = keys.map((key) => {
      const mine = all.filter((r) => r.author_key === key);
      const answered = replies.filter((r) => r.agent_key === key);
      const first = answered.filter((r) => r.is_first_reply);
      return {
        author_key: key,
        tickets: new Set(mine.map((r) => r.ticket_id)).size,
        events: mine.length,
        messages: mine.filter((r) => r.event_kind === 'message').length,
        internal_notes: mine.filter((r) => r.event_kind === 'internal_note').length,
        other_events: mine.filter((r) => r.event_kind === 'other').length,
        attachments: mine.reduce((sum, r) => sum + r.attachment_count, 0),
        first_event_at: mine.map((r) => r.created_at).sort()[0],
        replies: answered.length,
        median_reply_wait_seconds: oracle.median(answered.map((r) => r.wait_seconds)),
        first_replies: first.length,
        median_first_reply_seconds: oracle.median(first.map((r) => r.wait_seconds)),
      };
    });
    const actual = await rows(
      `select author_key, tickets, events, messages, internal_notes, other_events, attachments, first_event_at, replies,
              median_reply_wait_seconds, first_replies, median_first_reply_seconds
         from zendesk.author_activity where events > 0 order by author_key collate "C"`,
    );
    expect(actual).toEqual(expected);
    // People the ticket context named (requesters, assignees) who have not written: all zeros.
    const silent = await rows(`select author_key, tickets, messages, replies from zendesk.author_activity where events = 0`);
    for (const row of silent) expect(row).toMatchObject({ author_key: expect.stringMatching(/^support:\d+$/), tickets: 0, messages: 0, replies: 0 });
    expect(expected.filter((r) => r.replies > 0).length).toBeGreaterThan(3);
  });
});

describe('daily_activity', () => {
  it('has one row per UTC day with activity (a day without any has no row)', async () => {
    const all = allTimelineRows();
    const tickets = SYNCED.map((id) => oracle.ticketConversation(id, timelines.get(id)!));
    const replies = SYNCED.flatMap((id) => oracle.agentReplies(timelines.get(id)!));
    const days = [...new Set(all.map((r) => oracle.utcDay(r.created_at)))].sort();
    const first = Date.parse(days[0]);
    const count = (Date.parse(days.at(-1)!) - first) / 86_400_000 + 1;
    const calendar = Array.from({ length: count }, (_, i) => new Date(first + i * 86_400_000).toISOString().slice(0, 10));
    const active = (day: string) =>
      all.some((r) => oracle.utcDay(r.created_at) === day) || replies.some((r) => oracle.utcDay(r.replied_at) === day);
    // The data set has quiet days, so leaving them out is tested.
    expect(calendar.some((day) => !active(day))).toBe(true);
    const expected = calendar.filter(active).map((day) => {
      const today = all.filter((r) => oracle.utcDay(r.created_at) === day);
      const answered = replies.filter((r) => oracle.utcDay(r.replied_at) === day);
      const byUser = (type: string) => today.filter((r) => r.event_kind === 'message' && r.author_type === type).length;
      return {
        day,
        tickets_active: new Set(today.map((r) => r.ticket_id)).size,
        tickets_started: tickets.filter((t) => t.first_event_at && oracle.utcDay(t.first_event_at) === day).length,
        events: today.length,
        end_user_messages: byUser('user'),
        agent_messages: byUser('agent'),
        bot_messages: byUser('bot'),
        internal_notes: today.filter((r) => r.event_kind === 'internal_note').length,
        messaging_events: today.filter((r) => r.channel === 'messaging').length,
        handovers: tickets.filter((t) => t.handed_over_at && oracle.utcDay(t.handed_over_at) === day).length,
        agent_replies: answered.length,
        median_reply_wait_seconds: oracle.median(answered.map((r) => r.wait_seconds)),
        first_replies: answered.filter((r) => r.is_first_reply).length,
      };
    });
    const actual = await rows(
      `select to_char(day, 'YYYY-MM-DD') as day, tickets_active, tickets_started, events, end_user_messages, agent_messages,
              bot_messages, internal_notes, messaging_events, handovers, agent_replies, median_reply_wait_seconds, first_replies
         from zendesk.daily_activity order by day`,
    );
    expect(actual).toEqual(expected);
  });
});

describe('hourly_profile', () => {
  it('has one row per UTC hour of the day with events, all days together', async () => {
    const all = allTimelineRows();
    const hourOf = (iso: string) => new Date(iso).getUTCHours();
    const hours = [...new Set(all.map((r) => hourOf(r.created_at)))].sort((a, b) => a - b);
    const expected = hours.map((hour) => {
      const rows = all.filter((r) => hourOf(r.created_at) === hour);
      const by = (type: string) => rows.filter((r) => r.event_kind === 'message' && r.author_type === type);
      const messaging = by('user').filter((r) => r.channel === 'messaging');
      return {
        hour_utc: hour,
        tickets: new Set(rows.map((r) => r.ticket_id)).size,
        events: rows.length,
        end_user_messages: by('user').length,
        agent_messages: by('agent').length,
        bot_messages: by('bot').length,
        messaging_end_user_messages: messaging.length,
        messaging_end_user_tickets: new Set(messaging.map((r) => r.ticket_id)).size,
      };
    });
    expect(await rows(`select * from zendesk.hourly_profile order by hour_utc`)).toEqual(expected);
    // The data set has customer messaging messages at several hours, so the counts are exercised.
    expect(expected.filter((h) => h.messaging_end_user_messages > 0).length).toBeGreaterThan(3);
  });
});
