// The check `sync` makes before it queues anything, against the simulator's /users/me.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/errors/outcome.ts';
import { NotZendeskApi, Unauthorized, ZendeskUnreachable } from '../../src/errors/zendesk-errors.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { checkCredentials } from '../../src/zendesk/credentials.ts';
import { clientFor, drain, rejection, TOKEN } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tickets: 3, rateLimit: 0, apiToken: TOKEN });
});
afterAll(async () => {
  await sim?.close();
});

describe('checkCredentials', () => {
  it('accepts credentials Zendesk knows, with one request outside the conversation-log budget', async () => {
    sim.resetRequests();
    await checkCredentials({ http: clientFor(sim.url) }, 'nothing was queued');
    expect(sim.requests.map((r) => [r.kind, r.status])).toEqual([['users_me', 200]]);
  });

  it('refuses wrong credentials with Unauthorized, saying what waits and never the token', async () => {
    const error = await rejection(checkCredentials({ http: clientFor(sim.url, { auth: { kind: 'token', email: 'a@b.c', token: 'wrong-7731' } }) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(Unauthorized);
    expect(error.message).toMatch(/refused the credentials \(401.*; nothing was queued$/);
    expect(error.message).not.toContain('wrong-7731');
  });

  it('names the variables of the credentials it sent, not every credential variable', async () => {
    const [oauth, token] = await Promise.all([
      rejection(checkCredentials({ http: clientFor(sim.url, { auth: { kind: 'oauth', token: 'wrong-oauth-5512' } }) }, 'nothing was queued')),
      rejection(checkCredentials({ http: clientFor(sim.url, { auth: { kind: 'token', email: 'a@b.c', token: 'wrong-7731' } }) }, 'nothing was queued')),
    ]);
    expect(oauth).toBeInstanceOf(Unauthorized);
    expect(oauth.message).toMatch(/refused the credentials \(401 [^)]*\); check ZENDESK_OAUTH_TOKEN; nothing was queued$/);
    expect(token.message).toMatch(/refused the credentials \(401 [^)]*\); check ZENDESK_EMAIL and ZENDESK_API_TOKEN; nothing was queued$/);
    // A ticket's page too, where a worker meets it.
    const page = await rejection(drain(clientFor(sim.url, { auth: { kind: 'oauth', token: 'wrong-oauth-5512' } }), 1, { maxAttempts: 1 }));
    expect(page).toBeInstanceOf(Unauthorized);
    expect(page.message).toMatch(/; check ZENDESK_OAUTH_TOKEN$/);
  });

  it('refuses credentials a server takes for an anonymous visitor', async () => {
    const anonymous = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: { id: null, name: 'Anonymous user' } }));
    });
    try {
      const error = await rejection(checkCredentials({ http: clientFor(anonymous.url) }, 'nothing was queued'));
      expect(error).toBeInstanceOf(Unauthorized);
      expect(error.message).toMatch(/anonymous visitor.*; nothing was queued$/);
    } finally {
      await anonymous.close();
    }
  });

  it('refuses a base URL with /api/v2 in it: the 404 of /users/me names the setting and the URL, in one line (exit 2)', async () => {
    sim.resetRequests();
    const error = await rejection(checkCredentials({ http: clientFor(`${sim.url}/api/v2`) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(NotZendeskApi);
    expect(error.message).toBe(
      `ZENDESK_BASE_URL (${sim.url}/api/v2) answered 404 Not Found for /api/v2/users/me.json (InvalidEndpoint: Not found), which is not Zendesk's API: ` +
        "it must be the account's root URL, e.g. https://acme.zendesk.com (no /api/v2), or a proxy that passes /api/v2/ on to it; nothing was queued",
    );
    expect(exitCodeFor(error)).toBe(2);
    // Not asked again: a server that is not Zendesk's API will not become it in a second.
    expect(sim.requests.map((r) => [r.path, r.status])).toEqual([['/api/v2/api/v2/users/me.json', 404]]);
  });

  it('refuses a web server that is not Zendesk: a 404 page, a 200 page, JSON without a user, a 405 page', async () => {
    const answers: [number, string, string][] = [
      [404, 'text/html', '<html><head><title>404 Not Found</title></head><body>nginx</body></html>'],
      [200, 'text/html', '<!doctype html><html><head><title>Welcome to nginx!</title></head></html>'],
      [200, 'application/json', '{"status":"ok"}'],
      [405, 'text/html', '<html><head><title>405 Not Allowed</title></head></html>'],
    ];
    for (const [status, type, body] of answers) {
      const web = await serve((_req, res) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      });
      try {
        const error = await rejection(checkCredentials({ http: clientFor(web.url, { auth: { kind: 'token', email: 'a@b.c', token: 'tok-53cr3t' } }) }, 'nothing was queued'));
        expect(error, body).toBeInstanceOf(NotZendeskApi);
        expect(error.message).toMatch(new RegExp(`^ZENDESK_BASE_URL \\(${web.url.replace(/\./g, '\\.')}\\) answered ${status} .* for /api/v2/users/me\\.json .*; nothing was queued$`));
        expect(error.message).not.toContain('tok-53cr3t');
      } finally {
        await web.close();
      }
    }
  });

  it('refuses https:// to a plain-HTTP port at once: ZendeskUnreachable naming the setting, one line (exit 2)', async () => {
    const https = sim.url.replace(/^http:/, 'https:');
    const started = Date.now();
    const error = await rejection(checkCredentials({ http: clientFor(https) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(ZendeskUnreachable);
    expect(error.message).toBe(`cannot reach Zendesk at ${https}: the server does not speak TLS (is it an http:// address?) (check ZENDESK_BASE_URL)`);
    expect(exitCodeFor(error)).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('leaves any other answer to the sync (a proxy without the endpoint, a 5xx)', async () => {
    const odd = await serve((req, res) => {
      res.writeHead(req.url?.includes('users/me') ? 503 : 404, { 'content-type': 'text/plain' });
      res.end('no');
    });
    try {
      await expect(checkCredentials({ http: clientFor(odd.url) }, 'nothing was queued')).resolves.toBeUndefined();
    } finally {
      await odd.close();
    }
  });
});

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
