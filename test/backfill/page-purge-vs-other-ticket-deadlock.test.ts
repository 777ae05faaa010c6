// A backfill page that lists a ticket deleted, stored while a worker's run of ANOTHER ticket
// writes a page naming some of the same people. The page's statement locked the people it
// side-loads, then its tickets' rows, and only then did the purge lock the people the deleted
// ticket's events name: an end user of a messaging ticket (sunco:…) is rarely side-loaded, and
// sorts before every support:… user. The run's page statement takes its authors in key order:
// that end user, then an agent the backfill page side-loads and held. Each waited for the other,
// and Postgres aborted one as a deadlock. A third session holding a ticket row of the backfill's
// page keeps its statement between the people and its tickets until the run's page has come to wait.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { backfillOf, DAY, nowSec } from './helpers.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 12, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

const query = async (text: string, values: unknown[] = []) => (await f.database.pool.query(text, values)).rows;
const authorsOf = async (ticketId: number) =>
  (await query('select distinct author_key from zendesk.conversation_events where ticket_id = $1 order by 1', [ticketId])).map((r) => r.author_key as string);
const peopleOf = async (ticketId: number) =>
  (await query('select requester_id::text as r, assignee_id::text as a from zendesk.tickets where id = $1', [ticketId])).flatMap(({ r, a }) => [`support:${r}`, `support:${a}`]);

it("a backfill page purging a ticket and another ticket's page naming the same people both commit", async () => {
  await backfillOf(f, { since: nowSec() - 400 * DAY });
  for (let id = 1; id <= 12; id++) expect((await syncTicket(f.deps, id)).status).toBe('synced');
  // Ticket 5's end user wrote in ticket 11 too; ticket 4's assignee (side-loaded with it) works ticket 11.
  const [endUser] = await authorsOf(5);
  const agent = (await peopleOf(4))[1];
  expect(endUser).toMatch(/^sunco:/);
  expect(await authorsOf(11)).toEqual(expect.arrayContaining([endUser, agent]));
  expect([...(await peopleOf(4)), ...(await peopleOf(5))]).not.toContain(endUser);

  f.sim.deleteTicket(5);
  f.sim.markChanged(4);
  const blocker = await holdRows(f.database.pool, 'select from zendesk.tickets where id = 4 for update');
  try {
    const page = settled(backfillOf(f));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const run = settled(syncTicket(f.deps, 11, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ page: await page, run: await run }).toEqual({ page: 'ok', run: 'ok' });
  } finally {
    await blocker.release();
  }
  expect(await query('select count(*)::int as n from zendesk.conversation_events where ticket_id = 5')).toEqual([{ n: 0 }]);
  expect(await query('select count(*)::int as n from zendesk.authors where author_key = $1', [endUser])).toEqual([{ n: 1 }]);
});
