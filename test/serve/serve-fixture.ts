// A real `serve` webhook server on a free port, over a fresh test database and a real pg-boss,
// with its log lines captured for the "one line, no secret" checks.
import type { PgBoss } from 'pg-boss';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startBoss } from '../../src/queue/boss.ts';
import { createServeMetrics, type ServeMetrics } from '../../src/serve/webhook-metrics.ts';
import type { RunningServer } from '../../src/serve/http.ts';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/serve/signature.ts';
import { startWebhookServer, WEBHOOK_PATH } from '../../src/serve/webhook-server.ts';
import { createTicketRowReader, type TicketRowReader, type TicketRowReaderDeps } from '../../src/serve/ticket-rows.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import type { SyncDeps } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

export const SECRETS = ['first-secret-dcba4321', 'second-secret-abcd1234'];

export interface ServeFixture {
  database: TestDatabase;
  boss: PgBoss;
  server: RunningServer;
  metrics: ServeMetrics;
  /** Log lines written since the last clearLog(), parsed. */
  logLines(): Record<string, unknown>[];
  rawLog(): string;
  clearLog(): void;
  close(): Promise<void>;
}

export async function createServeFixture(
  options: { maxAgeSeconds?: number; closeGraceMs?: number; bodyDeadlineMs?: number; ticketRows?: Pick<TicketRowReader, 'add'> } = {},
): Promise<ServeFixture> {
  const database = await createTestDatabase();
  let written = '';
  const log = pino({ level: 'debug', base: undefined }, { write: (line: string) => void (written += line) });
  const boss = await startBoss(database, silentLogger);
  const metrics = createServeMetrics(database.pool, {});
  const server = await startWebhookServer({
    database,
    boss,
    config: { secrets: SECRETS, maxAgeSeconds: options.maxAgeSeconds ?? 300 },
    metrics,
    log,
    port: 0,
    host: '127.0.0.1',
    closeGraceMs: options.closeGraceMs,
    bodyDeadlineMs: options.bodyDeadlineMs,
    ticketRows: options.ticketRows,
  });
  return {
    database,
    boss,
    server,
    metrics,
    logLines: () => written.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLog: () => written,
    clearLog: () => void (written = ''),
    close: async () => {
      await server.close();
      await boss.stop({ graceful: false, timeout: 2_000 });
      await database.close();
    },
  };
}

/**
 * One serve fixture for a test file: created before its tests, closed after them, and before each
 * test emptied of what the previous one queued (sync jobs, ticket_sync rows, pending comments) and
 * logged. Call at the top of the file (or of a describe block); the object is filled in by
 * beforeAll, so use it only in tests and hooks.
 */
export function serveFixtureForFile(options: Parameters<typeof createServeFixture>[0] = {}): ServeFixture {
  const f = {} as ServeFixture;
  beforeAll(async () => {
    Object.assign(f, await createServeFixture(options));
  });
  afterAll(async () => {
    await f.close?.();
  });
  beforeEach(async () => {
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    await f.database.pool.query('delete from zendesk.ticket_sync');
    await f.database.pool.query('delete from zendesk.pending_comments');
    f.clearLog();
  });
  return f;
}

export interface SendOptions {
  secret?: string;
  timestamp?: string;
  /** Replaces the computed signature. */
  signature?: string;
  /** Headers to leave out. */
  omit?: string[];
  /** Headers to add (Zendesk's invocation id, say). */
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

/** POSTs `body` (an object is sent as JSON) to the server's webhook path, signed as Zendesk signs. */
export async function sendWebhook(server: Pick<RunningServer, 'url'>, body: unknown, options: SendOptions = {}): Promise<Answer> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? new Date().toISOString();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: options.signature ?? signWebhook(options.secret ?? SECRETS[0], timestamp, raw),
    ...options.headers,
  };
  for (const name of options.omit ?? []) delete headers[name];
  const response = await fetch(`${server.url}${WEBHOOK_PATH}`, { method: 'POST', headers, body: raw });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

export function ticketEvent(ticketId: number, type = 'comment_added', id = `01J-${ticketId}-${type}-${Math.random().toString(36).slice(2)}`) {
  return {
    type: `zen:event-type:ticket.${type}`,
    account_id: 1,
    id,
    time: new Date().toISOString(),
    zendesk_event_version: '2022-11-06',
    subject: `zen:ticket:${ticketId}`,
    detail: { id: String(ticketId), status: 'OPEN' },
    event: {},
  };
}

/** Sync jobs in pg-boss and tickets in ticket_sync: what a webhook may have queued. */
export async function queuedState(database: TestDatabase): Promise<{ jobs: { ticketId: number; full: boolean }[]; tickets: number[] }> {
  const jobs = await database.pool.query<{ data: { ticketId: number; full?: boolean } }>(
    `select data from pgboss.job where name = 'ticket-sync' order by created_on`,
  );
  const tickets = await database.pool.query<{ ticket_id: number }>('select ticket_id::int as ticket_id from zendesk.ticket_sync order by ticket_id');
  return {
    jobs: jobs.rows.map((r) => ({ ticketId: r.data.ticketId, full: Boolean(r.data.full) })),
    tickets: tickets.rows.map((r) => r.ticket_id),
  };
}

export interface ServeWithSimulator {
  f: ServeFixture;
  /** Sends its webhooks, signed with SECRETS[0], to the serve fixture. */
  sim: Simulator;
  /** For syncTicket and runWorker against that simulator. */
  deps: SyncDeps;
  close(): Promise<void>;
}

/**
 * A serve fixture and a simulator (no rate limits) whose webhooks go to it, for end-to-end tests.
 * With `ticketRowsEveryMs`, serve also reads the rows of the tickets they name from the simulator,
 * a round at most that often, as `convlog serve` does with credentials.
 */
export async function startServeWithSimulator(
  options: SimulatorOptions,
  deps: Partial<SyncDeps> = {},
  serve: { ticketRowsEveryMs?: number; ticketRowsRetries?: TicketRowReaderDeps['retries'] } = {},
): Promise<ServeWithSimulator> {
  // The reader needs the simulator's address, the simulator the server's: it is filled in below.
  let reader: TicketRowReader | undefined;
  const f = await createServeFixture(serve.ticketRowsEveryMs === undefined ? {} : { ticketRows: { add: (ticketId) => reader?.add(ticketId) } });
  const sim = await startSimulator({ rateLimit: 0, exportRateLimit: 0, ...options, webhookUrl: `${f.server.url}${WEBHOOK_PATH}`, webhookSecret: SECRETS[0] });
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  if (serve.ticketRowsEveryMs !== undefined) {
    reader = createTicketRowReader({ db: f.database.db, http, budget: localBudget(), log: silentLogger, everyMs: serve.ticketRowsEveryMs, retries: serve.ticketRowsRetries });
  }
  return {
    f,
    sim,
    deps: { db: f.database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false, ...deps },
    close: async () => {
      await reader?.close();
      await sim.close();
      await f.close();
    },
  };
}

/** convlog_webhook_body_bytes, as the server's /metrics shows it now. */
export async function bodyBytesHeld(server: Pick<RunningServer, 'url'>): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^convlog_webhook_body_bytes (\d+)$/m.exec(text)?.[1]);
}

/** Polls `check` every 50 ms for up to `ms`; resolves whether it came true (for an assertion with its own message). */
export async function within(ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) if (await check()) return true;
  return check();
}

/** Polls `condition` every 20 ms until it holds; throws, saying what was waited for, after `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
