// The serve command as the CLI runs it: configuration checked first, then a server that queues
// webhooks until the signal, then a clean stop (exit 0).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../../src/commands/serve.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { DEFAULT_SERVE_PORT, DEFAULT_WEBHOOK_MAX_AGE_SECONDS, loadConfig } from '../../src/config.ts';
import { ConfigError, UsageError } from '../../src/errors/convlog-errors.ts';
import { commandContext } from '../helpers/cli.ts';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { SECRETS, sendWebhook, ticketEvent, within } from './serve-fixture.ts';
import { pino } from 'pino';
import type { RunningServer } from '../../src/serve/http.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';

describe('serve configuration', () => {
  it('reads the comma-separated secrets, the timestamp window, host and port from the one config', () => {
    expect(loadConfig({ CONVLOG_WEBHOOK_SECRET: ' new-secret-1234 , old-secret-5678 ' }).serve).toEqual({
      secrets: ['new-secret-1234', 'old-secret-5678'],
      maxAgeSeconds: DEFAULT_WEBHOOK_MAX_AGE_SECONDS,
      host: undefined,
      port: DEFAULT_SERVE_PORT,
    });
    const set = loadConfig({ CONVLOG_WEBHOOK_SECRET: 'new-secret-1234', CONVLOG_WEBHOOK_MAX_AGE_SECONDS: '60', CONVLOG_SERVE_HOST: '127.0.0.1', CONVLOG_SERVE_PORT: '9000' });
    expect(set.serve).toEqual({ secrets: ['new-secret-1234'], maxAgeSeconds: 60, host: '127.0.0.1', port: 9000 });
  });

  it('needs a secret only for the commands that check signatures', () => {
    expect(loadConfig({}).serve.secrets).toEqual([]);
    expect(() => loadConfig({}, { needWebhookSecret: true })).toThrow(/^CONVLOG_WEBHOOK_SECRET is missing: .* \(see \.env\.example\)$/);
  });

  it.each([
    [{}, 'CONVLOG_WEBHOOK_SECRET is missing'],
    [{ CONVLOG_WEBHOOK_SECRET: ' , ' }, 'CONVLOG_WEBHOOK_SECRET is empty'],
    [{ CONVLOG_WEBHOOK_SECRET: 'short' }, 'CONVLOG_WEBHOOK_SECRET has a secret shorter than 8 characters'],
    [{ CONVLOG_WEBHOOK_SECRET: 'new-secret-1234', CONVLOG_WEBHOOK_MAX_AGE_SECONDS: '5m' }, 'CONVLOG_WEBHOOK_MAX_AGE_SECONDS must be a number of seconds from 1 to 86400'],
    [{ CONVLOG_WEBHOOK_SECRET: 'new-secret-1234', CONVLOG_SERVE_PORT: '70000' }, 'CONVLOG_SERVE_PORT must be a port from 1 to 65535'],
  ])('refuses %j in one line', (env, message) => {
    const error = (() => {
      try {
        loadConfig(env, { needWebhookSecret: true });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).not.toContain('new-secret-1234');
  });
});

describe('convlog serve', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('refuses a bad --port and a missing secret before opening anything', async () => {
    const ctx = contextFor({ DATABASE_URL: database.url }, new AbortController().signal);
    await expect(serve.run({ port: '70000' }, [], ctx)).rejects.toThrow(UsageError);
    // One line that says where the secret comes from: the command that prints it.
    const missing = await serve.run({ port: '0' }, [], ctx).then(() => undefined, (error: Error) => error.message);
    expect(missing).toMatch(/^CONVLOG_WEBHOOK_SECRET is missing: .*"convlog webhook create --url https:\/\/<your host>\/webhooks\/zendesk" prints/);
    expect(missing).not.toContain('\n');
  });

  it('queues signed webhooks until stopped, then returns 0', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const running = serve.run({ port: String(port) }, [], contextFor({ DATABASE_URL: database.url, CONVLOG_WEBHOOK_SECRET: SECRETS.join(',') }, controller.signal));
    try {
      const server = { url: `http://127.0.0.1:${port}`, port };
      // Sent until the server listens.
      const answer = await vi.waitUntil(() => sendWebhook(server, ticketEvent(77)).catch(() => undefined), { timeout: 10_000, interval: 100 });
      expect(answer.status, answer.body).toBe(200);
      const { rows } = await database.pool.query(`select data->>'ticketId' as id from pgboss.job where name = 'ticket-sync'`);
      expect(rows).toEqual([{ id: '77' }]);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      controller.abort();
    }
    expect(await running).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('convlog serve and the tickets rows', () => {
  let database: TestDatabase;
  let sim: Simulator;
  beforeAll(async () => {
    database = await createTestDatabase();
    sim = await startSimulator({ tickets: 10, rateLimit: 0 });
  });
  afterAll(async () => {
    await sim?.close();
    await database?.close();
  });

  /** Runs serve with `env` until `during` is done; returns its exit code and its log lines. */
  async function serveWhile(env: Record<string, string>, during: (server: Pick<RunningServer, 'url' | 'port'>) => Promise<void>): Promise<{ code: number; log: string }> {
    const port = await freePort();
    const controller = new AbortController();
    let log = '';
    const full = { DATABASE_URL: database.url, CONVLOG_WEBHOOK_SECRET: SECRETS.join(','), ...env };
    const ctx = { ...contextFor(full, controller.signal), log: pino({ level: 'info', base: undefined }, { write: (line: string) => void (log += line) }) };
    const running = serve.run({ port: String(port) }, [], ctx);
    try {
      const server = { url: `http://127.0.0.1:${port}`, port };
      await within(10_000, async () => Boolean(await fetch(`${server.url}/healthz`).catch(() => undefined)));
      await during(server);
    } finally {
      controller.abort();
    }
    return { code: await running, log };
  }

  const ticketRow = async (id: number) => (await database.pool.query('select status from zendesk.tickets where id = $1', [id])).rows;

  it('with Zendesk credentials, reads the row of a ticket a webhook names', async () => {
    const env = { ZENDESK_BASE_URL: sim.url, ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'sim-token' };
    const { code, log } = await serveWhile(env, async (server) => {
      expect((await sendWebhook(server, ticketEvent(4, 'status_changed'))).status).toBe(200);
      await within(5_000, async () => (await ticketRow(4)).length > 0);
    });
    expect(code).toBe(0);
    expect(await ticketRow(4)).toEqual([{ status: sim.ticket(4).status }]);
    expect(log).not.toContain('ticket rows wait');
    expect(log).not.toContain('sim-token');
  });

  it('says in its log what it listens on: every interface by default, the address CONVLOG_SERVE_HOST names otherwise', async () => {
    const listening = (log: string) => log.split('\n').filter((line) => line.includes('listening for Zendesk webhooks')).map((line) => JSON.parse(line).msg);
    let port = 0;
    const everywhere = await serveWhile({}, async (server) => void (port = server.port));
    // Node listens on '::' (IPv4 too), or on 0.0.0.0 on a machine without IPv6.
    const local = `http://127.0.0.1:${port}/webhooks/zendesk`;
    expect(listening(everywhere.log)).toEqual([expect.stringMatching(new RegExp(`^serve: listening for Zendesk webhooks on all (IPv4 )?interfaces, port ${port} \\(${local} from this machine\\)$`))]);
    const loopback = await serveWhile({ CONVLOG_SERVE_HOST: '127.0.0.1' }, async (server) => void (port = server.port));
    expect(listening(loopback.log)).toEqual([`serve: listening for Zendesk webhooks on 127.0.0.1, port ${port} (http://127.0.0.1:${port}/webhooks/zendesk from this machine)`]);
  });

  it('without credentials, queues the ticket and says once that its row comes from the next backfill', async () => {
    const { code, log } = await serveWhile({}, async (server) => {
      expect((await sendWebhook(server, ticketEvent(5, 'status_changed'))).status).toBe(200);
      expect((await sendWebhook(server, ticketEvent(6, 'status_changed'))).status).toBe(200);
    });
    expect(code).toBe(0);
    expect(await ticketRow(5)).toEqual([]);
    const { rows } = await database.pool.query(`select data->>'ticketId' as id from pgboss.job where name = 'ticket-sync' and data->>'ticketId' in ('5', '6')`);
    expect(rows).toHaveLength(2);
    const said = log.split('\n').filter((line) => line.includes('ticket rows wait'));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]).msg).toBe(
      'tickets named by webhooks are queued (a change of their fields alone too), but their ticket rows wait for the next backfill: ZENDESK_SUBDOMAIN is missing (or set ZENDESK_BASE_URL); ' +
        'credentials are missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN',
    );
  });
});

function contextFor(env: Record<string, string>, signal: AbortSignal): CommandContext {
  return commandContext({ config: (options) => loadConfig(env, options), env, signal });
}
