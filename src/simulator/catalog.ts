// The account's records beside its tickets: groups, brands, organizations and users, each a
// pure function of the seed so tickets can name them without a registry. A few ids are
// referenced by tickets but missing from the lists, as happens when a group or brand is deleted
// after its tickets were written.
import { agent, AGENT_POOL_SIZE, personName } from './profile.ts';
import { hash32 } from './random.ts';
import { isoSeconds } from './ids.ts';

/** Records as Zendesk serves them: loose, because clients must keep what they do not know. */
export type ZendeskRecord = { id: number; [field: string]: unknown };

const ACCOUNT_CREATED_SEC = Date.UTC(2023, 2, 14) / 1000;
const SITE = 'https://convlog-sim.zendesk.com';

const GROUP_NAMES = ['Support', 'Billing', 'Technical', 'Returns', 'VIP Desk', 'Escalations'];
/** Referenced by some tickets, absent from GET /api/v2/groups (deleted since). */
export const DELETED_GROUP_ID = 360_000_000_099;
const BRANDS = [
  { name: 'Acme Store', subdomain: 'convlog-sim' },
  { name: 'Acme Pro', subdomain: 'convlog-sim-pro' },
  { name: 'Roadrunner Parts', subdomain: 'convlog-sim-parts' },
];
/** Referenced by some tickets, absent from GET /api/v2/brands (deleted since). */
export const DELETED_BRAND_ID = 361_000_000_099;
const ORGANIZATIONS = ['Globex', 'Initech', 'Umbrella', 'Stark Industries', 'Wayne Enterprises', 'Hooli', 'Vandelay Imports', 'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka', 'Massive Dynamic'];
/** Organizations whose people are VIPs: their tickets carry the `vip` tag. */
const VIP_ORGANIZATIONS = new Set([1, 5]);

export const groupId = (n: number) => 360_000_000_000 + n;
export const brandId = (n: number) => 361_000_000_000 + n;
export const organizationId = (n: number) => 362_000_000_000 + n;
const END_USER_BASE_ID = 8_300_000_000_000;

const slug = (name: string) => name.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '');
const stamp = (seed: number, ...parts: number[]) => isoSeconds(ACCOUNT_CREATED_SEC + (hash32(seed, ...parts) % (400 * 86_400)));

/** A record with created_at and updated_at moved by shiftSec (the option historyEnd); the same record when 0. */
export function shiftedRecord(record: ZendeskRecord, shiftSec: number): ZendeskRecord {
  if (shiftSec === 0) return record;
  const moved: ZendeskRecord = { ...record };
  for (const key of ['created_at', 'updated_at']) {
    if (typeof moved[key] === 'string') moved[key] = isoSeconds(Date.parse(moved[key]) / 1000 + shiftSec);
  }
  return moved;
}

/** The lists depend only on the seed and are never mutated: built once per seed. */
function perSeed(build: (seed: number) => ZendeskRecord[]): (seed: number) => ZendeskRecord[] {
  const built = new Map<number, ZendeskRecord[]>();
  return (seed) => {
    let list = built.get(seed);
    if (!list) {
      if (built.size > 16) built.clear();
      list = build(seed);
      built.set(seed, list);
    }
    return list;
  };
}

export const groups = perSeed((seed) =>
  GROUP_NAMES.map((name, i) => ({
    id: groupId(i + 1),
    url: `${SITE}/api/v2/groups/${groupId(i + 1)}.json`,
    name,
    description: `${name} queue`,
    default: i === 0,
    deleted: false,
    is_public: name !== 'Escalations',
    created_at: stamp(seed, 0x6e0, i),
    updated_at: stamp(seed, 0x6e1, i),
  })),
);

export const brands = perSeed((seed) =>
  BRANDS.map((brand, i) => ({
    id: brandId(i + 1),
    url: `${SITE}/api/v2/brands/${brandId(i + 1)}.json`,
    name: brand.name,
    brand_url: `https://${brand.subdomain}.zendesk.com`,
    subdomain: brand.subdomain,
    host_mapping: i === 0 ? 'help.acme.example' : null,
    has_help_center: i !== 2,
    help_center_state: i !== 2 ? 'enabled' : 'disabled',
    active: true,
    default: i === 0,
    is_deleted: false,
    logo: null,
    ticket_form_ids: [],
    signature_template: '{{agent.signature}}',
    created_at: stamp(seed, 0xb0, i),
    updated_at: stamp(seed, 0xb1, i),
  })),
);

const organizationCount = ORGANIZATIONS.length;

export function organization(seed: number, n: number): ZendeskRecord {
  const name = ORGANIZATIONS[n - 1];
  const vip = VIP_ORGANIZATIONS.has(n);
  return {
    id: organizationId(n),
    url: `${SITE}/api/v2/organizations/${organizationId(n)}.json`,
    name,
    domain_names: [`${slug(name)}.example`],
    details: vip ? 'Enterprise contract, 24/7 support' : '',
    notes: '',
    group_id: vip ? groupId(5) : null,
    shared_tickets: n % 3 === 0,
    shared_comments: false,
    external_id: `CRM-${1000 + n}`,
    tags: vip ? ['vip', 'enterprise'] : n % 2 === 0 ? ['smb'] : [],
    organization_fields: { account_tier: vip ? 'enterprise' : n % 2 === 0 ? 'smb' : 'mid_market' },
    created_at: stamp(seed, 0x0a0, n),
    updated_at: stamp(seed, 0x0a1, n),
  };
}

export const organizations = perSeed((seed) => Array.from({ length: organizationCount }, (_, i) => organization(seed, i + 1)));

export const isVipOrganization = (n: number) => VIP_ORGANIZATIONS.has(n);

/** The organization (1-based, or null) an end user belongs to. */
export function organizationOf(seed: number, userNo: number): number | null {
  const h = hash32(seed, userNo, 0x0a2);
  return h % 10 < 3 ? null : 1 + (h % organizationCount);
}

/** Support user id of an end user (the requester of their tickets). */
export const endUserId = (userNo: number) => END_USER_BASE_ID + userNo * 7;

export function endUserRecord(seed: number, userNo: number): ZendeskRecord {
  const name = personName(seed, userNo);
  const org = organizationOf(seed, userNo);
  const domain = org === null ? 'mail.example' : `${slug(ORGANIZATIONS[org - 1])}.example`;
  return {
    id: endUserId(userNo),
    url: `${SITE}/api/v2/users/${endUserId(userNo)}.json`,
    name,
    email: `${slug(name.split(' ')[0])}.${slug(name.split(' ').slice(1).join(' '))}.${userNo}@${domain}`,
    role: 'end-user',
    active: true,
    verified: true,
    organization_id: org === null ? null : organizationId(org),
    time_zone: 'UTC',
    tags: org !== null && isVipOrganization(org) ? ['vip'] : [],
    created_at: stamp(seed, 0x05f, userNo),
    updated_at: stamp(seed, 0x060, userNo),
  };
}

/** Agents are the authors of the conversation logs; agent 1 is also an admin. */
function agentRecord(seed: number, n: number): ZendeskRecord {
  const author = agent(seed, n);
  const id = author['zen:support:user_id']!;
  const name = String(author.display_name);
  return {
    id,
    url: `${SITE}/api/v2/users/${id}.json`,
    name,
    email: `agent${n}@convlog-sim.example`,
    role: n === 1 ? 'admin' : 'agent',
    active: true,
    verified: true,
    organization_id: null,
    default_group_id: groupId(1 + ((n - 1) % (GROUP_NAMES.length - 1))),
    time_zone: 'UTC',
    tags: [],
    created_at: stamp(seed, 0xa61, n),
    updated_at: stamp(seed, 0xa62, n),
  };
}

/** Agent number (1..pool) behind a support user id, or null. */
function agentNumberOf(seed: number, userId: number): number | null {
  for (let n = 1; n <= AGENT_POOL_SIZE; n++) if (agent(seed, n)['zen:support:user_id'] === userId) return n;
  return null;
}

/** Any user a ticket can name: an agent or an end user. */
export function userRecord(seed: number, userId: number): ZendeskRecord | null {
  const agentNo = agentNumberOf(seed, userId);
  if (agentNo !== null) return agentRecord(seed, agentNo);
  const offset = userId - END_USER_BASE_ID;
  if (offset > 0 && offset % 7 === 0) return endUserRecord(seed, offset / 7);
  return null;
}
