// A webhook about a ticket whose sync job waits out a retry's backoff (pg-boss state 'retry',
// start_after up to 5 minutes ahead) makes that job due at once: the one-job-per-ticket queue
// keeps the waiting job instead of the webhook's, and a redaction would otherwise stay in
// Postgres for the whole backoff.
import { expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

async function waitingJob(ticketId: number) {
  const { rows } = await f.database.pool.query(
    `select state, priority, data->>'full' as full, start_after <= now() as due from pgboss.job where name = 'ticket-sync' and singleton_key = $1`,
    [String(ticketId)],
  );
  return rows;
}

for (const type of ['comment_added', 'comment_redacted']) {
  it(`a ${type} webhook brings forward a job waiting to retry`, async () => {
    const ticketId = type === 'comment_added' ? 321 : 322;
    await enqueueTickets(f.boss, f.database.db, [ticketId]);
    // As pg-boss leaves a job after its 7th failed attempt: retry, about 5 minutes ahead.
    await f.database.pool.query(
      `update pgboss.job set state = 'retry', retry_count = 6, start_after = now() + interval '300 seconds' where name = 'ticket-sync' and singleton_key = $1`,
      [String(ticketId)],
    );
    await f.database.pool.query(`update zendesk.ticket_sync set status = 'queued', last_error = 'HTTP 503' where ticket_id = $1`, [ticketId]);
    expect((await sendWebhook(f.server, ticketEvent(ticketId, type))).status).toBe(200);
    expect(await waitingJob(ticketId)).toEqual([
      { state: 'retry', priority: 10, full: type === 'comment_redacted' ? 'true' : null, due: true },
    ]);
  });
}
