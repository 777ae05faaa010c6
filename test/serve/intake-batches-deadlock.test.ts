// Two batches of webhooks writing the same comments and deliveries at once: a batch Postgres was
// slow to finish (serve answered its deliveries 503 and went on) and the next one, holding
// Zendesk's retries of them in another order; or two serve processes behind one address. Each
// inserted its rows in the order the webhooks came, and a row waits for another transaction's
// uncommitted row of the same key: given 9 then 5, and 5 then 9, each waited for the other and
// Postgres aborted one batch as a deadlock. A third session's uncommitted row of ticket 7 keeps
// the first batch between its rows until the second has come to wait.
import { expect, it } from 'vitest';
import { addPendingComments, type PendingComment } from '../../src/db/pending-comments.ts';
import { replayStore } from '../../src/db/webhook-deliveries.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';

const database = useTestDatabase();

const pending = (ticketId: number): PendingComment => ({
  ticketId,
  commentId: `c${ticketId}`,
  body: `comment on ${ticketId}`,
  isPublic: true,
  authorZendeskId: 7,
  authorName: 'Kim',
  authorIsStaff: false,
  writtenAt: '2024-02-01T10:00:00Z',
  webhookEventId: `evt-${ticketId}`,
  raw: { id: `c${ticketId}` },
});
const delivery = (ticketId: number) => ({ key: `evt-${ticketId}`, ticketId });

/** `first` and `second` at once, while a third session's uncommitted `blockerRow` is in the way. */
async function together(blockerRow: string, values: unknown[], first: () => Promise<unknown>, second: () => Promise<unknown>) {
  const blocker = await holdRows(database.pool, blockerRow, values);
  try {
    const one = settled(first());
    await sessionsWaitingForLocks(database.pool, 1);
    const two = settled(second());
    await sessionsWaitingForLocks(database.pool, 2);
    await blocker.release();
    return { first: await one, second: await two };
  } finally {
    await blocker.release();
  }
}

it('two batches recording the same pending comments in opposite orders both commit, each comment once', async () => {
  // As many tickets as an account of some size has, so that Postgres reads the batch in its order
  // (looking each ticket's status up by its key) rather than hashing it.
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) select id, 'synced' from generate_series(1, 50000) as id`);
  const outcome = await together(
    `insert into zendesk.pending_comments (ticket_id, comment_id, body, written_at, raw) values (7, 'c7', 'x', now(), '{}')`,
    [],
    () => addPendingComments(database.db, [pending(9), pending(7), pending(5)]),
    () => addPendingComments(database.db, [pending(5), pending(9)]),
  );
  expect(outcome).toEqual({ first: 'ok', second: 'ok' });
  const { rows } = await database.pool.query('select ticket_id::int as id, comment_id from zendesk.pending_comments order by 1');
  expect(rows).toEqual([5, 7, 9].map((id) => ({ id, comment_id: `c${id}` })));
});

it('two batches remembering the same deliveries in opposite orders both commit, each delivery once', async () => {
  const store = replayStore(database.pool);
  const outcome = await together(
    `insert into convlog.webhook_deliveries (delivery_key, ticket_id) values ('evt-7', 7)`,
    [],
    () => store.remember([delivery(9), delivery(7), delivery(5)]),
    () => store.remember([delivery(5), delivery(9)]),
  );
  expect(outcome).toEqual({ first: 'ok', second: 'ok' });
  expect(await store.seen(['evt-5', 'evt-7', 'evt-9'])).toEqual(new Set(['evt-5', 'evt-7', 'evt-9']));
});
