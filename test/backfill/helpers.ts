// Shared by the backfill tests: what the simulator's export says changed, and what got queued.
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { OnDelete } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { startBoss } from '../../src/queue/boss.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import type { FixtureWithBoss } from '../helpers/sync-fixture.ts';

export const EMAIL = 'agent@example.test';
export const TOKEN = 'zdTok3nS3cretValue9876543210';
const AUTH = `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`;

export interface SimExportTicket {
  id: number;
  status: string;
  generated_timestamp: number;
}

/** Every ticket the simulator's export lists from startTime, AI-agent tickets included (read directly, outside convlog). */
export async function exportSince(sim: Simulator, startTime: number): Promise<SimExportTicket[]> {
  const tickets: SimExportTicket[] = [];
  // Every ticket, as convlog asks: the default scope would hide those handled by AI agents.
  let query = `start_time=${startTime}&support_type_scope=all`;
  for (;;) {
    const response = await fetch(`${sim.url}/api/v2/incremental/tickets/cursor.json?${query}`, { headers: { authorization: AUTH } });
    if (response.status !== 200) throw new Error(`export: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { tickets: SimExportTicket[]; after_cursor: string; end_of_stream: boolean };
    tickets.push(...body.tickets);
    if (body.end_of_stream) return tickets;
    query = `cursor=${encodeURIComponent(body.after_cursor)}&support_type_scope=all`;
  }
}

export async function queuedTicketIds(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `select (data->>'ticketId')::int as id from pgboss.job where name = 'ticket-sync' order by 1`,
  );
  return rows.map((r) => r.id);
}

export async function clearQueue(pool: pg.Pool): Promise<void> {
  await pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
  await pool.query('delete from zendesk.ticket_sync');
}

export async function ticketStatuses(pool: pg.Pool): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ ticket_id: number; status: string }>('select ticket_id::int, status from zendesk.ticket_sync');
  return new Map(rows.map((r) => [r.ticket_id, r.status]));
}

export async function savedPosition(pool: pg.Pool): Promise<{ cursor: string | null; position: string | null } | null> {
  const { rows } = await pool.query<{ value: { cursor: string | null; position: string | null } }>(
    `select value from convlog.sync_state where key = 'incremental_export'`,
  );
  return rows[0]?.value ?? null;
}

export const sorted = (ids: Iterable<number>) => [...new Set(ids)].sort((a, b) => a - b);
export const nowSec = () => Math.floor(Date.now() / 1000);
export const DAY = 86_400;


export interface BackfillTestContext {
  database: TestDatabase;
  boss: PgBoss;
  /** Simulators the test started; closed after each test. */
  sims: Simulator[];
}

/**
 * A database and pg-boss for a file of backfill tests, with the hooks that reset them after
 * each test (queue, export position, ticket context). Read its fields inside tests and hooks.
 */
export function backfillTestContext(): BackfillTestContext {
  const context = { sims: [] as Simulator[] } as BackfillTestContext;
  beforeAll(async () => {
    context.database = await createTestDatabase();
    context.boss = await startBoss(context.database, silentLogger);
  });
  afterAll(async () => {
    await context.boss?.stop({ graceful: false, timeout: 1_000 });
    await context.database?.close();
  });
  afterEach(async () => {
    await Promise.all(context.sims.splice(0).map((sim) => sim.close()));
    await clearQueue(context.database.pool);
    await context.database.pool.query('delete from convlog.sync_state');
    await context.database.pool.query('truncate zendesk.tickets, zendesk.groups, zendesk.brands, zendesk.organizations');
  });
  return context;
}

/** A backfill of a sync fixture's simulator into its database, with no budget in the way: from `since` (Unix seconds), else the saved position. */
export function backfillOf(f: FixtureWithBoss, options: { since?: number; onDelete?: OnDelete } = {}) {
  return runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: options.onDelete },
    options.since === undefined ? {} : { since: options.since },
  );
}
