// The demo's example queries say what they count. "Top authors by messages" counted every event
// of an author (internal notes and status changes too), so an agent who writes notes ranked above
// the customers who wrote more messages; "Events by type and channel" labelled source_type as
// channel, a column of conversation_events that means something else.
import { beforeAll, expect, it } from 'vitest';
import { DEMO_QUERIES } from '../../src/commands/demo/queries.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { comment, storeTicket, supportUser, transferToAgent } from './hand-written.ts';

const database = useTestDatabase();
beforeAll(async () => {
  const agent = supportUser('agent', 501, 'Noted Agent');
  const customer = supportUser('user', 601, 'Customer');
  await storeTicket(database.db, 1, [
    comment('2024-08-01T10:00:00Z', customer),
    transferToAgent('2024-08-01T10:00:30Z'),
    comment('2024-08-01T10:01:00Z', agent, { public: false }),
    comment('2024-08-01T10:02:00Z', agent, { public: false }),
    comment('2024-08-01T10:03:00Z', agent, { public: false }),
    comment('2024-08-01T10:04:00Z', agent),
    comment('2024-08-01T10:05:00Z', customer),
  ]);
});

const query = (title: RegExp) => DEMO_QUERIES.find((q) => title.test(q.title))!.sql;

it('top authors by messages counts messages only', async () => {
  const { rows } = await database.pool.query(query(/^Top authors by messages$/));
  expect(rows).toEqual([
    { display_name: 'Customer', type: 'user', messages: 2 },
    { display_name: 'Noted Agent', type: 'agent', messages: 1 },
  ]);
});

it('events by type name the source column source_type, not channel', async () => {
  const { fields } = await database.pool.query(query(/^Events by type/));
  expect(fields.map((f) => f.name)).toEqual(['type', 'source_type', 'events']);
});
