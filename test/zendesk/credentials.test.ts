// The check `sync` makes before it queues anything, against the simulator's /users/me.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Unauthorized } from '../../src/errors.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { checkCredentials } from '../../src/zendesk/credentials.ts';
import { clientFor, TOKEN } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tickets: 3, rateLimit: 0, apiToken: TOKEN });
});
afterAll(async () => {
  await sim?.close();
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('checkCredentials', () => {
  it('accepts credentials Zendesk knows, with one request outside the conversation-log budget', async () => {
    sim.resetRequests();
    await checkCredentials({ http: clientFor(sim.url) }, 'nothing was queued');
    expect(sim.requests.map((r) => [r.kind, r.status])).toEqual([['users_me', 200]]);
  });

  it('refuses wrong credentials with Unauthorized, saying what waits and never the token', async () => {
    const error = await failure(checkCredentials({ http: clientFor(sim.url, { auth: { kind: 'token', email: 'a@b.c', token: 'wrong-7731' } }) }, 'nothing was queued'));
    expect(error).toBeInstanceOf(Unauthorized);
    expect(error.message).toMatch(/refused the credentials \(401.*; nothing was queued$/);
    expect(error.message).not.toContain('wrong-7731');
  });

  it('refuses credentials a server takes for an anonymous visitor', async () => {
    const anonymous = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: { id: null, name: 'Anonymous user' } }));
    });
    try {
      const error = await failure(checkCredentials({ http: clientFor(anonymous.url) }, 'nothing was queued'));
      expect(error).toBeInstanceOf(Unauthorized);
      expect(error.message).toMatch(/anonymous visitor.*; nothing was queued$/);
    } finally {
      await anonymous.close();
    }
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
