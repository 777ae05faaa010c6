-- The analyst surface: views over the zendesk tables, and a COMMENT on every table, view and
-- column in schema zendesk so that BI tools and psql (\d+) explain them.
-- A custom migration (drizzle-kit generate --custom): drizzle's schema cannot express views
-- or comments. To change a view later, add a migration that does CREATE OR REPLACE VIEW (or
-- DROP VIEW ... CASCADE and CREATE again) and repeats its comments; a table column a view
-- uses cannot change type until the views that use it are dropped.
--
-- Vocabulary shared by every view (explained again in the column comments):
--   position     the event's place in its ticket: created_at, then received_at, then event id.
--   author_type  'user' (an end user), 'agent' or 'bot', as Zendesk labels the author.
--   event_kind   'message' (a public comment or a messaging message), 'internal_note'
--                (a comment with public = false) or 'other' (status changes, calls, types
--                Zendesk adds later). Counts of "messages" mean event_kind = 'message'.
--   channel      the family of the event type: 'messaging', 'comment', 'voice', ... The log
--                does not say whether a comment came by email, web form, API or the agent
--                workspace (Zendesk's `via` is not in the payload); for messaging,
--                source_type names the app or system that sent the message.

CREATE VIEW "zendesk"."conversation_timeline" AS
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
  (SELECT count(*) FROM "zendesk"."attachments" f WHERE f.event_reference = e.reference)::integer AS attachment_count,
  e.metadata #>> '{system,client}' AS user_agent,
  e.ticket_version,
  e.reference,
  e.event_id
FROM "zendesk"."conversation_events" e
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key;
--> statement-breakpoint

CREATE VIEW "zendesk"."ticket_conversations" AS
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
LEFT JOIN "zendesk"."authors" fa ON fa.author_key = p.first_reply_agent_key;
--> statement-breakpoint

CREATE VIEW "zendesk"."attachments_with_context" AS
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
  (SELECT count(*) FROM "zendesk"."attachment_thumbnails" th WHERE th.attachment_id = f.id)::integer AS thumbnail_count,
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
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key;
--> statement-breakpoint

CREATE VIEW "zendesk"."agent_replies" AS
WITH messages AS (
  SELECT
    t.*,
    count(*) FILTER (WHERE t.author_type = 'agent') OVER (
      PARTITION BY t.ticket_id ORDER BY t.position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS agent_messages_before
  FROM "zendesk"."conversation_timeline" t
  WHERE t.event_kind = 'message' AND t.author_type IN ('user', 'agent')
), turns AS (
  -- One turn: the end-user messages since the previous agent message, and the agent message
  -- that ends them. Bot messages neither start nor end a wait.
  SELECT
    ticket_id,
    min(created_at) FILTER (WHERE author_type = 'user') AS waiting_since,
    (array_agg(reference ORDER BY position) FILTER (WHERE author_type = 'user'))[1] AS first_waiting_reference,
    count(*) FILTER (WHERE author_type = 'user')::integer AS end_user_messages,
    (array_agg(reference) FILTER (WHERE author_type = 'agent'))[1] AS reference,
    (array_agg(position) FILTER (WHERE author_type = 'agent'))[1] AS position,
    (array_agg(created_at) FILTER (WHERE author_type = 'agent'))[1] AS replied_at,
    (array_agg(author_key) FILTER (WHERE author_type = 'agent'))[1] AS agent_key,
    (array_agg(author_name) FILTER (WHERE author_type = 'agent'))[1] AS agent_name,
    (array_agg(channel) FILTER (WHERE author_type = 'agent'))[1] AS channel
  FROM messages
  GROUP BY ticket_id, agent_messages_before
)
SELECT
  ticket_id,
  (row_number() OVER (PARTITION BY ticket_id ORDER BY position))::integer AS reply_number,
  row_number() OVER (PARTITION BY ticket_id ORDER BY position) = 1 AS is_first_reply,
  replied_at,
  agent_key,
  agent_name,
  channel,
  waiting_since,
  end_user_messages,
  replied_at - waiting_since AS wait,
  extract(epoch FROM replied_at - waiting_since)::integer AS wait_seconds,
  reference,
  first_waiting_reference
FROM turns
WHERE reference IS NOT NULL AND end_user_messages > 0;
--> statement-breakpoint

CREATE VIEW "zendesk"."author_activity" AS
WITH events AS (
  SELECT
    author_key,
    count(DISTINCT ticket_id)::integer AS tickets,
    count(*)::integer AS events,
    count(*) FILTER (WHERE event_kind = 'message')::integer AS messages,
    count(*) FILTER (WHERE event_kind = 'internal_note')::integer AS internal_notes,
    count(*) FILTER (WHERE event_kind = 'other')::integer AS other_events,
    sum(attachment_count)::integer AS attachments,
    min(created_at) AS first_event_at,
    max(created_at) AS last_event_at
  FROM "zendesk"."conversation_timeline"
  GROUP BY author_key
), replies AS (
  SELECT
    agent_key,
    count(*)::integer AS replies,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_seconds) AS median_reply_wait_seconds,
    count(*) FILTER (WHERE is_first_reply)::integer AS first_replies,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_seconds) FILTER (WHERE is_first_reply) AS median_first_reply_seconds
  FROM "zendesk"."agent_replies"
  GROUP BY agent_key
)
SELECT
  a.author_key,
  a.display_name AS author_name,
  a.type AS author_type,
  a.support_user_id,
  a.sunco_user_id,
  coalesce(e.tickets, 0) AS tickets,
  coalesce(e.events, 0) AS events,
  coalesce(e.messages, 0) AS messages,
  coalesce(e.internal_notes, 0) AS internal_notes,
  coalesce(e.other_events, 0) AS other_events,
  coalesce(e.attachments, 0) AS attachments,
  e.first_event_at,
  e.last_event_at,
  coalesce(r.replies, 0) AS replies,
  r.median_reply_wait_seconds,
  coalesce(r.first_replies, 0) AS first_replies,
  r.median_first_reply_seconds
FROM "zendesk"."authors" a
LEFT JOIN events e ON e.author_key = a.author_key
LEFT JOIN replies r ON r.agent_key = a.author_key;
--> statement-breakpoint

CREATE VIEW "zendesk"."daily_activity" AS
WITH events AS (
  SELECT
    (created_at AT TIME ZONE 'UTC')::date AS day,
    count(DISTINCT ticket_id)::integer AS tickets_active,
    count(*)::integer AS events,
    count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'user')::integer AS end_user_messages,
    count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'agent')::integer AS agent_messages,
    count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'bot')::integer AS bot_messages,
    count(*) FILTER (WHERE event_kind = 'internal_note')::integer AS internal_notes,
    count(*) FILTER (WHERE channel = 'messaging')::integer AS messaging_events
  FROM "zendesk"."conversation_timeline"
  GROUP BY 1
), tickets AS (
  SELECT
    (first_event_at AT TIME ZONE 'UTC')::date AS day,
    count(*)::integer AS tickets_started
  FROM "zendesk"."ticket_conversations"
  WHERE first_event_at IS NOT NULL
  GROUP BY 1
), handovers AS (
  SELECT (handed_over_at AT TIME ZONE 'UTC')::date AS day, count(*)::integer AS handovers
  FROM "zendesk"."ticket_conversations"
  WHERE handed_over_at IS NOT NULL
  GROUP BY 1
), replies AS (
  SELECT
    (replied_at AT TIME ZONE 'UTC')::date AS day,
    count(*)::integer AS agent_replies,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_seconds) AS median_reply_wait_seconds,
    count(*) FILTER (WHERE is_first_reply)::integer AS first_replies,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_seconds) FILTER (WHERE is_first_reply) AS median_first_reply_seconds
  FROM "zendesk"."agent_replies"
  GROUP BY 1
), days AS (
  SELECT generate_series(min(day), max(day), interval '1 day')::date AS day FROM events
)
SELECT
  d.day,
  coalesce(e.tickets_active, 0) AS tickets_active,
  coalesce(t.tickets_started, 0) AS tickets_started,
  coalesce(e.events, 0) AS events,
  coalesce(e.end_user_messages, 0) AS end_user_messages,
  coalesce(e.agent_messages, 0) AS agent_messages,
  coalesce(e.bot_messages, 0) AS bot_messages,
  coalesce(e.internal_notes, 0) AS internal_notes,
  coalesce(e.messaging_events, 0) AS messaging_events,
  coalesce(h.handovers, 0) AS handovers,
  coalesce(r.agent_replies, 0) AS agent_replies,
  r.median_reply_wait_seconds,
  coalesce(r.first_replies, 0) AS first_replies,
  r.median_first_reply_seconds
FROM days d
LEFT JOIN events e ON e.day = d.day
LEFT JOIN tickets t ON t.day = d.day
LEFT JOIN handovers h ON h.day = d.day
LEFT JOIN replies r ON r.day = d.day;
--> statement-breakpoint

COMMENT ON SCHEMA "zendesk" IS 'Zendesk ticket conversation logs synced by convlog: tables of events, authors, attachments and sync status, and views that answer common support questions. Read-only for analysts; convlog writes it.';
--> statement-breakpoint

COMMENT ON TABLE "zendesk"."conversation_events" IS 'One row per event of a ticket''s conversation log: an email or web comment, an internal note, a messaging message from an end user, agent or bot, and event types Zendesk adds later. Kept in step with Zendesk by convlog; conversation_timeline is the friendlier way to read it.';
COMMENT ON COLUMN "zendesk"."conversation_events"."reference" IS 'Zendesk''s unique name for the event (a ZRN such as zen:ticket_event:123 or zen:sunco:conversation_message:<hex>). Primary key.';
COMMENT ON COLUMN "zendesk"."conversation_events"."event_id" IS 'The event''s id in the conversation log API (a ULID-like string; sorts by time within a ticket).';
COMMENT ON COLUMN "zendesk"."conversation_events"."ticket_id" IS 'The Zendesk ticket this event belongs to.';
COMMENT ON COLUMN "zendesk"."conversation_events"."type" IS 'Event type as Zendesk names it: Comment (email, web form, API or agent workspace comments and internal notes), Messaging::ConversationMessage (messaging), and others Zendesk adds over time.';
COMMENT ON COLUMN "zendesk"."conversation_events"."created_at" IS 'When the event happened (Zendesk gives whole seconds).';
COMMENT ON COLUMN "zendesk"."conversation_events"."author_key" IS 'Who wrote the event: the key of its row in authors. Empty when Zendesk sent no author.';
COMMENT ON COLUMN "zendesk"."conversation_events"."content_type" IS 'Shape of the content: html for comments; text, image, file, carousel, form, formResponse, location and others for messaging.';
COMMENT ON COLUMN "zendesk"."conversation_events"."body_html" IS 'The comment as HTML, for content_type html; empty otherwise.';
COMMENT ON COLUMN "zendesk"."conversation_events"."body_text" IS 'What was said, as plain text: HTML converted to text for comments, the text of messaging messages, captions and titles for images, files, carousels and forms. Empty when the content carries no words.';
COMMENT ON COLUMN "zendesk"."conversation_events"."public" IS 'For comments: true when the end user can see it, false for an internal note. Empty for messaging events, which Zendesk does not flag (they are part of the conversation with the end user).';
COMMENT ON COLUMN "zendesk"."conversation_events"."source_type" IS 'Messaging only: the app or system that sent the message, e.g. whatsapp, ios, android, web, messenger (end users), zd:agentWorkspace (agents), zd:answerBot (bots). Empty for comments: the log does not say whether a comment came by email, web form or API.';
COMMENT ON COLUMN "zendesk"."conversation_events"."received_at" IS 'Messaging only: when Zendesk received the message, to the millisecond.';
COMMENT ON COLUMN "zendesk"."conversation_events"."ticket_version" IS 'The ticket''s version number when the event was written (metadata.ticket_version).';
COMMENT ON COLUMN "zendesk"."conversation_events"."content" IS 'The event''s content exactly as Zendesk sent it (JSON): buttons, carousel cards, form fields, media links and everything body_text leaves out.';
COMMENT ON COLUMN "zendesk"."conversation_events"."metadata" IS 'The event''s metadata as Zendesk sent it (JSON): public flag, ticket version, custom fields, and system details such as the browser (client). The author''s IP address and location are removed when convlog runs with CONVLOG_REDACT_SYSTEM_METADATA=true.';
COMMENT ON COLUMN "zendesk"."conversation_events"."raw" IS 'The whole event as received from Zendesk (JSON), for anything the other columns do not show. Redacted like metadata when CONVLOG_REDACT_SYSTEM_METADATA=true.';
COMMENT ON COLUMN "zendesk"."conversation_events"."first_synced_at" IS 'When convlog first stored this event.';
COMMENT ON COLUMN "zendesk"."conversation_events"."updated_at" IS 'When convlog last stored a change to this event (an edit or redaction in Zendesk shows up here after a full re-sync).';
--> statement-breakpoint

COMMENT ON TABLE "zendesk"."authors" IS 'One row per person or bot that wrote an event: end users, agents and bots, from Zendesk Support and from messaging (Sunshine Conversations).';
COMMENT ON COLUMN "zendesk"."authors"."author_key" IS 'Stable key of the author: support:<user id> for a Zendesk Support user, else sunco:<id> for a messaging user or bot, else anonymous:<type>:<name> when Zendesk sent neither id. Primary key.';
COMMENT ON COLUMN "zendesk"."authors"."support_user_id" IS 'Zendesk Support user id (the id in the agent interface and the Users API). -1 for bots; empty for messaging users without a Support profile.';
COMMENT ON COLUMN "zendesk"."authors"."sunco_user_id" IS 'Messaging (Sunshine Conversations) user id, when the author has one.';
COMMENT ON COLUMN "zendesk"."authors"."type" IS 'user (an end user, the customer), agent or bot, as Zendesk labels the author.';
COMMENT ON COLUMN "zendesk"."authors"."display_name" IS 'The author''s name as last seen in an event.';
COMMENT ON COLUMN "zendesk"."authors"."avatar_url" IS 'Link to the author''s picture, when Zendesk sent one.';
COMMENT ON COLUMN "zendesk"."authors"."first_seen_at" IS 'When convlog first stored this author.';
COMMENT ON COLUMN "zendesk"."authors"."updated_at" IS 'When convlog last changed this row (a new name, picture or id).';
--> statement-breakpoint

COMMENT ON TABLE "zendesk"."attachments" IS 'One row per file attached to a comment (images, PDFs, logs). Files sent in messaging messages are not here: their link is in conversation_timeline.media_url.';
COMMENT ON COLUMN "zendesk"."attachments"."id" IS 'Zendesk attachment id. Primary key.';
COMMENT ON COLUMN "zendesk"."attachments"."ticket_id" IS 'The ticket the file was attached in.';
COMMENT ON COLUMN "zendesk"."attachments"."file_name" IS 'File name as uploaded.';
COMMENT ON COLUMN "zendesk"."attachments"."content_type" IS 'MIME type, e.g. image/png, application/pdf, text/plain.';
COMMENT ON COLUMN "zendesk"."attachments"."content_url" IS 'Download link (needs a Zendesk login or a token, and stops working once the file is deleted).';
COMMENT ON COLUMN "zendesk"."attachments"."mapped_content_url" IS 'Download link on the account''s host-mapped domain, when it has one.';
COMMENT ON COLUMN "zendesk"."attachments"."url" IS 'API link to the attachment''s JSON record.';
COMMENT ON COLUMN "zendesk"."attachments"."size" IS 'Size in bytes.';
COMMENT ON COLUMN "zendesk"."attachments"."width" IS 'Width in pixels, for images.';
COMMENT ON COLUMN "zendesk"."attachments"."height" IS 'Height in pixels, for images.';
COMMENT ON COLUMN "zendesk"."attachments"."inline" IS 'True when the image is shown inside the comment''s text rather than listed below it.';
COMMENT ON COLUMN "zendesk"."attachments"."deleted" IS 'True when an agent deleted (redacted) the file after it was sent; the row stays so counts do not change.';
COMMENT ON COLUMN "zendesk"."attachments"."updated_at" IS 'When convlog last stored a change to this file (deletion shows up after a full re-sync).';
COMMENT ON COLUMN "zendesk"."attachments"."event_reference" IS 'The event (conversation_events.reference) the file was attached to.';
--> statement-breakpoint

COMMENT ON TABLE "zendesk"."attachment_thumbnails" IS 'Smaller previews Zendesk made of image attachments, one row per preview size.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."id" IS 'Zendesk attachment id of the thumbnail. Primary key.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."ticket_id" IS 'The ticket the original file was attached in.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."file_name" IS 'File name of the thumbnail.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."content_type" IS 'MIME type of the thumbnail, e.g. image/png.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."content_url" IS 'Download link of the thumbnail.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."mapped_content_url" IS 'Download link on the account''s host-mapped domain, when it has one.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."url" IS 'API link to the thumbnail''s JSON record.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."size" IS 'Size in bytes.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."width" IS 'Width in pixels.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."height" IS 'Height in pixels.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."inline" IS 'Copied from Zendesk; thumbnails are normally not inline.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."deleted" IS 'True when the thumbnail was deleted with its file.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."updated_at" IS 'When convlog last stored a change to this thumbnail.';
COMMENT ON COLUMN "zendesk"."attachment_thumbnails"."attachment_id" IS 'The attachment (attachments.id) this is a preview of.';
--> statement-breakpoint

COMMENT ON TABLE "zendesk"."ticket_sync" IS 'One row per ticket convlog was asked to sync: whether its conversation log is stored and current, and why not when it is not.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."ticket_id" IS 'The Zendesk ticket. Primary key.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."status" IS 'queued (waiting, or waiting to retry), syncing (being read now), synced (stored and current as of last_synced_at), not_found (deleted in Zendesk or never existed), forbidden (the API user may not read it), failed (gave up; see last_error).';
COMMENT ON COLUMN "zendesk"."ticket_sync"."after_cursor" IS 'Bookmark where the next sync continues reading the log (Zendesk''s page cursor). Internal.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."events_synced" IS 'Events of this ticket stored after its last successful sync.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."pages_synced" IS 'Pages read in the current or last sync run.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."requests_last_run" IS 'Zendesk API requests the current or last sync run made (retries included).';
COMMENT ON COLUMN "zendesk"."ticket_sync"."events_last_run" IS 'Events read in the current or last sync run.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."attempts" IS 'How many times a sync of this ticket has started, in total.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."queued_at" IS 'When the ticket was last queued for a sync.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."started_at" IS 'When the latest sync run started.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."last_synced_at" IS 'When the ticket was last read to the end (or found deleted or forbidden). Its stored events are current as of then.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."last_error" IS 'Why the last sync failed or the ticket could not be read, in words. Cleared by a successful sync.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."last_error_at" IS 'When last_error happened.';
COMMENT ON COLUMN "zendesk"."ticket_sync"."updated_at" IS 'When convlog last changed this row.';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."conversation_timeline" IS 'Every event of every ticket in order, one row each, with its author, channel, visibility and plain text: the conversation as an agent would read it. Filter on ticket_id and order by position.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."position" IS 'The event''s place in its ticket, 1 for the first: ordered by created_at, then received_at, then event id.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."created_at" IS 'When the event happened (whole seconds).';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."received_at" IS 'Messaging only: when Zendesk received the message, to the millisecond.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."event_type" IS 'Event type as Zendesk names it: Comment, Messaging::ConversationMessage, and others Zendesk adds over time.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."event_kind" IS 'message (a public comment or a messaging message), internal_note (a comment only agents see) or other (status changes, calls and other events that are not something someone wrote to the customer).';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."author_key" IS 'Who wrote it: the key of its row in authors.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."author_name" IS 'The author''s name as last seen.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."author_type" IS 'user (an end user, the customer), agent or bot.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."channel" IS 'How the event reached the ticket, as far as the log tells: messaging (chat in web, app or social messaging; see source_type), comment (email, web form, API or agent workspace: the log does not say which), voice, or the family of a newer event type.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."source_type" IS 'Messaging only: the app or system that sent the message, e.g. whatsapp, ios, android, web (end users), zd:agentWorkspace (agents), zd:answerBot (bots).';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."is_public" IS 'True when the end user can see the event: public comments and messaging messages. False for internal notes. Empty for other events, whose visibility the log does not give.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."content_type" IS 'Shape of the content: html for comments; text, image, file, carousel, form, formResponse, location and others for messaging.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."body_text" IS 'What was said, as plain text. Empty when the content carries no words.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."media_url" IS 'Messaging only: link to the image, file or audio the message carries.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."media_type" IS 'Messaging only: MIME type of media_url, e.g. image/jpeg, application/pdf.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."attachment_count" IS 'Files attached to this event (comment attachments, deleted ones included; see attachments_with_context). Messaging media is in media_url instead.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."user_agent" IS 'The browser or app the comment was written from, when Zendesk recorded it (metadata.system.client).';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."ticket_version" IS 'The ticket''s version number when the event was written.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."reference" IS 'Zendesk''s unique name for the event; joins to conversation_events.reference and attachments.event_reference.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."event_id" IS 'The event''s id in the conversation log API.';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."ticket_conversations" IS 'One row per ticket convlog knows (every row of ticket_sync): when its conversation started and ended, who said how much, how long the customer waited for an agent, whether a bot handed over to a human, and whether the stored copy is current.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."channel" IS 'messaging when any event came through messaging, otherwise the channel of the first event: comment (email, web form, API or agent workspace: the log does not say which), voice, ... Empty when no event is stored.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."end_user_source" IS 'Messaging tickets: the app the customer first wrote from (whatsapp, ios, android, web, messenger, ...). Sources of Zendesk''s own systems (zd:...) are skipped.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_event_at" IS 'When the first stored event happened.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_event_at" IS 'When the latest stored event happened.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."events" IS 'Stored events of every kind.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."end_user_messages" IS 'Messages (public comments and messaging messages) written by end users.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."agent_messages" IS 'Messages written by agents to the customer (internal notes are counted in internal_notes).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_messages" IS 'Messages written by bots.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."internal_notes" IS 'Comments only agents can see, by anyone.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."other_events" IS 'Events that are not messages: status changes, calls, newer event types.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."agents_involved" IS 'Distinct agents who wrote at least one message to the customer.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."attachments" IS 'Files attached to the ticket''s comments, deleted ones included.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_end_user_message_at" IS 'When the customer first wrote.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_agent_reply_at" IS 'When an agent first wrote to the customer after the customer''s first message (internal notes and bot messages do not count).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."time_to_first_agent_reply" IS 'first_agent_reply_at minus first_end_user_message_at: how long the customer waited for a human. Empty when no agent has replied yet.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_agent_reply_seconds" IS 'time_to_first_agent_reply in seconds, for charts and averages.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_reply_agent_key" IS 'The agent (authors.author_key) who wrote the first reply.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."first_reply_agent_name" IS 'Name of the agent who wrote the first reply.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."had_bot" IS 'True when a bot wrote at least one message in the ticket.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_handed_over" IS 'True when an agent wrote to the customer after a bot had: the bot handed the conversation over to a human. A ticket with had_bot and not bot_handed_over was contained by the bot.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."handed_over_at" IS 'When the first agent message after a bot message was written.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_message_author_type" IS 'Who wrote the latest message: user, agent or bot. user means the customer is waiting for an answer.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."unanswered_since" IS 'When the customer started waiting: their first message that no agent message has followed yet. Empty when an agent has had the last word (or the customer never wrote).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."sync_status" IS 'queued, syncing, synced (stored and current as of last_synced_at), not_found (deleted in Zendesk), forbidden (the API user may not read it) or failed (see last_error).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_synced_at" IS 'When convlog last read the ticket to the end: the stored conversation is current as of then.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."sync_age" IS 'How long ago last_synced_at was, at query time: events newer than this may be missing.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_error" IS 'Why the last sync failed or the ticket could not be read.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_error_at" IS 'When last_error happened.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."sync_attempts" IS 'How many times a sync of this ticket has started.';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."attachments_with_context" IS 'Every comment attachment with the ticket, event and author it came with, and how many thumbnails it has: which files customers and agents send, how large, and who sent them.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."attachment_id" IS 'Zendesk attachment id (attachments.id).';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."ticket_id" IS 'The ticket the file was attached in.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."created_at" IS 'When the event carrying the file was written.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."file_name" IS 'File name as uploaded.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."content_type" IS 'MIME type, e.g. image/png, application/pdf.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."file_extension" IS 'The file name''s extension in lower case (png, pdf, csv), when it has one.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."size" IS 'Size in bytes.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."width" IS 'Width in pixels, for images.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."height" IS 'Height in pixels, for images.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."inline" IS 'True when the image is shown inside the comment''s text.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."deleted" IS 'True when an agent deleted the file after it was sent.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."thumbnail_count" IS 'How many previews Zendesk made of the file (0 for non-images).';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."content_url" IS 'Download link (needs a Zendesk login or token).';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."mapped_content_url" IS 'Download link on the account''s host-mapped domain, when it has one.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."event_reference" IS 'The event the file was attached to (conversation_events.reference).';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."event_type" IS 'Type of that event, normally Comment.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."is_public" IS 'True when the end user can see the file, false when it is on an internal note.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."author_key" IS 'Who sent the file (authors.author_key).';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."author_name" IS 'Name of who sent the file.';
COMMENT ON COLUMN "zendesk"."attachments_with_context"."author_type" IS 'user (the customer), agent or bot.';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."agent_replies" IS 'One row per agent message that answers the customer: how long the customer had been waiting since their first message after the previous agent message. Reply times per agent, per week or per channel start here. Bot messages neither start nor end a wait; internal notes are not replies.';
COMMENT ON COLUMN "zendesk"."agent_replies"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."agent_replies"."reply_number" IS '1 for the ticket''s first agent reply, 2 for the second, and so on.';
COMMENT ON COLUMN "zendesk"."agent_replies"."is_first_reply" IS 'True for the ticket''s first agent reply (the one ticket_conversations.first_agent_reply_at measures).';
COMMENT ON COLUMN "zendesk"."agent_replies"."replied_at" IS 'When the agent replied.';
COMMENT ON COLUMN "zendesk"."agent_replies"."agent_key" IS 'The agent who replied (authors.author_key).';
COMMENT ON COLUMN "zendesk"."agent_replies"."agent_name" IS 'Name of the agent who replied.';
COMMENT ON COLUMN "zendesk"."agent_replies"."channel" IS 'Channel of the reply: messaging, comment (email, web form, API or agent workspace), ...';
COMMENT ON COLUMN "zendesk"."agent_replies"."waiting_since" IS 'When the customer wrote the first message this reply answers.';
COMMENT ON COLUMN "zendesk"."agent_replies"."end_user_messages" IS 'How many customer messages this reply answers (written since the previous agent message).';
COMMENT ON COLUMN "zendesk"."agent_replies"."wait" IS 'replied_at minus waiting_since: how long the customer waited for this reply.';
COMMENT ON COLUMN "zendesk"."agent_replies"."wait_seconds" IS 'wait in seconds, for charts and averages.';
COMMENT ON COLUMN "zendesk"."agent_replies"."reference" IS 'The reply''s event (conversation_events.reference).';
COMMENT ON COLUMN "zendesk"."agent_replies"."first_waiting_reference" IS 'The customer message the wait started with (conversation_events.reference).';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."author_activity" IS 'One row per author (end user, agent or bot): how many tickets they took part in, how much they wrote, and for agents how many replies they gave and how fast (medians, from agent_replies).';
COMMENT ON COLUMN "zendesk"."author_activity"."author_key" IS 'The author (authors.author_key).';
COMMENT ON COLUMN "zendesk"."author_activity"."author_name" IS 'The author''s name as last seen.';
COMMENT ON COLUMN "zendesk"."author_activity"."author_type" IS 'user (an end user, the customer), agent or bot.';
COMMENT ON COLUMN "zendesk"."author_activity"."support_user_id" IS 'Zendesk Support user id (-1 for bots).';
COMMENT ON COLUMN "zendesk"."author_activity"."sunco_user_id" IS 'Messaging (Sunshine Conversations) user id.';
COMMENT ON COLUMN "zendesk"."author_activity"."tickets" IS 'Tickets in which the author wrote at least one event.';
COMMENT ON COLUMN "zendesk"."author_activity"."events" IS 'Events written, of every kind.';
COMMENT ON COLUMN "zendesk"."author_activity"."messages" IS 'Messages written (public comments and messaging messages).';
COMMENT ON COLUMN "zendesk"."author_activity"."internal_notes" IS 'Internal notes written.';
COMMENT ON COLUMN "zendesk"."author_activity"."other_events" IS 'Other events (status changes, calls, newer event types).';
COMMENT ON COLUMN "zendesk"."author_activity"."attachments" IS 'Files attached to the author''s comments, deleted ones included.';
COMMENT ON COLUMN "zendesk"."author_activity"."first_event_at" IS 'When the author''s first stored event happened.';
COMMENT ON COLUMN "zendesk"."author_activity"."last_event_at" IS 'When the author''s latest stored event happened.';
COMMENT ON COLUMN "zendesk"."author_activity"."replies" IS 'Agents: messages that answered a waiting customer (rows in agent_replies).';
COMMENT ON COLUMN "zendesk"."author_activity"."median_reply_wait_seconds" IS 'Agents: median seconds the customer had waited when this agent replied.';
COMMENT ON COLUMN "zendesk"."author_activity"."first_replies" IS 'Agents: tickets in which this agent gave the first reply.';
COMMENT ON COLUMN "zendesk"."author_activity"."median_first_reply_seconds" IS 'Agents: median time to first reply, in seconds, over the tickets this agent answered first.';
--> statement-breakpoint

COMMENT ON VIEW "zendesk"."daily_activity" IS 'One row per day (UTC) from the first to the latest stored event, days without activity included as zeros: conversation volume, bot handovers and reply times over time.';
COMMENT ON COLUMN "zendesk"."daily_activity"."day" IS 'The calendar day in UTC.';
COMMENT ON COLUMN "zendesk"."daily_activity"."tickets_active" IS 'Tickets with at least one event that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."tickets_started" IS 'Tickets whose first stored event happened that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."events" IS 'Events of every kind that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."end_user_messages" IS 'Messages written by end users that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."agent_messages" IS 'Messages written by agents to customers that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."bot_messages" IS 'Messages written by bots that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."internal_notes" IS 'Internal notes written that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."messaging_events" IS 'Events that came through messaging that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."handovers" IS 'Tickets a bot handed over to a human that day (by handed_over_at).';
COMMENT ON COLUMN "zendesk"."daily_activity"."agent_replies" IS 'Agent replies to waiting customers that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."median_reply_wait_seconds" IS 'Median seconds customers had waited for the replies given that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."first_replies" IS 'First agent replies given that day.';
COMMENT ON COLUMN "zendesk"."daily_activity"."median_first_reply_seconds" IS 'Median time to first reply, in seconds, of the first replies given that day.';
