-- A conversation the bot transferred to an agent waited for an answer only when the customer's
-- message was the last: in the usual flow (the customer asks for a human, the bot says it is
-- connecting them, the transfer) the bot's message is the last, so the ticket was in neither
-- waiting_for_answer nor waiting_on_bot while its customer waited for an agent. Now a pending
-- transfer waits for an answer whoever wrote last. The view is restated whole, unchanged
-- otherwise; its column comments stay but this one.
CREATE OR REPLACE VIEW "zendesk"."ticket_conversations" AS
SELECT
  s.ticket_id,
  p.channel,
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
  tk.deleted AS ticket_deleted,
  -- Appended by migration 0008.
  p.bot_outcome,
  p.handover_requested_at,
  -- A conversation the bot transferred to an agent, no agent having written since, is not the
  -- bot's any more: its customer waits for a human (migration 0022), also when the bot's own
  -- "connecting you" message is the last one (migration 0025).
  coalesce(coalesce(tk.status NOT IN ('solved', 'closed'), true)
           AND (p.last_message_author_type = 'user' AND p.bot_outcome IS DISTINCT FROM 'contained'
                OR p.bot_outcome = 'handover_pending'), false) AS waiting_for_answer,
  coalesce(p.last_message_author_type = 'user' AND coalesce(tk.status NOT IN ('solved', 'closed'), true)
           AND p.bot_outcome = 'contained', false) AS waiting_on_bot
FROM "zendesk"."ticket_sync" s
LEFT JOIN "zendesk"."ticket_summaries" p ON p.ticket_id = s.ticket_id
LEFT JOIN "zendesk"."authors" fa ON fa.author_key = p.first_reply_agent_key
LEFT JOIN "zendesk"."tickets" tk ON tk.id = s.ticket_id
LEFT JOIN "zendesk"."groups" g ON g.id = tk.group_id
LEFT JOIN "zendesk"."brands" b ON b.id = tk.brand_id
LEFT JOIN "zendesk"."organizations" o ON o.id = tk.organization_id
LEFT JOIN "zendesk"."authors" ag ON ag.author_key = 'support:' || tk.assignee_id
LEFT JOIN "zendesk"."authors" rq ON rq.author_key = 'support:' || tk.requester_id
-- Tickets gone from Zendesk count in no view: tombstones (migration 0005), and a ticket the
-- export reported deleted whose rows a purge has not reached yet. The second test asks the few
-- deleted tickets (tickets_deleted_idx) instead of reading every ticket's row: a question that
-- needs no ticket column (first reply by agent, containment) then skips the tickets table.
WHERE s.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM "zendesk"."tickets" d WHERE d.id = s.ticket_id AND d.deleted);
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."waiting_for_answer" IS 'The ticket is not solved or closed (or its status is not stored yet), and either the bot transferred the conversation to an agent who has not written since (bot_outcome handover_pending), whoever wrote last, or the last message is the customer''s and the conversation is not one only a bot has answered (see waiting_on_bot).';
