import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { ServerError } from '../../src/errors/zendesk-errors.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { BASIC, TOKEN, clientFor, configFor, drain, rejection } from './helpers.ts';

// A bare HTTP server that records the raw request line and headers, to see exactly what goes
// over the wire; `respond` decides the answer per test.
let server: Server;
let base: string;
let seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let respond: (res: import('node:http').ServerResponse) => void;
const lastPage = JSON.stringify({ events: [], meta: { has_more: false, after_cursor: null } });

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    respond(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  respond = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(lastPage);
});

describe('createZendeskHttp', () => {
  it('sends Basic credentials for an API token, JSON accept and the convlog user agent', async () => {
    await drain(clientFor(base), 12);
    expect(seen).toHaveLength(1);
    const { headers } = seen[0];
    expect(headers.authorization).toBe(`Basic ${BASIC}`);
    expect(Buffer.from(BASIC, 'base64').toString()).toBe(`agent@example.test/token:${TOKEN}`);
    expect(headers.accept).toBe('application/json');
    expect(headers['user-agent']).toBe(`convlog/${pkg.version}`);
  });

  it('sends a Bearer token for OAuth', async () => {
    await drain(createZendeskHttp({ ...configFor(base), auth: { kind: 'oauth', token: TOKEN } }), 12);
    expect(seen[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('percent-encodes the cursor, + / = included', async () => {
    const cursor = '++++////abc+def/ghi==';
    await drain(clientFor(base), 12, { afterCursor: cursor, pageSize: 25 });
    expect(seen[0].url).toBe(
      '/api/v2/tickets/12/conversation_log?page%5Bsize%5D=25&page%5Bafter%5D=%2B%2B%2B%2B%2F%2F%2F%2Fabc%2Bdef%2Fghi%3D%3D',
    );
  });

  it('keeps the path of a base URL (a proxy), with or without a trailing slash', async () => {
    await drain(clientFor(`${base}/zendesk`), 5);
    await drain(clientFor(`${base}/zendesk/`), 5);
    expect(seen.map((request) => request.url.split('?')[0])).toEqual([
      '/zendesk/api/v2/tickets/5/conversation_log',
      '/zendesk/api/v2/tickets/5/conversation_log',
    ]);
  });

  it('bounds the body read by the timeout too, not only the headers', async () => {
    respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"events":['); // and never another byte
    };
    const started = Date.now();
    const error = await rejection(drain(clientFor(base, { requestTimeoutMs: 200 }), 12, { maxAttempts: 2, retryBaseMs: 1 }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/timeout/);
    expect(seen).toHaveLength(2);
    // Not bounded, the body read never ends; 10 s leaves a busy machine room over the ~0.4 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('honours a Retry-After on a 503 before retrying', async () => {
    let calls = 0;
    respond = (res) => {
      if (calls++ === 0) res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('Service Unavailable');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(lastPage);
    };
    const started = Date.now();
    await drain(clientFor(base), 12, { retryBaseMs: 1 });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('lets a failing budget fail the page as it is, not as a Zendesk error', async () => {
    const broken = { take: async () => {}, observe: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) };
    const error = await rejection(drain(clientFor(base), 12, { budget: broken }));
    expect(error).not.toBeInstanceOf(ServerError);
    expect(error.message).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(seen).toHaveLength(1);
  });
});
