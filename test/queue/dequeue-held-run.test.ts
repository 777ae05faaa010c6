// A run held while Zendesk was away stores pages and leaves its upkeep to the ticket's next run;
// `convlog dequeue` then takes that run away. The timeline showed the run's events for good, while
// ticket_conversations, agent_replies and daily_activity counted none. The dequeue now refreshes
// the analyst rows of such tickets once it has committed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { recordStatus, startRun } from '../../src/db/ticket-status.ts';
import { dequeueTickets } from '../../src/queue/dequeue.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { comment, supportUser } from '../analyst/hand-written.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 4002;
let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 1 });
});
afterAll(async () => {
  await f?.close();
});

it('a run held while Zendesk is away, then taken out of the queue: every view counts its pages', async () => {
  await enqueueTickets(f.boss, f.database.db, [TICKET]);
  const page = [comment('2025-04-14T10:00:00Z', supportUser('user', 8003, 'Cy')), comment('2025-04-14T10:05:00Z', supportUser('agent', 8002, 'Bo'))];
  const { run } = await startRun(f.database.db, TICKET, { full: true });
  await storePage(f.database.db, preparePage(mapPage(page, { ticketId: TICKET }), { ticketId: TICKET, run, afterCursor: 'after-2', requests: 1 }));
  await recordStatus(f.database.db, TICKET, { status: 'queued', reason: 'Zendesk unreachable' }, run, { upkeep: false });

  expect(await dequeueTickets(f.database.db, { ticketIds: [TICKET] })).toMatchObject({ removed: 1, begun: 1 });
  const { rows } = await f.database.pool.query(
    `select (select count(*)::int from zendesk.conversation_timeline where ticket_id = $1 and not pending) as timeline,
            (select events from zendesk.ticket_conversations where ticket_id = $1) as conversations,
            (select sync_status from zendesk.ticket_conversations where ticket_id = $1) as sync_status,
            (select count(*)::int from zendesk.agent_replies where ticket_id = $1) as replies,
            (select coalesce(sum(events), 0)::int from zendesk.daily_activity where day = '2025-04-14') as daily`,
    [TICKET],
  );
  expect(rows).toEqual([{ timeline: 2, conversations: 2, sync_status: 'failed', replies: 1, daily: 2 }]);
});
