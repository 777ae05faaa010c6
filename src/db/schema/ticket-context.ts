// Ticket context: the ticket, its group, brand and organization, as Zendesk served them.
// Written from the incremental export's pages (tickets and side-loads) and from show_many for
// tickets queued by id. Requester, submitter and assignee names live in `authors`
// (`support:<id>`), so one table names every person whether or not they wrote.
import { boolean, index, jsonb, text } from 'drizzle-orm/pg-core';
import { id, tstz, zendesk } from './columns.ts';

export const tickets = zendesk.table(
  'tickets',
  {
    id: id('id').primaryKey(),
    subject: text('subject'),
    status: text('status').notNull(),
    priority: text('priority'),
    type: text('type'),
    viaChannel: text('via_channel'),
    via: jsonb('via'),
    requesterId: id('requester_id'),
    submitterId: id('submitter_id'),
    assigneeId: id('assignee_id'),
    groupId: id('group_id'),
    organizationId: id('organization_id'),
    brandId: id('brand_id'),
    tags: text('tags').array(),
    customFields: jsonb('custom_fields'),
    satisfactionRating: jsonb('satisfaction_rating'),
    fromMessagingChannel: boolean('from_messaging_channel'),
    createdAt: tstz('created_at'),
    updatedAt: tstz('updated_at'),
    // The export's change time (unix seconds in Zendesk) as a time; empty for a row read by id.
    generatedTimestamp: tstz('generated_timestamp'),
    deleted: boolean('deleted').notNull(),
    raw: jsonb('raw').notNull(),
    firstSyncedAt: tstz('first_synced_at').notNull().defaultNow(),
    syncedAt: tstz('synced_at').notNull().defaultNow(),
  },
  (t) => [
    index('tickets_status_idx').on(t.status),
    index('tickets_group_idx').on(t.groupId),
    index('tickets_brand_idx').on(t.brandId),
    index('tickets_organization_idx').on(t.organizationId),
    index('tickets_assignee_idx').on(t.assigneeId),
    index('tickets_via_channel_idx').on(t.viaChannel),
    index('tickets_updated_idx').on(t.updatedAt),
    index('tickets_created_idx').on(t.createdAt),
    index('tickets_tags_idx').using('gin', t.tags),
    // Also tickets_conversation_facts_idx (id INCLUDE the columns ticket_conversations reads),
    // created in migrations/0013_weekly_reply_times.sql: drizzle has no INCLUDE; and
    // tickets_deleted_idx (id WHERE deleted), created with the view that reads it in
    // migrations/0016_deleted_tickets_apart.sql.
  ],
);

export const groups = zendesk.table('groups', {
  id: id('id').primaryKey(),
  name: text('name'),
  description: text('description'),
  isPublic: boolean('is_public'),
  isDefault: boolean('is_default'),
  deleted: boolean('deleted'),
  createdAt: tstz('created_at'),
  updatedAt: tstz('updated_at'),
  raw: jsonb('raw').notNull(),
  syncedAt: tstz('synced_at').notNull().defaultNow(),
});

export const brands = zendesk.table('brands', {
  id: id('id').primaryKey(),
  name: text('name'),
  subdomain: text('subdomain'),
  brandUrl: text('brand_url'),
  hostMapping: text('host_mapping'),
  active: boolean('active'),
  isDefault: boolean('is_default'),
  createdAt: tstz('created_at'),
  updatedAt: tstz('updated_at'),
  raw: jsonb('raw').notNull(),
  syncedAt: tstz('synced_at').notNull().defaultNow(),
});

export const organizations = zendesk.table(
  'organizations',
  {
    id: id('id').primaryKey(),
    name: text('name'),
    domainNames: text('domain_names').array(),
    tags: text('tags').array(),
    groupId: id('group_id'),
    externalId: text('external_id'),
    createdAt: tstz('created_at'),
    updatedAt: tstz('updated_at'),
    raw: jsonb('raw').notNull(),
    syncedAt: tstz('synced_at').notNull().defaultNow(),
  },
  (t) => [index('organizations_tags_idx').using('gin', t.tags)],
);

export type TicketRow = typeof tickets.$inferInsert;
export type GroupRow = typeof groups.$inferInsert;
export type BrandRow = typeof brands.$inferInsert;
export type OrganizationRow = typeof organizations.$inferInsert;
