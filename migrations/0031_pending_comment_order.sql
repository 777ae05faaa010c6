-- Pending comments written in the same second and received in the same batch were ordered by
-- their comment id as text, which puts comment 1000 before comment 779: ids of digits only are
-- ordered as numbers (shorter first, then by digits). The view is restated whole, as 0012 made it.
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
      + row_number() OVER (PARTITION BY p.ticket_id ORDER BY p.written_at, p.received_at, length(p.comment_id), p.comment_id))::integer,
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
