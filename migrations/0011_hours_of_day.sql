CREATE TABLE "zendesk"."ticket_hours" (
	"ticket_id" bigint NOT NULL,
	"hour_utc" smallint NOT NULL,
	"events" integer NOT NULL,
	"end_user_messages" integer NOT NULL,
	"messaging_end_user_messages" integer NOT NULL,
	"agent_messages" integer NOT NULL,
	"bot_messages" integer NOT NULL,
	CONSTRAINT "ticket_hours_ticket_id_hour_utc_pk" PRIMARY KEY("ticket_id","hour_utc")
);
--> statement-breakpoint
-- A ticket's events by hour of the day (UTC) over all its days, kept like ticket_days: the
-- "busiest hours" question then sums a few rows per ticket instead of reading every event.
CREATE FUNCTION "convlog"."refresh_ticket_hours"(ticket_ids bigint[]) RETURNS void
LANGUAGE sql AS $fn$
DELETE FROM zendesk.ticket_hours WHERE ticket_id = ANY(ticket_ids);

INSERT INTO zendesk.ticket_hours (ticket_id, hour_utc, events, end_user_messages, messaging_end_user_messages, agent_messages, bot_messages)
SELECT
  ticket_id,
  extract(hour FROM created_at AT TIME ZONE 'UTC')::smallint,
  count(*)::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'user')::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'user' AND channel = 'messaging')::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'agent')::integer,
  count(*) FILTER (WHERE event_kind = 'message' AND author_type = 'bot')::integer
FROM zendesk.conversation_events
WHERE ticket_id = ANY(ticket_ids) AND deleted_at IS NULL
GROUP BY 1, 2;
$fn$;
--> statement-breakpoint
SELECT "convlog"."refresh_ticket_hours"(array(SELECT DISTINCT ticket_id FROM "zendesk"."conversation_events"));
--> statement-breakpoint
CREATE VIEW "zendesk"."hourly_profile" AS
SELECT
  h.hour_utc::integer AS hour_utc,
  count(*)::integer AS tickets,
  sum(h.events)::integer AS events,
  sum(h.end_user_messages)::integer AS end_user_messages,
  sum(h.agent_messages)::integer AS agent_messages,
  sum(h.bot_messages)::integer AS bot_messages,
  sum(h.messaging_end_user_messages)::integer AS messaging_end_user_messages,
  count(*) FILTER (WHERE h.messaging_end_user_messages > 0)::integer AS messaging_end_user_tickets
FROM "zendesk"."ticket_hours" h
GROUP BY h.hour_utc;
--> statement-breakpoint
COMMENT ON FUNCTION "convlog"."refresh_ticket_hours"(bigint[]) IS 'Rewrites ticket_hours for the given tickets from their live events; called with refresh_ticket_analytics.';
COMMENT ON TABLE "zendesk"."ticket_hours" IS 'Events per ticket and hour of the day (UTC) over all the ticket''s days, kept by convlog per ticket; hourly_profile is the view to query.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."ticket_id" IS 'The Zendesk ticket.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."hour_utc" IS 'The hour of the day in UTC, 0 to 23.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."events" IS 'The ticket''s events in that hour of the day, all days together.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."end_user_messages" IS 'Customer messages in that hour of the day.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."messaging_end_user_messages" IS 'Customer messages through messaging in that hour of the day.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."agent_messages" IS 'Agent messages in that hour of the day.';
COMMENT ON COLUMN "zendesk"."ticket_hours"."bot_messages" IS 'Bot messages in that hour of the day.';
COMMENT ON VIEW "zendesk"."hourly_profile" IS 'One row per hour of the day (UTC) that had activity, over all stored days: when customers write, agents answer and bots talk.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."hour_utc" IS 'The hour of the day in UTC, 0 to 23.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."tickets" IS 'Tickets with any event in that hour of the day, on any day.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."events" IS 'Events in that hour of the day, all days together.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."end_user_messages" IS 'Customer messages in that hour of the day.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."agent_messages" IS 'Agent messages in that hour of the day.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."bot_messages" IS 'Bot messages in that hour of the day.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."messaging_end_user_messages" IS 'Customer messages through messaging in that hour of the day.';
COMMENT ON COLUMN "zendesk"."hourly_profile"."messaging_end_user_tickets" IS 'Tickets with a customer messaging message in that hour of the day, on any day.';
