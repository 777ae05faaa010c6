CREATE INDEX "conversation_events_files_idx" ON "zendesk"."conversation_events" USING btree ("reference","author_type","is_public","type","created_at","author_key") WHERE "zendesk"."conversation_events"."attachment_count" > 0 AND "zendesk"."conversation_events"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "tickets_created_idx" ON "zendesk"."tickets" USING btree ("created_at");--> statement-breakpoint
-- Files with the author type and visibility as written on their event (like the timeline since
-- 0008), joined through conversation_events_files_idx: attachment_count > 0 holds for every
-- event a file row points to, and lets the planner use that small index.
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
  e.is_public,
  e.author_key,
  a.display_name AS author_name,
  e.author_type
FROM "zendesk"."attachments" f
JOIN "zendesk"."conversation_events" e ON e.reference = f.event_reference AND e.attachment_count > 0
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE f.deleted_at IS NULL AND e.deleted_at IS NULL;
