ALTER TABLE "zendesk"."attachments" ADD COLUMN "author_type" text;--> statement-breakpoint
CREATE INDEX "reply_waits_week_idx" ON "zendesk"."reply_waits" USING btree (date_trunc('week', ("replied_at" AT TIME ZONE 'UTC')),"replied_at","waiting_since");--> statement-breakpoint
UPDATE "zendesk"."attachments" f SET "author_type" = e."author_type"
FROM "zendesk"."conversation_events" e
WHERE e."reference" = f."event_reference" AND f."author_type" IS DISTINCT FROM e."author_type";
--> statement-breakpoint
-- The author type is the file's own copy, and the event is a LEFT JOIN on its primary key: a
-- query that reads no event column (counting files by type, size and sender) reads no events.
-- A file whose event is gone or marked deleted is itself removed or marked (src/db/purge.ts,
-- src/db/full-read.ts), so f.deleted_at alone keeps the rows the inner join kept. Every event a
-- file points to lists files (attachment_count > 0): saying so lets the planner join through
-- conversation_events_files_idx (migration 0009), a tenth of the table.
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
  f.author_type
FROM "zendesk"."attachments" f
LEFT JOIN "zendesk"."conversation_events" e ON e.reference = f.event_reference AND e.attachment_count > 0 AND e.deleted_at IS NULL
LEFT JOIN "zendesk"."authors" a ON a.author_key = e.author_key
WHERE f.deleted_at IS NULL;
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."attachments"."author_type" IS 'The type of the author of the file''s event as written on it (user for a customer, agent, bot): a copy of conversation_events.author_type, so counting files by sender reads no events.';
