// The serve command as the CLI runs it: configuration checked first, then a server that queues
// webhooks until the signal, then a clean stop (exit 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/commands/serve.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { DEFAULT_SERVE_PORT, DEFAULT_WEBHOOK_MAX_AGE_SECONDS, loadConfig } from '../../src/config.ts';
import { ConfigError, UsageError } from '../../src/errors.ts';
import { commandContext } from '../helpers/cli.ts';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { SECRETS, sendWebhook, ticketEvent } from './serve-fixture.ts';

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
    [{ CONVLOG_WEBHOOK_SECRET: ' , ' }, 'CONVLOG_WEBHOOK_SECRET is missing'],
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
    await expect(serve.run({ port: '0' }, [], ctx)).rejects.toThrow(/CONVLOG_WEBHOOK_SECRET is missing/);
  });

  it('queues signed webhooks until stopped, then returns 0', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const running = serve.run({ port: String(port) }, [], contextFor({ DATABASE_URL: database.url, CONVLOG_WEBHOOK_SECRET: SECRETS.join(',') }, controller.signal));
    try {
      const server = { url: `http://127.0.0.1:${port}`, port, close: async () => {} };
      let answer;
      for (let i = 0; i < 100; i++) {
        answer = await sendWebhook(server, ticketEvent(77)).catch(() => undefined);
        if (answer) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer?.status, answer?.body).toBe(200);
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

function contextFor(env: Record<string, string>, signal: AbortSignal): CommandContext {
  return commandContext({ config: (options) => loadConfig(env, options), env, signal });
}
