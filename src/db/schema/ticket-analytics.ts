// Per-ticket answers, kept by convlog.refresh_ticket_analytics (first written in
// migrations/0008_analytics.sql; its current form is in
// migrations/0020_upkeep_whole_ticket_windows.sql).
// Rewritten for exactly the tickets a run finished (or a purge removed), from those tickets' rows
// only, in the same transaction: the views read them instead of scanning every event.
import { sql } from 'drizzle-orm';
import { date, index, integer, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { id, tstz, zendesk } from './columns.ts';

const count = (name: string) => integer(name).notNull();

export const ticketSummaries = zendesk.table(
  'ticket_summaries',
  {
    ticketId: id('ticket_id').primaryKey(),
    channel: text('channel'),
    endUserSource: text('end_user_source'),
    firstEventAt: tstz('first_event_at').notNull(),
    lastEventAt: tstz('last_event_at').notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
    internalNotes: count('internal_notes'),
    otherEvents: count('other_events'),
    agentsInvolved: count('agents_involved'),
    attachments: count('attachments'),
    firstEndUserMessageAt: tstz('first_end_user_message_at'),
    firstAgentReplyAt: tstz('first_agent_reply_at'),
    firstReplyAgentKey: text('first_reply_agent_key'),
    handedOverAt: tstz('handed_over_at'),
    handoverRequestedAt: tstz('handover_requested_at'),
    botOutcome: text('bot_outcome'),
    unansweredSince: tstz('unanswered_since'),
    lastMessageAuthorType: text('last_message_author_type'),
    refreshedAt: tstz('refreshed_at').notNull().defaultNow(),
  },
  (t) => [
    index('ticket_summaries_first_event_idx').on(t.firstEventAt),
    index('ticket_summaries_first_reply_idx').on(t.firstAgentReplyAt),
    index('ticket_summaries_unanswered_idx').on(t.unansweredSince),
    // daily_activity filters on the UTC day of these times: an index on that very expression
    // lets a range of days be read from the index instead of testing every ticket.
    index('ticket_summaries_first_event_day_idx').on(sql`(((${t.firstEventAt} AT TIME ZONE 'UTC'))::date)`),
    index('ticket_summaries_handed_over_day_idx')
      .on(sql`(((${t.handedOverAt} AT TIME ZONE 'UTC'))::date)`)
      .where(sql`${t.handedOverAt} IS NOT NULL`),
  ],
);

export const replyWaits = zendesk.table(
  'reply_waits',
  {
    ticketId: id('ticket_id').notNull(),
    replyNumber: integer('reply_number').notNull(),
    reference: text('reference').notNull(),
    repliedAt: tstz('replied_at').notNull(),
    agentKey: text('agent_key'),
    channel: text('channel'),
    waitingSince: tstz('waiting_since').notNull(),
    endUserMessages: count('end_user_messages'),
    firstWaitingReference: text('first_waiting_reference').notNull(),
    // The UTC week and the wait, stored so that one index holds each week's waits in order:
    // weekly_reply_times then finds a week's median by skipping half of its entries in the index
    // instead of reading and sorting every reply (migrations/0013_weekly_reply_times.sql).
    week: timestamp('week').generatedAlwaysAs(sql`date_trunc('week', ("replied_at" AT TIME ZONE 'UTC'))`),
    waitSeconds: integer('wait_seconds').generatedAlwaysAs(sql`(extract(epoch FROM "replied_at" - "waiting_since"))::integer`),
    // The UTC day, for daily_activity: reply_waits_day_idx (day INCLUDE wait_seconds and
    // reply_number, migrations/0014_daily_ranges.sql; drizzle has no INCLUDE) answers a range of
    // days from the index alone.
    day: date('day', { mode: 'string' }).generatedAlwaysAs(sql`(("replied_at" AT TIME ZONE 'UTC'))::date`),
  },
  (t) => [
    primaryKey({ columns: [t.ticketId, t.replyNumber] }),
    index('reply_waits_replied_idx').on(t.repliedAt),
    index('reply_waits_week_wait_idx').on(t.week, t.waitSeconds),
    index('reply_waits_agent_idx').on(t.agentKey),
  ],
);

export const ticketDays = zendesk.table(
  'ticket_days',
  {
    ticketId: id('ticket_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
    internalNotes: count('internal_notes'),
    messagingEvents: count('messaging_events'),
  },
  (t) => [primaryKey({ columns: [t.ticketId, t.day] }), index('ticket_days_day_idx').on(t.day)],
);

export const ticketHours = zendesk.table(
  'ticket_hours',
  {
    ticketId: id('ticket_id').notNull(),
    // The hour of the day in UTC, 0 to 23: the ticket's events over all its days, by time of day.
    hourUtc: smallint('hour_utc').notNull(),
    events: count('events'),
    endUserMessages: count('end_user_messages'),
    messagingEndUserMessages: count('messaging_end_user_messages'),
    agentMessages: count('agent_messages'),
    botMessages: count('bot_messages'),
  },
  (t) => [primaryKey({ columns: [t.ticketId, t.hourUtc] })],
);
