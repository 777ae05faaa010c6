ALTER TABLE "zendesk"."ticket_sync" ADD COLUMN IF NOT EXISTS "job_id" text;--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_sync"."job_id" IS 'The pg-boss id of the job whose first run job_started_at records: a retry keeps the id, a new job has another. Internal.';
