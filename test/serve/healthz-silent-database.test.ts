// /healthz on a database that went silent (a network dropping every packet, a frozen server): the
// answer was bounded, 503 after 2 s, but its `select 1` was not. The query went on waiting on its
// connection, and the pool's client with it, for good: each later /healthz took another client
// until the pool had none left for the webhooks. The query now has the same bound of its own
// (pg's query_timeout), so the pool drops that connection as the 503 goes.
// The silence is a real TCP proxy between the pool and Postgres that stops forwarding and never
// closes (test/helpers/tcp-proxy.ts).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import type { RunningServer } from '../../src/serve/http.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

let proxy: TcpProxy;
let viaProxy: Database;
let health: RunningServer;

const database = useTestDatabase();
beforeAll(async () => {
  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  // One connection, which connect's own check leaves idle in the pool.
  viaProxy = await connect(url.toString(), silentLogger, 1);
  health = await startHealthServer({ pool: viaProxy.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
});

afterAll(async () => {
  await health?.close();
  await proxy?.cut();
  await viaProxy?.pool.end().catch(() => {});
});

it('answers 503 within its 2 s and leaves no pool client held by the unanswered select 1', { timeout: 30_000 }, async () => {
  expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
  expect(viaProxy.pool.totalCount).toBe(1);

  proxy.silence();
  const started = Date.now();
  const response = await fetch(`${health.url}/healthz`);
  expect(response.status).toBe(503);
  expect(await response.json()).toEqual({ status: 'database unreachable' });
  // Unbounded, the answer never comes (the proxy is silent for good): 8 s is room for a busy
  // machine over the 2 s, where 3.5 s was not.
  expect(Date.now() - started).toBeLessThan(8_000);

  // The query ended with its answer's bound: its client is gone from the pool, not checked out.
  await vi.waitFor(() => expect(viaProxy.pool.totalCount, 'pool clients after the 503').toBe(0), { timeout: 10_000, interval: 50 });
  expect(viaProxy.pool.waitingCount).toBe(0);
});
