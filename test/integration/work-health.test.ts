// `convlog work` as a service: /healthz and /metrics on its health port while it works, a line per
// ticket synced at the default log level, and the port closed once SIGTERM has stopped it.
import { freePort } from '../../src/db/embedded.ts';
import { afterAll, beforeAll, expect, it, onTestFinished, vi } from 'vitest';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2 }, { queue: [1, 2] });
});
afterAll(async () => {
  await killAll();
  await fixture?.close();
});

it('answers /healthz and /metrics while working, logs each ticket, and closes the port on SIGTERM', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const worker = startConvlog(['work'], { env: { ...fixture.env, CONVLOG_HEALTH_PORT: String(port), LOG_LEVEL: 'info' } });
  const output = () => worker.stdout() + worker.stderr();

  await vi.waitFor(
    async () => {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    },
    { timeout: 45_000, interval: 250 },
  );
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(metrics.status).toBe(200);
  const text = await metrics.text();
  expect(text).toMatch(/^convlog_/m);
  // Zendesk answers: no outage to report.
  expect(text).toMatch(/^convlog_zendesk_unreachable_seconds 0$/m);
  // It says what it binds, not only a loopback URL: the default is every interface.
  expect(output()).toContain(`health and metrics listening on all interfaces, port ${port} (http://127.0.0.1:${port}/healthz from this machine)`);

  // At info, each ticket synced is named with what it cost.
  await vi.waitFor(() => expect(output().match(/"msg":"ticket synced"/g)).toHaveLength(2), { timeout: 30_000, interval: 250 });
  const line = JSON.parse(output().split('\n').find((l) => l.includes('"ticket synced"') && l.includes('"ticketId":1'))!);
  expect(line).toMatchObject({ ticketId: 1, status: 'synced', events: expect.any(Number), requests: expect.any(Number), ms: expect.any(Number) });
  expect(line.requests).toBeGreaterThan(0);

  worker.kill('SIGTERM');
  expect(await worker.exited, output()).toMatchObject({ code: 0, signal: null });
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
});

it('refuses a health port that is not a port, naming the flag', { timeout: 60_000 }, async () => {
  const result = await runCli(['work', '--health-port', 'abc'], { env: fixture.env });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/--health-port must be an integer from 0 to 65535, got "abc"/);
});

it('listens where CONVLOG_HEALTH_HOST says: 127.0.0.1 keeps /metrics off the network', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const worker = startConvlog(['work'], { env: { ...fixture.env, CONVLOG_HEALTH_PORT: String(port), CONVLOG_HEALTH_HOST: '127.0.0.1', LOG_LEVEL: 'info' } });
  const output = () => worker.stdout() + worker.stderr();
  await vi.waitFor(() => expect(output()).toContain('health and metrics listening on'), { timeout: 45_000, interval: 250 });
  expect(output()).toContain(`health and metrics listening on 127.0.0.1, port ${port} (http://127.0.0.1:${port}/healthz from this machine)`);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  worker.kill('SIGTERM');
  expect(await worker.exited, output()).toMatchObject({ code: 0, signal: null });
});

it('a host it cannot listen on is one line naming CONVLOG_HEALTH_HOST', { timeout: 60_000 }, async () => {
  const result = await runCli(['work', '--health-port', '0'], { env: { ...fixture.env, CONVLOG_HEALTH_HOST: '192.0.2.1' } });
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/cannot listen on .*\(check CONVLOG_HEALTH_HOST\)$/m);
});

it('reports how long Zendesk has not answered in /metrics, while /healthz stays 200', { timeout: 90_000 }, async () => {
  // A database of its own, which no account has reached yet; nothing listens at its Zendesk's
  // address: the worker starts, finds Zendesk unreachable, and holds its tickets.
  const unreached = await createFixture({ tickets: 1 }, { queue: [1] });
  onTestFinished(() => unreached.close());
  const closed = await freePort();
  const port = await freePort();
  const env = { ...unreached.env, ZENDESK_BASE_URL: `http://127.0.0.1:${closed}`, CONVLOG_HEALTH_PORT: String(port), LOG_LEVEL: 'info' };
  const worker = startConvlog(['work'], { env });
  const output = () => worker.stdout() + worker.stderr();
  const away = async () => {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    return Number(/^convlog_zendesk_unreachable_seconds (\S+)$/m.exec(text)?.[1]);
  };
  await vi.waitFor(async () => expect(await away(), output()).toBeGreaterThan(1), { timeout: 45_000, interval: 250 });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  worker.kill('SIGTERM');
  expect(await worker.exited, output()).toMatchObject({ code: 0, signal: null });
});
