// `convlog webhook test` against a real serve; `convlog webhook create` against a stand-in for
// Zendesk's webhooks API (to be replaced by the simulator's once it serves that API).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { webhook } from '../../src/commands/webhook.ts';
import type { ArgValues, CommandContext } from '../../src/commands/types.ts';
import { loadConfig } from '../../src/config.ts';
import { Unauthorized, UsageError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../src/serve/webhook-events.ts';
import { createServeFixture, queuedState, SECRETS, type ServeFixture } from './serve-fixture.ts';

function contextFor(env: Record<string, string> = {}) {
  const out: string[] = [];
  const ctx: CommandContext = {
    log: silentLogger,
    config: (options) => loadConfig({ ...env }, options),
    out: (line) => out.push(line),
    signal: new AbortController().signal,
  };
  return { ctx, out };
}

const run = (positionals: string[], values: ArgValues, env?: Record<string, string>) => {
  const { ctx, out } = contextFor(env);
  return { out, result: webhook.run(values, positionals, ctx) };
};

describe('webhook test', () => {
  let f: ServeFixture;
  beforeAll(async () => {
    f = await createServeFixture();
    vi.stubEnv('CONVLOG_WEBHOOK_SECRET', SECRETS.join(','));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await f?.close();
  });

  it('sends a signed sample that serve accepts and queues', async () => {
    const { out, result } = run(['test'], { url: `${f.server.url}/webhooks/zendesk`, ticket: '55' });
    expect(await result).toBe(0);
    expect(out.join('\n')).toMatch(/^200 OK: .*"ticketId":55/);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 55, full: false }]);
  });

  it('says so in one line when nothing listens there', async () => {
    const { result } = run(['test'], { url: 'http://127.0.0.1:9/webhooks/zendesk' });
    await expect(result).rejects.toThrow(/^cannot reach http:\/\/127\.0\.0\.1:9\/webhooks\/zendesk: .*is convlog serve running there\?\)$/);
  });
});

describe('webhook create', () => {
  const requests: { method: string; url: string; authorization?: string; body: string }[] = [];
  let status = 201;
  let zendesk: http.Server;
  let env: Record<string, string>;

  beforeAll(async () => {
    zendesk = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        if (status !== 201) {
          res.statusCode = status;
          res.end('{"error":"Couldn\'t authenticate you"}');
        } else if (req.method === 'POST' && req.url === '/api/v2/webhooks') {
          res.statusCode = 201;
          res.end(JSON.stringify({ webhook: { id: '01GHOOK', ...JSON.parse(body).webhook } }));
        } else if (req.method === 'GET' && req.url === '/api/v2/webhooks/01GHOOK/signing_secret') {
          res.end(JSON.stringify({ signing_secret: { secret: 'dGhlLXNpZ25pbmctc2VjcmV0', algorithm: 'SHA256' } }));
        } else {
          res.statusCode = 404;
          res.end('{"error":"InvalidEndpoint"}');
        }
      });
    });
    await new Promise<void>((resolve) => zendesk.listen(0, '127.0.0.1', resolve));
    const { port } = zendesk.address() as AddressInfo;
    env = { ZENDESK_BASE_URL: `http://127.0.0.1:${port}`, ZENDESK_EMAIL: 'admin@example.com', ZENDESK_API_TOKEN: 'zd-api-token-123' };
  });
  afterAll(async () => {
    await new Promise((resolve) => zendesk?.close(resolve));
  });

  it('registers an active JSON webhook on the ticket events and prints the .env line with its secret', async () => {
    requests.length = 0;
    const { out, result } = run(['create'], { url: 'https://convlog.example.com/webhooks/zendesk' }, env);
    expect(await result).toBe(0);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v2/webhooks', 'GET /api/v2/webhooks/01GHOOK/signing_secret']);
    expect(requests[0].authorization).toBe(`Basic ${Buffer.from('admin@example.com/token:zd-api-token-123').toString('base64')}`);
    expect(JSON.parse(requests[0].body)).toEqual({
      webhook: {
        name: 'convlog',
        endpoint: 'https://convlog.example.com/webhooks/zendesk',
        http_method: 'POST',
        request_format: 'json',
        status: 'active',
        subscriptions: SUBSCRIBED_EVENT_TYPES,
      },
    });
    expect(SUBSCRIBED_EVENT_TYPES).toEqual(expect.arrayContaining(['zen:event-type:ticket.comment_added', 'zen:event-type:ticket.comment_redacted']));
    expect(out.at(-1)).toBe('CONVLOG_WEBHOOK_SECRET=dGhlLXNpZ25pbmctc2VjcmV0');
  });

  it('stops with the credentials error on a 401, printing nothing', async () => {
    status = 401;
    try {
      const { out, result } = run(['create'], { url: 'https://convlog.example.com/webhooks/zendesk' }, env);
      const error = await result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Unauthorized);
      expect(String((error as Error).message)).not.toContain('zd-api-token-123');
      expect(out).toEqual([]);
    } finally {
      status = 201;
    }
  });

  it('refuses bad usage before calling Zendesk', async () => {
    requests.length = 0;
    await expect(run(['create'], {}, env).result).rejects.toThrow(UsageError);
    await expect(run(['create'], { url: 'ftp://x' }, env).result).rejects.toThrow('--url must be an http(s) URL');
    await expect(run(['remove'], {}, env).result).rejects.toThrow('unknown webhook action "remove"');
    await expect(run([], {}, env).result).rejects.toThrow(UsageError);
    await expect(run(['test'], { ticket: 'abc' }, env).result).rejects.toThrow('--ticket must be a ticket id');
    expect(requests).toEqual([]);
  });
});
