// /metrics shares one read of Postgres between the scrapes that come while it runs. A read that
// never returned (a statement on a connection gone half-open: a failover, a partition) was then
// shared by every later scrape for ever: convlog_database_up stayed 0 and every gauge kept its
// old value until the process restarted, although the same pool answered /healthz (200) and any
// new query at once. Its queries now end after 10 s (query_timeout), and the next scrape reads
// afresh.
// The half-open connections are made by a real TCP proxy between the pool and Postgres that
// stops forwarding on the connections it already holds (new ones pass).
import net from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import { createMetrics } from '../../src/serve/metrics.ts';
import type { RunningServer } from '../../src/serve/http.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { startBoss } from '../../src/queue/boss.ts';

interface Proxy {
  port: number;
  /** Stops forwarding on every connection open now; later connections are forwarded. */
  freezeExisting(): void;
  close(): Promise<void>;
}

async function startProxy(target: { host: string; port: number }): Promise<Proxy> {
  const pairs: { client: net.Socket; upstream: net.Socket; frozen: boolean }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream, frozen: false };
    pairs.push(pair);
    client.on('data', (d) => void (!pair.frozen && upstream.write(d)));
    upstream.on('data', (d) => void (!pair.frozen && client.write(d)));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freezeExisting: () => pairs.forEach((p) => (p.frozen = true)),
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: Proxy;
let viaProxy: Database;
let health: RunningServer;

const database = useTestDatabase();
beforeAll(async () => {
  // pg-boss's schema and queues, as every command creates them.
  await (await startBoss(database, silentLogger)).stop({ graceful: false, timeout: 2_000 });
  const url = new URL(database.url);
  proxy = await startProxy({ host: url.hostname, port: Number(url.port) });
  url.host = `127.0.0.1:${proxy.port}`;
  viaProxy = await connect(url.toString(), silentLogger, 8);
  health = await startHealthServer({ pool: viaProxy.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
});

afterAll(async () => {
  await health?.close();
  await proxy?.close();
  await viaProxy?.pool.end().catch(() => {});
});

const databaseUp = async () => {
  const text = await (await fetch(`${health.url}/metrics`)).text();
  return Number(/^convlog_database_up (\S+)$/m.exec(text)?.[1]);
};

it('convlog_database_up recovers once Postgres answers the process again', { timeout: 60_000 }, async () => {
  expect(await databaseUp()).toBe(1);
  // The pool's idle connections go half-open (as after a failover); new connections work.
  proxy.freezeExisting();
  expect(await databaseUp()).toBe(0); // this scrape's read is stuck on them: 0 is right here

  // The process can reach Postgres again: /healthz answers 200 over a new connection, and a new
  // registry on the very same pool reads every figure at once.
  const healthz = await fetch(`${health.url}/healthz`);
  expect(healthz.status).toBe(200);
  expect(await createMetrics(viaProxy.pool, {}).refresh()).toBe(true);

  // The stuck read ends within its 10 s limit, and a later scrape reads over a new connection.
  await vi.waitFor(async () => expect(await databaseUp(), 'convlog_database_up after Postgres answers again').toBe(1), { timeout: 20_000, interval: 500 });
});
