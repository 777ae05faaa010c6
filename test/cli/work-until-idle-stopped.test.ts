// `work --until-idle` stopped by a signal (Ctrl-C, or a scheduler's timeout sending SIGTERM) with
// tickets still queued exits 1, as README's exit codes say of interrupted work: it exited 0, and
// a scheduler recorded the run as done. A service (`work` alone) stopped so still exits 0.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConvlog } from '../helpers/cli.ts';
import { LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: LONG_TICKET_EVENTS, 2: LONG_TICKET_EVENTS }, latency: 300 }, { queue: [1, 2] });
});
afterAll(async () => {
  await fixture?.close();
});

it('work --until-idle stopped with tickets left exits 1 and says they stay queued', { timeout: 120_000 }, async () => {
  const worker = startConvlog(['work', '--until-idle', '--concurrency', '1'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
  try {
    await waitForPages(fixture, 1, 2);
  } finally {
    worker.kill('SIGTERM');
  }
  expect((await worker.exited).code, worker.stderr()).toBe(1);
  expect(worker.stderr()).toContain('"msg":"stopped before the queue was idle: the tickets left stay queued; run it again to go on"');
  const { rows } = await fixture.database.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'queued'`);
  expect(rows[0].n).toBe(2);
});
