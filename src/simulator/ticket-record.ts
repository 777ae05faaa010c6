// A ticket as the export and the tickets API serve it, built from its profile (the people of its
// conversation log, its channel) and the catalog (groups, brands, organizations), then changed
// by what tests did at runtime (field updates, deletion), and which field updates it takes.
import { commentText } from './content.ts';
import { brandId, brands, DELETED_BRAND_ID, DELETED_GROUP_ID, endUserId, endUserRecord, groupId, isVipOrganization, organizationId, organizationOf } from './catalog.ts';
import { isoSeconds } from './ids.ts';
import { endUserNumber, type TicketProfile } from './profile.ts';
import { hash32, rngFor } from './random.ts';
import type { ConversationEvent, ExportTicket, TicketPatch } from './types.ts';
import { viaObject } from './via.ts';

const CUSTOM_FIELD_IDS = { topic: 360_100_000_001, orderNumber: 360_100_000_002, underWarranty: 360_100_000_003 } as const;

const TOPICS: Record<string, string> = {
  'Order never arrived': 'delivery',
  'Cannot log in to my account': 'account_access',
  'Refund for duplicate charge': 'billing',
  'Question about my invoice': 'billing',
  'App crashes on start': 'bug',
  'Change delivery address': 'delivery',
  'Warranty claim for broken charger': 'warranty',
  'How do I export my data?': 'how_to',
  'Subscription renewal failed': 'billing',
  'Password reset email not received': 'account_access',
};
const PRIORITIES = [null, 'low', 'normal', 'normal', 'normal', 'high', 'urgent'];
const TYPES = [null, 'question', 'question', 'incident', 'problem', 'task'];
const RATING_COMMENTS = ['Quick and friendly, thanks!', 'Took too long to get an answer.', 'Solved my problem.', ''];
const FORM_ID = 360_200_000_001;
/** Channels where an agent opens the ticket on the customer's behalf. */
const AGENT_SUBMITTED = new Set(['api', 'voice', 'mobile']);

export interface TicketTimes {
  createdSec: number;
  updatedSec: number;
  generatedSec: number;
}

/** Everything but the url, which depends on the host the request came to. */
export function ticketRecord(profile: TicketProfile, times: TicketTimes): ExportTicket {
  const { seed, ticketId } = profile;
  const rng = rngFor(seed, ticketId, 0x71c);
  const userNo = endUserNumber(ticketId);
  const requester = endUserRecord(seed, userNo);
  const org = organizationOf(seed, userNo);
  const vip = org !== null && isVipOrganization(org);
  const status = profile.aiAgent ? rng.pick(['solved', 'solved', 'closed', 'open']) : profile.status;
  const lastAgent = profile.agents[profile.agents.length - 1]['zen:support:user_id']!;
  const assigneeId = profile.aiAgent || status === 'new' ? null : lastAgent;

  const groupRoll = rng.next();
  const group = profile.aiAgent ? null : groupRoll < 0.05 ? DELETED_GROUP_ID : vip ? groupId(5) : status === 'new' && groupRoll < 0.3 ? null : groupId(1 + (hash32(seed, ticketId, 0x6e2) % 6));
  const brandRoll = rng.next();
  const brandNo = brandRoll < 0.6 ? 1 : brandRoll < 0.82 ? 2 : brandRoll < 0.96 ? 3 : 0;
  const brand = brandNo === 0 ? null : brands(seed)[brandNo - 1];
  const phone = `+1415555${String(hash32(seed, userNo, 0x9f) % 10_000).padStart(4, '0')}`;

  const messaging = profile.channel === 'messaging';
  const subject = messaging ? `Conversation with ${String(requester.name)}` : profile.subject;
  const topic = TOPICS[profile.subject] ?? 'other';
  const tags = [topic, ...(vip ? ['vip'] : []), ...(messaging ? ['messaging'] : []), ...(profile.aiAgent ? ['ai_agent_resolved'] : []), ...(rng.chance(0.2) ? ['follow_up'] : [])];
  const customFields = [
    { id: CUSTOM_FIELD_IDS.topic, value: topic },
    { id: CUSTOM_FIELD_IDS.orderNumber, value: topic === 'delivery' || topic === 'warranty' ? `A-${rng.int(100_000, 999_999)}` : null },
    { id: CUSTOM_FIELD_IDS.underWarranty, value: topic === 'warranty' ? rng.chance(0.7) : false },
  ];
  const rated = status === 'solved' || status === 'closed';
  const ratingRoll = rng.next();
  const satisfaction = !rated
    ? { score: 'unoffered' }
    : ratingRoll < 0.35
      ? { score: 'offered' }
      : { id: 360_300_000_000 + ticketId, score: ratingRoll < 0.85 ? 'good' : 'bad', comment: rng.pick(RATING_COMMENTS), reason: ratingRoll < 0.85 ? null : 'The issue took too long to resolve' };

  return {
    id: ticketId,
    external_id: null,
    via: viaObject(profile.via, {
      requesterName: String(requester.name),
      requesterEmail: String(requester.email),
      brandName: String(brand?.name ?? 'Acme Outlet'),
      brandSubdomain: String(brand?.subdomain ?? 'convlog-sim-outlet'),
      phone,
    }),
    created_at: isoSeconds(times.createdSec),
    updated_at: isoSeconds(times.updatedSec),
    generated_timestamp: times.generatedSec,
    type: rng.pick(TYPES),
    subject,
    raw_subject: subject,
    description: subject,
    priority: rng.pick(PRIORITIES),
    status,
    recipient: profile.via.kind === 'email' ? `support@${String(brand?.subdomain ?? 'convlog-sim')}.zendesk.com` : null,
    requester_id: endUserId(userNo),
    submitter_id: AGENT_SUBMITTED.has(profile.via.kind) && assigneeId !== null ? assigneeId : endUserId(userNo),
    assignee_id: assigneeId,
    organization_id: org === null ? null : organizationId(org),
    group_id: group,
    collaborator_ids: [],
    follower_ids: [],
    email_cc_ids: [],
    problem_id: null,
    has_incidents: false,
    is_public: !messaging || rng.chance(0.5),
    due_at: null,
    tags,
    custom_fields: customFields,
    fields: customFields,
    satisfaction_rating: satisfaction,
    sharing_agreement_ids: [],
    followup_ids: [],
    ticket_form_id: FORM_ID,
    brand_id: brand === null ? DELETED_BRAND_ID : brandId(brandNo),
    allow_channelback: messaging,
    allow_attachments: true,
    from_messaging_channel: messaging,
  };
}

/**
 * Zendesk's `description` is its copy of the first comment, redactions included: the text of the
 * ticket's first event when that is a comment. A ticket opened by a message, or without events,
 * keeps its subject there (undefined).
 */
export function firstCommentText(first: ConversationEvent | undefined): string | undefined {
  const body = (first?.content as { body?: unknown } | undefined)?.body;
  return first?.type === 'Comment' && typeof body === 'string' ? commentText(body) : undefined;
}

/**
 * A permanently deleted ticket as the export keeps serving it: status `deleted`, the text
 * replaced, the people and their tags and field values gone, the ids of the rest kept.
 */
export function scrub(ticket: ExportTicket): ExportTicket {
  return {
    ...ticket,
    subject: 'SCRUBBED',
    raw_subject: 'SCRUBBED',
    description: 'X',
    status: 'deleted',
    recipient: null,
    requester_id: null,
    submitter_id: null,
    assignee_id: null,
    organization_id: null,
    tags: [],
    custom_fields: ticket.custom_fields.map((field) => ({ id: field.id, value: null })),
    fields: ticket.custom_fields.map((field) => ({ id: field.id, value: null })),
    satisfaction_rating: null,
    via: { channel: ticket.via.channel, source: { from: {}, to: {}, rel: null } },
  };
}

/** The users a ticket names (requester, submitter, assignee), for side-loading. */
export function userIdsOf(ticket: ExportTicket): number[] {
  return [ticket.requester_id, ticket.submitter_id, ticket.assignee_id].filter((id): id is number => typeof id === 'number');
}

const PATCHABLE = new Set(['subject', 'status', 'priority', 'type', 'assignee_id', 'group_id', 'organization_id', 'brand_id', 'tags', 'custom_fields', 'satisfaction_rating']);
const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];

/** Why updateTicket refuses a change, or undefined: only what an agent or trigger may change. */
export function patchProblem(patch: TicketPatch): string | undefined {
  const unknown = Object.keys(patch).filter((key) => !PATCHABLE.has(key));
  if (unknown.length > 0) return `cannot change ${unknown.join(', ')} (only ${[...PATCHABLE].join(', ')})`;
  if (patch.status !== undefined && !STATUSES.includes(patch.status)) return `status must be one of ${STATUSES.join(', ')} (use deleteTicket to delete)`;
  if (patch.tags !== undefined && !(Array.isArray(patch.tags) && patch.tags.every((tag) => typeof tag === 'string'))) return 'tags must be a list of strings';
  return undefined;
}
