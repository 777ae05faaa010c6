// The pure step between a page of tickets (an export page, a show_many answer, a brands list)
// and the rows of the ticket-context tables. Every record is checked at this edge, so a
// malformed one fails its page naming the record and the field, before anything is written.
// Each table's rows have unique keys (Postgres refuses to touch a row twice in one upsert).
import type { ZendeskErrorContext } from '../errors/zendesk-errors.ts';
import type { AuthorRow, BrandRow, GroupRow, OrganizationRow, TicketRow } from '../db/schema.ts';
import type { ContextRows } from '../db/tickets.ts';
import {
  checkRecords,
  type ZendeskBrand,
  type ZendeskGroup,
  type ZendeskOrganization,
  type ZendeskTicket,
  type ZendeskUser,
} from '../zendesk/ticket-schemas.ts';
import { sanitizeForPostgres } from './sanitize.ts';

/** A page's rows but the brands, which come from their own list. */
export type TicketContextRows = Omit<ContextRows, 'brands'>;

/** What one page carries, as received: the tickets and the records side-loaded with them. */
export interface TicketContextInput {
  tickets: readonly unknown[];
  users?: readonly unknown[];
  groups?: readonly unknown[];
  organizations?: readonly unknown[];
}

const at = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** The export's change time, else updated_at: the order in which a ticket's states are kept. */
function changeTime(row: TicketRow): number {
  return (row.generatedTimestamp ?? row.updatedAt)?.getTime() ?? Number.NEGATIVE_INFINITY;
}

export function ticketRow(ticket: ZendeskTicket): TicketRow {
  const raw = sanitizeForPostgres(ticket);
  const channel = raw.via?.channel;
  return {
    id: raw.id,
    subject: raw.subject ?? null,
    status: raw.status,
    priority: raw.priority ?? null,
    type: raw.type ?? null,
    viaChannel: channel === undefined || channel === null ? null : String(channel),
    via: raw.via ?? null,
    requesterId: raw.requester_id ?? null,
    submitterId: raw.submitter_id ?? null,
    assigneeId: raw.assignee_id ?? null,
    groupId: raw.group_id ?? null,
    organizationId: raw.organization_id ?? null,
    brandId: raw.brand_id ?? null,
    tags: raw.tags ?? null,
    customFields: raw.custom_fields ?? null,
    satisfactionRating: raw.satisfaction_rating ?? null,
    fromMessagingChannel: raw.from_messaging_channel ?? null,
    createdAt: at(raw.created_at),
    updatedAt: at(raw.updated_at),
    generatedTimestamp: typeof raw.generated_timestamp === 'number' ? new Date(raw.generated_timestamp * 1000) : null,
    // Scrubbed (permanently deleted) tickets come with status deleted as well.
    deleted: raw.status === 'deleted',
    raw,
  };
}

/**
 * Whether an export row is a ticket Zendesk permanently deleted rather than one in the bin: both
 * have status `deleted`, but an erasure scrubs the ticket, its subject replaced by "SCRUBBED",
 * and nothing else tells the two apart (the conversation log answers 404 to both). An erasure
 * must not outlive itself in Postgres, so its rows go whatever CONVLOG_ON_DELETE says; a binned
 * ticket whose real subject is "SCRUBBED" is erased too, the safe way to be wrong.
 */
export function isScrubbed(row: Pick<TicketRow, 'status' | 'subject'>): boolean {
  return row.status === 'deleted' && row.subject === 'SCRUBBED';
}

/** Zendesk's roles as the conversation log's author types: end-user is `user`, admins are agents. */
const AUTHOR_TYPES: Record<string, string> = { 'end-user': 'user', agent: 'agent', admin: 'agent' };

function userAuthorRow(user: ZendeskUser): AuthorRow {
  const clean = sanitizeForPostgres(user);
  const photo = clean.photo as { content_url?: unknown } | null | undefined;
  return {
    authorKey: `support:${clean.id}`,
    supportUserId: clean.id,
    suncoUserId: null,
    type: clean.role ? (AUTHOR_TYPES[clean.role] ?? clean.role) : null,
    displayName: clean.name ?? null,
    avatarUrl: typeof photo?.content_url === 'string' ? photo.content_url : null,
    userUpdatedAt: at(clean.updated_at),
  };
}

function groupRow(group: ZendeskGroup): GroupRow {
  const raw = sanitizeForPostgres(group);
  return {
    id: raw.id,
    name: raw.name ?? null,
    description: raw.description ?? null,
    isPublic: raw.is_public ?? null,
    isDefault: raw.default ?? null,
    deleted: raw.deleted ?? null,
    createdAt: at(raw.created_at),
    updatedAt: at(raw.updated_at),
    raw,
  };
}

export function brandRow(brand: ZendeskBrand): BrandRow {
  const raw = sanitizeForPostgres(brand);
  return {
    id: raw.id,
    name: raw.name ?? null,
    subdomain: raw.subdomain ?? null,
    brandUrl: raw.brand_url ?? null,
    hostMapping: raw.host_mapping ?? null,
    active: raw.active ?? null,
    isDefault: raw.default ?? null,
    createdAt: at(raw.created_at),
    updatedAt: at(raw.updated_at),
    raw,
  };
}

function organizationRow(organization: ZendeskOrganization): OrganizationRow {
  const raw = sanitizeForPostgres(organization);
  return {
    id: raw.id,
    name: raw.name ?? null,
    domainNames: raw.domain_names ?? null,
    tags: raw.tags ?? null,
    groupId: raw.group_id ?? null,
    externalId: raw.external_id === undefined || raw.external_id === null ? null : String(raw.external_id),
    createdAt: at(raw.created_at),
    updatedAt: at(raw.updated_at),
    raw,
  };
}

/** The last row per key wins: Zendesk lists a record once a page, but nothing promises it. */
function lastById<R extends { id: number }>(rows: R[]): R[] {
  return [...new Map(rows.map((row) => [row.id, row])).values()];
}

/**
 * The rows of one page. A ticket listed twice keeps its latest state (by generated_timestamp,
 * else updated_at; the later listing on a tie). Throws InvalidResponse for the first malformed
 * record, naming it and the field, before mapping anything.
 */
export function mapTicketContext(input: TicketContextInput, context: ZendeskErrorContext = {}): TicketContextRows {
  const tickets = checkRecords('ticket', input.tickets, context);
  const users = checkRecords('user', input.users, context);
  const groups = checkRecords('group', input.groups, context);
  const organizations = checkRecords('organization', input.organizations, context);

  const latest = new Map<number, TicketRow>();
  for (const ticket of tickets) {
    const row = ticketRow(ticket);
    const seen = latest.get(row.id);
    if (!seen || changeTime(row) >= changeTime(seen)) latest.set(row.id, row);
  }
  return {
    tickets: [...latest.values()],
    authors: [...new Map(users.map((user) => [user.id, userAuthorRow(user)])).values()],
    groups: lastById(groups.map(groupRow)),
    organizations: lastById(organizations.map(organizationRow)),
  };
}

/** Rows for a brands list (the export does not side-load brands). */
export function mapBrands(brands: readonly unknown[], context: ZendeskErrorContext = {}): BrandRow[] {
  return lastById(checkRecords('brand', brands, context).map(brandRow));
}
