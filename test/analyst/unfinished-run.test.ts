// A run that stores pages and then ends other than synced (stopped, failed, refused) left its
// events in conversation_timeline and author_activity, while ticket_conversations, agent_replies,
// daily_activity and the other per-ticket answers, kept only when a run finished, left them out:
// the views disagreed about the same ticket until its next run finished, and for ever for one
// that ended failed. Such a run now brings the per-ticket answers up to date as it ends.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConvlog } from '../helpers/cli.ts';
import { LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { 1: LONG_TICKET_EVENTS }, latency: 300 }, { queue: [1] });
});
afterAll(async () => {
  await fixture?.close();
});

it('a run stopped after some pages leaves the metric views agreeing with the timeline', { timeout: 120_000 }, async () => {
  const worker = startConvlog(['work'], { env: fixture.env });
  try {
    await waitForPages(fixture, 1, 2);
  } finally {
    worker.kill('SIGTERM');
  }
  expect((await worker.exited).code, worker.stderr()).toBe(0);
  const { rows } = await fixture.database.pool.query<{ status: string; timeline: number; conversations: number | null; daily: number | null; authors: number }>(`
    select s.status,
           (select count(*)::int from zendesk.conversation_timeline t where t.ticket_id = 1 and t.reference is not null) as timeline,
           (select c.events from zendesk.ticket_conversations c where c.ticket_id = 1) as conversations,
           (select sum(d.events)::int from zendesk.daily_activity d) as daily,
           (select sum(a.events)::int from zendesk.author_activity a) as authors
      from zendesk.ticket_sync s where s.ticket_id = 1`);
  const [row] = rows;
  expect(row.status).toBe('queued');
  expect(row.timeline).toBeGreaterThan(0);
  expect(row.timeline).toBeLessThan(LONG_TICKET_EVENTS);
  expect({ conversations: row.conversations, daily: row.daily, authors: row.authors }).toEqual({ conversations: row.timeline, daily: row.timeline, authors: row.timeline });
});
