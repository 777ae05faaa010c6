// serve on the embedded default, stopped cleanly: its stop watched Postgres for silence while it
// also stopped the embedded server it owns, and so logged "could not read the queue; trying
// again" (the database system is shutting down, then connection refused) before "serve stopped",
// although nothing was wrong and serve reads no queue. The watch now ends before the server stops.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { endedWithin, runCli, startConvlog, type Convlog } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-serve-stop-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

it('a clean stop of serve on the embedded Postgres it started logs no warning and exits 0', { timeout: 120_000 }, async () => {
  // The warnings came on some stops, the first after a cluster's creation likelier (its shutdown
  // takes a checkpoint longer than the watch's half second): three fresh clusters.
  for (let run = 1; run <= 3; run++) {
    const serve = startConvlog(['serve'], {
      env: { CONVLOG_DATA_DIR: path.join(dir, `data-${run}`), CONVLOG_WEBHOOK_SECRET: 'a-long-webhook-secret', CONVLOG_SERVE_PORT: String(await freePort()), LOG_LEVEL: 'info' },
    });
    await untilSaid(serve, /serve: listening for Zendesk webhooks/);
    serve.kill('SIGTERM');
    const exit = await endedWithin(serve, 60_000);
    expect(exit, serve.stderr()).not.toBe('running');
    expect(exit !== 'running' && exit.code, serve.stderr()).toBe(0);
    const warnings = serve.stderr().split('\n').filter((line) => /"level":(40|50|60)/.test(line));
    expect(warnings, `run ${run}`).toEqual([]);
    expect(serve.stderr()).toContain('"msg":"serve stopped"');
  }
});

it('stopped while its embedded Postgres is silent, names that server, not DATABASE_URL, which was never set', { timeout: 120_000 }, async () => {
  // "cannot connect to Postgres at 127.0.0.1:… (check DATABASE_URL)", of a DATABASE_URL never set.
  const dataDir = path.join(dir, 'silent-serve');
  const serve = startConvlog(['serve'], {
    env: { CONVLOG_DATA_DIR: dataDir, CONVLOG_WEBHOOK_SECRET: 'a-long-webhook-secret', CONVLOG_SERVE_PORT: String(await freePort()), LOG_LEVEL: 'info' },
  });
  await untilSaid(serve, /serve: listening for Zendesk webhooks/);
  const thaw = freeze(dataDir);
  try {
    serve.kill('SIGTERM');
    const exit = await endedWithin(serve, 60_000);
    expect(exit !== 'running' && exit.code, serve.stderr()).toBe(2);
    const line = serve.stderr().split('\n').find((l) => l.startsWith('convlog serve:'));
    expect(line).toMatch(/^convlog serve: cannot connect to the embedded Postgres \(embedded, data in .*\): .*; the stop waited \d+ s for it, and no longer; every delivery answered 200 has its ticket queued$/);
    expect(serve.stderr()).not.toContain('DATABASE_URL');
  } finally {
    thaw();
  }
});

it('a worker stopped while its embedded Postgres is silent names that server, not DATABASE_URL, which was never set', { timeout: 120_000 }, async () => {
  const sim = await startSimulator({ tickets: 40, latency: 200 });
  const dataDir = path.join(dir, 'silent-work');
  const env = { CONVLOG_DATA_DIR: dataDir, ZENDESK_BASE_URL: sim.url, ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token', LOG_LEVEL: 'info' };
  try {
    const enqueued = await runCli(['enqueue', '--range', '1..40'], { env, timeoutMs: 90_000 });
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const work = startConvlog(['work', '--concurrency', '2'], { env });
    await untilSaid(work, /"msg":"ticket synced"/);
    const thaw = freeze(dataDir);
    try {
      work.kill('SIGTERM');
      const exit = await endedWithin(work, 60_000);
      expect(exit !== 'running' && exit.code, work.stderr()).toBe(2);
      const line = work.stderr().split('\n').find((l) => l.startsWith('convlog work:'));
      expect(line).toMatch(/^convlog work: cannot connect to the embedded Postgres \(embedded, data in .*\): .*; the stop waited \d+ s for it, and no longer; /);
      expect(work.stderr()).not.toContain('DATABASE_URL');
    } finally {
      thaw();
    }
  } finally {
    await sim.close();
  }
});

/**
 * Stops the embedded server's every process (its backends each lead a process group of their
 * own, so the postmaster's group is not all of them); the function returned lets them go on.
 */
function freeze(dataDir: string): () => void {
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).split('\n').map(Number).filter((pid) => pid > 0);
  const all = [postmaster, ...children];
  for (const pid of all) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of all) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone already.
      }
    }
  };
}

async function untilSaid(command: Convlog, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 900 && !pattern.test(command.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(command.stderr()).toMatch(pattern);
}
