CREATE TABLE "zendesk"."brands" (
	"id" bigint PRIMARY KEY NOT NULL,
	"name" text,
	"subdomain" text,
	"brand_url" text,
	"host_mapping" text,
	"active" boolean,
	"is_default" boolean,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."groups" (
	"id" bigint PRIMARY KEY NOT NULL,
	"name" text,
	"description" text,
	"is_public" boolean,
	"is_default" boolean,
	"deleted" boolean,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."organizations" (
	"id" bigint PRIMARY KEY NOT NULL,
	"name" text,
	"domain_names" text[],
	"tags" text[],
	"group_id" bigint,
	"external_id" text,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zendesk"."tickets" (
	"id" bigint PRIMARY KEY NOT NULL,
	"subject" text,
	"status" text NOT NULL,
	"priority" text,
	"type" text,
	"via_channel" text,
	"via" jsonb,
	"requester_id" bigint,
	"submitter_id" bigint,
	"assignee_id" bigint,
	"group_id" bigint,
	"organization_id" bigint,
	"brand_id" bigint,
	"tags" text[],
	"custom_fields" jsonb,
	"satisfaction_rating" jsonb,
	"from_messaging_channel" boolean,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"generated_timestamp" timestamp with time zone,
	"deleted" boolean NOT NULL,
	"raw" jsonb NOT NULL,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "organizations_tags_idx" ON "zendesk"."organizations" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "tickets_status_idx" ON "zendesk"."tickets" USING btree ("status");--> statement-breakpoint
CREATE INDEX "tickets_group_idx" ON "zendesk"."tickets" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "tickets_brand_idx" ON "zendesk"."tickets" USING btree ("brand_id");--> statement-breakpoint
CREATE INDEX "tickets_organization_idx" ON "zendesk"."tickets" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "tickets_assignee_idx" ON "zendesk"."tickets" USING btree ("assignee_id");--> statement-breakpoint
CREATE INDEX "tickets_via_channel_idx" ON "zendesk"."tickets" USING btree ("via_channel");--> statement-breakpoint
CREATE INDEX "tickets_updated_idx" ON "zendesk"."tickets" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "tickets_tags_idx" ON "zendesk"."tickets" USING gin ("tags");--> statement-breakpoint
COMMENT ON TABLE "zendesk"."tickets" IS 'One row per Zendesk ticket as the incremental ticket export (or, for a ticket queued by id before any export showed it, the tickets API) last served it: status, channel, group, brand, organization, people, tags and custom fields. Join conversation_events and ticket_sync on ticket_id = id.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."id" IS 'The Zendesk ticket id. Primary key; conversation_events.ticket_id and ticket_sync.ticket_id hold the same number.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."subject" IS 'The ticket''s subject line. Empty for tickets without one (many messaging tickets) and for permanently deleted tickets, whose content Zendesk scrubs.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."status" IS 'Zendesk''s status: new, open, pending, hold, solved, closed, or deleted for a ticket moved to the bin or permanently deleted.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."priority" IS 'urgent, high, normal or low; empty when nobody set one.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."type" IS 'problem, incident, question or task; empty when nobody set one.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."via_channel" IS 'How the ticket was created (via.channel): email, web, api, mobile, chat, voice, native_messaging, whatsapp, facebook, instagram_dm, twitter, line, wechat, sms, any_channel and others Zendesk adds.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."via" IS 'Zendesk''s whole via object (JSON): the channel and its source (from and to addresses, the rule or integration that created the ticket).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."requester_id" IS 'Zendesk user id of the customer who asked; their name is in authors (author_key = ''support:'' || requester_id).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."submitter_id" IS 'Zendesk user id of whoever submitted the ticket (an agent may submit for a customer); name in authors.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."assignee_id" IS 'Zendesk user id of the agent the ticket is assigned to, empty when unassigned; name in authors.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."group_id" IS 'The group the ticket is assigned to (groups.id), empty when none. A group deleted since keeps its id here.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."organization_id" IS 'The requester''s organization for this ticket (organizations.id), empty when none.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."brand_id" IS 'The brand the ticket belongs to (brands.id).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."tags" IS 'The ticket''s tags, as a text array: filter with ''vip'' = ANY(tags) or tags @> ARRAY[''vip''] (indexed).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."custom_fields" IS 'Custom ticket field values as Zendesk sent them (JSON array of {id, value}).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."satisfaction_rating" IS 'The customer satisfaction rating as Zendesk sent it (JSON: score such as good, bad, offered or unoffered, and comment), empty when none.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."from_messaging_channel" IS 'True when the ticket came from a messaging channel (web widget, mobile SDK, WhatsApp and other social messaging).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."created_at" IS 'When the ticket was created in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."updated_at" IS 'When the ticket last changed in Zendesk, as Zendesk reports it (silent system updates do not move it).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."generated_timestamp" IS 'When the ticket last changed, silent system updates included, as the incremental export reports it; a stored row is replaced only by a later one. Empty for a ticket read by id that no export has shown yet.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."deleted" IS 'True when Zendesk reported the ticket deleted (status deleted; permanently deleted tickets also have their content scrubbed).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."raw" IS 'The whole ticket as Zendesk served it (JSON), for fields the other columns do not show (description, form, due date, collaborators, fields Zendesk adds later).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."first_synced_at" IS 'When convlog first stored this ticket.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."tickets"."synced_at" IS 'When convlog last stored a newer state of this ticket.';--> statement-breakpoint
COMMENT ON TABLE "zendesk"."groups" IS 'Zendesk agent groups, by id, so that views can show a ticket''s group by name. Read from the export''s side-loads and from the groups list.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."id" IS 'The Zendesk group id (tickets.group_id). Primary key.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."name" IS 'The group''s name as agents see it.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."description" IS 'The group''s description, if an admin wrote one.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."is_public" IS 'False for a private group, whose tickets only its members can see.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."is_default" IS 'True for the account''s default group.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."deleted" IS 'True when the group has been deleted in Zendesk; its tickets keep its id.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."created_at" IS 'When the group was created in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."updated_at" IS 'When the group last changed in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."raw" IS 'The whole group as Zendesk served it (JSON).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."groups"."synced_at" IS 'When convlog last stored this group.';--> statement-breakpoint
COMMENT ON TABLE "zendesk"."brands" IS 'Zendesk brands, by id, so that views can show a ticket''s brand by name. Read from the brands list (the export does not carry them).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."id" IS 'The Zendesk brand id (tickets.brand_id). Primary key.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."name" IS 'The brand''s name.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."subdomain" IS 'The brand''s Zendesk subdomain (<subdomain>.zendesk.com).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."brand_url" IS 'The brand''s Zendesk address.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."host_mapping" IS 'The brand''s own host name (a host mapping such as support.example.com), when it has one.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."active" IS 'False for a brand that has been deactivated.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."is_default" IS 'True for the account''s default brand.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."created_at" IS 'When the brand was created in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."updated_at" IS 'When the brand last changed in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."raw" IS 'The whole brand as Zendesk served it (JSON).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."brands"."synced_at" IS 'When convlog last stored this brand.';--> statement-breakpoint
COMMENT ON TABLE "zendesk"."organizations" IS 'Zendesk organizations (the companies customers belong to), by id, so that views can show a ticket''s organization by name. Read from the export''s side-loads and from the organizations list.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."id" IS 'The Zendesk organization id (tickets.organization_id). Primary key.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."name" IS 'The organization''s name.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."domain_names" IS 'Email domains whose users join this organization, as a text array.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."tags" IS 'The organization''s tags, as a text array (indexed, like tickets.tags).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."group_id" IS 'The group that new tickets from this organization go to (groups.id), if set.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."external_id" IS 'The organization''s id in another system (a CRM), if set.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."created_at" IS 'When the organization was created in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."updated_at" IS 'When the organization last changed in Zendesk.';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."raw" IS 'The whole organization as Zendesk served it (JSON; notes and details included).';--> statement-breakpoint
COMMENT ON COLUMN "zendesk"."organizations"."synced_at" IS 'When convlog last stored this organization.';
