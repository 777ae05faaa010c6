CREATE SCHEMA "convlog";
--> statement-breakpoint
CREATE TABLE "convlog"."rate_budgets" (
	"name" text PRIMARY KEY NOT NULL,
	"limit_per_window" integer NOT NULL,
	"window_ms" integer DEFAULT 60000 NOT NULL,
	"window_started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"spent" integer DEFAULT 0 NOT NULL,
	"server_remaining" integer,
	"server_resets_at" timestamp with time zone,
	"paused_until" timestamp with time zone,
	"total_taken" bigint DEFAULT 0 NOT NULL,
	"total_rate_limited" bigint DEFAULT 0 NOT NULL,
	"total_wait_ms" bigint DEFAULT 0 NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "convlog"."sync_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
