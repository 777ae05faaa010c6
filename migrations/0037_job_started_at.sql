ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN IF NOT EXISTS "job_started_at" timestamp with time zone;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_sync"."job_started_at" IS 'When the first run of the ticket''s latest job started (started_at is its latest run''s): a request made during any run of a job that then fails for good queues the ticket again. Internal.';
