// A page whose every attempt came back cut off (the connection dropped mid-body) is the network's
// fault, as a 5xx is: the ticket goes back to the queue for the job's next attempt, not `failed`
// for good. The fault suite's flaky API met it: a ticket failed on its fifth cut-off body in a row.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 1, ticketSizes: { 1: 30 }, truncateRate: 1 });
});
afterAll(async () => {
  await fixture?.close();
});

it('queues a ticket whose page was cut off on every attempt for the job\'s next attempt, which stores it', { timeout: 90_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [1]);
  const failures: { reason: string; final: boolean }[] = [];
  const stop = new AbortController();
  const worker = runWorker(boss, pool, fixture.deps, {
    concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 250,
    onFailure: (_ticketId, reason, final) => void failures.push({ reason, final }),
  });
  const row = async () => (await pool.query(`select status::text, last_error from zendesk.ticket_sync where ticket_id = 1`)).rows[0];
  await vi.waitUntil(() => failures.length > 0, { timeout: 40_000, interval: 50, message: 'the first run never ended' });
  expect(failures[0]).toEqual({ reason: expect.stringMatching(/the JSON body is cut off after \d+ characters/), final: false });
  expect(await row()).toMatchObject({ status: 'queued', last_error: expect.stringMatching(/cut off/) });

  // The network mends: the job's next attempt syncs the ticket.
  fixture.sim.setOptions({ truncateRate: 0 });
  const summary = await worker;
  expect(summary).toMatchObject({ synced: 1, failed: 0 });
  expect(await row()).toMatchObject({ status: 'synced' });
});
