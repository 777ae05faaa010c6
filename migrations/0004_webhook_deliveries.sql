CREATE TABLE "convlog"."webhook_deliveries" (
	"delivery_key" text PRIMARY KEY NOT NULL,
	"ticket_id" bigint NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "convlog"."webhook_deliveries" USING btree ("received_at");