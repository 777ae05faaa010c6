-- A bot's transfer to an agent is a bot in the conversation, with or without a bot message
-- before it. The summaries' bot outcome began "no bot message: no outcome", so a customer's
-- message followed by the bot's transferred_to_agent status change, and no agent yet, was neither
-- handover_pending nor waiting for an answer by that outcome, and the agent who then took over made
-- no handover. Now a pending transfer is handover_pending first, a transfer counts as the bot's
-- turn for handed_over_at, and a ticket with neither bot message nor transfer has no outcome.
-- And a customer waiting for an agent since a pending transfer, with no message of theirs
-- unanswered (the bot greeted, then transferred), has unanswered_since: the transfer's time
-- (it was empty while waiting_for_answer was true). The function is restated whole; only the
-- summaries' statement changed. Only the tickets these change are derived again: those with a
-- transfer (handover_requested_at), which a migration finds without reading events.
CREATE OR REPLACE FUNCTION "convlog"."refresh_ticket_analytics"(ticket_ids bigint[]) RETURNS void
LANGUAGE plpgsql
SET enable_seqscan = off
AS $fn$
DECLARE
  moved record;
BEGIN
-- Only the events whose place changed are written, each found by its key: a page is numbered
-- when it is stored, so this is usually none.
FOR moved IN
  SELECT reference, position FROM (
    SELECT reference, position AS stored,
           (row_number() OVER (PARTITION BY ticket_id ORDER BY created_at, received_at NULLS LAST, event_id, reference))::integer AS position
      FROM zendesk.conversation_events
     WHERE ticket_id = ANY(ticket_ids) AND deleted_at IS NULL
  ) numbered
  WHERE stored IS DISTINCT FROM position
LOOP
  UPDATE zendesk.conversation_events SET position = moved.position WHERE reference = moved.reference;
END LOOP;

-- A ticket left with no live event loses its summary. The tickets that still have one are found
-- as every other statement here finds events (by the ticket ids, through the index) and hashed
-- once: no join from the summaries to the events table.
DELETE FROM zendesk.ticket_summaries s
WHERE s.ticket_id = ANY(ticket_ids)
  AND s.ticket_id NOT IN (SELECT e.ticket_id FROM zendesk.conversation_events e WHERE e.ticket_id = ANY(ticket_ids) AND e.deleted_at IS NULL);

INSERT INTO zendesk.ticket_summaries AS s (
  ticket_id, channel, end_user_source, first_event_at, last_event_at, events, end_user_messages,
  agent_messages, bot_messages, internal_notes, other_events, agents_involved, attachments,
  first_end_user_message_at, first_agent_reply_at, first_reply_agent_key, handed_over_at,
  handover_requested_at, bot_outcome, unanswered_since, last_message_author_type)
WITH events AS (
  SELECT
    e.ticket_id, e.position, e.created_at, e.event_kind, e.channel, e.source_type, e.author_key,
    e.author_type, e.attachment_count,
    (e.event_kind = 'message' AND e.author_type = 'user') AS by_end_user,
    (e.event_kind = 'message' AND e.author_type = 'agent') AS by_agent,
    (e.event_kind = 'message' AND e.author_type = 'bot') AS by_bot,
    (e.type = 'Messaging::ConversationStatusChange' AND e.raw #>> '{content,status}' = 'transferred_to_agent') AS transfer
  FROM zendesk.conversation_events e
  WHERE e.ticket_id = ANY(ticket_ids) AND e.deleted_at IS NULL
  -- Keeps this subquery apart, so `transfer` is computed as the rows are read and `raw` goes
  -- no further: otherwise the window above would carry each event's whole JSON.
  OFFSET 0
), marked AS (
  SELECT
    events.*,
    -- Three aggregates over the whole ticket, computed once per ticket (positions are unique
    -- within a ticket), where frames sliding along it made Postgres hold every row.
    coalesce(position > min(position) FILTER (WHERE by_end_user) OVER ticket, false) AS after_end_user,
    coalesce(position > min(position) FILTER (WHERE by_bot OR transfer) OVER ticket, false) AS after_bot,
    coalesce(position < max(position) FILTER (WHERE by_agent) OVER ticket, false) AS agent_later
  FROM events
  WINDOW ticket AS (PARTITION BY ticket_id)
), per_ticket AS (
  SELECT
    ticket_id,
    bool_or(channel = 'messaging') AS has_messaging,
    (array_agg(channel ORDER BY position))[1] AS first_channel,
    (array_agg(source_type ORDER BY position) FILTER (WHERE by_end_user AND channel = 'messaging' AND source_type NOT LIKE 'zd:%'))[1] AS end_user_source,
    min(created_at) AS first_event_at,
    max(created_at) AS last_event_at,
    count(*)::integer AS events,
    count(*) FILTER (WHERE by_end_user)::integer AS end_user_messages,
    count(*) FILTER (WHERE by_agent)::integer AS agent_messages,
    count(*) FILTER (WHERE by_bot)::integer AS bot_messages,
    count(*) FILTER (WHERE event_kind = 'internal_note')::integer AS internal_notes,
    count(*) FILTER (WHERE event_kind = 'other')::integer AS other_events,
    count(DISTINCT author_key) FILTER (WHERE by_agent)::integer AS agents_involved,
    sum(attachment_count)::integer AS attachments,
    min(created_at) FILTER (WHERE by_end_user) AS first_end_user_message_at,
    min(created_at) FILTER (WHERE by_agent AND after_end_user) AS first_agent_reply_at,
    (array_agg(author_key ORDER BY position) FILTER (WHERE by_agent AND after_end_user))[1] AS first_reply_agent_key,
    min(created_at) FILTER (WHERE by_agent AND after_bot) AS handed_over_at,
    max(created_at) FILTER (WHERE transfer) AS handover_requested_at,
    coalesce(bool_or(transfer AND NOT agent_later), false) AS handover_pending,
    -- A pending transfer is a wait for an agent from its time, if no unanswered message is older.
    least(min(created_at) FILTER (WHERE by_end_user AND NOT agent_later), min(created_at) FILTER (WHERE transfer AND NOT agent_later)) AS unanswered_since,
    (array_agg(author_type ORDER BY position DESC) FILTER (WHERE event_kind = 'message'))[1] AS last_message_author_type
  FROM marked
  GROUP BY ticket_id
)
SELECT
  ticket_id,
  CASE WHEN has_messaging THEN 'messaging' ELSE first_channel END,
  end_user_source, first_event_at, last_event_at, events, end_user_messages, agent_messages,
  bot_messages, internal_notes, other_events, agents_involved, attachments,
  first_end_user_message_at, first_agent_reply_at, first_reply_agent_key, handed_over_at,
  handover_requested_at,
  CASE
    WHEN handover_pending THEN 'handover_pending'
    WHEN bot_messages = 0 AND handover_requested_at IS NULL THEN NULL
    WHEN handed_over_at IS NOT NULL THEN 'handed_over'
    WHEN agent_messages > 0 THEN 'agent_first'
    ELSE 'contained'
  END,
  unanswered_since, last_message_author_type
FROM per_ticket
ON CONFLICT (ticket_id) DO UPDATE SET
  channel = excluded.channel, end_user_source = excluded.end_user_source,
  first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
  events = excluded.events, end_user_messages = excluded.end_user_messages,
  agent_messages = excluded.agent_messages, bot_messages = excluded.bot_messages,
  internal_notes = excluded.internal_notes, other_events = excluded.other_events,
  agents_involved = excluded.agents_involved, attachments = excluded.attachments,
  first_end_user_message_at = excluded.first_end_user_message_at,
  first_agent_reply_at = excluded.first_agent_reply_at, first_reply_agent_key = excluded.first_reply_agent_key,
  handed_over_at = excluded.handed_over_at, handover_requested_at = excluded.handover_requested_at,
  bot_outcome = excluded.bot_outcome, unanswered_since = excluded.unanswered_since,
  last_message_author_type = excluded.last_message_author_type, refreshed_at = now()
-- An unchanged ticket keeps its row version: nothing to write, vacuum or replicate.
WHERE (s.channel, s.end_user_source, s.first_event_at, s.last_event_at, s.events, s.end_user_messages,
       s.agent_messages, s.bot_messages, s.internal_notes, s.other_events, s.agents_involved, s.attachments,
       s.first_end_user_message_at, s.first_agent_reply_at, s.first_reply_agent_key, s.handed_over_at,
       s.handover_requested_at, s.bot_outcome, s.unanswered_since, s.last_message_author_type)
  IS DISTINCT FROM
      (excluded.channel, excluded.end_user_source, excluded.first_event_at, excluded.last_event_at, excluded.events, excluded.end_user_messages,
       excluded.agent_messages, excluded.bot_messages, excluded.internal_notes, excluded.other_events, excluded.agents_involved, excluded.attachments,
       excluded.first_end_user_message_at, excluded.first_agent_reply_at, excluded.first_reply_agent_key, excluded.handed_over_at,
       excluded.handover_requested_at, excluded.bot_outcome, excluded.unanswered_since, excluded.last_message_author_type);

DELETE FROM zendesk.reply_waits WHERE ticket_id = ANY(ticket_ids);

-- One turn: the customer messages since the previous agent message, and the agent message that
-- ends them. Bot messages neither start nor end a wait.
INSERT INTO zendesk.reply_waits (ticket_id, reply_number, reference, replied_at, agent_key, channel, waiting_since, end_user_messages, first_waiting_reference)
WITH messages AS (
  SELECT
    e.ticket_id, e.position, e.created_at, e.reference, e.author_type, e.author_key, e.channel,
    count(*) FILTER (WHERE e.author_type = 'agent') OVER (
      PARTITION BY e.ticket_id ORDER BY e.position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS agent_messages_before
  FROM zendesk.conversation_events e
  WHERE e.ticket_id = ANY(ticket_ids) AND e.deleted_at IS NULL
    AND e.event_kind = 'message' AND e.author_type IN ('user', 'agent')
), turns AS (
  SELECT
    ticket_id,
    min(created_at) FILTER (WHERE author_type = 'user') AS waiting_since,
    (array_agg(reference ORDER BY position) FILTER (WHERE author_type = 'user'))[1] AS first_waiting_reference,
    count(*) FILTER (WHERE author_type = 'user')::integer AS end_user_messages,
    (array_agg(reference) FILTER (WHERE author_type = 'agent'))[1] AS reference,
    (array_agg(position) FILTER (WHERE author_type = 'agent'))[1] AS position,
    (array_agg(created_at) FILTER (WHERE author_type = 'agent'))[1] AS replied_at,
    (array_agg(author_key) FILTER (WHERE author_type = 'agent'))[1] AS agent_key,
    (array_agg(channel) FILTER (WHERE author_type = 'agent'))[1] AS channel
  FROM messages
  GROUP BY ticket_id, agent_messages_before
)
SELECT ticket_id, (row_number() OVER (PARTITION BY ticket_id ORDER BY position))::integer, reference,
       replied_at, agent_key, channel, waiting_since, end_user_messages, first_waiting_reference
FROM turns
WHERE reference IS NOT NULL AND end_user_messages > 0;

DELETE FROM zendesk.ticket_days WHERE ticket_id = ANY(ticket_ids);

INSERT INTO zendesk.ticket_days (ticket_id, day, events, end_user_messages, agent_messages, bot_messages, internal_notes, messaging_events)
SELECT
  ticket_id,
  (created_at AT TIME ZONE 'UTC')::date,
  count(*)::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'user')::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'agent')::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'bot')::integer,
  count(*) FILTER (WHERE event_kind = 'internal_note')::integer,
  count(*) FILTER (WHERE channel = 'messaging')::integer
FROM zendesk.conversation_events
WHERE ticket_id = ANY(ticket_ids) AND deleted_at IS NULL
GROUP BY 1, 2;
END;
$fn$;
--> statement-breakpoint
SELECT "convlog"."refresh_ticket_analytics"(coalesce(array_agg(ticket_id ORDER BY ticket_id), '{}'))
  FROM "zendesk"."ticket_summaries" WHERE handover_requested_at IS NOT NULL;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_outcome" IS 'Empty when no bot wrote and none transferred the conversation; contained (no agent message at all and no transfer to an agent pending, also when the customer never wrote), handed_over (an agent wrote after the bot''s first message or transfer), handover_pending (transferred to an agent who has not written since: not contained, with or without a bot message before) or agent_first (agents wrote only before the bot).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."handed_over_at" IS 'When the first agent message after the bot''s first message or transfer to an agent was written.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."unanswered_since" IS 'When the customer started waiting: their first message that no agent message has followed yet, or a transfer to an agent that none has answered, whichever is earlier. Empty when an agent has had the last word (or the customer never wrote and no transfer is pending).';
