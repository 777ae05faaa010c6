// A trigger's body asking for a full re-read (`"full": true`) over a real serve, Postgres and
// pg-boss: queued as the redaction event types queue theirs, pending comments dropped; anything
// but a boolean is refused with one line and changes nothing.
import { describe, expect, it } from 'vitest';
import { queuedState, sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

const query = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;
const pendingIds = async (ticketId: number) =>
  (await query<{ id: string }>('select comment_id as id from zendesk.pending_comments where ticket_id = $1 order by comment_id', [ticketId])).map((r) => r.id);

/** Sends a comment_added event carrying a comment, which serve records as pending. */
async function addPendingComment(ticketId: number, commentId: string) {
  const body = { ...ticketEvent(ticketId), event: { comment: { id: commentId, body: `comment ${commentId}`, is_public: true, author: { id: '7', name: 'Ann', is_staff: false } } } };
  const answer = await sendWebhook(f.server, body);
  expect(answer.status, answer.body).toBe(200);
  expect(await pendingIds(ticketId)).toContain(commentId);
}

describe('a trigger body with "full": true', () => {
  it('queues the ticket for a full re-read, answered 200 with action full and counted as one', async () => {
    const answer = await sendWebhook(f.server, { ticket_id: '501', full: true });
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ticketId: 501, action: 'full' });
    expect(await queuedState(f.database)).toEqual({ jobs: [{ ticketId: 501, full: true }], tickets: [501] });
    expect(await (await fetch(`${f.server.url}/metrics`)).text()).toMatch(/^convlog_webhooks_accepted_total\{action="full"\} [1-9]/m);
  });

  it('drops the ticket\'s pending comments and notes the time, as a redaction does', async () => {
    await addPendingComment(502, '90001');
    await addPendingComment(503, '90002');
    const answer = await sendWebhook(f.server, { ticket_id: 502, full: true });
    expect(answer.status, answer.body).toBe(200);
    expect(await pendingIds(502)).toEqual([]);
    // Another ticket's are not touched.
    expect(await pendingIds(503)).toEqual(['90002']);
    const [row] = await query<{ noted: boolean }>('select redacted_at is not null as noted from zendesk.ticket_sync where ticket_id = 502');
    expect(row).toEqual({ noted: true });
    // The comment_added already queued a plain sync: the waiting job now reads from the first event.
    expect((await queuedState(f.database)).jobs).toEqual([
      { ticketId: 502, full: true },
      { ticketId: 503, full: false },
    ]);
  });
});

describe('a trigger body without it', () => {
  it('queues a plain sync, as before; "full": false says the same', async () => {
    expect((await sendWebhook(f.server, { ticket_id: '504' })).body).toBe('{"ticketId":504,"action":"sync"}\n');
    expect((await sendWebhook(f.server, { ticket_id: '505', full: false })).body).toBe('{"ticketId":505,"action":"sync"}\n');
    expect(await queuedState(f.database)).toEqual({
      jobs: [
        { ticketId: 504, full: false },
        { ticketId: 505, full: false },
      ],
      tickets: [504, 505],
    });
  });
});

describe('a trigger body whose "full" is not true or false', () => {
  it('is refused 400 with the reason in one line, and nothing is queued, dropped or remembered', async () => {
    await addPendingComment(506, '90003');
    await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
    const before = await query('select ticket_id, redacted_at from zendesk.ticket_sync order by ticket_id');
    f.clearLog();
    for (const full of ['yes', 'true', 1, null]) {
      const answer = await sendWebhook(f.server, { ticket_id: '506', full });
      expect(answer.status, answer.body).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_field', detail: expect.stringMatching(/^"full" must be true or false, not (a string|a number|null)$/) });
    }
    expect(f.logLines()).toEqual(
      ['a string', 'a string', 'a number', 'null'].map((kind) => ({
        level: 40,
        reason: 'invalid_field',
        status: 400,
        remote: '127.0.0.1',
        detail: `"full" must be true or false, not ${kind}`,
        time: expect.any(Number),
        msg: 'webhook rejected: invalid_field',
      })),
    );
    expect((await queuedState(f.database)).jobs).toEqual([]);
    expect(await pendingIds(506)).toEqual(['90003']);
    expect(await query('select ticket_id, redacted_at from zendesk.ticket_sync order by ticket_id')).toEqual(before);
    // Not remembered: the corrected body is not a replay of anything.
    const fixed = await sendWebhook(f.server, { ticket_id: '506', full: true });
    expect(JSON.parse(fixed.body)).toEqual({ ticketId: 506, action: 'full' });
    expect(await (await fetch(`${f.server.url}/metrics`)).text()).toMatch(/^convlog_webhooks_rejected_total\{reason="invalid_field"\} 4$/m);
  });
});
