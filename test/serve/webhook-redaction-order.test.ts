// Zendesk does not keep the order of a ticket's webhooks, and retries a delivery it was refused
// later: the comment_added of a comment can reach serve after that comment's redaction. It must
// not put the redacted text back in conversation_timeline as a pending comment. Real serve, real
// Postgres, real pg-boss.
import { expect, it } from 'vitest';
import { sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

const SECRET_TEXT = 'my card is 4111 1111 1111 1111';

function commentAdded(ticketId: number, commentId: string, writtenAt: Date, body = SECRET_TEXT) {
  return {
    ...ticketEvent(ticketId, 'comment_added'),
    time: writtenAt.toISOString(),
    event: { comment: { id: commentId, body, is_public: true, author: { id: '7', name: 'Customer', is_staff: false } } },
  };
}

function changed(ticketId: number, type: string, at: Date, commentId: string) {
  return { ...ticketEvent(ticketId, type), time: at.toISOString(), event: { comment: { id: commentId } } };
}

async function timeline(ticketId: number) {
  const { rows } = await f.database.pool.query<{ body_text: string; pending: boolean }>(
    `select body_text, pending from zendesk.conversation_timeline where ticket_id = $1`,
    [ticketId],
  );
  return rows;
}

for (const type of ['comment_redacted', 'comment_made_private']) {
  it(`a comment_added arriving after the ${type} of its comment is not shown`, async () => {
    const ticketId = 4242;
    const written = new Date(Date.now() - 2_000);
    expect((await sendWebhook(f.server, changed(ticketId, type, new Date(), '90001'))).status).toBe(200);
    expect((await sendWebhook(f.server, commentAdded(ticketId, '90001', written))).status).toBe(200);

    expect(await timeline(ticketId)).toEqual([]);
    // The ticket is still queued for its full re-read, which stores the comment as Zendesk keeps it.
    const { rows } = await f.database.pool.query(`select data->>'full' as full from pgboss.job where name = 'ticket-sync' and singleton_key = $1`, [String(ticketId)]);
    expect(rows).toEqual([{ full: 'true' }]);
  });
}

it('a comment written after the ticket\'s redaction is shown as pending', async () => {
  const ticketId = 4243;
  const redactedAt = new Date(Date.now() - 5_000);
  expect((await sendWebhook(f.server, changed(ticketId, 'comment_redacted', redactedAt, '90001'))).status).toBe(200);
  // Without a time of its own, a redaction counts from when serve received it.
  expect((await sendWebhook(f.server, { ...changed(ticketId, 'comment_redacted', redactedAt, '90002'), time: undefined })).status).toBe(200);
  expect((await sendWebhook(f.server, commentAdded(ticketId, '90003', new Date(Date.now() - 60_000), 'an older comment, late'))).status).toBe(200);
  expect((await sendWebhook(f.server, commentAdded(ticketId, '90004', new Date(Date.now() + 1_000), 'a new comment'))).status).toBe(200);

  expect(await timeline(ticketId)).toEqual([{ body_text: 'a new comment', pending: true }]);
});
