// `include=users,groups,organizations`: the records a page of tickets names, added to the same
// response. A group or brand deleted since is named by its tickets but side-loaded by nobody.
import { groups, organizations, shiftedRecord, userRecord, type ZendeskRecord } from './catalog.ts';
import { isoSeconds } from './ids.ts';
import { userIdsOf } from './ticket-record.ts';
import type { ExportTicket } from './types.ts';

const SIDELOADS = ['users', 'groups', 'organizations'] as const;
export type Sideload = (typeof SIDELOADS)[number];

/** Side-loads Zendesk offers that the simulator accepts and leaves out. */
const IGNORED = new Set(['metric_sets', 'dates', 'comment_count', 'brands', 'ticket_forms', 'slas', 'metric_events', 'last_audits']);

export type IncludeResult = { ok: true; include: Sideload[] } | { ok: false; problem: string };

export function parseInclude(value: string | null): IncludeResult {
  if (value === null || value.trim() === '') return { ok: true, include: [] };
  const include: Sideload[] = [];
  for (const name of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    if ((SIDELOADS as readonly string[]).includes(name)) include.push(name as Sideload);
    else if (!IGNORED.has(name)) return { ok: false, problem: `include has an unknown side-load "${name}" (try users, groups, organizations)` };
  }
  return { ok: true, include: [...new Set(include)] };
}

/** Users renamed at runtime (sim.renameUser): their new name, and updated_at the time of the change. */
export class UserChanges {
  #renamed = new Map<number, { name: string; updated_at: string }>();
  #now: () => number;

  /** `now`: the account's clock (epoch ms). */
  constructor(now: () => number) {
    this.#now = now;
  }

  rename(userId: number, name: string): void {
    this.#renamed.set(userId, { name, updated_at: isoSeconds(Math.floor(this.#now() / 1000)) });
  }

  /** The record as served now: generated, then changed. */
  apply(record: ZendeskRecord): ZendeskRecord {
    const change = this.#renamed.get(record.id);
    return change === undefined ? record : { ...record, ...change };
  }

  clear(): void {
    this.#renamed.clear();
  }
}

/**
 * `shiftSec` moves the records' dates with the rest of the generated data (historyEnd); a user
 * renamed at runtime keeps the real time of the change.
 */
export function sideloads(
  seed: number,
  tickets: readonly ExportTicket[],
  include: readonly Sideload[],
  shiftSec = 0,
  users?: UserChanges,
): Partial<Record<Sideload, ZendeskRecord[]>> {
  const out: Partial<Record<Sideload, ZendeskRecord[]>> = {};
  if (include.includes('users')) {
    const ids = new Set(tickets.flatMap(userIdsOf));
    out.users = [...ids].map((id) => userRecord(seed, id)).filter((user): user is ZendeskRecord => user !== null);
  }
  if (include.includes('groups')) {
    const ids = new Set(tickets.map((t) => t.group_id));
    out.groups = groups(seed).filter((group) => ids.has(group.id));
  }
  if (include.includes('organizations')) {
    const ids = new Set(tickets.map((t) => t.organization_id));
    out.organizations = organizations(seed).filter((org) => ids.has(org.id));
  }
  if (shiftSec !== 0) for (const [name, records] of Object.entries(out)) out[name as Sideload] = records.map((record) => shiftedRecord(record, shiftSec));
  if (users && out.users) out.users = out.users.map((user) => users.apply(user));
  return out;
}
