// The example queries of docs/tickets.md run against hand-made tickets and conversations and
// return the rows a person would expect.
import { beforeAll, expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { refreshTicketAnalytics } from '../../src/db/analytics.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapBrands, mapTicketContext } from '../../src/sync/map-ticket.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { fencedBlocks, repositoryText } from '../helpers/docs.ts';
import { messagingEvent } from '../sync/events.ts';
import { exportedTicket, listedBrand, sideLoadedGroup, VIA_SHAPES } from '../sync/tickets.ts';

const [byGroup, byBrand, waiting] = fencedBlocks(repositoryText('docs/tickets.md'), 'sql');

const now = new Date();
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 10, 12));
const minutes = (from: Date, n: number) => new Date(from.getTime() + n * 60_000).toISOString().replace('.000', '');

async function conversation(ticketId: number, messages: { type: 'user' | 'agent'; at: string }[]) {
  const events = messages.map(({ type, at }, i) =>
    messagingEvent({ created_at: at, received_at: at, author: { display_name: `${type} ${i}`, type, 'zen:support:user_id': type === 'agent' ? 601 : 500 + ticketId } }),
  );
  const { run } = await startRun(database.db, ticketId, { full: true });
  await storePage(database.db, preparePage(mapPage(events, { ticketId }), { ticketId, run, afterCursor: null, requests: 1 }));
  // What the end of a run does: the per-ticket answers the views read.
  await refreshTicketAnalytics(database.db, [ticketId]);
}

const database = useTestDatabase();
beforeAll(async () => {
  const recent = new Date(now.getTime() - 2 * 86_400_000);
  await storeTicketContext(database.db, {
    ...mapTicketContext({
      tickets: [
        // Solved last month in group 801, by e-mail, answered after 10 minutes.
        exportedTicket({ id: 1, status: 'solved', group_id: 801, brand_id: 901, created_at: minutes(lastMonth, 0), via: VIA_SHAPES.email }),
        // Open, in a group no longer listed, by messaging, waiting for an answer.
        exportedTicket({ id: 2, status: 'open', group_id: 802, brand_id: 902, created_at: minutes(recent, 0), via: VIA_SHAPES.whatsapp, from_messaging_channel: true }),
        // Open in group 801, answered: nobody is waiting.
        exportedTicket({ id: 3, status: 'open', group_id: 801, brand_id: 901, created_at: minutes(recent, 0), via: VIA_SHAPES.email }),
        // Deleted: counts nowhere.
        exportedTicket({ id: 4, status: 'deleted', group_id: 801, brand_id: 901, created_at: minutes(recent, 0), via: VIA_SHAPES.email }),
      ],
      groups: [sideLoadedGroup(801, { name: 'Billing' })],
    }),
    brands: mapBrands([listedBrand(901, { name: 'Acme' })]),
  });
  await conversation(1, [{ type: 'user', at: minutes(lastMonth, 0) }, { type: 'agent', at: minutes(lastMonth, 10) }]);
  await conversation(2, [{ type: 'user', at: minutes(recent, 0) }]);
  await conversation(3, [{ type: 'user', at: minutes(recent, 0) }, { type: 'agent', at: minutes(recent, 5) }]);
  // Waiting, and no backfill or read by id has given it a ticket row yet: open, in no group.
  await conversation(5, [{ type: 'user', at: minutes(recent, 0) }]);
});

const run = async (sql: string) => (await database.pool.query(sql)).rows;

it('docs/tickets.md has three example queries', () => {
  expect([byGroup, byBrand, waiting].every(Boolean)).toBe(true);
});

it('first reply time by group, for solved tickets created last month', async () => {
  expect(await run(byGroup)).toEqual([{ group: 'Billing', tickets: '1', median_first_reply_minutes: '10.0' }]);
});

it('messaging and e-mail volume by brand, a brand no longer listed shown by its id', async () => {
  // Ticket 1 (last month) falls within the 30 days early in a month.
  const acme = String(lastMonth.getTime() >= Date.now() - 30 * 86_400_000 ? 2 : 1);
  expect(await run(byBrand)).toEqual([
    { brand: 'Acme', messaging: '0', email: acme, all_tickets: acme },
    { brand: 'brand 902', messaging: '1', email: '0', all_tickets: '1' },
  ]);
});

it('open tickets whose customer is waiting, by group', async () => {
  const rows = await run(waiting);
  expect(rows.map((r) => [r.group, r.waiting])).toEqual([
    ['(no group)', '1'],
    ['group 802', '1'],
  ]);
  expect(rows[1].longest_wait).toMatchObject({ days: 2 });
});
