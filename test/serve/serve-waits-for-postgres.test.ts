// serve started before its Postgres (a reboot, a deploy that starts it first) waits for it, as a
// worker does, rather than exiting 2: under a supervisor that does not restart on exit 2 (the
// systemd unit in deploy/ is one) it would stay down, and Zendesk's deliveries with it.
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { endedWithin, startConvlog, type Convlog } from '../helpers/cli.ts';

let database: TestDatabase | undefined;
let late: net.Server | undefined;
afterAll(async () => {
  late?.close();
  await database?.close();
});

async function untilSaid(command: Convlog, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 600 && !pattern.test(command.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(command.stderr()).toMatch(pattern);
}

it('waits for a Postgres that is not up yet, then listens, and stops with exit 0', { timeout: 120_000 }, async () => {
  database = await createTestDatabase();
  const direct = new URL(database.url);
  // Postgres's address, where nothing listens until the test opens a way through to it.
  const port = await freePort();
  const viaLate = new URL(database.url);
  viaLate.hostname = '127.0.0.1';
  viaLate.port = String(port);
  const servePort = await freePort();
  const serve = startConvlog(['serve'], {
    env: { DATABASE_URL: viaLate.toString(), CONVLOG_WEBHOOK_SECRET: 'a-long-webhook-secret', CONVLOG_SERVE_PORT: String(servePort), LOG_LEVEL: 'info' },
  });
  await untilSaid(serve, /Postgres is not reachable; waiting for it/);
  expect(await endedWithin(serve, 500), serve.stderr()).toBe('running');

  late = net.createServer((client) => {
    const upstream = net.connect(Number(direct.port || 5432), direct.hostname);
    client.pipe(upstream).pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => late!.listen(port, '127.0.0.1', resolve));
  await untilSaid(serve, /serve: listening for Zendesk webhooks/);
  expect((await fetch(`http://127.0.0.1:${servePort}/healthz`)).status).toBe(200);

  serve.kill('SIGTERM');
  const exit = await endedWithin(serve, 30_000);
  expect(exit !== 'running' && exit.code, serve.stderr()).toBe(0);
});
