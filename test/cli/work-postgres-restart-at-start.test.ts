// A worker waits for a Postgres that is down at start, and rides out one that restarts once it
// runs; between the two, while it migrated and started pg-boss, a restart ended it with "the
// database system is shutting down (an unexpected error …)", exit 1 (seen in the fault suite, on a
// busy machine, as a worker slower to start than the other). It now waits for Postgres again, as
// at start. Through the real command line, its Postgres reached through a proxy that resets every
// connection as pg-boss's start asks whether its schema is installed, and refuses new ones for 2 s.
import { expect, it, vi } from 'vitest';
import { startConvlog } from '../helpers/cli.ts';
import { jsonLines } from '../faults/harness.ts';
import { proxiedPostgres } from '../helpers/proxied-postgres.ts';

const restarting = proxiedPostgres();

it('waits for a Postgres that restarts while the worker starts, then works', { timeout: 90_000 }, async () => {
  const env = await restarting.env();
  restarting.proxy.restartAfter("to_regclass('pgboss.version')", 2_000);
  const worker = startConvlog(['work'], { env: { ...env, LOG_LEVEL: 'info' } });
  await vi.waitFor(() => expect(worker.stderr()).toContain('"msg":"worker started"'), { timeout: 60_000, interval: 200 });
  const lines = jsonLines(worker.stderr());
  expect(lines.map((line) => line.msg)).toContain('Postgres went away while the worker was starting; waiting for it again');
  expect(worker.process.exitCode, worker.stderr()).toBeNull();
  worker.kill('SIGTERM');
  expect(await worker.exited, worker.stderr()).toMatchObject({ code: 0, signal: null });
});
