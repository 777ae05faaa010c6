-- Ticket context in the analyst views: ticket_conversations gains, after its existing columns,
-- the ticket's status, priority, type, via channel, group, brand, organization, assignee and
-- requester names and tags, joined from the ticket-context tables (migration 0003). Every join is
-- a LEFT JOIN: a ticket no backfill or read by id has stored yet keeps its row with these empty,
-- and a group, brand or organization the lists no longer have still shows its id.
-- CREATE OR REPLACE keeps the existing columns, their comments and the views built on this one.

CREATE OR REPLACE VIEW "zendesk"."ticket_conversations" AS
WITH events AS (
  SELECT
    t.*,
    (t.event_kind = 'message' AND t.author_type = 'user') AS by_end_user,
    (t.event_kind = 'message' AND t.author_type = 'agent') AS by_agent,
    (t.event_kind = 'message' AND t.author_type = 'bot') AS by_bot
  FROM "zendesk"."conversation_timeline" t
), marked AS (
  SELECT
    events.*,
    coalesce(bool_or(by_end_user) OVER earlier, false) AS after_end_user,
    coalesce(bool_or(by_bot) OVER earlier, false) AS after_bot,
    coalesce(bool_or(by_agent) OVER later, false) AS agent_later
  FROM events
  WINDOW
    earlier AS (PARTITION BY ticket_id ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
    later AS (PARTITION BY ticket_id ORDER BY position ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
), per_ticket AS (
  SELECT
    ticket_id,
    bool_or(channel = 'messaging') AS has_messaging,
    (array_agg(channel ORDER BY position))[1] AS first_channel,
    (array_agg(source_type ORDER BY position) FILTER (WHERE by_end_user AND channel = 'messaging' AND source_type NOT LIKE 'zd:%'))[1] AS end_user_source,
    min(created_at) AS first_event_at,
    max(created_at) AS last_event_at,
    count(*)::integer AS events,
    count(*) FILTER (WHERE by_end_user)::integer AS end_user_messages,
    count(*) FILTER (WHERE by_agent)::integer AS agent_messages,
    count(*) FILTER (WHERE by_bot)::integer AS bot_messages,
    count(*) FILTER (WHERE event_kind = 'internal_note')::integer AS internal_notes,
    count(*) FILTER (WHERE event_kind = 'other')::integer AS other_events,
    count(DISTINCT author_key) FILTER (WHERE by_agent)::integer AS agents_involved,
    sum(attachment_count)::integer AS attachments,
    min(created_at) FILTER (WHERE by_end_user) AS first_end_user_message_at,
    min(created_at) FILTER (WHERE by_agent AND after_end_user) AS first_agent_reply_at,
    (array_agg(author_key ORDER BY position) FILTER (WHERE by_agent AND after_end_user))[1] AS first_reply_agent_key,
    min(created_at) FILTER (WHERE by_agent AND after_bot) AS handed_over_at,
    min(created_at) FILTER (WHERE by_end_user AND NOT agent_later) AS unanswered_since,
    (array_agg(author_type ORDER BY position DESC) FILTER (WHERE event_kind = 'message'))[1] AS last_message_author_type
  FROM marked
  GROUP BY ticket_id
)
SELECT
  s.ticket_id,
  CASE WHEN p.has_messaging THEN 'messaging' ELSE p.first_channel END AS channel,
  p.end_user_source,
  p.first_event_at,
  p.last_event_at,
  coalesce(p.events, 0) AS events,
  coalesce(p.end_user_messages, 0) AS end_user_messages,
  coalesce(p.agent_messages, 0) AS agent_messages,
  coalesce(p.bot_messages, 0) AS bot_messages,
  coalesce(p.internal_notes, 0) AS internal_notes,
  coalesce(p.other_events, 0) AS other_events,
  coalesce(p.agents_involved, 0) AS agents_involved,
  coalesce(p.attachments, 0) AS attachments,
  p.first_end_user_message_at,
  p.first_agent_reply_at,
  p.first_agent_reply_at - p.first_end_user_message_at AS time_to_first_agent_reply,
  extract(epoch FROM p.first_agent_reply_at - p.first_end_user_message_at)::integer AS first_agent_reply_seconds,
  p.first_reply_agent_key,
  fa.display_name AS first_reply_agent_name,
  coalesce(p.bot_messages, 0) > 0 AS had_bot,
  p.handed_over_at IS NOT NULL AS bot_handed_over,
  p.handed_over_at,
  p.last_message_author_type,
  p.unanswered_since,
  s.status AS sync_status,
  s.last_synced_at,
  now() - s.last_synced_at AS sync_age,
  s.last_error,
  s.last_error_at,
  s.attempts AS sync_attempts,
  -- Appended after the existing columns: CREATE OR REPLACE VIEW may only add columns at the end.
  tk.status AS ticket_status,
  tk.priority,
  tk.type AS ticket_type,
  tk.via_channel,
  tk.from_messaging_channel,
  tk.group_id,
  coalesce(g.name, 'group ' || tk.group_id) AS group_name,
  tk.brand_id,
  coalesce(b.name, 'brand ' || tk.brand_id) AS brand_name,
  tk.organization_id,
  coalesce(o.name, 'organization ' || tk.organization_id) AS organization_name,
  tk.assignee_id,
  ag.display_name AS assignee_name,
  tk.requester_id,
  rq.display_name AS requester_name,
  tk.tags,
  tk.subject,
  tk.created_at AS ticket_created_at,
  tk.updated_at AS ticket_updated_at,
  tk.deleted AS ticket_deleted
FROM "zendesk"."ticket_sync" s
LEFT JOIN per_ticket p ON p.ticket_id = s.ticket_id
LEFT JOIN "zendesk"."authors" fa ON fa.author_key = p.first_reply_agent_key
LEFT JOIN "zendesk"."tickets" tk ON tk.id = s.ticket_id
LEFT JOIN "zendesk"."groups" g ON g.id = tk.group_id
LEFT JOIN "zendesk"."brands" b ON b.id = tk.brand_id
LEFT JOIN "zendesk"."organizations" o ON o.id = tk.organization_id
LEFT JOIN "zendesk"."authors" ag ON ag.author_key = 'support:' || tk.assignee_id
LEFT JOIN "zendesk"."authors" rq ON rq.author_key = 'support:' || tk.requester_id
-- Tombstones of deleted tickets count in no view (migration 0005).
WHERE s.deleted_at IS NULL;
--> statement-breakpoint

COMMENT ON COLUMN "zendesk"."ticket_conversations"."channel" IS 'messaging when any event came through messaging, otherwise the family of the first event: comment, voice, ... Empty when no event is stored. For how the ticket came in (email, web form, API, WhatsApp, ...), see via_channel.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_status" IS 'The ticket''s status in Zendesk (new, open, pending, hold, solved, closed, deleted), from zendesk.tickets. Empty until a backfill or a sync by id has read the ticket. Not to be confused with sync_status, which is convlog''s.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."priority" IS 'The ticket''s priority (low, normal, high, urgent), or empty when none is set; from zendesk.tickets.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_type" IS 'The ticket''s type (question, incident, problem, task), or empty; from zendesk.tickets.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."via_channel" IS 'How the ticket came in, Zendesk''s via.channel: email, web, api, mobile, chat, voice, native_messaging, whatsapp, facebook, and others. Unlike channel, it tells e-mail from web form and API.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."from_messaging_channel" IS 'True when Zendesk says the ticket was created through a messaging channel; from zendesk.tickets.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."group_id" IS 'The ticket''s group (zendesk.groups.id), or empty when unassigned.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."group_name" IS 'The group''s name; when the groups list no longer has it (deleted since), ''group <id>''. Empty when the ticket has no group.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."brand_id" IS 'The ticket''s brand (zendesk.brands.id).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."brand_name" IS 'The brand''s name; when the brands list no longer has it, ''brand <id>''.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."organization_id" IS 'The requester''s organization for this ticket (zendesk.organizations.id), or empty.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."organization_name" IS 'The organization''s name; when the list no longer has it, ''organization <id>''. Empty when the ticket has none.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."assignee_id" IS 'The Zendesk user id of the assigned agent, or empty (new tickets, tickets an AI agent handled).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."assignee_name" IS 'The assigned agent''s name, from zendesk.authors (support:<assignee_id>).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."requester_id" IS 'The Zendesk user id of the customer who asked.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."requester_name" IS 'The requester''s name, from zendesk.authors (support:<requester_id>), known even before they write.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."tags" IS 'The ticket''s tags, a text array: filter with tags @> ARRAY[''vip''].';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."subject" IS 'The ticket''s subject line, from zendesk.tickets.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_created_at" IS 'When the ticket was created in Zendesk (not when its first stored event happened).';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_updated_at" IS 'When the ticket was last updated in Zendesk, as of the stored state.';
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_deleted" IS 'True when Zendesk reported the ticket deleted (moved to the bin or permanently deleted).';
