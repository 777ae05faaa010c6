// The "last month" example queries (README, docs/tickets.md) cut the month in UTC, as the
// README says its examples do: a BI tool whose session has a local time zone (Metabase sets its
// report time zone) counts the same tickets. date_trunc on a timestamptz cuts in the session's
// zone, so tickets of the first hours of a UTC month dropped out and the next month's came in.
import { expect, it } from 'vitest';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { comment, storeTicket, supportUser } from '../analyst/hand-written.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { fencedBlocks, readmeQuery, repositoryText } from '../helpers/docs.ts';
import { exportedTicket } from '../sync/tickets.ts';

const database = useTestDatabase();

async function solvedTicket(id: number, createdAt: Date) {
  const at = createdAt.toISOString().replace('.000', '');
  await storeTicket(database.db, id, [comment(at, supportUser('user', 5000 + id, `C${id}`)), comment(new Date(createdAt.getTime() + 30_000).toISOString().replace('.000', ''), supportUser('agent', 99, 'Alex'))]);
  await storeTicketContext(
    database.db,
    mapTicketContext({
      tickets: [exportedTicket({ id, status: 'solved', group_id: 801, created_at: at, updated_at: at, generated_timestamp: Math.floor(Date.now() / 1000), url: `https://acme.zendesk.com/api/v2/tickets/${id}.json` })],
    }),
  );
}

/** The query's rows in a session whose time zone is `zone`, as group → solved tickets. */
async function inZone(sql: string, zone: string) {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('timezone', $1, true)`, [zone]);
    const { rows } = await client.query(sql);
    return rows.map((r) => [r.group, Number(r.solved_tickets ?? r.tickets)]);
  } finally {
    await client.query('rollback');
    client.release();
  }
}

it('the month before this one is the UTC month, whatever the session time zone', async () => {
  const now = new Date();
  const utcMonth = (offset: number, hour: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1, hour));
  // The first hours of last month in UTC: still the month before in Los Angeles.
  await solvedTicket(401, utcMonth(-1, 2));
  await solvedTicket(402, utcMonth(-1, 3));
  // The first hours of this month in UTC: last month in Los Angeles.
  await solvedTicket(403, utcMonth(0, 5));
  // The newest ticket, in the middle of this month: the README's month is the one before its.
  await solvedTicket(404, new Date(utcMonth(0, 12).getTime() + 12 * 86_400_000));
  const readme = readmeQuery('last_month');
  const [docs] = fencedBlocks(repositoryText('docs/tickets.md'), 'sql');
  for (const zone of ['UTC', 'America/Los_Angeles', 'Asia/Tokyo']) {
    expect(await inZone(readme, zone), `README in ${zone}`).toEqual([['group 801', 2]]);
    expect(await inZone(docs, zone), `docs/tickets.md in ${zone}`).toEqual([['group 801', 2]]);
  }
});
