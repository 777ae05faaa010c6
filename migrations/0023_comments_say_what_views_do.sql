-- Comments that psql's \d+ and BI tools show beside the columns said something else than the
-- views do and than README.md defines: daily_activity promised a row of zeros for a day without
-- activity (it has had no such row since migration 0014); bot_handed_over called every bot
-- ticket without a handover contained (agent_first and handover_pending are not); sync_status
-- listed not_found, which ticket_conversations never shows (a deleted ticket's tombstone is only
-- in ticket_sync), as ticket_status listed deleted and ticket_deleted said it can be true (a
-- deleted ticket is in no view since migration 0016); is_public said other events are always
-- empty (a call recording says false).
COMMENT ON VIEW "zendesk"."daily_activity" IS 'One row per day (UTC) with any activity; a day without activity has no row: conversation volume, bot handovers and reply times over time.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_handed_over" IS 'True when an agent wrote to the customer after a bot had: the bot handed the conversation over to a human. Not the opposite of containment: see bot_outcome, where a ticket with had_bot and no handover is contained only when no agent wrote at all and no transfer to an agent is pending.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."bot_outcome" IS 'Empty when no bot wrote; contained (no agent message at all and no transfer to an agent pending, also when the customer never wrote), handed_over (an agent wrote after the bot), handover_pending (transferred to an agent who has not written since: not contained) or agent_first (agents wrote only before the bot).';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_summaries"."bot_outcome" IS 'Empty without bot messages; contained (no agent message at all and no transfer to an agent pending), handover_pending (transferred to an agent who has not written since), handed_over (an agent wrote after the bot) or agent_first (agents wrote only before the bot).';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."last_message_author_type" IS 'Who wrote the latest message: user, agent or bot. Whether the customer is waiting for an answer is waiting_for_answer, which also looks at the ticket''s status and at bots.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."sync_status" IS 'queued, syncing, synced (stored and current as of last_synced_at), forbidden (the API user may not read it) or failed (see last_error). Tickets deleted in Zendesk are not in this view: their tombstones (not_found) are in ticket_sync.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."conversation_timeline"."is_public" IS 'True when the end user can see the event: public comments and messaging messages. False for internal notes. Other events: what their metadata says (a call recording: false), empty when it says nothing.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."conversation_events"."is_public" IS 'Whether the end user sees the event: public for comments and for other events whose metadata says; true for messaging messages, which Zendesk does not flag; empty when nothing says.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."conversation_timeline"."position" IS 'The event''s place in its ticket, 1 for the first: ordered by created_at, then received_at, then event id, then reference. Pending comments come after the ticket''s stored events, by created_at.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_status" IS 'The ticket''s status in Zendesk (new, open, pending, hold, solved, closed), from zendesk.tickets. Empty until a backfill or a sync by id has read the ticket. A deleted ticket is not in this view. Not to be confused with sync_status, which is convlog''s.';
--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."ticket_conversations"."ticket_deleted" IS 'False, or empty when the ticket''s row is not stored yet: a ticket Zendesk reported deleted is in no view (zendesk.tickets.deleted tells them apart). Kept so that queries naming it still run.';
