CREATE INDEX "conversation_events_files_idx" ON "zendesk"."conversation_events" USING btree ("reference","author_type","is_public","type","created_at","author_key") WHERE "zendesk"."conversation_events"."attachment_count" > 0 AND "zendesk"."conversation_events"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "tickets_created_idx" ON "zendesk"."tickets" USING btree ("created_at");
