-- Deletions reach Postgres: tombstones in ticket_sync, and (under CONVLOG_ON_DELETE=keep) rows
-- marked deleted instead of removed. The three views below are those of 0002_analyst_views
-- unchanged but for a filter on deleted_at, so a marked row counts in no view (the views built
-- on them follow). CREATE OR REPLACE keeps every column, so the comments of 0002 stay.
ALTER TABLE "zendesk"."attachment_thumbnails" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "zendesk"."attachments" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "zendesk"."conversation_events" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN "deleted_how" text;--> statement-breakpoint
ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN "last_full_read_at" timestamp with time zone;--> statement-breakpoint

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
  e.content ->> 'mediaUrl' AS media_url,
  e.content ->> 'mediaType' AS media_type,
  (SELECT count(*) FROM "zendesk"."attachments" f WHERE f.event_reference = e.reference AND f.deleted_at IS NULL)::integer AS attachment_count,
  e.metadata #>> '{system,client}' AS user_agent,
  e.ticket_version,
  e.reference,
  e.event_id
FROM "zendesk"."conversation_events" e
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE e.deleted_at IS NULL;
--> statement-breakpoint

CREATE OR REPLACE VIEW "zendesk"."ticket_conversations" AS
WITH events AS (
  SELECT
    t.*,
    (t.event_kind = 'message' AND t.author_type = 'user') AS by_end_user,
    (t.event_kind = 'message' AND t.author_type = 'agent') AS by_agent,
    (t.event_kind = 'message' AND t.author_type = 'bot') AS by_bot
  FROM "zendesk"."conversation_timeline" t
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
    min(created_at) FILTER (WHERE by_end_user AND NOT agent_later) AS unanswered_since,
    (array_agg(author_type ORDER BY position DESC) FILTER (WHERE event_kind = 'message'))[1] AS last_message_author_type
  FROM marked
  GROUP BY ticket_id
)
SELECT
  s.ticket_id,
  CASE WHEN p.has_messaging THEN 'messaging' ELSE p.first_channel END AS channel,
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
  s.attempts AS sync_attempts
FROM "zendesk"."ticket_sync" s
LEFT JOIN per_ticket p ON p.ticket_id = s.ticket_id
LEFT JOIN "zendesk"."authors" fa ON fa.author_key = p.first_reply_agent_key
WHERE s.deleted_at IS NULL;
--> statement-breakpoint

CREATE OR REPLACE VIEW "zendesk"."attachments_with_context" AS
SELECT
  f.id AS attachment_id,
  f.ticket_id,
  e.created_at,
  f.file_name,
  f.content_type,
  lower(substring(f.file_name FROM '\.([A-Za-z0-9]{1,10})$')) AS file_extension,
  f.size,
  f.width,
  f.height,
  f.inline,
  f.deleted,
  (SELECT count(*) FROM "zendesk"."attachment_thumbnails" th WHERE th.attachment_id = f.id AND th.deleted_at IS NULL)::integer AS thumbnail_count,
  f.content_url,
  f.mapped_content_url,
  f.event_reference,
  e.type AS event_type,
  coalesce(e.public, CASE WHEN e.type = 'Messaging::ConversationMessage' THEN true END) AS is_public,
  e.author_key,
  a.display_name AS author_name,
  a.type AS author_type
FROM "zendesk"."attachments" f
JOIN "zendesk"."conversation_events" e ON e.reference = f.event_reference
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE f.deleted_at IS NULL AND e.deleted_at IS NULL;
--> statement-breakpoint

COMMENT ON COLUMN "zendesk"."conversation_events"."deleted_at" IS 'Only under CONVLOG_ON_DELETE=keep: when convlog learned the event or its ticket is gone from Zendesk. Such rows count in no view. Empty for a current event.';
COMMENT ON COLUMN "zendesk"."attachments"."deleted_at" IS 'Only under CONVLOG_ON_DELETE=keep: when convlog learned the file, its event or its ticket is no longer in Zendesk. Such rows count in no view. Not the same as deleted (Zendesk''s own flag for a redacted file).';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."deleted_at" IS 'Only under CONVLOG_ON_DELETE=keep: when convlog learned the thumbnail is no longer listed in Zendesk. Such rows count in no view.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."deleted_at" IS 'When convlog removed (or, under CONVLOG_ON_DELETE=keep, marked) the ticket''s stored rows because it is gone from Zendesk or a purge was asked for. Empty for a live ticket. Such tickets are not in ticket_conversations.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."deleted_how" IS 'How convlog learned the ticket is gone: 404 (Zendesk answered not found), export (deleted in the incremental export), webhook (a deletion webhook) or purge command (convlog purge, an erasure request).';
COMMENT ON COLUMN "zendesk"."ticket_sync"."last_full_read_at" IS 'When convlog last read the whole conversation log from its first event, removing events and files Zendesk no longer lists. Edits and redactions in old events are current as of then.';
COMMENT ON VIEW "zendesk"."ticket_conversations" IS 'One row per ticket convlog knows (every row of ticket_sync but the tombstones of deleted tickets): when its conversation started and ended, who said how much, how long the customer waited for an agent, whether a bot handed over to a human, and whether the stored copy is current.';
