// A `sync` killed in the middle of a ticket (SIGKILL: no stop, no word to pg-boss). Before, status
// listed it as working the queue until it had missed three heartbeats (90 s), and its job stayed
// `active` until a supervising process ran pg-boss's first pass, an interval (10 s) after its
// start: a short `sync` of other tickets ended before it, and the killed one's ticket waited for
// the next long-running worker. Now status sees at once that the process has ended (its
// connections are gone and its pid runs nothing here), and every supervising command runs a pass
// as it starts.
import os from 'node:os';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli, startConvlog } from '../helpers/cli.ts';
import { LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { createFixture, jobStates, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: LONG_TICKET_EVENTS }, latency: 300 });
});
afterAll(async () => {
  await fixture?.close();
});

const workersLine = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('workers '));
const jobOf = async (ticketId: number) => (await jobStates(fixture.database)).find((j) => j.ticketId === ticketId);

it('a killed sync is named as ended at once, and the next short sync hands its job back for a retry', { timeout: 120_000 }, async () => {
  const killed = startConvlog(['sync', '1'], { env: fixture.env });
  await waitForPages(fixture, 1, 2);
  killed.kill('SIGKILL');
  await killed.exited;

  const status = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(status.code, status.stderr).toBe(0);
  expect(workersLine(status.stdout)).toMatch(
    new RegExp(`^workers {4}no process is working the queue \\(no "convlog work" or "convlog sync" running; pid ${killed.pid} on ${os.hostname()} ended without stopping \\(killed or crashed\\)\\); `),
  );
  expect(status.stdout).toMatch(/^queue {6}0 queued, 0 waiting to retry, 1 running \(no process holds it: its worker ended or was cut off; the next "convlog work" or "convlog sync" hands it back\), /m);
  const json = JSON.parse((await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 })).stdout);
  expect(json.workers).toMatchObject({ processes: [], endedWithoutStopping: [{ pid: killed.pid, connected: false }], ticketsBeingSynced: 0 });
  expect(await jobOf(1)).toMatchObject({ state: 'active' });

  // Once its job's heartbeat is out of date (10 s), a sync of another ticket, over in a second or
  // two, fails that job over to its retry.
  await vi.waitUntil(
    async () => (await fixture.database.pool.query(`select heartbeat_on < now() - interval '11 seconds' as late from pgboss.job where name = 'ticket-sync' and data->>'ticketId' = '1'`)).rows[0].late,
    { timeout: 30_000, interval: 500 },
  );
  fixture.sim.setOptions({ latency: 0 });
  const short = await runCli(['sync', '2'], { env: fixture.env, timeoutMs: 60_000 });
  expect(short.code, short.stderr).toBe(0);
  expect(short.ms).toBeLessThan(10_000);
  expect(await jobOf(1)).toMatchObject({ state: 'retry' });
});
