// A stop (SIGTERM, Ctrl-C) while Postgres is silent ends within a service manager's stop timeout
// (40 s in deploy/), in one line and exit 2, whatever the command's own bound: a service `work`
// has none and waited for its tickets in flight for as long as the silence lasted (seen: still
// running 150 s after the SIGTERM), `work --until-idle` waited out --give-up-after (600 s by
// default), `sync` a minute, `backfill` for its page in hand until the kernel gave up on the
// connection, and `serve` for its last writes as it closed. Killed at the timeout instead, a worker said nothing of why.
// Through the real command line, its Postgres reached through a proxy the test silences.
import { readFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';
import { endedWithin, startConvlog, type Convlog } from '../helpers/cli.ts';
import { plainLine, proxiedPostgres } from '../helpers/proxied-postgres.ts';

const lost = proxiedPostgres();
/** The stop timeout of deploy/convlog-worker.service (deploy/compose.yaml's stop_grace_period is the same). */
const STOP_TIMEOUT_MS = Number(/^TimeoutStopSec=(\d+)$/m.exec(readFileSync(new URL('../../deploy/convlog-worker.service', import.meta.url), 'utf8'))?.[1]) * 1000;

/** A command started with `args` through the proxy, busy storing 40 queued tickets once this returns. */
async function busy(args: string[], enqueue: boolean): Promise<Convlog> {
  const env = await lost.env();
  const command = startConvlog(args, { env });
  if (enqueue) {
    const enqueued = startConvlog(['enqueue', '--range', '1..40'], { env });
    expect((await enqueued.exited).code, enqueued.stderr()).toBe(0);
  }
  await lost.storing();
  return command;
}

/** Silences Postgres, sends `signal`, and checks the command ended in time, with exit 2. */
async function stoppedWhileSilent(command: Convlog, signal: NodeJS.Signals): Promise<void> {
  expect(STOP_TIMEOUT_MS).toBeGreaterThan(0);
  lost.proxy.silence();
  const silencedAt = Date.now();
  command.kill(signal);
  const exit = await endedWithin(command, STOP_TIMEOUT_MS);
  expect(exit, command.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expect(exit.code, command.stderr().slice(-3000)).toBe(2);
  // Not at once: a silence of a few seconds (a failover) is ridden out, the pages in flight stored.
  expect(exit.at - silencedAt).toBeGreaterThanOrEqual(10_000);
}

it('ends a service worker told to stop while Postgres is silent within the stop timeout: exit 2, one line', { timeout: 120_000 }, async () => {
  const worker = await busy(['work', '--concurrency', '2'], true);
  await stoppedWhileSilent(worker, 'SIGTERM');
  expect(plainLine(worker)).toMatch(/^convlog work: cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: .*; the stop waited \d+ s for it, and no longer; the tickets still queued are the next run's$/);
});

it('ends work --until-idle told to stop the same way, long before its --give-up-after', { timeout: 120_000 }, async () => {
  const worker = await busy(['work', '--until-idle', '--give-up-after', '600', '--concurrency', '2'], true);
  await stoppedWhileSilent(worker, 'SIGTERM');
  expect(plainLine(worker)).toMatch(/; the stop waited \d+ s for it, and no longer; /);
});

it('ends sync stopped by Ctrl-C while Postgres is silent the same way, not a minute later', { timeout: 120_000 }, async () => {
  const sync = await busy(['sync', ...Array.from({ length: 40 }, (_, i) => String(i + 1))], false);
  await stoppedWhileSilent(sync, 'SIGINT');
  // Its progress lines aside, one line.
  const errors = sync.stderr().split('\n').filter((line) => line.startsWith('convlog sync:'));
  expect(errors).toEqual([expect.stringMatching(/^convlog sync: cannot connect to Postgres at .*; sync gave up after 1\d s without an answer; the tickets still queued are the next run's$/)]);
});

it('ends backfill stopped while Postgres is silent the same way, its page in hand left to the next backfill', { timeout: 120_000 }, async () => {
  const env = await lost.env({ tickets: 3000, latency: 300, exportPageSize: 100 });
  const backfill = startConvlog(['backfill', '--since', '2020-01-01'], { env });
  // Its first page stored: the next one is being read or stored.
  await vi.waitUntil(async () => (await lost.database.pool.query(`select count(*)::int as n from zendesk.tickets`)).rows[0].n > 0, { timeout: 60_000, interval: 100 });
  await stoppedWhileSilent(backfill, 'SIGTERM');
  const errors = backfill.stderr().split('\n').filter((line) => line.startsWith('convlog backfill:'));
  expect(errors).toEqual([
    expect.stringMatching(/^convlog backfill: cannot connect to Postgres at .*; the stop waited \d+ s for it, and no longer; the next backfill continues from the saved position$/),
  ]);
});

// `serve` has no work of its own in flight once its requests are answered, but closing still
// writes to Postgres (the account budget's release, pg-boss's stop): it stayed running 150 s after
// the SIGTERM, its queue errors logged every 30 s.
it('ends serve stopped while Postgres is silent the same way, the deliveries it answered 200 queued', { timeout: 120_000 }, async () => {
  const env = { ...(await lost.env()), CONVLOG_WEBHOOK_SECRET: 'a-webhook-secret-long-enough-for-convlog', LOG_LEVEL: 'info' };
  const serve = startConvlog(['serve', '--port', '0'], { env });
  await vi.waitUntil(() => serve.stderr().includes('serve: listening'), { timeout: 60_000, interval: 100 });
  await stoppedWhileSilent(serve, 'SIGTERM');
  expect(plainLine(serve)).toMatch(/^convlog serve: cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: .*; the stop waited \d+ s for it, and no longer; every delivery answered 200 has its ticket queued$/);
});
