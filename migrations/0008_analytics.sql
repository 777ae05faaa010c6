-- Analyst answers that stay fast as the data grows (issue: ten million events).
-- 1. conversation_events stops storing copies of raw (content, metadata, body_html: the views
--    read them from raw) and stores, once, what views filter on: event_kind, channel, is_public,
--    author_type (as written on the event), attachment_count, and its position in the ticket.
-- 2. Per-ticket answers live in ticket_summaries, reply_waits and ticket_days, rewritten by
--    convlog.refresh_ticket_analytics for exactly the tickets a run finished or a purge removed,
--    from those tickets' rows only: the cost of keeping them does not grow with the database.
-- 3. The views read those columns and tables; their columns are unchanged, new ones appended.
-- An existing database is converted here, in place, from its stored rows (one rewrite of the
-- events table, then one pass of the upkeep over every ticket): no request to Zendesk.
CREATE TABLE "zendesk"."reply_waits" (
	"ticket_id" bigint NOT NULL,
	"reply_number" integer NOT NULL,
	"reference" text NOT NULL,
	"replied_at" timestamp with time zone NOT NULL,
	"agent_key" text,
	"channel" text,
	"waiting_since" timestamp with time zone NOT NULL,
	"end_user_messages" integer NOT NULL,
	"first_waiting_reference" text NOT NULL,
	CONSTRAINT "reply_waits_ticket_id_reply_number_pk" PRIMARY KEY("ticket_id","reply_number")
);
--> statement-breakpoint
CREATE TABLE "zendesk"."ticket_days" (
	"ticket_id" bigint NOT NULL,
	"day" date NOT NULL,
	"events" integer NOT NULL,
	"end_user_messages" integer NOT NULL,
	"agent_messages" integer NOT NULL,
	"bot_messages" integer NOT NULL,
	"internal_notes" integer NOT NULL,
	"messaging_events" integer NOT NULL,
	CONSTRAINT "ticket_days_ticket_id_day_pk" PRIMARY KEY("ticket_id","day")
);
--> statement-breakpoint
CREATE TABLE "zendesk"."ticket_summaries" (
	"ticket_id" bigint PRIMARY KEY NOT NULL,
	"channel" text,
	"end_user_source" text,
	"first_event_at" timestamp with time zone NOT NULL,
	"last_event_at" timestamp with time zone NOT NULL,
	"events" integer NOT NULL,
	"end_user_messages" integer NOT NULL,
	"agent_messages" integer NOT NULL,
	"bot_messages" integer NOT NULL,
	"internal_notes" integer NOT NULL,
	"other_events" integer NOT NULL,
	"agents_involved" integer NOT NULL,
	"attachments" integer NOT NULL,
	"first_end_user_message_at" timestamp with time zone,
	"first_agent_reply_at" timestamp with time zone,
	"first_reply_agent_key" text,
	"handed_over_at" timestamp with time zone,
	"handover_requested_at" timestamp with time zone,
	"bot_outcome" text,
	"unanswered_since" timestamp with time zone,
	"last_message_author_type" text,
	"refreshed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "reply_waits_replied_idx" ON "zendesk"."reply_waits" USING btree ("replied_at");
--> statement-breakpoint
CREATE INDEX "reply_waits_agent_idx" ON "zendesk"."reply_waits" USING btree ("agent_key");
--> statement-breakpoint
CREATE INDEX "ticket_days_day_idx" ON "zendesk"."ticket_days" USING btree ("day");
--> statement-breakpoint
CREATE INDEX "ticket_summaries_first_event_idx" ON "zendesk"."ticket_summaries" USING btree ("first_event_at");
--> statement-breakpoint
CREATE INDEX "ticket_summaries_first_reply_idx" ON "zendesk"."ticket_summaries" USING btree ("first_agent_reply_at");
--> statement-breakpoint
CREATE INDEX "ticket_summaries_unanswered_idx" ON "zendesk"."ticket_summaries" USING btree ("unanswered_since");--> statement-breakpoint
-- The timeline as before, but reading the browser and media from raw, so the copies can go.
CREATE OR REPLACE VIEW "zendesk"."conversation_timeline" AS
SELECT
  e.ticket_id,
  (row_number() OVER (
    PARTITION BY e.ticket_id
    ORDER BY e.created_at, coalesce(e.received_at, e.created_at), e.event_id, e.reference
  ))::integer AS position,
  e.created_at,
  e.received_at,
  e.type AS event_type,
  CASE
    WHEN e.type = 'Comment' AND e.public IS FALSE THEN 'internal_note'
    WHEN e.type IN ('Comment', 'Messaging::ConversationMessage') THEN 'message'
    ELSE 'other'
  END AS event_kind,
  e.author_key,
  a.display_name AS author_name,
  a.type AS author_type,
  lower(split_part(e.type, '::', 1)) AS channel,
  e.source_type,
  coalesce(e.public, CASE WHEN e.type = 'Messaging::ConversationMessage' THEN true END) AS is_public,
  e.content_type,
  e.body_text,
  e.raw -> 'content' ->> 'mediaUrl' AS media_url,
  e.raw -> 'content' ->> 'mediaType' AS media_type,
  0 AS attachment_count,
  e.raw #>> '{metadata,system,client}' AS user_agent,
  e.ticket_version,
  e.reference,
  e.event_id
FROM "zendesk"."conversation_events" e
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE e.deleted_at IS NULL;
--> statement-breakpoint
-- One statement, so the table is rewritten once: the rewrite also frees the dropped copies.
ALTER TABLE "zendesk"."conversation_events"
  DROP COLUMN "body_html",
  DROP COLUMN "content",
  DROP COLUMN "metadata",
  ADD COLUMN "position" integer,
  ADD COLUMN "event_kind" text GENERATED ALWAYS AS (CASE WHEN "type" = 'Comment' AND "public" IS FALSE THEN 'internal_note' WHEN "type" IN ('Comment', 'Messaging::ConversationMessage') THEN 'message' ELSE 'other' END) STORED,
  ADD COLUMN "channel" text GENERATED ALWAYS AS (lower(split_part("type", '::', 1))) STORED,
  ADD COLUMN "is_public" boolean GENERATED ALWAYS AS (coalesce("public", CASE WHEN "type" = 'Messaging::ConversationMessage' THEN true END)) STORED,
  ADD COLUMN "author_type" text GENERATED ALWAYS AS ("raw" #>> '{author,type}') STORED,
  ADD COLUMN "attachment_count" integer GENERATED ALWAYS AS (CASE WHEN jsonb_typeof("raw" -> 'attachments') = 'array' THEN jsonb_array_length("raw" -> 'attachments') ELSE 0 END) STORED;
--> statement-breakpoint
DROP INDEX "zendesk"."conversation_events_ticket_created_idx";
--> statement-breakpoint
-- The upkeep. Order inside a ticket: created_at, then received_at (an event without one comes
-- after those with one in the same second), then event_id, then reference. Statements of a SQL
-- function see the ones before them, so the summaries use the positions just corrected.
CREATE FUNCTION "convlog"."refresh_ticket_analytics"(ticket_ids bigint[]) RETURNS void
LANGUAGE sql AS $fn$
UPDATE zendesk.conversation_events e SET position = o.position
FROM (
  SELECT reference, (row_number() OVER (PARTITION BY ticket_id ORDER BY created_at, received_at NULLS LAST, event_id, reference))::integer AS position
  FROM zendesk.conversation_events
  WHERE ticket_id = ANY(ticket_ids) AND deleted_at IS NULL
) o
WHERE e.reference = o.reference AND e.position IS DISTINCT FROM o.position;

DELETE FROM zendesk.ticket_summaries s
WHERE s.ticket_id = ANY(ticket_ids)
  AND NOT EXISTS (SELECT 1 FROM zendesk.conversation_events e WHERE e.ticket_id = s.ticket_id AND e.deleted_at IS NULL);

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
), marked AS (
  SELECT
    events.*,
    coalesce(bool_or(by_end_user) OVER earlier, false) AS after_end_user,
    coalesce(bool_or(by_bot) OVER earlier, false) AS after_bot,
    coalesce(bool_or(by_agent) OVER later, false) AS agent_later
  FROM events
  WINDOW
    earlier AS (PARTITION BY ticket_id ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
    later AS (PARTITION BY ticket_id ORDER BY position ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
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
    min(created_at) FILTER (WHERE by_end_user AND NOT agent_later) AS unanswered_since,
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
    WHEN bot_messages = 0 THEN NULL
    WHEN handover_pending THEN 'handover_pending'
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
$fn$;
--> statement-breakpoint
SELECT "convlog"."refresh_ticket_analytics"(array(SELECT DISTINCT ticket_id FROM "zendesk"."conversation_events"));
--> statement-breakpoint
CREATE INDEX "conversation_events_ticket_position_idx" ON "zendesk"."conversation_events" USING btree ("ticket_id","position");
--> statement-breakpoint
CREATE OR REPLACE VIEW "zendesk"."conversation_timeline" AS
SELECT
  e.ticket_id,
  e.position,
  e.created_at,
  e.received_at,
  e.type AS event_type,
  e.event_kind,
  e.author_key,
  a.display_name AS author_name,
  e.author_type,
  e.channel,
  e.source_type,
  e.is_public,
  e.content_type,
  e.body_text,
  e.raw -> 'content' ->> 'mediaUrl' AS media_url,
  e.raw -> 'content' ->> 'mediaType' AS media_type,
  e.attachment_count,
  e.raw #>> '{metadata,system,client}' AS user_agent,
  e.ticket_version,
  e.reference,
  e.event_id,
  -- Appended: what conversation_events stored as copies of raw until migration 0008.
  CASE WHEN e.raw -> 'content' ->> 'type' = 'html' AND jsonb_typeof(e.raw -> 'content' -> 'body') = 'string' THEN e.raw -> 'content' ->> 'body' END AS body_html,
  nullif(e.raw -> 'content', 'null'::jsonb) AS content,
  nullif(e.raw -> 'metadata', 'null'::jsonb) AS metadata
FROM "zendesk"."conversation_events" e
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE e.deleted_at IS NULL;
--> statement-breakpoint
CREATE OR REPLACE VIEW "zendesk"."ticket_conversations" AS
SELECT
  s.ticket_id,
  p.channel,
  p.end_user_source,
  p.first_event_at,
  p.last_event_at,
  coalesce(p.events, 0) AS events,
  coalesce(p.end_user_messages, 0) AS end_user_messages,
  coalesce(p.agent_messages, 0) AS agent_messages,
  coalesce(p.bot_messages, 0) AS bot_messages,
  coalesce(p.internal_notes, 0) AS internal_notes,
  coalesce(p.other_events, 0) AS other_events,
  coalesce(p.agents_involved, 0) AS agents_involved,
  coalesce(p.attachments, 0) AS attachments,
  p.first_end_user_message_at,
  p.first_agent_reply_at,
  p.first_agent_reply_at - p.first_end_user_message_at AS time_to_first_agent_reply,
  extract(epoch FROM p.first_agent_reply_at - p.first_end_user_message_at)::integer AS first_agent_reply_seconds,
  p.first_reply_agent_key,
  fa.display_name AS first_reply_agent_name,
  coalesce(p.bot_messages, 0) > 0 AS had_bot,
  p.handed_over_at IS NOT NULL AS bot_handed_over,
  p.handed_over_at,
  p.last_message_author_type,
  p.unanswered_since,
  s.status AS sync_status,
  s.last_synced_at,
  now() - s.last_synced_at AS sync_age,
  s.last_error,
  s.last_error_at,
  s.attempts AS sync_attempts,
  tk.status AS ticket_status,
  tk.priority,
  tk.type AS ticket_type,
  tk.via_channel,
  tk.from_messaging_channel,
  tk.group_id,
  coalesce(g.name, 'group ' || tk.group_id) AS group_name,
  tk.brand_id,
  coalesce(b.name, 'brand ' || tk.brand_id) AS brand_name,
  tk.organization_id,
  coalesce(o.name, 'organization ' || tk.organization_id) AS organization_name,
  tk.assignee_id,
  ag.display_name AS assignee_name,
  tk.requester_id,
  rq.display_name AS requester_name,
  tk.tags,
  tk.subject,
  tk.created_at AS ticket_created_at,
  tk.updated_at AS ticket_updated_at,
  tk.deleted AS ticket_deleted,
  -- Appended by migration 0008.
  p.bot_outcome,
  p.handover_requested_at,
  coalesce(p.last_message_author_type = 'user' AND coalesce(tk.status NOT IN ('solved', 'closed'), true)
           AND NOT (p.bot_messages > 0 AND p.agent_messages = 0), false) AS waiting_for_answer,
  coalesce(p.last_message_author_type = 'user' AND coalesce(tk.status NOT IN ('solved', 'closed'), true)
           AND p.bot_messages > 0 AND p.agent_messages = 0, false) AS waiting_on_bot
FROM "zendesk"."ticket_sync" s
LEFT JOIN "zendesk"."ticket_summaries" p ON p.ticket_id = s.ticket_id
LEFT JOIN "zendesk"."authors" fa ON fa.author_key = p.first_reply_agent_key
LEFT JOIN "zendesk"."tickets" tk ON tk.id = s.ticket_id
LEFT JOIN "zendesk"."groups" g ON g.id = tk.group_id
LEFT JOIN "zendesk"."brands" b ON b.id = tk.brand_id
LEFT JOIN "zendesk"."organizations" o ON o.id = tk.organization_id
LEFT JOIN "zendesk"."authors" ag ON ag.author_key = 'support:' || tk.assignee_id
LEFT JOIN "zendesk"."authors" rq ON rq.author_key = 'support:' || tk.requester_id
-- Tickets gone from Zendesk count in no view: tombstones (migration 0005), and a ticket the
-- export reported deleted whose rows a purge has not reached yet.
WHERE s.deleted_at IS NULL AND tk.deleted IS NOT TRUE;
--> statement-breakpoint
CREATE OR REPLACE VIEW "zendesk"."agent_replies" AS
SELECT
  r.ticket_id,
  r.reply_number,
  r.reply_number = 1 AS is_first_reply,
  r.replied_at,
  r.agent_key,
  a.display_name AS agent_name,
  r.channel,
  r.waiting_since,
  r.end_user_messages,
  r.replied_at - r.waiting_since AS wait,
  extract(epoch FROM r.replied_at - r.waiting_since)::integer AS wait_seconds,
  r.reference,
  r.first_waiting_reference
FROM "zendesk"."reply_waits" r
LEFT JOIN "zendesk"."authors" a ON a.author_key = r.agent_key;
--> statement-breakpoint
-- One aggregate over the per-ticket tables: a filter on day reaches each of them (and the
-- index on ticket_days.day), where the previous joins of whole-table aggregates could not.
CREATE OR REPLACE VIEW "zendesk"."daily_activity" AS
SELECT
  f.day,
  count(*) FILTER (WHERE f.source = 'day')::integer AS tickets_active,
  count(*) FILTER (WHERE f.source = 'start')::integer AS tickets_started,
  coalesce(sum(f.events), 0)::integer AS events,
  coalesce(sum(f.end_user_messages), 0)::integer AS end_user_messages,
  coalesce(sum(f.agent_messages), 0)::integer AS agent_messages,
  coalesce(sum(f.bot_messages), 0)::integer AS bot_messages,
  coalesce(sum(f.internal_notes), 0)::integer AS internal_notes,
  coalesce(sum(f.messaging_events), 0)::integer AS messaging_events,
  count(*) FILTER (WHERE f.source = 'handover')::integer AS handovers,
  count(*) FILTER (WHERE f.source = 'reply')::integer AS agent_replies,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY f.wait_seconds) FILTER (WHERE f.source = 'reply') AS median_reply_wait_seconds,
  count(*) FILTER (WHERE f.source = 'reply' AND f.first_reply)::integer AS first_replies,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY f.wait_seconds) FILTER (WHERE f.source = 'reply' AND f.first_reply) AS median_first_reply_seconds
FROM (
  SELECT 'day' AS source, d.day, d.events, d.end_user_messages, d.agent_messages, d.bot_messages,
         d.internal_notes, d.messaging_events, NULL::integer AS wait_seconds, NULL::boolean AS first_reply
  FROM "zendesk"."ticket_days" d
  UNION ALL
  SELECT 'start', (s.first_event_at AT TIME ZONE 'UTC')::date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM "zendesk"."ticket_summaries" s
  UNION ALL
  SELECT 'handover', (s.handed_over_at AT TIME ZONE 'UTC')::date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM "zendesk"."ticket_summaries" s WHERE s.handed_over_at IS NOT NULL
  UNION ALL
  SELECT 'reply', (r.replied_at AT TIME ZONE 'UTC')::date, NULL, NULL, NULL, NULL, NULL, NULL,
         extract(epoch FROM r.replied_at - r.waiting_since)::integer, r.reply_number = 1
  FROM "zendesk"."reply_waits" r
) f
GROUP BY f.day;
--> statement-breakpoint
COMMENT ON FUNCTION "convlog"."refresh_ticket_analytics"(bigint[]) IS 'Rewrites positions, ticket_summaries, reply_waits and ticket_days for the given tickets from their live events. convlog calls it when a run finishes or a purge removes a ticket; convlog rebuild-analytics calls it for every ticket.';
COMMENT ON COLUMN "zendesk"."conversation_events"."position" IS 'The event''s place in its ticket, from 1: by created_at, then received_at (an event without one comes after those with one in the same second), then event_id, then reference.';
COMMENT ON COLUMN "zendesk"."conversation_events"."event_kind" IS 'message (a public comment or a messaging message), internal_note (a private comment) or other (status changes, calls, events Zendesk adds later). Derived from type and public.';
COMMENT ON COLUMN "zendesk"."conversation_events"."channel" IS 'The family of the event type: comment, messaging, voice, ... (the part of type before ::, lower case).';
COMMENT ON COLUMN "zendesk"."conversation_events"."is_public" IS 'Whether the end user sees the event: public for comments; true for messaging messages, which Zendesk does not flag.';
COMMENT ON COLUMN "zendesk"."conversation_events"."author_type" IS 'The author''s type as written on this event (user for a customer, agent, bot, ...): a customer who later becomes an agent keeps their earlier messages as a customer''s.';
COMMENT ON COLUMN "zendesk"."conversation_events"."attachment_count" IS 'How many files Zendesk lists on the event (its attachments array).';
COMMENT ON TABLE "zendesk"."ticket_summaries" IS 'One row per ticket with stored events: the per-ticket answers ticket_conversations shows, kept by convlog when it finishes syncing the ticket. Query ticket_conversations rather than this table.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."channel" IS 'messaging when any event came through messaging, otherwise the channel of the first event.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."end_user_source" IS 'The app of the first customer messaging message (whatsapp, ios, web, ...).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."first_event_at" IS 'When the first stored event happened.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."last_event_at" IS 'When the last stored event happened.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."events" IS 'Stored events of the ticket.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."end_user_messages" IS 'Messages by customers (author type user, as written).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."agent_messages" IS 'Public messages by agents.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."bot_messages" IS 'Messages by bots.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."internal_notes" IS 'Internal notes (private comments).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."other_events" IS 'Events that are neither messages nor notes.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."agents_involved" IS 'Distinct agents who sent a message.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."attachments" IS 'Files listed on the ticket''s events.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."first_end_user_message_at" IS 'When the customer first wrote.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."first_agent_reply_at" IS 'The first agent message after the first customer message.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."first_reply_agent_key" IS 'Who sent that first reply (authors.author_key).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."handed_over_at" IS 'The first agent message after a bot message.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."handover_requested_at" IS 'The last transfer of the conversation to an agent (a Messaging::ConversationStatusChange to transferred_to_agent).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."bot_outcome" IS 'Empty without bot messages; handover_pending (transferred to an agent who has not written since), handed_over (an agent wrote after the bot), agent_first (agents wrote only before the bot) or contained (no agent message at all).';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."unanswered_since" IS 'The first customer message no agent message follows.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."last_message_author_type" IS 'The author type of the last message.';
COMMENT ON COLUMN "zendesk"."ticket_summaries"."refreshed_at" IS 'When convlog last changed this row.';
COMMENT ON TABLE "zendesk"."reply_waits" IS 'One row per agent message that ended a customer''s wait, kept by convlog per ticket; agent_replies is the view to query.';
COMMENT ON COLUMN "zendesk"."reply_waits"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."reply_waits"."reply_number" IS '1 for the ticket''s first answer, then 2, 3, ...';
COMMENT ON COLUMN "zendesk"."reply_waits"."reference" IS 'The agent message (conversation_events.reference).';
COMMENT ON COLUMN "zendesk"."reply_waits"."replied_at" IS 'When the agent answered.';
COMMENT ON COLUMN "zendesk"."reply_waits"."agent_key" IS 'Who answered (authors.author_key).';
COMMENT ON COLUMN "zendesk"."reply_waits"."channel" IS 'The channel of the answer.';
COMMENT ON COLUMN "zendesk"."reply_waits"."waiting_since" IS 'The first customer message since the previous agent message.';
COMMENT ON COLUMN "zendesk"."reply_waits"."end_user_messages" IS 'Customer messages in this wait.';
COMMENT ON COLUMN "zendesk"."reply_waits"."first_waiting_reference" IS 'The customer message that started the wait.';
COMMENT ON TABLE "zendesk"."ticket_days" IS 'Events per ticket and UTC day, kept by convlog per ticket; daily_activity is the view to query.';
COMMENT ON COLUMN "zendesk"."ticket_days"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."ticket_days"."day" IS 'The UTC day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."events" IS 'Events that day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."end_user_messages" IS 'Customer messages that day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."agent_messages" IS 'Agent messages that day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."bot_messages" IS 'Bot messages that day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."internal_notes" IS 'Internal notes that day.';
COMMENT ON COLUMN "zendesk"."ticket_days"."messaging_events" IS 'Messaging events that day.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."author_type" IS 'The author''s type as written on the event: user (a customer), agent, bot, ...';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."body_html" IS 'The comment as HTML (from raw), for content_type html; empty otherwise.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."content" IS 'The event''s content as Zendesk sent it (JSON, from raw): buttons, cards, form fields, media links.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."metadata" IS 'The event''s metadata as Zendesk sent it (JSON, from raw): public flag, ticket version, custom fields, system details. Redacted like raw under CONVLOG_REDACT_SYSTEM_METADATA=true.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_outcome" IS 'Empty when no bot wrote; contained (no agent message at all), handed_over (an agent wrote after the bot), handover_pending (transferred to an agent who has not written since: not contained) or agent_first (agents wrote only before the bot).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."handover_requested_at" IS 'The last time the conversation was transferred to an agent (a status change to transferred_to_agent).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."waiting_for_answer" IS 'The last message is the customer''s, the ticket is not solved or closed (or its status is not stored yet), and it is not a bot-only conversation.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."waiting_on_bot" IS 'As waiting_for_answer, but in a bot-only conversation (bot messages, no agent message): counted apart.';
