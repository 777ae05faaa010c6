// A comment Postgres cannot store must cost only itself: a burst of comment_added webhooks in
// which one is unusable is answered 200 throughout, every ticket queued, every other comment
// recorded, and the log names the ticket, never a comment's body.
import { expect, it } from 'vitest';
import { queuedState, sendWebhook, serveFixtureForFile, ticketEvent } from './serve-fixture.ts';

const f = serveFixtureForFile();

const body = (ticketId: number) => `private words of the customer on ticket ${ticketId}`;

function commentAdded(ticketId: number, time = new Date().toISOString()) {
  const event = ticketEvent(ticketId);
  return { ...event, time, event: { comment: { id: `c-${ticketId}`, body: body(ticketId), is_public: true, author: { id: '42', is_staff: false, name: 'Ana' } } } };
}

/** Sends eleven comment_added webhooks at once, for tickets 1..11, `odd` standing for ticket `oddTicket`'s. */
async function burst(oddTicket: number, odd: unknown) {
  const tickets = Array.from({ length: 11 }, (_, i) => i + 1);
  const answers = await Promise.all(tickets.map((id) => sendWebhook(f.server, id === oddTicket ? odd : commentAdded(id))));
  expect(answers.map((a) => a.status)).toEqual(tickets.map(() => 200));
  expect((await queuedState(f.database)).tickets).toEqual(tickets);
  const { rows } = await f.database.pool.query<{ id: number }>('select ticket_id::int as id from zendesk.pending_comments order by 1');
  expect(rows.map((r) => r.id)).toEqual(tickets.filter((id) => id !== oddTicket));
  for (const id of tickets) expect(f.rawLog()).not.toContain(body(id));
  expect(f.rawLog()).not.toContain('Failed query');
}

it('a comment dated in year 0 is not read (Postgres has no such year); its ticket is queued with the others', async () => {
  await burst(6, commentAdded(6, '0000-06-01T00:00:00Z'));
  expect(f.logLines().filter((l) => (l.level as number) >= 40)).toEqual([]);
});

it('a comment Postgres refuses all the same is skipped with one warning naming its ticket; the others are recorded', async () => {
  // Stands for any value the webhook reader lets through and Postgres refuses as data (SQLSTATE
  // class 22), as it refused year 0 before the reader knew of it.
  await f.database.pool.query(`
    create function refuse_ticket_7() returns trigger language plpgsql as $$
    begin
      if new.ticket_id = 7 then raise exception 'date/time field value out of range' using errcode = '22008'; end if;
      return new;
    end $$`);
  await f.database.pool.query(`create trigger refuse_ticket_7 before insert on zendesk.pending_comments for each row execute function refuse_ticket_7()`);
  try {
    await burst(7, commentAdded(7));
  } finally {
    await f.database.pool.query('drop trigger refuse_ticket_7 on zendesk.pending_comments');
    await f.database.pool.query('drop function refuse_ticket_7()');
  }
  const warnings = f.logLines().filter((l) => (l.level as number) >= 40);
  expect(warnings).toEqual([
    { level: 40, time: expect.any(Number), ticketId: 7, commentId: 'c-7', sqlstate: '22008', msg: expect.stringMatching(/^pending comment not recorded/) },
  ]);
});
