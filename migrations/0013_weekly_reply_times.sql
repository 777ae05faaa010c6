DROP INDEX "zendesk"."reply_waits_week_idx";--> statement-breakpoint
-- One rewrite of reply_waits for both columns (drizzle-kit wrote two statements, two rewrites).
ALTER TABLE "zendesk"."reply_waits"
  ADD COLUMN "week" timestamp GENERATED ALWAYS AS (date_trunc('week', ("replied_at" AT TIME ZONE 'UTC'))) STORED,
  ADD COLUMN "wait_seconds" integer GENERATED ALWAYS AS ((extract(epoch FROM "replied_at" - "waiting_since"))::integer) STORED;--> statement-breakpoint
CREATE INDEX "reply_waits_week_wait_idx" ON "zendesk"."reply_waits" USING btree ("week","wait_seconds");--> statement-breakpoint
-- Reply times per UTC week over every reply ever. The median is the middle entry (or the mean of
-- the two middle ones, as percentile_cont(0.5) gives) of the week's waits, which the index keeps
-- in order: the query skips half a week's index entries instead of sorting all of its replies,
-- so a chart over years of replies stays well under a second.
CREATE VIEW "zendesk"."weekly_reply_times" AS
SELECT
  w.week,
  w.replies,
  m.median_wait_seconds,
  justify_hours(make_interval(secs => l.longest_wait_seconds)) AS longest_wait,
  l.longest_wait_seconds
FROM (SELECT r.week, count(*)::integer AS replies FROM "zendesk"."reply_waits" r GROUP BY r.week) w
CROSS JOIN LATERAL (
  SELECT avg(middle.wait_seconds)::float8 AS median_wait_seconds
  FROM (
    SELECT r.wait_seconds FROM "zendesk"."reply_waits" r
    WHERE r.week = w.week
    ORDER BY r.wait_seconds
    OFFSET (w.replies - 1) / 2 LIMIT 2 - w.replies % 2
  ) middle
) m
CROSS JOIN LATERAL (
  SELECT max(r.wait_seconds) AS longest_wait_seconds FROM "zendesk"."reply_waits" r WHERE r.week = w.week
) l;
--> statement-breakpoint
COMMENT ON VIEW "zendesk"."weekly_reply_times" IS 'One row per UTC week with agent replies: how many, the median wait (as percentile_cont(0.5) over agent_replies.wait_seconds) and the longest. Every reply, not only the first.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."reply_waits"."week" IS 'The Monday (UTC, 00:00) of the week of replied_at: what weekly_reply_times groups by.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."reply_waits"."wait_seconds" IS 'Seconds from waiting_since to replied_at, kept beside week so that each week''s waits are in order in one index.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."weekly_reply_times"."week" IS 'The Monday (UTC, 00:00) starting the week; weeks without a reply have no row.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."weekly_reply_times"."replies" IS 'Agent replies in the week (agent_replies rows whose replied_at falls in it), first replies and later ones.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."weekly_reply_times"."median_wait_seconds" IS 'The median wait of those replies in seconds, equal to percentile_cont(0.5) over their agent_replies.wait_seconds.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."weekly_reply_times"."longest_wait" IS 'The longest wait of those replies, as an interval (days and hours).';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."weekly_reply_times"."longest_wait_seconds" IS 'The longest wait of those replies in seconds.';
--> statement-breakpoint
-- What ticket_conversations reads of a ticket, beside its id: a question about every ticket
-- (containment rate, first reply by agent) then reads this index (about 110 bytes a ticket)
-- instead of the table, whose rows carry each ticket's JSON (about 1.9 kB). drizzle-kit has no
-- INCLUDE, so the index lives here only (src/db/schema.ts says so).
CREATE INDEX "tickets_conversation_facts_idx" ON "zendesk"."tickets" USING btree ("id")
  INCLUDE ("deleted", "status", "created_at", "group_id", "brand_id", "organization_id", "assignee_id", "requester_id", "via_channel", "from_messaging_channel", "priority", "type");
