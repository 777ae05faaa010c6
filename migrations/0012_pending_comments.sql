CREATE TABLE "zendesk"."pending_comments" (
	"ticket_id" bigint NOT NULL,
	"comment_id" text NOT NULL,
	"body" text NOT NULL,
	"is_public" boolean,
	"author_zendesk_id" bigint,
	"author_name" text,
	"author_is_staff" boolean,
	"written_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"webhook_event_id" text,
	"raw" jsonb NOT NULL,
	CONSTRAINT "pending_comments_ticket_id_comment_id_pk" PRIMARY KEY("ticket_id","comment_id")
);
--> statement-breakpoint
-- Comments a webhook announced appear in the timeline at once, before the conversation log is
-- read (issue 14: the log's budget cannot keep up with a busy minute). The stored events are
-- unchanged; pending comments are appended rows with pending = true, numbered after the
-- ticket's stored events. A pending comment whose id is already the id of a stored event of its
-- ticket is left out, so a comment read by a run that started before its webhook came is not
-- shown twice while it waits for the next sync to clear it.
-- Shape: the UNION ALL is inside, over conversation_events alone with no WHERE, and the author
-- join and the deleted_at filter are outside. Postgres then plans the events as a member of an
-- append (it cannot when the member has a join or a WHERE of its own), and keeps what the
-- one-table view had: an ordered index scan under a LIMIT (the activity feed: newest 100
-- events) and (ticket_id, position) for one ticket, merged with the few pending rows.
-- In the pending member, what a webhook does not tell (event type, channel, attachments,
-- metadata) is empty; ticket_id is its window's partition, so a query for one ticket reaches it
-- too, and the ticket's last stored position comes from conversation_events_ticket_position_idx.
CREATE OR REPLACE VIEW "zendesk"."conversation_timeline" AS
SELECT
  t.ticket_id,
  t.position,
  t.created_at,
  t.received_at,
  t.event_type,
  t.event_kind,
  t.author_key,
  coalesce(t.given_author_name, a.display_name) AS author_name,
  t.author_type,
  t.channel,
  t.source_type,
  t.is_public,
  t.content_type,
  t.body_text,
  t.raw -> 'content' ->> 'mediaUrl' AS media_url,
  t.raw -> 'content' ->> 'mediaType' AS media_type,
  t.attachment_count,
  t.raw #>> '{metadata,system,client}' AS user_agent,
  t.ticket_version,
  t.reference,
  t.event_id,
  CASE WHEN t.raw -> 'content' ->> 'type' = 'html' AND jsonb_typeof(t.raw -> 'content' -> 'body') = 'string' THEN t.raw -> 'content' ->> 'body' END AS body_html,
  nullif(t.raw -> 'content', 'null'::jsonb) AS content,
  nullif(t.raw -> 'metadata', 'null'::jsonb) AS metadata,
  t.pending
FROM (
  SELECT
    e.ticket_id, e.position, e.created_at, e.received_at, e.type AS event_type, e.event_kind, e.author_key,
    NULL::text AS given_author_name, e.author_type, e.channel, e.source_type, e.is_public, e.content_type, e.body_text,
    e.raw, e.attachment_count, e.ticket_version, e.reference, e.event_id, e.deleted_at, false AS pending
  FROM "zendesk"."conversation_events" e
  UNION ALL
  SELECT
    p.ticket_id,
    (coalesce((SELECT max(s.position) FROM "zendesk"."conversation_events" s WHERE s.ticket_id = p.ticket_id AND s.deleted_at IS NULL), 0)
      + row_number() OVER (PARTITION BY p.ticket_id ORDER BY p.written_at, p.received_at, p.comment_id))::integer,
    p.written_at, NULL::timestamptz, NULL::text,
    CASE WHEN p.is_public THEN 'message' WHEN NOT p.is_public THEN 'internal_note' END,
    CASE WHEN p.author_zendesk_id IS NOT NULL THEN 'support:' || p.author_zendesk_id END,
    p.author_name,
    CASE WHEN p.author_is_staff THEN 'agent' WHEN NOT p.author_is_staff THEN 'user' END,
    NULL::text, NULL::text, p.is_public, NULL::text, p.body,
    NULL::jsonb, NULL::integer, NULL::integer, NULL::text, p.comment_id, NULL::timestamptz, true
  FROM "zendesk"."pending_comments" p
  WHERE NOT EXISTS (
    SELECT 1 FROM "zendesk"."conversation_events" s
     WHERE s.ticket_id = p.ticket_id AND s.event_id = p.comment_id AND s.deleted_at IS NULL)
    -- A comment's number also appears in its event's reference (zen:ticket_event:<number>);
    -- which of the two Zendesk's webhook gives is not documented, so either one counts.
    AND NOT EXISTS (
    SELECT 1 FROM "zendesk"."conversation_events" s
     WHERE s.reference = 'zen:ticket_event:' || p.comment_id AND s.ticket_id = p.ticket_id AND s.deleted_at IS NULL)
) t
LEFT JOIN "zendesk"."authors" a ON a.author_key = t.author_key
WHERE t.deleted_at IS NULL;
--> statement-breakpoint
-- author_activity counted the timeline's rows; it counts stored events only, as every metric
-- does, so it reads them directly (the same rows the timeline's first branch shows).
CREATE OR REPLACE VIEW "zendesk"."author_activity" AS
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
  FROM "zendesk"."conversation_events"
  WHERE deleted_at IS NULL
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
COMMENT ON TABLE "zendesk"."pending_comments" IS 'Comments a Zendesk webhook (ticket.comment_added) announced that the ticket''s conversation log has not confirmed yet: shown in conversation_timeline with pending = true, deleted by the ticket''s next sync (those received before its run started) or when the ticket is purged. No metric view counts them.';
COMMENT ON COLUMN "zendesk"."pending_comments"."ticket_id" IS 'The Zendesk ticket the comment was added to.';
COMMENT ON COLUMN "zendesk"."pending_comments"."comment_id" IS 'Zendesk''s comment id, as the webhook gave it (event.comment.id).';
COMMENT ON COLUMN "zendesk"."pending_comments"."body" IS 'The comment''s body as the webhook gave it (event.comment.body).';
COMMENT ON COLUMN "zendesk"."pending_comments"."is_public" IS 'True for a public comment, false for an internal note; empty when the webhook did not say.';
COMMENT ON COLUMN "zendesk"."pending_comments"."author_zendesk_id" IS 'The author''s Zendesk Support user id (event.comment.author.id), when the webhook gave a positive one.';
COMMENT ON COLUMN "zendesk"."pending_comments"."author_name" IS 'The author''s name as the webhook gave it.';
COMMENT ON COLUMN "zendesk"."pending_comments"."author_is_staff" IS 'True when the author is staff (an agent), false for an end user; empty when the webhook did not say.';
COMMENT ON COLUMN "zendesk"."pending_comments"."written_at" IS 'When Zendesk says the comment was added: the webhook''s time.';
COMMENT ON COLUMN "zendesk"."pending_comments"."received_at" IS 'When convlog serve accepted the webhook; a sync whose run started later clears the row.';
COMMENT ON COLUMN "zendesk"."pending_comments"."webhook_event_id" IS 'The id of the webhook event that brought the comment.';
COMMENT ON COLUMN "zendesk"."pending_comments"."raw" IS 'The webhook''s event.comment object as received.';
COMMENT ON VIEW "zendesk"."conversation_timeline" IS 'Every event of every ticket in order, one row each, with its author, channel, visibility and plain text: the conversation as an agent would read it; then the comments webhooks announced that no sync has stored yet (pending = true). Filter on ticket_id and order by position.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."position" IS 'The event''s place in its ticket, 1 for the first: ordered by created_at, then received_at, then event id. Pending comments come after the ticket''s stored events, by created_at.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."event_id" IS 'The event''s id in the conversation log API; for a pending comment, Zendesk''s comment id as the webhook gave it.';
COMMENT ON COLUMN "zendesk"."conversation_timeline"."pending" IS 'True for a comment a webhook announced and no sync has stored yet (from pending_comments: no event type, channel, attachments or metadata until stored); false for a stored event. Metric views count stored events only.';
