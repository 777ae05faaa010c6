// `convlog webhook test` against a real serve; `convlog webhook create` against the simulator's
// webhooks API.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhook } from '../../src/commands/webhook.ts';
import type { ArgValues } from '../../src/commands/types.ts';
import { loadConfig } from '../../src/config.ts';
import { UsageError } from '../../src/errors/convlog-errors.ts';
import { Unauthorized } from '../../src/errors/zendesk-errors.ts';
import { commandContext, runCli } from '../helpers/cli.ts';
import { freePort } from '../../src/db/embedded.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../src/serve/signature.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../src/serve/webhook-events.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createServeFixture, queuedState, SECRETS, type ServeFixture } from './serve-fixture.ts';

function contextFor(env: Record<string, string> = {}) {
  const out: string[] = [];
  const ctx = commandContext({ config: (options) => loadConfig({ ...env }, options), env, out });
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
  });
  afterAll(async () => {
    await f?.close();
  });

  it('sends a signed sample that serve accepts and queues', async () => {
    const { out, result } = run(['test'], { url: `${f.server.url}/webhooks/zendesk`, ticket: '55' }, { CONVLOG_WEBHOOK_SECRET: SECRETS.join(',') });
    expect(await result).toBe(0);
    expect(out.join('\n')).toMatch(/^200 OK: .*"ticketId":55/);
    expect((await queuedState(f.database)).jobs).toEqual([{ ticketId: 55, full: false }]);
  });

  it('a signature serve refuses is one line naming CONVLOG_WEBHOOK_SECRET, exit 2', async () => {
    const url = `${f.server.url}/webhooks/zendesk`;
    const result = await runCli(['webhook', 'test', '--url', url], { env: { CONVLOG_WEBHOOK_SECRET: 'not-the-secret-serve-has-0123456789' } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: `convlog webhook test: the serve at ${url} refused the signature: CONVLOG_WEBHOOK_SECRET here is not one of the secrets it was started with (its first one signs)\n`,
    });
    expect(result.stdout).toMatch(/^401 Unauthorized: .*bad_signature/);
    expect((await queuedState(f.database)).jobs.filter((job) => job.ticketId === 1)).toEqual([]);
  });

  it("an address that is not serve's webhook path (another of its paths, another server) is one line naming the path, exit 2", async () => {
    const env = { CONVLOG_WEBHOOK_SECRET: SECRETS[0] };
    const wrongPath = `${f.server.url}/webhooks`;
    const onServe = await runCli(['webhook', 'test', '--url', wrongPath], { env });
    expect({ code: onServe.code, stdout: onServe.stdout, stderr: onServe.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `convlog webhook test: ${wrongPath} answered 404 Not Found ({"error":"not found"}): not convlog serve's webhook path, which is /webhooks/zendesk; check --url, or CONVLOG_SERVE_PORT\n`,
    });
  });

  it('nothing listening there (at --url, or on CONVLOG_SERVE_PORT) is one line saying to start serve, exit 2', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/webhooks/zendesk`;
    const expected = `convlog webhook test: nothing answered at ${url} (connection refused): start convlog serve, or give --url where it listens\n`;
    const env = { CONVLOG_WEBHOOK_SECRET: SECRETS[0] };
    const [given, configured] = await Promise.all([
      runCli(['webhook', 'test', '--url', url], { env }),
      runCli(['webhook', 'test'], { env: { ...env, CONVLOG_SERVE_PORT: String(port) } }),
    ]);
    for (const result of [given, configured]) expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 2, stdout: '', stderr: expected });
  });

  it('refuses a --url with a user name or password in one line that does not echo them, sending nothing', async () => {
    const expected = 'convlog webhook test: --url must not carry a user name or password: convlog serve checks the signature of what Zendesk sends, not a password\n';
    const before = await queuedState(f.database);
    const port = f.server.port;
    const urls = [`http://ops:hunter2-proxy-pass@127.0.0.1:${port}/webhooks/zendesk`, `http:ops:hunter2-proxy-pass@127.0.0.1:${port}/webhooks/zendesk`, `http://hunter2-proxy-pass@[::1/x`];
    for (const url of urls) {
      const result = await runCli(['webhook', 'test', '--url', url], { env: { CONVLOG_WEBHOOK_SECRET: SECRETS[0] } });
      expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 2, stdout: '', stderr: expected });
    }
    expect(await queuedState(f.database)).toEqual(before);
  });

  it('serve answers the path with a trailing slash too, as a webhook made by hand may call it', async () => {
    const { out, result } = run(['test'], { url: `${f.server.url}/webhooks/zendesk/`, ticket: '56' }, { CONVLOG_WEBHOOK_SECRET: SECRETS.join(',') });
    expect(await result).toBe(0);
    expect(out.join('\n')).toMatch(/^200 OK: .*"ticketId":56/);
  });

  it('sends where serve listens when CONVLOG_SERVE_HOST names an address', async () => {
    // It always sent to 127.0.0.1, and told a person whose serve listened on CONVLOG_SERVE_HOST to start it.
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"queued":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const result = await runCli(['webhook', 'test'], { env: { CONVLOG_WEBHOOK_SECRET: SECRETS[0], CONVLOG_SERVE_HOST: '127.0.0.2', CONVLOG_SERVE_PORT: String(port) } });
      expect(result.code, result.stderr).toBe(0);
      expect(received).toEqual(['POST /webhooks/zendesk']);
      // A wildcard address is every interface: 127.0.0.1 among them.
      const wildcard = await runCli(['webhook', 'test'], { env: { CONVLOG_WEBHOOK_SECRET: SECRETS[0], CONVLOG_SERVE_HOST: '0.0.0.0', CONVLOG_SERVE_PORT: String(port) } });
      expect(wildcard.stderr).toContain(`nothing answered at http://127.0.0.1:${port}/webhooks/zendesk`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('needs a configured secret to sign with', async () => {
    await expect(run(['test'], {}).result).rejects.toThrow(/^CONVLOG_WEBHOOK_SECRET is missing/);
  });
});

describe("webhook create, against the simulator's webhooks API", () => {
  const ENDPOINT = 'https://convlog.example.com/webhooks/zendesk';
  let sim: Simulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    sim = await startSimulator({ tickets: 5, apiToken: 'zd-api-token-123', webhookUrl: '' });
    env = { ZENDESK_BASE_URL: sim.url, ZENDESK_EMAIL: 'admin@example.com', ZENDESK_API_TOKEN: 'zd-api-token-123' };
  });
  afterAll(async () => {
    await sim?.close();
  });

  const webhooksApi = () => sim.requests.filter((r) => r.path.startsWith('/api/v2/webhooks')).map((r) => `${r.method} ${r.path} ${r.status}`);

  it('registers an active JSON webhook on the ticket events and prints the secret its deliveries are signed with', async () => {
    sim.resetRequests();
    const { out, result } = run(['create'], { url: ENDPOINT, name: 'convlog-test' }, env);
    expect(await result).toBe(0);
    const calls = webhooksApi();
    const listed = (await (await fetch(`${sim.url}/api/v2/webhooks`, { headers: { authorization: `Bearer zd-api-token-123` } })).json()) as {
      webhooks: { id: string; name: string; endpoint: string; status: string; request_format: string; subscriptions: string[] }[];
    };
    expect(listed.webhooks).toHaveLength(1);
    const [hook] = listed.webhooks;
    expect(hook).toMatchObject({ name: 'convlog-test', endpoint: ENDPOINT, status: 'active', request_format: 'json', subscriptions: SUBSCRIBED_EVENT_TYPES });
    expect(SUBSCRIBED_EVENT_TYPES).toEqual(expect.arrayContaining(['zen:event-type:ticket.comment_added', 'zen:event-type:ticket.comment_redacted']));
    // The list first: a webhook already calling the endpoint is not made twice (below).
    expect(calls).toEqual(['GET /api/v2/webhooks 200', 'POST /api/v2/webhooks 201', `GET /api/v2/webhooks/${hook.id}/signing_secret 200`]);
    const line = out.at(-1)!;
    expect(line).toMatch(/^CONVLOG_WEBHOOK_SECRET=\S{8,}$/);

    // The printed secret is the one Zendesk signs with: a change's delivery verifies with it.
    sim.appendEvents(3, 1);
    await sim.webhooks.settled();
    const delivery = sim.webhooks.deliveries.find((d) => d.webhookId === hook.id && d.ticketId === 3)!;
    const secret = line.slice('CONVLOG_WEBHOOK_SECRET='.length);
    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyWebhookSignature([secret], headers[TIMESTAMP_HEADER.toLowerCase()], Buffer.from(delivery.body), headers[SIGNATURE_HEADER.toLowerCase()])).toBe(true);
  });

  it('stops with the credentials error on a 401, printing nothing and creating nothing', async () => {
    sim.resetRequests();
    const { out, result } = run(['create'], { url: ENDPOINT }, { ...env, ZENDESK_API_TOKEN: 'wrong-token-456' });
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unauthorized);
    expect(String((error as Error).message)).not.toContain('wrong-token-456');
    expect(out).toEqual([]);
    expect(webhooksApi()).toEqual(['GET /api/v2/webhooks 401']);
  });

  it('run again for the same endpoint, creates no second webhook and names the one there (exit 2)', async () => {
    const listed = async () =>
      ((await (await fetch(`${sim.url}/api/v2/webhooks`, { headers: { authorization: `Bearer zd-api-token-123` } })).json()) as { webhooks: { id: string; endpoint: string }[] }).webhooks.filter(
        (hook) => hook.endpoint === ENDPOINT,
      );
    if ((await listed()).length === 0) expect(await run(['create'], { url: ENDPOINT, name: 'convlog-test' }, env).result).toBe(0);
    const before = await listed();
    expect(before).toHaveLength(1);
    sim.resetRequests();
    const result = await runCli(['webhook', 'create', '--url', ENDPOINT], { env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n'), result.stderr).toEqual([
      `convlog webhook create: Zendesk at ${new URL(sim.url).host} already has webhook ${before[0].id} ("convlog-test") calling ${ENDPOINT}; a second one would deliver every change twice: ` +
        'use its secret (Admin Center > Webhooks > the webhook > Reveal secret), or delete it there and run "convlog webhook create" again',
    ]);
    expect(webhooksApi()).toEqual(['GET /api/v2/webhooks 200']);
    expect(await listed()).toEqual(before);
    // One made by hand in Admin Center, with a trailing slash and capitals in its host, calls the
    // same endpoint: a second webhook would deliver every change twice.
    const made = await fetch(`${sim.url}/api/v2/webhooks`, {
      method: 'POST',
      headers: { authorization: 'Bearer zd-api-token-123', 'content-type': 'application/json' },
      body: JSON.stringify({
        webhook: { name: 'by hand', endpoint: 'https://Other.Example.com/webhooks/zendesk/', http_method: 'POST', request_format: 'json', status: 'active', subscriptions: SUBSCRIBED_EVENT_TYPES },
      }),
    });
    expect(made.status).toBe(201);
    const byHand = ((await made.json()) as { webhook: { id: string } }).webhook;
    const again = await runCli(['webhook', 'create', '--url', 'https://other.example.com/webhooks/zendesk'], { env });
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toContain(`already has webhook ${byHand.id} ("by hand") calling https://Other.Example.com/webhooks/zendesk/;`);
  });

  it('refuses bad usage before calling Zendesk', async () => {
    sim.resetRequests();
    await expect(run(['create'], {}, env).result).rejects.toThrow(UsageError);
    await expect(run(['create'], { url: 'ftp://x' }, env).result).rejects.toThrow('--url must be an http(s) URL');
    // Zendesk would never call a plain-http endpoint, not even a local one.
    for (const url of ['http://convlog.example.com/webhooks/zendesk', 'http://127.0.0.1:8787/webhooks/zendesk']) {
      await expect(run(['create'], { url }, env).result).rejects.toThrow(
        `--url must be an https URL, got "${url}": Zendesk calls webhooks over https only (put a TLS-terminating proxy in front of convlog serve)`,
      );
    }
    const withPassword = await runCli(['webhook', 'create', '--url', 'https://ops:hunter2-proxy-pass@convlog.example.com/webhooks/zendesk'], { env });
    expect({ code: withPassword.code, stdout: withPassword.stdout, stderr: withPassword.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: 'convlog webhook create: --url must not carry a user name or password: convlog serve checks the signature of what Zendesk sends, not a password\n',
    });
    // serve answers one path: Zendesk's deliveries anywhere else get 404s, and it stops sending.
    for (const url of ['https://convlog.example.com', 'https://convlog.example.com/webhooks/zendesk/', 'https://convlog.example.com/webhook/zendesk']) {
      await expect(run(['create'], { url }, env).result).rejects.toThrow(
        `--url must end in /webhooks/zendesk, the path convlog serve answers (behind a proxy, https://host/any/prefix/webhooks/zendesk), got "${url}"`,
      );
    }
    await expect(run(['remove'], {}, env).result).rejects.toThrow('unknown webhook action "remove"');
    await expect(run([], {}, env).result).rejects.toThrow(UsageError);
    await expect(run(['test'], { ticket: 'abc' }, env).result).rejects.toThrow('--ticket must be a ticket id');
    expect(sim.requests).toEqual([]);
  });
});
