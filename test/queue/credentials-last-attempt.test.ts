// A 401 (credentials revoked while `work` runs) is "not this ticket's fault": the worker stops
// (exit 2) and "nothing is marked failed". It used to hand the job back as a retry, spending an
// attempt; on the job's last attempt pg-boss then dead-lettered it, and the next worker
// (credentials fixed) marked the ticket `failed`, blaming a killed worker, and never synced it.
// Now the job is held, its attempt unspent.
import { afterEach, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('a 401 on a job\'s last attempt does not dead-letter the ticket as "failed"', { timeout: 120_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 2, apiToken: 'right-token' });
  const { pool, db } = fixture.database;
  const good = createZendeskHttp({ baseUrl: fixture.sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'right-token' }, requestTimeoutMs: 10_000 });
  const revoked = createZendeskHttp({ baseUrl: fixture.sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'revoked-token' }, requestTimeoutMs: 10_000 });

  await enqueueTickets(fixture.boss, db, [1]);
  // As if ticket 1 had met 8 transient failures (5xx, timeouts) already: this is its last attempt.
  await pool.query(`update pgboss.job set retry_count = retry_limit where name = 'ticket-sync' and singleton_key = '1'`);

  // The token is revoked: the worker meets a 401 on ticket 1 and stops (exit 2 in `work`).
  const first = await runWorker(fixture.boss, pool, { ...fixture.deps, http: revoked }, { concurrency: 1, signal: new AbortController().signal, untilIdle: true });
  expect(first.fatal?.constructor.name).toBe('Unauthorized');
  const held = await pool.query(`select status, last_error from zendesk.ticket_sync where ticket_id = 1`);
  expect(held.rows[0]).toMatchObject({ status: 'queued', last_error: expect.stringMatching(/401/) });

  // The operator fixes the token and runs the worker again.
  await runWorker(fixture.boss, pool, { ...fixture.deps, http: good }, { concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 250 });
  const { rows } = await pool.query(`select status, last_error from zendesk.ticket_sync where ticket_id = 1`);
  // "Wrong credentials (401) stop the command with exit 2 and nothing is marked failed."
  expect(rows[0].status).toBe('synced');
});
