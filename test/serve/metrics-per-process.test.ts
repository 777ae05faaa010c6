// What each process's /metrics says. Webhooks reach `serve` only: a worker's /metrics (work
// --health-port) carried some 35 convlog_webhook* series that were always 0, read on a dashboard
// as "no webhooks came".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import { createServeFixture, type ServeFixture } from './serve-fixture.ts';

let serve: ServeFixture;
let worker: Awaited<ReturnType<typeof startHealthServer>>;

beforeAll(async () => {
  serve = await createServeFixture();
  worker = await startHealthServer({ pool: serve.database.pool, port: 0, host: '127.0.0.1', log: silentLogger });
});
afterAll(async () => {
  await worker?.close();
  await serve?.close();
});

const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const seriesNamed = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

it("a worker's /metrics has no webhook series; serve's has every one, and both have the database's", async () => {
  const workers = await scrape(worker.url);
  expect(seriesNamed(workers, 'convlog_webhook')).toEqual([]);
  expect(workers).not.toMatch(/^# (HELP|TYPE) convlog_webhook/m);
  expect(value(workers, 'convlog_database_up')).toBe(1);
  expect(value(workers, 'convlog_queue_depth{state="queued"}')).toBe(0);

  const serves = await scrape(serve.server.url);
  expect(value(serves, 'convlog_database_up')).toBe(1);
  expect(value(serves, 'convlog_webhooks_accepted_total{action="sync"}')).toBe(0);
  expect(value(serves, 'convlog_webhooks_rejected_total{reason="bad_signature"}')).toBe(0);
  expect(value(serves, 'convlog_webhooks_replayed_total')).toBe(0);
  expect(value(serves, 'convlog_webhook_body_bytes')).toBe(0);
  expect(serves).toContain('convlog_webhook_answer_seconds_bucket');
});
