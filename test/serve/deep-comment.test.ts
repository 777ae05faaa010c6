// A comment_added whose comment is nested a few thousand levels deep: shallow enough for
// sanitizeForPostgres's walk, too deep for JSON.stringify in addPendingComments. The RangeError
// failed the whole batch (503 for every delivery in it), and every retry of that delivery alone,
// so its ticket was never queued. Such a comment is now no comment (MAX_NESTING,
// src/serve/webhook-comment.ts), and its ticket is queued.
import { expect, it } from 'vitest';
import { queuedState, sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

function commentAdded(ticketId: number) {
  const event = ticketEvent(ticketId);
  return { ...event, event: { comment: { id: `c-${ticketId}`, body: `words ${ticketId}`, is_public: true, author: { id: '42', is_staff: false, name: 'Ana' } } } };
}

function deepCommentAdded(ticketId: number, depth = 5_000): string {
  const event = commentAdded(ticketId);
  return JSON.stringify({ ...event, event: { comment: { ...event.event.comment, deep: '@' } } }).replace('"@"', '['.repeat(depth) + ']'.repeat(depth));
}

it('a comment nested 5,000 deep does not fail the deliveries beside it', async () => {
  const tickets = Array.from({ length: 11 }, (_, i) => i + 1);
  const answers = await Promise.all(tickets.map((id) => sendWebhook(f.server, id === 8 ? deepCommentAdded(8) : commentAdded(id))));
  expect(answers.map((a) => a.status)).toEqual(tickets.map(() => 200));
  expect((await queuedState(f.database)).tickets).toEqual(tickets);
});

it('the deep delivery alone, retried as Zendesk would, still queues its ticket', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await sendWebhook(f.server, deepCommentAdded(9))).status);
  expect(statuses).toEqual([200, 200, 200]);
  expect((await queuedState(f.database)).tickets).toEqual([9]);
});
