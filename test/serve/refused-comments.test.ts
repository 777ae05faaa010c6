// A comment Postgres cannot store must cost only itself: a burst of comment_added webhooks in
// which one is unusable is answered 200 throughout, every ticket queued, every other comment
// recorded, and the log names the ticket, never a comment's body.
import { randomBytes } from 'node:crypto';
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

it('a comment nested too deep to copy is not read; its ticket is queued with the others', async () => {
  // The copy that makes a comment storable recursed into it and overflowed the stack: the webhook
  // was answered 500, and its ticket not queued, at every retry Zendesk made.
  const depth = 20_000;
  const event = commentAdded(8);
  const text = JSON.stringify({ ...event, event: { comment: { ...event.event.comment, deep: '@' } } }).replace('"@"', '['.repeat(depth) + ']'.repeat(depth));
  await burst(8, text);
});

it('an event id too long to be a key is replayed by its hash; the deliveries in its batch are not refused with it', async () => {
  // The key is an index entry, of at most about 2.7 kB: an 8 kB id failed the insert of every
  // delivery in its batch, all answered 503.
  const id = randomBytes(6_000).toString('base64'); // random: a repeated letter compresses into the index

  const tickets = Array.from({ length: 11 }, (_, i) => i + 21);
  const answers = await Promise.all(tickets.map((t) => sendWebhook(f.server, t === 25 ? ticketEvent(t, 'status_changed', id) : ticketEvent(t, 'status_changed'))));
  expect(answers.map((a) => a.status)).toEqual(tickets.map(() => 200));
  expect((await queuedState(f.database)).tickets).toEqual(expect.arrayContaining(tickets));
  // Sent again, it is the same delivery.
  const again = await sendWebhook(f.server, ticketEvent(25, 'status_changed', id));
  expect(again.status).toBe(200);
  expect(JSON.parse(again.body)).toMatchObject({ replay: true });
});
