// The health server `work --health-port` and `serve` share: /healthz follows the database,
// /metrics reports the queue, tickets, events and budgets read from Postgres.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it, inject, vi } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import { adminQuery, useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

describe('/metrics', () => {
  it('has every named series, with the values Postgres holds', async () => {
    const boss = await startBoss(database, silentLogger);
    await enqueueTickets(boss, database.db, [11, 12, 13]);
    await boss.stop({ graceful: false, timeout: 2_000 });
    // The oldest job has waited a minute: the sync lag an alert watches.
    await database.pool.query(`update pgboss.job set created_on = now() - interval '60 seconds' where name = 'ticket-sync' and data->>'ticketId' = '11'`);
    // Older, but waiting out a retry's backoff: no worker could take it, so it is no lag.
    await database.pool.query(
      `update pgboss.job set state = 'retry', created_on = now() - interval '10 minutes', start_after = now() + interval '5 minutes'
        where name = 'ticket-sync' and data->>'ticketId' = '12'`,
    );
    // Running for 20 minutes (a long ticket): busy, not waiting.
    await database.pool.query(
      `update pgboss.job set state = 'active', created_on = now() - interval '25 minutes', start_after = now() - interval '20 minutes', started_on = now() - interval '20 minutes'
        where name = 'ticket-sync' and data->>'ticketId' = '13'`,
    );
    await database.pool.query(`update zendesk.ticket_sync set status = 'failed' where ticket_id = 13`);
    await database.pool.query(
      `insert into convlog.rate_budgets (name, limit_per_window, spent, total_taken, total_rate_limited, total_wait_ms)
       values ('conversation_log', 100, 42, 5000, 7, 12500)`,
    );
    const server = await startHealthServer({ pool: database.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: { conversation_log: 250 } });
    try {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      expect(value('convlog_database_up')).toBe(1);
      expect(value('convlog_queue_depth{state="queued"}')).toBe(1);
      expect(value('convlog_queue_depth{state="retrying"}')).toBe(1);
      expect(value('convlog_queue_depth{state="running"}')).toBe(1);
      expect(value('convlog_queue_oldest_waiting_seconds')).toBeGreaterThanOrEqual(59);
      expect(value('convlog_queue_oldest_waiting_seconds')).toBeLessThan(300);
      expect(value('convlog_tickets{status="queued"}')).toBe(2);
      expect(value('convlog_tickets{status="failed"}')).toBe(1);
      expect(value('convlog_tickets{status="synced"}')).toBe(0);
      expect(value('convlog_events_stored')).toBe(0);
      // No process takes permits: the limit this one would apply (metrics-per-process.test.ts has the others).
      expect(value('convlog_rate_budget_limit{budget="conversation_log"}')).toBe(250);
      expect(value('convlog_rate_budget_own_limit{budget="conversation_log"}')).toBe(250);
      expect(value('convlog_rate_budget_spent{budget="conversation_log"}')).toBe(42);
      expect(value('convlog_rate_budget_requests_total{budget="conversation_log"}')).toBe(5000);
      expect(value('convlog_rate_budget_rate_limited_total{budget="conversation_log"}')).toBe(7);
      expect(value('convlog_rate_budget_wait_seconds_total{budget="conversation_log"}')).toBe(12.5);
      // Their `_total` names promise counters, which rate() and the tools reading the metadata expect.
      for (const name of ['requests', 'rate_limited', 'wait_seconds']) expect(text).toContain(`# TYPE convlog_rate_budget_${name}_total counter`);
      expect(text.match(/^# TYPE convlog_\S+_total gauge$/gm)).toBeNull();
      expect(text).toContain('process_resident_memory_bytes');
      expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('a flood of /metrics while Postgres is slow', () => {
  it('reads Postgres once at a time, leaving the pool to the webhooks', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 5 });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    const server = await startHealthServer({ pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
    try {
      // The budgets' table held: every read of the figures waits on it.
      await locker.query('begin');
      await locker.query('lock table convlog.rate_budgets in access exclusive mode');
      const scrapes = Array.from({ length: 20 }, () => fetch(`${server.url}/metrics`).then((r) => r.text()));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // What the intake would run meanwhile, on the same pool.
      // Pool clients all held by scrapes would leave it waiting for good (the lock is held until
      // the rollback below); 10 s is room for a busy machine to open a connection.
      const answered = await Promise.race([pool.query('select 1').then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 10_000))]);
      expect(answered).toBe(true);
      for (const text of await Promise.all(scrapes)) expect(text).toMatch(/^convlog_database_up 0$/m);
    } finally {
      await locker.query('rollback').catch(() => {});
      await locker.end();
      await server.close();
      await pool.end();
    }
  });
});

describe('a flood of /healthz while the pool is busy', () => {
  it('queues one look for a connection, shared by every request meanwhile, not one a request', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const server = await startHealthServer({ pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
    try {
      // The pool's one connection is the work's, busy for 3 s: every look waits for it.
      const busy = pool.query('select pg_sleep(3)');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const probes = Array.from({ length: 20 }, () => fetch(`${server.url}/healthz`).then((r) => r.status));
      await vi.waitFor(() => expect(pool.waitingCount).toBeGreaterThan(0), { timeout: 2_000, interval: 20 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      // One query waits for the connection however many probes came; each would have queued one.
      expect(pool.waitingCount).toBe(1);
      expect(await Promise.all(probes)).toEqual(Array.from({ length: 20 }, () => 503));
      await busy;
    } finally {
      await server.close();
      await pool.end();
    }
  });
});

describe('a Postgres that accepts connections and never answers', () => {
  it('gets /metrics answered within seconds with convlog_database_up 0, and /healthz 503', async () => {
    const held: net.Socket[] = [];
    const hung = net.createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    // The pool's connection timeout, as serve's own pool has it (src/db/connection.ts).
    const pool = new pg.Pool({ connectionString: `postgres://convlog@127.0.0.1:${(hung.address() as net.AddressInfo).port}/convlog`, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => {});
    const server = await startHealthServer({ pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
    try {
      for (const path of ['/metrics', '/metrics', '/healthz']) {
        const started = Date.now();
        const response = await fetch(`${server.url}${path}`);
        // Unbounded, each would wait out the pool's 10 s connection timeout; 7 s leaves a busy
        // machine room over the 2 s bound.
        expect(Date.now() - started, path).toBeLessThan(7_000);
        if (path === '/metrics') expect(await response.text()).toMatch(/^convlog_database_up 0$/m);
        else expect(response.status).toBe(503);
      }
    } finally {
      await server.close();
      for (const socket of held) socket.destroy();
      hung.close();
      await pool.end().catch(() => {});
    }
  });
});

describe('/healthz', () => {
  it('answers 200 while Postgres answers, 503 once the database is gone, 200 again when it is back', async () => {
    const adminUrl = inject('pgAdminUrl');
    const name = `${database.name}_health`;
    await adminQuery(adminUrl, `create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const health = await connect(url.toString(), silentLogger, 2);
    const server = await startHealthServer({ pool: health.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
    try {
      const up = await fetch(`${server.url}/healthz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ status: 'ok' });
      expect(await containerHealthcheck(`${server.url}/healthz`)).toBe(0);

      await adminQuery(adminUrl, `drop database ${name} with (force)`);
      const down = await fetch(`${server.url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'database unreachable' });
      expect(await containerHealthcheck(`${server.url}/healthz`)).toBe(1);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^convlog_database_up 0$/m);

      await adminQuery(adminUrl, `create database ${name}`);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      // A worker listening on one address only (CONVLOG_HEALTH_HOST): the check asks it there.
      const own = await startHealthServer({ pool: health.pool, port: 0, host: '127.0.0.2', log: silentLogger, ownLimits: {} });
      try {
        const port = new URL(own.url).port;
        expect(await containerHealthcheck(undefined, { CONVLOG_HEALTH_PORT: port })).toBe(1);
        expect(await containerHealthcheck(undefined, { CONVLOG_HEALTH_PORT: port, CONVLOG_HEALTH_HOST: '127.0.0.2' })).toBe(0);
      } finally {
        await own.close();
      }
    } finally {
      await server.close();
      await health.close();
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    }
  });
});

/** Exit code of the image's HEALTHCHECK command (deploy/healthcheck.js) asking `url`, or the health port of `env`. */
function containerHealthcheck(url: string | undefined, env: Record<string, string> = {}): Promise<number> {
  const script = fileURLToPath(new URL('../../deploy/healthcheck.js', import.meta.url));
  const args = url === undefined ? [script] : [script, url];
  return new Promise((resolve) => execFile(process.execPath, args, { env: { ...process.env, ...env } }, (error) => resolve(error ? Number(error.code ?? 1) : 0)));
}
