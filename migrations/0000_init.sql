CREATE SCHEMA "zendesk";
--> statement-breakpoint
CREATE TABLE "zendesk"."attachment_thumbnails" (
	"id" bigint PRIMARY KEY NOT NULL,
	"ticket_id" bigint NOT NULL,
	"file_name" text,
	"content_type" text,
	"content_url" text,
	"mapped_content_url" text,
	"url" text,
	"size" bigint,
	"width" integer,
	"height" integer,
	"inline" boolean,
	"deleted" boolean,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attachment_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."attachments" (
	"id" bigint PRIMARY KEY NOT NULL,
	"ticket_id" bigint NOT NULL,
	"file_name" text,
	"content_type" text,
	"content_url" text,
	"mapped_content_url" text,
	"url" text,
	"size" bigint,
	"width" integer,
	"height" integer,
	"inline" boolean,
	"deleted" boolean,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"event_reference" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."authors" (
	"author_key" text PRIMARY KEY NOT NULL,
	"support_user_id" bigint,
	"sunco_user_id" text,
	"type" text,
	"display_name" text,
	"avatar_url" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."conversation_events" (
	"reference" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"ticket_id" bigint NOT NULL,
	"type" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"author_key" text,
	"content_type" text,
	"body_html" text,
	"body_text" text,
	"public" boolean,
	"source_type" text,
	"received_at" timestamp with time zone,
	"ticket_version" integer,
	"content" jsonb,
	"metadata" jsonb,
	"raw" jsonb NOT NULL,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."ticket_sync" (
	"ticket_id" bigint PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"after_cursor" text,
	"events_synced" integer DEFAULT 0 NOT NULL,
	"pages_synced" integer DEFAULT 0 NOT NULL,
	"requests_last_run" integer DEFAULT 0 NOT NULL,
	"events_last_run" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"last_synced_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ticket_sync_status_check" CHECK (status in ('queued', 'syncing', 'synced', 'not_found', 'forbidden', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "zendesk"."attachment_thumbnails" ADD CONSTRAINT "attachment_thumbnails_attachment_id_attachments_id_fk" FOREIGN KEY ("attachment_id") REFERENCES "zendesk"."attachments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "zendesk"."attachments" ADD CONSTRAINT "attachments_event_reference_conversation_events_reference_fk" FOREIGN KEY ("event_reference") REFERENCES "zendesk"."conversation_events"("reference") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "zendesk"."conversation_events" ADD CONSTRAINT "conversation_events_author_key_authors_author_key_fk" FOREIGN KEY ("author_key") REFERENCES "zendesk"."authors"("author_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attachment_thumbnails_attachment_idx" ON "zendesk"."attachment_thumbnails" USING btree ("attachment_id");--> statement-breakpoint
CREATE INDEX "attachments_event_idx" ON "zendesk"."attachments" USING btree ("event_reference");--> statement-breakpoint
CREATE INDEX "attachments_ticket_idx" ON "zendesk"."attachments" USING btree ("ticket_id");--> statement-breakpoint
CREATE INDEX "conversation_events_ticket_created_idx" ON "zendesk"."conversation_events" USING btree ("ticket_id","created_at");--> statement-breakpoint
CREATE INDEX "conversation_events_author_idx" ON "zendesk"."conversation_events" USING btree ("author_key");--> statement-breakpoint
CREATE INDEX "conversation_events_created_idx" ON "zendesk"."conversation_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "ticket_sync_status_idx" ON "zendesk"."ticket_sync" USING btree ("status");