// Plumbing for the integration tests: a migrated database, a simulator, the sync's
// dependencies, and snapshots of what is stored (what should be stored is oracle.ts's).
import { createHash } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { syncTickets } from '../../src/commands/sync.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import type { SyncRuntime } from '../../src/commands/runtime.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { commandContext } from './cli.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import type { SyncDeps } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import type { Counts, ExpectedFile } from './oracle.ts';

export interface Fixture {
  database: TestDatabase;
  sim: Simulator;
  deps: SyncDeps;
  /** Environment for a `convlog` child process against this database and simulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Page size of the in-process sync (`deps`); the conversation log's own default otherwise. */
  pageSize?: number;
  /**
   * For tests whose workers are `convlog` child processes: pg-boss's schema is created and these
   * tickets are queued (none for `[]`) before the fixture is returned, with no pg-boss left running.
   */
  queue?: readonly number[];
}

/** A fresh database and a simulator (unlimited rate unless told) with in-process sync deps. */
export async function createFixture(simOptions: SimulatorOptions = {}, options: FixtureOptions = {}): Promise<Fixture> {
  const database = await createTestDatabase();
  const sim = await startSimulator({ rateLimit: 0, exportRateLimit: 0, ...simOptions }).catch(async (error) => {
    await database.close();
    throw error;
  });
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  const deps: SyncDeps = { db: database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false, pageSize: options.pageSize };
  const fixture: Fixture = {
    database,
    sim,
    deps,
    env: cliEnvFor(database.url, sim.url),
    close: async () => {
      await sim.close();
      await database.close();
    },
  };
  if (options.queue) {
    try {
      const boss = await bossFor(fixture, false);
      try {
        if (options.queue.length > 0) await enqueueTickets(boss, database.db, options.queue);
      } finally {
        await boss.stop({ graceful: false, timeout: 2_000 });
      }
    } catch (error) {
      await fixture.close();
      throw error;
    }
  }
  return fixture;
}

export interface FixtureWithBoss extends Fixture {
  /** A running pg-boss (supervising, as `work` starts it), stopped by close(). */
  boss: PgBoss;
}

/** createFixture, with a pg-boss of the test's own for in-process queues and workers. */
export async function createFixtureWithBoss(simOptions: SimulatorOptions = {}, options: Omit<FixtureOptions, 'queue'> = {}): Promise<FixtureWithBoss> {
  const fixture = await createFixture(simOptions, options);
  const boss = await bossFor(fixture).catch(async (error) => {
    await fixture.close();
    throw error;
  });
  return {
    ...fixture,
    boss,
    close: async () => {
      await boss.stop({ graceful: false, timeout: 2_000 });
      await fixture.close();
    },
  };
}

export function cliEnvFor(databaseUrl: string, zendeskUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    ZENDESK_BASE_URL: zendeskUrl,
    ZENDESK_EMAIL: 'agent@example.com',
    ZENDESK_API_TOKEN: 'sim-token',
    // The simulators here are unlimited: the shared budget must not pace the tests at 100 a minute.
    CONVLOG_RATE_LIMIT: '100000',
    LOG_LEVEL: 'warn',
  };
}

/** pg-boss on the fixture's database, as the commands start it. */
export function bossFor(fixture: Fixture, supervise = true): Promise<PgBoss> {
  return startBoss(fixture.database, silentLogger, { supervise });
}

/** What `syncTickets` (src/commands/sync.ts) needs, wired to the fixture, with output captured. */
export function syncRuntimeFor(fixture: Fixture, boss: PgBoss, signal?: AbortSignal): { runtime: SyncRuntime; ctx: CommandContext; output: string[] } {
  const config: Config = { ...loadConfig({}), databaseUrl: fixture.database.url };
  const output: string[] = [];
  const runtime: SyncRuntime = { config, database: fixture.database, boss, deps: fixture.deps, close: async () => {} };
  const ctx = commandContext({ config: () => config, out: output, signal });
  return { runtime, ctx, output };
}

/** Syncs through the queue and in-process workers, as `convlog sync` does: its exit code and output. */
export async function syncViaQueue(
  fixture: FixtureWithBoss,
  ids: readonly number[],
  options: { full?: boolean; concurrency?: number; signal?: AbortSignal } = {},
): Promise<{ code: number; output: string[] }> {
  const { runtime, ctx, output } = syncRuntimeFor(fixture, fixture.boss, options.signal);
  const code = await syncTickets(runtime, ctx, [...ids], { full: options.full ?? false, concurrency: options.concurrency ?? 4 });
  return { code, output };
}

// ---------------------------------------------------------------------------------------------
// What is stored.

export interface Stored {
  events: Map<string, { ticketId: number; raw: unknown; type: string; bodyText: string | null; authorKey: string | null }>;
  authors: Set<string>;
  attachments: Map<number, ExpectedFile>;
  thumbnails: Map<number, ExpectedFile>;
}

export async function storedRows(database: TestDatabase): Promise<Stored> {
  const { pool } = database;
  const events = await pool.query<{ reference: string; ticket_id: string; raw: unknown; type: string; body_text: string | null; author_key: string | null }>(
    'select reference, ticket_id, raw, type, body_text, author_key from zendesk.conversation_events',
  );
  // Authors who wrote: requesters and assignees read with the ticket context may not have yet.
  const authors = await pool.query<{ author_key: string }>(
    'select author_key from zendesk.authors a where exists (select from zendesk.conversation_events e where e.author_key = a.author_key)',
  );
  const fileSql = (table: string, link: string) =>
    `select id, ticket_id, ${link}, file_name, content_type, size, deleted from zendesk.${table}`;
  const attachments = await pool.query(fileSql('attachments', 'event_reference'));
  const thumbnails = await pool.query(fileSql('attachment_thumbnails', 'attachment_id'));
  const file = (r: Record<string, unknown>, link: Partial<ExpectedFile>): ExpectedFile => ({
    id: Number(r.id),
    ticketId: Number(r.ticket_id),
    ...link,
    fileName: r.file_name as string,
    contentType: r.content_type as string,
    size: Number(r.size),
    deleted: r.deleted as boolean,
  });
  return {
    events: new Map(
      events.rows.map((r) => [r.reference, { ticketId: Number(r.ticket_id), raw: r.raw, type: r.type, bodyText: r.body_text, authorKey: r.author_key }]),
    ),
    authors: new Set(authors.rows.map((r) => r.author_key)),
    attachments: new Map(attachments.rows.map((r) => [Number(r.id), file(r, { eventReference: r.event_reference as string })])),
    thumbnails: new Map(thumbnails.rows.map((r) => [Number(r.id), file(r, { attachmentId: Number(r.attachment_id) })])),
  };
}


export async function rowCounts(database: TestDatabase, ticketIds?: readonly number[]): Promise<Counts> {
  const where = ticketIds ? `where ticket_id = any($1::bigint[])` : '';
  const params = ticketIds ? [ticketIds] : [];
  const { rows } = await database.pool.query<Counts>(
    `select
      (select count(*)::int from zendesk.conversation_events ${where}) as events,
      -- Authors who wrote: sync and enqueue also store requesters and assignees read by id.
      (select count(*)::int from zendesk.authors a where exists (select from zendesk.conversation_events e where e.author_key = a.author_key)) as authors,
      (select count(*)::int from zendesk.attachments ${where}) as attachments,
      (select count(*)::int from zendesk.attachment_thumbnails ${where}) as thumbnails`,
    params,
  );
  return rows[0];
}


/**
 * Every row of the four data tables with its xmin (the transaction that last wrote it) and
 * updated_at, hashed per table: equal snapshots mean no row was inserted, updated or deleted.
 */
export async function tableSnapshot(database: TestDatabase): Promise<Record<string, string>> {
  const tables = { conversation_events: 'reference', authors: 'author_key', attachments: 'id', attachment_thumbnails: 'id' };
  const out: Record<string, string> = {};
  for (const [table, key] of Object.entries(tables)) {
    const { rows } = await database.pool.query<{ line: string }>(
      `select t.xmin::text || ' ' || t.updated_at::text || ' ' || md5(row_to_json(t)::text) as line from zendesk.${table} t order by t.${key}`,
    );
    out[table] = `${rows.length} rows, ${createHash('sha256').update(rows.map((r) => r.line).join('\n')).digest('hex')}`;
  }
  return out;
}

/** `table:key` → the row's xmin and updated_at, for every row of the four data tables. */
export async function rowVersions(database: TestDatabase): Promise<Map<string, string>> {
  const tables = { conversation_events: 'reference', authors: 'author_key', attachments: 'id', attachment_thumbnails: 'id' };
  const out = new Map<string, string>();
  for (const [table, key] of Object.entries(tables)) {
    const { rows } = await database.pool.query<{ key: string; version: string }>(
      `select ${key}::text as key, xmin::text || ' ' || updated_at::text as version from zendesk.${table}`,
    );
    for (const row of rows) out.set(`${table}:${row.key}`, row.version);
  }
  return out;
}

/** Which rows appeared, changed or disappeared between two rowVersions(), sorted. */
export function versionChanges(before: Map<string, string>, after: Map<string, string>) {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  return { added, changed, removed };
}

export interface TicketSyncRow {
  ticket_id: string;
  status: string;
  after_cursor: string | null;
  events_synced: number;
  pages_synced: number;
  requests_last_run: number;
  attempts: number;
  last_error: string | null;
}

export async function ticketSync(database: TestDatabase, ticketId: number): Promise<TicketSyncRow | undefined> {
  const { rows } = await database.pool.query<TicketSyncRow>('select * from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
  return rows[0];
}

export async function jobStates(database: TestDatabase): Promise<{ ticketId: number; state: string; retryCount: number; singletonKey: string }[]> {
  const { rows } = await database.pool.query<{ ticket_id: number; state: string; retry_count: number; singleton_key: string }>(
    `select (data->>'ticketId')::int as ticket_id, state::text, retry_count, singleton_key from pgboss.job where name = 'ticket-sync' order by created_on`,
  );
  return rows.map((r) => ({ ticketId: r.ticket_id, state: r.state, retryCount: r.retry_count, singletonKey: r.singleton_key }));
}

/** Conversation-log requests the simulator answered, optionally for one ticket. */
export function logRequests(sim: Simulator, ticketId?: number) {
  return sim.requests.filter((r) => r.kind === 'conversation_log' && (ticketId === undefined || r.ticketId === ticketId));
}


export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
