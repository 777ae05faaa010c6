// Two ways a run's stored pages were left out of the per-ticket answers for good: a job pg-boss
// gave up on (its attempts killed, src/queue/dead-letter.ts records the ticket failed with no run
// of its own), here, and a run held while Zendesk was away (no upkeep: the next run does it) whose
// next run `convlog dequeue` then took away (test/queue/dequeue-held-run.test.ts). The timeline
// showed the events, while ticket_conversations, agent_replies and daily_activity counted none.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { recordStatus, startRun } from '../../src/db/ticket-status.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { comment, supportUser } from './hand-written.ts';

const database = useTestDatabase();
const BO = supportUser('agent', 8002, 'Bo');

/** What each view counts of the ticket: all of it, as the timeline shows it, once the status is recorded. */
async function counted(ticketId: number, day: string) {
  const { rows } = await database.pool.query(
    `select (select count(*)::int from zendesk.conversation_timeline where ticket_id = $1 and not pending) as timeline,
            (select events from zendesk.ticket_conversations where ticket_id = $1) as conversations,
            (select sync_status from zendesk.ticket_conversations where ticket_id = $1) as sync_status,
            (select count(*)::int from zendesk.agent_replies where ticket_id = $1) as replies,
            (select coalesce(sum(events), 0)::int from zendesk.daily_activity where day = $2) as daily`,
    [ticketId, day],
  );
  return rows[0];
}

async function storedRun(ticketId: number, day: string, customer: number): Promise<string> {
  const page = [comment(`${day}T10:00:00Z`, supportUser('user', customer, 'Ana')), comment(`${day}T10:05:00Z`, BO)];
  const { run } = await startRun(database.db, ticketId, { full: true });
  await storePage(database.db, preparePage(mapPage(page, { ticketId }), { ticketId, run, afterCursor: 'after-2', requests: 1 }));
  return run;
}

it('a job given up on after its attempts stored pages: every view counts them', async () => {
  await storedRun(4001, '2025-04-07', 8001);
  // A killed attempt records nothing; dead-letter.ts records the ticket failed, with no run.
  await recordStatus(database.db, 4001, { status: 'failed', reason: 'gave up after 3 attempts that never finished' });
  expect(await counted(4001, '2025-04-07')).toEqual({ timeline: 2, conversations: 2, sync_status: 'failed', replies: 1, daily: 2 });
});
