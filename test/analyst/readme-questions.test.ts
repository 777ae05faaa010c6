// README's example questions answer what the sentence above each says, on small hand-written
// tickets (hand-written.ts) whose answers are written out by hand. A query reads all of
// ticket_conversations, so a temporary view narrows it to the case's tickets.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_QUERIES } from '../../src/commands/demo/queries.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { readmeQuery } from '../helpers/docs.ts';
import { BOT, comment, message, storeTicket, supportUser, transferToAgent, visitor } from './hand-written.ts';

const database = useTestDatabase();

/** The rows `sql` gives over ticket_conversations narrowed to `ticketIds`, in a transaction rolled back. */
async function over(ticketIds: number[], sql: string): Promise<Record<string, unknown>[]> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    // A view cannot take a parameter: the ids, integers, are written into it.
    await client.query(`create temp view tc as select * from zendesk.ticket_conversations where ticket_id in (${ticketIds.map(Number).join(', ')})`);
    return (await client.query(sql.replace(/zendesk\.ticket_conversations/g, 'pg_temp.tc'))).rows;
  } finally {
    await client.query('rollback');
    client.release();
  }
}

describe('bot containment', () => {
  const D = '2024-04-10';
  const bot = (t: string) => message(`${D}T${t}Z`, BOT);
  const customer = (id: number, t: string) => message(`${D}T${t}Z`, visitor(`v-${id}`));
  const agent = (t: string) => message(`${D}T${t}Z`, supportUser('agent', 99, 'Alex'));

  beforeAll(async () => {
    await storeTicket(database.db, 1, [bot('10:00:00'), customer(1, '10:01:00'), bot('10:02:00')]); // contained
    await storeTicket(database.db, 2, [bot('10:00:00'), customer(2, '10:01:00'), transferToAgent(`${D}T10:02:00Z`)]); // handover_pending
    await storeTicket(database.db, 3, [bot('10:00:00'), customer(3, '10:01:00'), agent('10:05:00')]); // handed_over
    await storeTicket(database.db, 4, [agent('10:00:00'), bot('10:01:00'), customer(4, '10:02:00')]); // agent_first
    await storeTicket(database.db, 5, [customer(5, '10:00:00'), agent('10:01:00')]); // no bot
    // A greeting nobody answered: only the bot wrote. Contained, but no conversation a customer had.
    await storeTicket(database.db, 6, [bot('10:00:00')]);
    // Answer Bot's transfer with no message of its own: a bot took part (handover_pending), though had_bot is false.
    await storeTicket(database.db, 7, [customer(7, '10:00:00'), transferToAgent(`${D}T10:00:30Z`)]);
  });

  it.each([
    ['README', readmeQuery('containment_pct')],
    ['demo', DEMO_QUERIES.find((query) => /containment/i.test(query.title))?.sql ?? ''],
  ])("%s's query counts only 'contained' as contained, of the conversations a customer wrote in", async (_where, sql) => {
    const rows = await over([1, 2, 3, 4, 5, 6, 7], sql);
    // Five conversations with a customer had a bot (1-4, and 7's transfer); only 1 was contained:
    // 20 %. Ticket 6 counts in neither (it would make it 2 of 6); until the queries read
    // bot_outcome, they counted 2 and 4 as contained too, and until they counted by it, left 7 out.
    expect(rows.map((r) => ({ withBot: Number(r.tickets_with_bot), contained: Number(r.contained_by_bot), pct: Number(r.containment_pct) }))).toEqual([
      { withBot: 5, contained: 1, pct: 20 },
    ]);
  });
});

describe('first reply time by agent', () => {
  it('keeps two agents of the same name apart', async () => {
    // Two Support agents both called Sam: 60 s on ticket 11, 600 s on 12.
    await storeTicket(database.db, 11, [comment('2024-08-01T10:00:00Z', supportUser('user', 601, 'Ana')), comment('2024-08-01T10:01:00Z', supportUser('agent', 501, 'Sam'))]);
    await storeTicket(database.db, 12, [comment('2024-08-01T10:00:00Z', supportUser('user', 602, 'Bo')), comment('2024-08-01T10:10:00Z', supportUser('agent', 502, 'Sam'))]);
    const rows = await over([11, 12], readmeQuery('first_reply_agent_name AS agent'));
    // One row each, not one Sam with two tickets and a median of 330 s.
    expect(rows.map((r) => ({ agent: r.agent, tickets: Number(r.tickets), median: Number(r.median_minutes) }))).toEqual([
      { agent: 'Sam', tickets: 1, median: 1 },
      { agent: 'Sam', tickets: 1, median: 10 },
    ]);
  });

  it('leaves out authors Zendesk sent without a user id, whose one key stands for everyone of that name', async () => {
    // As the simulator's demo data has them: "Former employee", type agent, no id. Its tickets
    // may be several people's; in the demo it ranked first, on 4 tickets beside agents' 25.
    const former = { display_name: 'Former employee', type: 'agent' };
    await storeTicket(database.db, 21, [comment('2024-08-02T10:00:00Z', supportUser('user', 611, 'Cy')), comment('2024-08-02T10:01:00Z', former)]);
    await storeTicket(database.db, 22, [comment('2024-08-02T10:00:00Z', supportUser('user', 612, 'Di')), comment('2024-08-02T10:02:00Z', former)]);
    await storeTicket(database.db, 23, [comment('2024-08-02T10:00:00Z', supportUser('user', 613, 'Ed')), comment('2024-08-02T10:05:00Z', supportUser('agent', 503, 'Kim'))]);
    const keys = await over([21, 22, 23], 'select first_reply_agent_key as key from zendesk.ticket_conversations order by ticket_id');
    expect(keys.map((r) => r.key)).toEqual(['anonymous:agent:Former employee', 'anonymous:agent:Former employee', 'support:503']);
    const rows = await over([21, 22, 23], readmeQuery('first_reply_agent_name AS agent'));
    expect(rows.map((r) => ({ agent: r.agent, tickets: Number(r.tickets), median: Number(r.median_minutes) }))).toEqual([{ agent: 'Kim', tickets: 1, median: 5 }]);
  });
});
