ALTER TABLE "zendesk"."authors" ADD COLUMN IF NOT EXISTS "written_at" timestamp with time zone;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."authors"."written_at" IS 'When the newest event that gave this row its type, display_name and avatar_url was written: an older event stored later (an old ticket synced after a newer one, a full read) only fills what the row lacks, as does one older than user_updated_at. Empty for people only Zendesk user records named. Internal.';--> statement-breakpoint
-- Before this release every page stored overwrote a person's type, name and avatar with what its
-- events said, however old: each person takes them from their newest stored event now, unless the
-- Zendesk user record stored is newer. The newest event is found without its JSON (a sort of keys
-- and times), then read by its key.
WITH newest AS (
  SELECT DISTINCT ON (author_key) author_key, created_at, reference
    FROM "zendesk"."conversation_events"
   WHERE author_key IS NOT NULL
   ORDER BY author_key, created_at DESC, reference DESC
), said AS (
  SELECT n.author_key, n.created_at,
         CASE WHEN jsonb_typeof(e.raw #> '{author,type}') = 'string' THEN e.raw #>> '{author,type}' END AS type,
         CASE WHEN jsonb_typeof(e.raw #> '{author,display_name}') = 'string' THEN e.raw #>> '{author,display_name}' END AS display_name,
         CASE WHEN jsonb_typeof(e.raw #> '{author,avatar_url}') = 'string' THEN e.raw #>> '{author,avatar_url}' END AS avatar_url
    FROM newest n JOIN "zendesk"."conversation_events" e ON e.reference = n.reference
), now_is AS (
  SELECT a.author_key, s.created_at,
         CASE WHEN event_wins THEN coalesce(s.type, a.type) ELSE coalesce(a.type, s.type) END AS type,
         CASE WHEN event_wins THEN coalesce(s.display_name, a.display_name) ELSE coalesce(a.display_name, s.display_name) END AS display_name,
         CASE WHEN event_wins THEN coalesce(s.avatar_url, a.avatar_url) ELSE coalesce(a.avatar_url, s.avatar_url) END AS avatar_url
    FROM said s
    JOIN "zendesk"."authors" a ON a.author_key = s.author_key
   CROSS JOIN LATERAL (SELECT a.user_updated_at IS NULL OR s.created_at > a.user_updated_at AS event_wins) w
)
UPDATE "zendesk"."authors" a
   SET written_at = v.created_at, type = v.type, display_name = v.display_name, avatar_url = v.avatar_url,
       updated_at = CASE WHEN (v.type, v.display_name, v.avatar_url) IS DISTINCT FROM (a.type, a.display_name, a.avatar_url) THEN now() ELSE a.updated_at END
  FROM now_is v
 WHERE v.author_key = a.author_key;
