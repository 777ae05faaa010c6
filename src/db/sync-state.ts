// convlog.sync_state: small named values that survive restarts. The backfill keeps two there: the
// incremental export's position (its cursor, saved after each page is queued) and a summary of the
// last backfill run, for `convlog status`; the demo marks the database it filled. Every statement
// on the table lives in this file, but for the Zendesk account's (src/db/zendesk-account.ts).
import { eq, sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { syncState } from './schema.ts';
import { inTransaction } from './transaction.ts';

export const EXPORT_POSITION_KEY = 'incremental_export';
const LAST_BACKFILL_KEY = 'backfill_last_run';
/**
 * Where convlog, before tickets carried a sync-again mark, kept the tickets that changed while
 * their sync ran, for the next backfill to queue (see loadLegacyResync).
 */
const LEGACY_RESYNC_KEY = 'backfill_resync';
/** Marks a database `convlog demo` filled, so it never mixes simulated tickets into real ones. */
const DEMO_KEY = 'demo';
/** When a backfill last read the groups, brands and organizations lists. */
const ACCOUNT_LISTS_KEY = 'account_lists';
/** How far `convlog rebuild-analytics` got, so an interrupted rebuild resumes. */
const ANALYTICS_REBUILD_KEY = 'analytics_rebuild';
/** The requests the periodic full reads may still spend (src/queue/full-read-sweep.ts). */
const FULL_READ_ALLOWANCE_KEY = 'full_read_allowance';

/** Where the next export continues: Zendesk's after_cursor, or (before any page) a start time. */
export interface ExportPosition {
  cursor: string | null;
  /** Unix seconds; used only while no cursor has been received yet. */
  startTime?: number;
  /** The latest change time seen so far (ISO), for people. */
  position: string | null;
  savedAt: string;
}

/**
 * What a backfill counts. The run holds `position` as a Date; its stored record (BackfillRun) as
 * ISO text, since it goes through JSON.
 */
export interface BackfillTotals<Position = Date | null> {
  pages: number;
  /** Tickets the export reported (a ticket changed twice during the run counts twice). */
  seen: number;
  queued: number;
  alreadyQueued: number;
  /** Deleted in Zendesk: recorded as not_found (a tombstone), their rows purged, not queued. */
  deleted: number;
  /**
   * Deleted states listed that told nothing new, neither recorded nor queued: a deletion recorded
   * before (a re-read), or one older than a sync since (the ticket was restored). Absent from
   * the records of earlier releases.
   */
  deletedBefore?: number;
  /** Long tickets queued for their periodic full read (CONVLOG_FULL_RESYNC_DAYS). */
  fullReads?: number;
  requests: number;
  /** The latest change time seen (the export's position), or null before any ticket. */
  position: Position;
}

export interface BackfillRun extends BackfillTotals<string | null> {
  trigger: 'cli' | 'schedule';
  /**
   * `running` is written as the run starts and after each page, with its totals so far and
   * `finishedAt` the time of that write; a run that ended without a word (killed) leaves it.
   */
  outcome: 'running' | 'done' | 'interrupted' | 'failed' | 'skipped';
  /** `since 2024-05-01T00:00:00.000Z` or `saved position`. */
  from: string;
  startedAt: string;
  finishedAt: string;
  error?: string;
}

/** The value kept under `key`, or null. */
export async function read<T>(db: Db, key: string): Promise<T | null> {
  const [row] = await db.select({ value: syncState.value }).from(syncState).where(eq(syncState.key, key));
  return (row?.value as T | undefined) ?? null;
}

async function write(db: Db, key: string, value: object): Promise<void> {
  await db
    .insert(syncState)
    .values({ key, value })
    .onConflictDoUpdate({ target: syncState.key, set: { value, updatedAt: sql`now()` } });
}

export function loadExportPosition(db: Db): Promise<ExportPosition | null> {
  return read<ExportPosition>(db, EXPORT_POSITION_KEY);
}

/**
 * A backfill that starts from a time saves that time before its first request: one stopped before
 * Zendesk's first page came back (Ctrl-C, a crash, an outage) then continues from it, as a later
 * `convlog backfill` is told, instead of finding no position at all. The latest change seen
 * (`position`) is the caller's to keep: a run that finds no change has seen nothing later.
 */
export function saveExportStart(db: Db, startTime: number, position: string | null): Promise<void> {
  const value: ExportPosition = { cursor: null, startTime, position, savedAt: new Date().toISOString() };
  return write(db, EXPORT_POSITION_KEY, value);
}

export function loadLastBackfill(db: Db): Promise<BackfillRun | null> {
  return read<BackfillRun>(db, LAST_BACKFILL_KEY);
}

export function saveLastBackfill(db: Db, run: BackfillRun): Promise<void> {
  return write(db, LAST_BACKFILL_KEY, run);
}

/**
 * The tickets an older convlog left for the next backfill to queue again. A ticket that changes
 * during its sync is now marked to sync again when the run ends (requestSyncAgain,
 * src/db/sync-again.ts); a database upgraded from before may still hold the old list, and its
 * tickets must not be forgotten. The caller queues them, then forgets the list.
 */
export async function loadLegacyResync(db: Db): Promise<number[]> {
  const ids = (await read<{ ticketIds?: unknown }>(db, LEGACY_RESYNC_KEY))?.ticketIds;
  return Array.isArray(ids) ? ids.filter((id): id is number => Number.isSafeInteger(id) && id > 0) : [];
}

export async function forgetLegacyResync(db: Db): Promise<void> {
  await db.delete(syncState).where(eq(syncState.key, LEGACY_RESYNC_KEY));
}

/** The kinds of account record a ticket names beside its people, each a table and a list of Zendesk's. */
export const CONTEXT_KINDS = ['groups', 'brands', 'organizations'] as const;
export type ContextKind = (typeof CONTEXT_KINDS)[number];

/** Group, brand and organization ids, one list each. */
export type ContextIds = Record<ContextKind, number[]>;

/** Ids of each kind made of `ids(kind)`: none, a copy, two lists joined. */
export function contextIds(ids: (kind: ContextKind) => number[] = () => []): ContextIds {
  return { groups: ids('groups'), brands: ids('brands'), organizations: ids('organizations') };
}

export const hasContextIds = (ids: ContextIds): boolean => CONTEXT_KINDS.some((kind) => ids[kind].length > 0);

/** How many gone ids of each kind are remembered: the newest, should an account have more. */
const GONE_KEPT = 10_000;

export interface AccountListsRead {
  /** When the last complete read started (ISO) by Postgres's clock, which all workers share, for their age; null before one, or when one is due. */
  readAt: string | null;
  /** The same by Zendesk's clock, which tickets' change times are on; null when unknown (no Date header; an older release's read): every change is newer. */
  zendeskReadAt: string | null;
  /**
   * Ids changed tickets named that the lists, read after, did not hold: deleted in Zendesk. A
   * ticket keeps naming a deleted group or brand, and another read would not find it either.
   */
  gone: ContextIds;
}

const idsIn = (value: unknown): number[] => (Array.isArray(value) ? value.filter((id): id is number => Number.isSafeInteger(id) && id > 0) : []);

export async function loadAccountListsRead(db: Db): Promise<AccountListsRead> {
  const value = await read<{ readAt?: string | null; zendeskReadAt?: string | null; gone?: Partial<Record<keyof ContextIds, unknown>> }>(db, ACCOUNT_LISTS_KEY);
  return { readAt: value?.readAt ?? null, zendeskReadAt: value?.zendeskReadAt ?? null, gone: contextIds((kind) => idsIn(value?.gone?.[kind])) };
}

/**
 * Records a read of the lists (or, `readAt` null, that one is due) and adds `gone` to the ids
 * remembered gone. Added, not replaced: reads by id remember brands too (rememberGoneBrands), and
 * a backfill writing the copy it loaded at its start would drop those remembered meanwhile.
 */
export function saveAccountListsRead(db: Db, lists: AccountListsRead): Promise<void> {
  return updateAccountLists(db, lists);
}

/** Adds to the brands remembered gone, leaving the lists' read times as they are. */
export async function rememberGoneBrands(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await updateAccountLists(db, { gone: contextIds((kind) => (kind === 'brands' ? [...ids] : [])) });
}

async function updateAccountLists(db: Db, change: Partial<AccountListsRead> & Pick<AccountListsRead, 'gone'>): Promise<void> {
  await inTransaction(db, async (tx) => {
    // Locked, so that a backfill and reads by id adding at once both keep what they add.
    await tx.execute(sql`select from convlog.sync_state where key = ${ACCOUNT_LISTS_KEY} for update`);
    const stored = await loadAccountListsRead(tx);
    const gone = contextIds((kind) => [...new Set([...stored.gone[kind], ...change.gone[kind]])].slice(-GONE_KEPT));
    await write(tx, ACCOUNT_LISTS_KEY, { readAt: stored.readAt, zendeskReadAt: stored.zendeskReadAt, ...change, gone });
  });
}

export interface DemoRun {
  seed: number;
  /** Tickets 1..tickets, as the last run had them. */
  tickets: number;
  lastRunAt: string;
  /**
   * Where the simulated histories end: those of tickets 1..tickets end at `end` (ISO), the time
   * of the folder's first run. Kept for good, so that every run serves the same events. Absent
   * in a folder filled before the demo kept it: its histories keep the fixed dates of 2025.
   */
  history?: { end: string; tickets: number };
}

export function loadDemoRun(db: Db): Promise<DemoRun | null> {
  return read<DemoRun>(db, DEMO_KEY);
}

export function saveDemoRun(db: Db, run: DemoRun): Promise<void> {
  return write(db, DEMO_KEY, run);
}

export interface AnalyticsRebuild {
  /** Every ticket up to this id is rebuilt. */
  afterTicketId: number;
  startedAt: string;
  finishedAt: string | null;
}

export function loadAnalyticsRebuild(db: Db): Promise<AnalyticsRebuild | null> {
  return read<AnalyticsRebuild>(db, ANALYTICS_REBUILD_KEY);
}

export function saveAnalyticsRebuild(db: Db, state: AnalyticsRebuild): Promise<void> {
  return write(db, ANALYTICS_REBUILD_KEY, state);
}

export interface FullReadAllowance {
  requests: number;
  /** Minutes since `requests` was counted. */
  minutesSince: number;
}

/** In place of the database clock (epoch ms), for tests; production passes none. */
export interface DbClock {
  nowMs?: number;
}

// The allowance accrues with time between backfills that may run on different machines, so the
// time is the database's, which they share: a worker's clock running fast or slow would add or
// withhold its difference at every other backfill.
const dbNow = (at: DbClock) => sql`coalesce(to_timestamp(${at.nowMs ?? null}::float8 / 1000), now())`;

export async function loadFullReadAllowance(db: Db, at: DbClock = {}): Promise<FullReadAllowance | null> {
  const { rows } = await db.execute<{ requests: number; minutes_since: number }>(sql`
    select (value->>'requests')::float8 as requests,
           greatest(0, extract(epoch from ${dbNow(at)} - (value->>'at')::timestamptz) / 60)::float8 as minutes_since
      from ${syncState} where key = ${FULL_READ_ALLOWANCE_KEY}`);
  return rows[0] ? { requests: rows[0].requests, minutesSince: rows[0].minutes_since } : null;
}

export async function saveFullReadAllowance(db: Db, requests: number, at: DbClock = {}): Promise<void> {
  const value = sql`jsonb_build_object('requests', ${requests}::float8, 'at', ${dbNow(at)})`;
  await db
    .insert(syncState)
    .values({ key: FULL_READ_ALLOWANCE_KEY, value })
    .onConflictDoUpdate({ target: syncState.key, set: { value, updatedAt: sql`now()` } });
}
