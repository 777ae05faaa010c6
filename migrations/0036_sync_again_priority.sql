ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN IF NOT EXISTS "sync_again_priority" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_sync"."sync_again_priority" IS 'The highest queue priority the requests behind sync_again_at asked for (a webhook''s, above a backlog''s): the ticket is queued again at this or its run''s, whichever is higher. Internal.';
