ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN "sync_again_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN "sync_again_full" boolean DEFAULT false NOT NULL;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_sync"."sync_again_at" IS 'When the ticket was last asked for while its sync was running: the worker queues it again after that run if this is later than started_at. Internal.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_sync"."sync_again_full" IS 'Whether one of the requests behind sync_again_at asked for a full re-read (--full). Internal.';
