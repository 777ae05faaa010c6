// Definitions an analyst can trust (README.md, "What the words mean"; migration 0008): each one
// shown on a small hand-written ticket, stored as syncTicket stores it (hand-written.ts). Every
// expected value is written out by hand, with why, never computed by production code. Each case
// uses its own ticket ids and its own days, so the file's cases share one database.
import { beforeAll, describe, expect, it } from 'vitest';
import { purgeTicket } from '../../src/db/purge.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { BOT, comment, message, storeTicket, storeTicketStatus, supportUser, transferToAgent, visitor } from './hand-written.ts';

const database = useTestDatabase();

/** Rows with times as ISO strings, so expectations are literal text. */
async function q(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const { rows } = await database.pool.query(text, params);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
}
const store = (ticketId: number, events: Parameters<typeof storeTicket>[2], options?: { pageSize?: number }) =>
  storeTicket(database.db, ticketId, events, options);
const ALEX = supportUser('agent', 99, 'Alex');

describe('definitions', () => {
  it('1. an event keeps the author type it was written with', async () => {
    const kim = (type: 'user' | 'agent') => supportUser(type, 7, 'Kim');
    const question = comment('2024-01-01T10:00:00Z', kim('user'), { text: 'My order is late' });
    const reply = comment('2024-01-01T10:05:00Z', ALEX);
    // Kim later joined the support team: the same Support user id now writes as an agent.
    const later = comment('2024-01-01T11:00:00Z', kim('agent'));
    await store(101, [question, reply, later]);
    // One authors row per person, with the type last seen: a view reading it would call the question an agent's.
    expect(await q(`select type from zendesk.authors where author_key = 'support:7'`)).toEqual([{ type: 'agent' }]);

    expect(await q(`select position, author_key, author_type from zendesk.conversation_timeline where ticket_id = 101 order by position`)).toEqual([
      { position: 1, author_key: 'support:7', author_type: 'user' },
      { position: 2, author_key: 'support:99', author_type: 'agent' },
      { position: 3, author_key: 'support:7', author_type: 'agent' },
    ]);
    // One customer message (the question); two agent messages by two agents; Alex answered after 300 s.
    expect(
      await q(`select end_user_messages, agent_messages, agents_involved, first_agent_reply_seconds, first_reply_agent_key
                 from zendesk.ticket_conversations where ticket_id = 101`),
    ).toEqual([{ end_user_messages: 1, agent_messages: 2, agents_involved: 2, first_agent_reply_seconds: 300, first_reply_agent_key: 'support:99' }]);
    // One wait (the question, answered by Alex); Kim's later agent message follows no customer message, so it ends no wait.
    expect(await q(`select reference, agent_key, waiting_since, end_user_messages, wait_seconds, first_waiting_reference from zendesk.agent_replies where ticket_id = 101`)).toEqual([
      { reference: reply.reference, agent_key: 'support:99', waiting_since: '2024-01-01T10:00:00.000Z', end_user_messages: 1, wait_seconds: 300, first_waiting_reference: question.reference },
    ]);
  });

  it('2. orders a ticket by created_at, then received_at (NULLS LAST), then event_id, then reference', async () => {
    const S = '2024-02-01T10:00:00Z';
    const v = visitor('v-102');
    // An earlier second comes first, though received after everything else.
    const first = message('2024-02-01T09:59:59Z', v, { receivedAt: '2024-02-01T10:00:00.950Z', id: '01HZZZ' });
    // Same second: received_at decides before event_id (this id is larger, its receipt earlier).
    const earlyReceipt = message(S, v, { receivedAt: '2024-02-01T10:00:00.100Z', id: '01HZZY' });
    const lateReceipt = message(S, BOT, { receivedAt: '2024-02-01T10:00:00.900Z', id: '01HA00' });
    // No received_at (comments have none): after those that have one, though this id is the smallest.
    const noReceiptLow = comment(S, ALEX, { id: '01H000' });
    const noReceiptHigh = comment(S, ALEX, { id: '01HC00' });
    // The same event id: the reference decides.
    const sameIdLow = comment(S, ALEX, { id: '01HD00', reference: 'zen:ticket_event:102001' });
    const sameIdHigh = comment(S, ALEX, { id: '01HD00', reference: 'zen:ticket_event:102009' });
    const expected = [first, earlyReceipt, lateReceipt, noReceiptLow, noReceiptHigh, sameIdLow, sameIdHigh].map((e) => e.reference);

    // Scrambled over three pages, so neither insertion order nor one page's order can give the answer.
    await store(102, [sameIdHigh, noReceiptHigh, lateReceipt, first, sameIdLow, noReceiptLow, earlyReceipt], { pageSize: 3 });
    const timeline = await q(`select reference, position from zendesk.conversation_timeline where ticket_id = 102 order by position`);
    expect(timeline).toEqual(expected.map((reference, i) => ({ reference, position: i + 1 })));
    // The stored column is what the view shows.
    expect(await q(`select reference, position from zendesk.conversation_events where ticket_id = 102 order by position`)).toEqual(timeline);

    // A later sync brings an event that sorts second: every position after it moves up by one.
    const lateArrival = message(S, v, { receivedAt: '2024-02-01T10:00:00.050Z' });
    await store(102, [first, earlyReceipt, lateReceipt, noReceiptLow, noReceiptHigh, sameIdLow, sameIdHigh, lateArrival]);
    const again = await q(`select reference from zendesk.conversation_timeline where ticket_id = 102 order by position`);
    expect(again.map((r) => r.reference)).toEqual([expected[0], lateArrival.reference, ...expected.slice(1)]);
  });

  it('3. an answer in the same second as the question counts, with a wait of 0 s', async () => {
    const question = message('2024-03-01T10:00:00Z', visitor('v-103'), { receivedAt: '2024-03-01T10:00:00.200Z' });
    // Same created_at; received 500 ms later, so it comes after the question.
    const answer = message('2024-03-01T10:00:00Z', ALEX, { receivedAt: '2024-03-01T10:00:00.700Z' });
    await store(103, [answer, question]);
    expect(await q(`select first_agent_reply_at, first_agent_reply_seconds, unanswered_since from zendesk.ticket_conversations where ticket_id = 103`)).toEqual([
      { first_agent_reply_at: '2024-03-01T10:00:00.000Z', first_agent_reply_seconds: 0, unanswered_since: null },
    ]);
    expect(await q(`select reply_number, is_first_reply, reference, wait_seconds from zendesk.agent_replies where ticket_id = 103`)).toEqual([
      { reply_number: 1, is_first_reply: true, reference: answer.reference, wait_seconds: 0 },
    ]);
  });

  it('4. waiting for an answer: the customer wrote last (or a transfer to an agent is pending), the ticket is not solved or closed, and not a chat only a bot answers', async () => {
    // Customer, agent, customer: the customer wrote last.
    const lastByCustomer = (id: number) => [
      message('2024-04-01T10:00:00Z', visitor(`v-${id}`)),
      message('2024-04-01T10:05:00Z', ALEX),
      message('2024-04-01T10:10:00Z', visitor(`v-${id}`)),
    ];
    for (const id of [141, 142, 143, 144]) await store(id, lastByCustomer(id));
    await storeTicketStatus(database.db, 141, 'open');
    await storeTicketStatus(database.db, 142, 'solved');
    await storeTicketStatus(database.db, 143, 'closed');
    // 144 has no ticket row: an unknown status counts as not solved.
    // The agent wrote last: nobody is waiting.
    await store(146, [message('2024-04-01T10:00:00Z', visitor('v-146')), message('2024-04-01T10:05:00Z', ALEX)]);
    await storeTicketStatus(database.db, 146, 'open');
    // Bot-only conversations (no agent message), the customer last: waiting on the bot, not on an agent.
    for (const id of [145, 147]) await store(id, [message('2024-04-01T10:00:00Z', BOT), message('2024-04-01T10:01:00Z', visitor(`v-${id}`))]);
    await storeTicketStatus(database.db, 145, 'open');
    await storeTicketStatus(database.db, 147, 'solved');
    // The bot transferred the conversation to an agent and none has written yet (handover_pending):
    // the customer waits for a human, not on the bot, also after writing again.
    await store(148, [message('2024-04-01T10:00:00Z', BOT), message('2024-04-01T10:01:00Z', visitor('v-148')), transferToAgent('2024-04-01T10:02:00Z')]);
    await store(149, [
      message('2024-04-01T10:00:00Z', BOT),
      message('2024-04-01T10:01:00Z', visitor('v-149')),
      transferToAgent('2024-04-01T10:02:00Z'),
      message('2024-04-01T10:30:00Z', visitor('v-149')),
    ]);
    for (const id of [148, 149]) await storeTicketStatus(database.db, id, 'open');
    // The usual transfer: the customer asks for a human, the bot says it is connecting them (the
    // last message is the bot's), the transfer. The customer waits for an agent unless solved.
    for (const id of [139, 140]) {
      await store(id, [message('2024-04-01T10:00:00Z', visitor(`v-${id}`)), message('2024-04-01T10:00:20Z', BOT), transferToAgent('2024-04-01T10:00:21Z')]);
    }
    await storeTicketStatus(database.db, 139, 'solved');
    await storeTicketStatus(database.db, 140, 'open');

    expect(
      await q(`select ticket_id::int as id, last_message_author_type as last, waiting_for_answer as agent, waiting_on_bot as bot
                 from zendesk.ticket_conversations where ticket_id between 139 and 149 order by ticket_id`),
    ).toEqual([
      { id: 139, last: 'bot', agent: false, bot: false },
      { id: 140, last: 'bot', agent: true, bot: false },
      { id: 141, last: 'user', agent: true, bot: false },
      { id: 142, last: 'user', agent: false, bot: false },
      { id: 143, last: 'user', agent: false, bot: false },
      { id: 144, last: 'user', agent: true, bot: false },
      { id: 145, last: 'user', agent: false, bot: true },
      { id: 146, last: 'agent', agent: false, bot: false },
      { id: 147, last: 'user', agent: false, bot: false },
      { id: 148, last: 'user', agent: true, bot: false },
      { id: 149, last: 'user', agent: true, bot: false },
    ]);
  });

  describe('5. bot containment', () => {
    const D = '2024-04-10';
    const bot = (t: string) => message(`${D}T${t}Z`, BOT);
    const customer = (id: number, t: string) => message(`${D}T${t}Z`, visitor(`v-${id}`));
    const agent = (t: string) => message(`${D}T${t}Z`, ALEX);
    const transfer = (t: string) => transferToAgent(`${D}T${t}Z`);

    beforeAll(async () => {
      await store(151, [bot('10:00:00'), customer(151, '10:01:00'), bot('10:02:00')]);
      await store(152, [bot('10:00:00'), customer(152, '10:01:00'), transfer('10:02:00')]);
      await store(153, [bot('10:00:00'), customer(153, '10:01:00'), transfer('10:02:00'), agent('10:05:00')]);
      await store(154, [agent('10:00:00'), bot('10:01:00'), customer(154, '10:02:00')]);
      await store(155, [customer(155, '10:00:00'), agent('10:01:00')]);
      // The bot's transfer with no bot message before it (the usual messaging flow's status change).
      await store(156, [customer(156, '10:00:00'), transfer('10:00:05')]);
      await store(157, [customer(157, '10:00:00'), transfer('10:00:05'), agent('10:03:00')]);
      // A greeting, then a transfer: nothing the customer wrote is unanswered, but they wait for an agent.
      await store(158, [bot('10:00:00'), transfer('10:00:05')]);
      for (const id of [156, 158]) await storeTicketStatus(database.db, id, 'open');
    });

    it('a transfer is the bot in the conversation, with or without a bot message before it', async () => {
      expect(
        await q(`select ticket_id::int as id, bot_outcome, handed_over_at, waiting_for_answer as waiting, unanswered_since
                   from zendesk.ticket_conversations where ticket_id between 156 and 158 order by ticket_id`),
      ).toEqual([
        // Not "no outcome": the customer waits for the agent the bot transferred them to, since their message.
        { id: 156, bot_outcome: 'handover_pending', handed_over_at: null, waiting: true, unanswered_since: `${D}T10:00:00.000Z` },
        // The agent who took over made a handover, 10:03.
        { id: 157, bot_outcome: 'handed_over', handed_over_at: `${D}T10:03:00.000Z`, waiting: false, unanswered_since: null },
        // Waiting since the transfer, not with an empty time (and last in "who waits longest").
        { id: 158, bot_outcome: 'handover_pending', handed_over_at: null, waiting: true, unanswered_since: `${D}T10:00:05.000Z` },
      ]);
    });

    it('names the outcome: contained, handover_pending, handed_over, agent_first, or none without a bot', async () => {
      expect(
        await q(`select ticket_id::int as id, bot_outcome, handover_requested_at, handed_over_at
                   from zendesk.ticket_conversations where ticket_id between 151 and 155 order by ticket_id`),
      ).toEqual([
        // Bot messages only, no transfer: the bot contained it.
        { id: 151, bot_outcome: 'contained', handover_requested_at: null, handed_over_at: null },
        // The bot asked for a human at 10:02 and none has written yet: not contained.
        { id: 152, bot_outcome: 'handover_pending', handover_requested_at: `${D}T10:02:00.000Z`, handed_over_at: null },
        // An agent wrote after the bot (10:05): handed over.
        { id: 153, bot_outcome: 'handed_over', handover_requested_at: `${D}T10:02:00.000Z`, handed_over_at: `${D}T10:05:00.000Z` },
        // An agent wrote before the bot and never after: a human was involved, so not contained.
        { id: 154, bot_outcome: 'agent_first', handover_requested_at: null, handed_over_at: null },
        // No bot message: no outcome.
        { id: 155, bot_outcome: null, handover_requested_at: null, handed_over_at: null },
      ]);
    });
  });

  it('6. tickets deleted in Zendesk count nowhere', async () => {
    const D = '2024-06-01';
    const events = (id: number) => [
      message(`${D}T10:00:00Z`, visitor(`v-${id}`)),
      message(`${D}T10:05:00Z`, ALEX),
      message(`${D}T10:10:00Z`, visitor(`v-${id}`)),
    ];
    for (const id of [161, 162, 163]) await store(id, events(id));
    const SOURCES = [
      'zendesk.ticket_conversations', 'zendesk.conversation_timeline', 'zendesk.agent_replies',
      'zendesk.ticket_summaries', 'zendesk.reply_waits', 'zendesk.ticket_days',
    ];
    const present = async (id: number) => {
      const counts: Record<string, number> = {};
      for (const source of SOURCES) counts[source] = (await q(`select count(*)::int as n from ${source} where ticket_id = $1`, [id]))[0].n as number;
      return counts;
    };
    // Before: 1 conversation, 3 events, 1 reply (10:05), 1 summary, 1 wait, 1 day each.
    const stored = [1, 3, 1, 1, 1, 1];
    for (const id of [161, 162]) expect(Object.values(await present(id))).toEqual(stored);
    expect(await q(`select events from zendesk.daily_activity where day = $1`, [D])).toEqual([{ events: 9 }]);

    await purgeTicket(database.db, 161, { how: '404', mode: 'purge' });
    await purgeTicket(database.db, 162, { how: '404', mode: 'keep' });
    for (const id of [161, 162]) expect(Object.values(await present(id))).toEqual([0, 0, 0, 0, 0, 0]);
    // Only 163's three events are left on that day.
    expect(await q(`select events, tickets_active, tickets_started, agent_replies from zendesk.daily_activity where day = $1`, [D])).toEqual([
      { events: 3, tickets_active: 1, tickets_started: 1, agent_replies: 1 },
    ]);

    // Reported deleted by Zendesk (tickets.deleted) before any purge: its conversation is gone already.
    await storeTicketStatus(database.db, 163, 'deleted');
    expect(await q(`select count(*)::int as n from zendesk.ticket_conversations where ticket_id = 163`)).toEqual([{ n: 0 }]);
  });

  it('7. upkeep touches only the synced ticket', async () => {
    const conversation = (id: number, day: string) => [message(`${day}T10:00:00Z`, visitor(`v-${id}`)), message(`${day}T10:05:00Z`, ALEX)];
    const rowVersions = async (id: number) =>
      q(`select 'summary' as t, xmin::text as x from zendesk.ticket_summaries where ticket_id = $1
         union all select 'wait', xmin::text from zendesk.reply_waits where ticket_id = $1
         union all select 'day', xmin::text from zendesk.ticket_days where ticket_id = $1 order by 1`, [id]);
    await store(171, conversation(171, '2024-07-01'));
    const before = await rowVersions(171);
    expect(before.map((r) => r.t)).toEqual(['day', 'summary', 'wait']);

    // Another ticket on the same day: A's rows are not rewritten (xmin is the writing transaction).
    await store(172, conversation(172, '2024-07-01'));
    expect((await rowVersions(172)).length).toBe(3);
    expect(await rowVersions(171)).toEqual(before);

    // The check can fail: a sync of A itself that changes its log rewrites its summary.
    await store(171, [...conversation(171, '2024-07-01'), message('2024-07-01T11:00:00Z', visitor('v-171'))]);
    const summary = (await rowVersions(171)).find((r) => r.t === 'summary');
    expect(summary?.x).not.toBe(before.find((r) => r.t === 'summary')?.x);
  });

  it('9. weekly_reply_times: every reply by UTC week, its median as percentile_cont gives it', async () => {
    // Each ticket: the customer asks at `at`, Alex answers `wait` seconds later.
    const answered = async (id: number, at: string, wait: number) => {
      const replied = new Date(Date.parse(at) + wait * 1000).toISOString().replace('.000Z', 'Z');
      await store(id, [comment(at, supportUser('user', 300 + id, `C${id}`)), comment(replied, ALEX)]);
    };
    // Week of Monday 2023-03-06: waits 900, 60, 300 (odd count: the middle one, 300); the last
    // reply lands at 23:59:59 UTC on Sunday, still this week.
    await answered(191, '2023-03-06T09:00:00Z', 900);
    await answered(192, '2023-03-08T12:00:00Z', 60);
    await answered(193, '2023-03-12T23:54:59Z', 300);
    // Week of 2023-03-13: waits 600 and 120 (even count: the mean of the two, 360); 90,000 s = 1 day 01:00.
    await answered(194, '2023-03-13T00:00:00Z', 600);
    await answered(195, '2023-03-15T08:00:00Z', 120);
    await answered(196, '2023-03-17T00:00:00Z', 90_000);
    expect(
      await q(`select week::text, replies, median_wait_seconds, longest_wait::text, longest_wait_seconds
                 from zendesk.weekly_reply_times where week between '2023-03-01' and '2023-03-31' order by week`),
    ).toEqual([
      { week: '2023-03-06 00:00:00', replies: 3, median_wait_seconds: 300, longest_wait: '00:15:00', longest_wait_seconds: 900 },
      // 120, 600, 90000: the middle one.
      { week: '2023-03-13 00:00:00', replies: 3, median_wait_seconds: 600, longest_wait: '1 day 01:00:00', longest_wait_seconds: 90_000 },
    ]);
    await answered(197, '2023-03-16T00:00:00Z', 240);
    // Four now: 120, 240, 600, 90000 → the mean of 240 and 600.
    expect(await q(`select replies, median_wait_seconds from zendesk.weekly_reply_times where week = '2023-03-13'`)).toEqual([{ replies: 4, median_wait_seconds: 420 }]);

    // Every week of every case in this file agrees with Postgres's own percentile_cont over agent_replies.
    const direct = await q(`select date_trunc('week', replied_at at time zone 'UTC') as week, count(*)::int as replies,
                                   percentile_cont(0.5) within group (order by wait_seconds) as median_wait_seconds, max(wait_seconds) as longest_wait_seconds
                              from zendesk.agent_replies group by 1 order by 1`);
    expect(direct.length).toBeGreaterThan(5);
    expect(await q(`select week, replies, median_wait_seconds, longest_wait_seconds from zendesk.weekly_reply_times order by week`)).toEqual(direct);
  });

  it('8. daily_activity counts per UTC day, and a day without activity has no row', async () => {
    // X by email; Y by messaging, bot first. Activity on May 1 and May 3; nothing on May 2.
    await store(181, [
      comment('2024-05-01T10:00:00Z', supportUser('user', 201, 'Ana')),
      comment('2024-05-01T10:30:00Z', ALEX), // first reply, 1800 s
      comment('2024-05-03T09:00:00Z', supportUser('user', 201, 'Ana')),
      comment('2024-05-03T09:05:00Z', ALEX, { public: false }), // an internal note
      comment('2024-05-03T09:10:00Z', ALEX), // second reply, 600 s
    ]);
    await store(182, [
      message('2024-05-01T21:59:00Z', BOT),
      message('2024-05-01T22:00:00Z', visitor('v-182')),
      // First reply and handover (agent after the bot): 34 h after 22:00 on May 1 = 122400 s.
      message('2024-05-03T08:00:00Z', ALEX),
    ]);
    expect(
      await q(`select day::text, tickets_active, tickets_started, events, end_user_messages, agent_messages, bot_messages, internal_notes,
                      messaging_events, handovers, agent_replies, median_reply_wait_seconds, first_replies, median_first_reply_seconds
                 from zendesk.daily_activity where day between '2024-05-01' and '2024-05-03' order by day`),
    ).toEqual([
      // X: 2 comments; Y: bot + customer message. One reply (X's, 1800 s), the first of X.
      { day: '2024-05-01', tickets_active: 2, tickets_started: 2, events: 4, end_user_messages: 2, agent_messages: 1, bot_messages: 1, internal_notes: 0,
        messaging_events: 2, handovers: 0, agent_replies: 1, median_reply_wait_seconds: 1800, first_replies: 1, median_first_reply_seconds: 1800 },
      // X: customer, note, reply (600 s); Y: the agent's first reply (122400 s), also its handover. Median of 600 and 122400 = 61500.
      { day: '2024-05-03', tickets_active: 2, tickets_started: 0, events: 4, end_user_messages: 1, agent_messages: 2, bot_messages: 0, internal_notes: 1,
        messaging_events: 1, handovers: 1, agent_replies: 2, median_reply_wait_seconds: 61500, first_replies: 1, median_first_reply_seconds: 122400 },
    ]);
  });
});
