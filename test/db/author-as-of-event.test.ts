// A person's type, name and avatar in `authors` are as their newest event has them. Every page
// stored used to overwrite them, however old its events: an old ticket synced after a newer one
// (or read again whole by the full-read sweep) turned an agent back into the customer they once
// were, and author_activity's "the person's type now" flipped with the order of syncs. A Zendesk
// user record newer than an event wins over it. Migration 0034 puts existing rows right.
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { silentLogger } from '../../src/log.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { comment, storeTicket, supportUser } from '../analyst/hand-written.ts';
import { createEmptyDatabase, useTestDatabase } from '../helpers/database.ts';
import { earlierMigrations } from '../helpers/earlier-migrations.ts';
import { sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();
const person = async (key: string) =>
  (await database.pool.query('select type, display_name, written_at from zendesk.authors where author_key = $1', [key])).rows[0];
const ALEX = supportUser('agent', 99, 'Alex');

describe('a page stored', () => {
  it('does not change a person back to what an older event said', async () => {
    // Kim, an agent since 2024, was a customer in 2023; the 2023 ticket is synced last.
    await storeTicket(database.db, 701, [comment('2024-06-01T10:00:00Z', supportUser('user', 8, 'Ana')), comment('2024-06-01T10:05:00Z', supportUser('agent', 7, 'Kim Park'))]);
    await storeTicket(database.db, 702, [comment('2023-01-01T10:00:00Z', supportUser('user', 7, 'Kim')), comment('2023-01-01T10:05:00Z', ALEX)]);
    expect(await person('support:7')).toEqual({ type: 'agent', display_name: 'Kim Park', written_at: new Date('2024-06-01T10:05:00Z') });
    const [activity] = (await database.pool.query(`select author_type, messages from zendesk.author_activity where author_key = 'support:7'`)).rows;
    expect(activity).toMatchObject({ author_type: 'agent' });
    // Each event keeps the type it was written with.
    expect((await database.pool.query(`select author_type from zendesk.conversation_events where author_key = 'support:7' order by created_at`)).rows).toEqual([
      { author_type: 'user' },
      { author_type: 'agent' },
    ]);

    // A newer event does change them.
    await storeTicket(database.db, 703, [comment('2025-02-01T10:00:00Z', supportUser('user', 7, 'Kim P.'))]);
    expect(await person('support:7')).toEqual({ type: 'user', display_name: 'Kim P.', written_at: new Date('2025-02-01T10:00:00Z') });
  });

  it('fills what the row lacks from an older event, and leaves a newer user record as it is', async () => {
    // Lee's Zendesk record (an agent since 2024-06) is stored first, from a backfill's side-loads.
    await storeTicketContext(database.db, mapTicketContext({ tickets: [], users: [sideLoadedUser(17, { name: 'Lee (Support)', role: 'agent', updated_at: '2024-06-01T00:00:00Z' })] }));
    await storeTicket(database.db, 717, [comment('2023-01-01T10:00:00Z', supportUser('user', 17, 'Lee')), comment('2023-01-01T10:05:00Z', ALEX)]);
    expect(await person('support:17')).toMatchObject({ type: 'agent', display_name: 'Lee (Support)' });
    // An event written after the record was last changed is newer news.
    await storeTicket(database.db, 718, [comment('2024-07-01T10:00:00Z', supportUser('agent', 17, 'Lee R.'))]);
    expect(await person('support:17')).toMatchObject({ type: 'agent', display_name: 'Lee R.' });
  });
});

describe('a page naming a person twice', () => {
  const withAvatar = async (key: string) =>
    (await database.pool.query('select display_name, avatar_url, written_at from zendesk.authors where author_key = $1', [key])).rows[0];
  const sam = (fields: Record<string, unknown>) => ({ type: 'agent', 'zen:support:user_id': 5, display_name: 'Sam', ...fields });

  it("does not let its older event's avatar, which its newer event lacks, replace a newer stored one", async () => {
    await storeTicket(database.db, 801, [comment('2024-06-01T10:00:00Z', sam({ avatar_url: 'https://x/new.png' }))]);
    await storeTicket(database.db, 802, [comment('2023-01-01T10:00:00Z', sam({ avatar_url: 'https://x/old.png' })), comment('2025-01-01T10:00:00Z', sam({ display_name: 'Sam R.' }))]);
    // The 2025 event is news: its name; the 2023 one is older than the row's 2024 avatar.
    expect(await withAvatar('support:5')).toEqual({ display_name: 'Sam R.', avatar_url: 'https://x/new.png', written_at: new Date('2025-01-01T10:00:00Z') });
  });

  it("takes its older event's avatar where it is newer than the row's, or the row has none", async () => {
    await storeTicket(database.db, 803, [comment('2022-06-01T10:00:00Z', { ...sam({ avatar_url: 'https://x/2022.png' }), 'zen:support:user_id': 6 })]);
    await storeTicket(database.db, 804, [comment('2023-01-01T10:00:00Z', { ...sam({ avatar_url: 'https://x/2023.png' }), 'zen:support:user_id': 6 }), comment('2025-01-01T10:00:00Z', { ...sam({}), 'zen:support:user_id': 6 })]);
    expect(await withAvatar('support:6')).toMatchObject({ avatar_url: 'https://x/2023.png', written_at: new Date('2025-01-01T10:00:00Z') });

    await storeTicket(database.db, 805, [comment('2023-01-01T10:00:00Z', { ...sam({ avatar_url: 'https://x/first.png' }), 'zen:support:user_id': 9 }), comment('2025-01-01T10:00:00Z', { ...sam({}), 'zen:support:user_id': 9 })]);
    expect(await withAvatar('support:9')).toMatchObject({ avatar_url: 'https://x/first.png', written_at: new Date('2025-01-01T10:00:00Z') });
  });
});

describe('a Zendesk user record stored', () => {
  it('changes a person only when it is newer than the event their values came from, in either order', async () => {
    // A 2025 event says agent; a record last changed in 2024 says end-user.
    const event = (id: number, ticketId: number) => storeTicket(database.db, ticketId, [comment('2025-01-01T10:00:00Z', supportUser('agent', id, 'Lee R.')), comment('2025-01-01T10:05:00Z', ALEX)]);
    const record = (id: number) =>
      storeTicketContext(database.db, mapTicketContext({ tickets: [], users: [sideLoadedUser(id, { name: 'Lee', role: 'end-user', updated_at: '2024-01-01T00:00:00Z' })] }));
    await event(31, 831);
    await record(31);
    await record(32);
    await event(32, 832);
    for (const key of ['support:31', 'support:32']) expect({ key, ...(await person(key)) }).toMatchObject({ key, type: 'agent', display_name: 'Lee R.' });

    // A record changed after that event is newer news.
    await storeTicketContext(database.db, mapTicketContext({ tickets: [], users: [sideLoadedUser(31, { name: 'Lee Ross', role: 'end-user', updated_at: '2025-03-01T00:00:00Z' })] }));
    expect(await person('support:31')).toMatchObject({ type: 'user', display_name: 'Lee Ross' });
  });
});

describe('migration 0034', () => {
  it("gives each person of a database written before it their newest event's type and name, unless their user record is newer", async () => {
    const earlier = earlierMigrations(34);
    const empty = await createEmptyDatabase();
    const db = await connect(empty.url, silentLogger, 2);
    try {
      const client = await db.pool.connect();
      try {
        await migrate(drizzle(client), { migrationsFolder: earlier.folder });
      } finally {
        client.release();
      }
      // As that release left them: the last page stored (the older ticket) had the last word.
      const author = (id: number, type: string, name: string) => ({ 'zen:support:user_id': id, type, display_name: name });
      await db.pool.query(`insert into zendesk.authors (author_key, support_user_id, type, display_name, user_updated_at) values
        ('support:7', 7, 'user', 'Kim', null), ('support:17', 17, 'agent', 'Lee (Support)', '2024-06-01T00:00:00Z'), ('support:99', 99, 'agent', 'Alex', null)`);
      const events = [
        ['a', 1, '2024-06-01T10:05:00Z', 'support:7', author(7, 'agent', 'Kim Park')],
        ['b', 2, '2023-01-01T10:00:00Z', 'support:7', author(7, 'user', 'Kim')],
        ['c', 3, '2023-01-01T10:00:00Z', 'support:17', author(17, 'user', 'Lee')],
      ];
      for (const [reference, ticketId, at, key, who] of events) {
        await db.pool.query(
          `insert into zendesk.conversation_events (reference, event_id, ticket_id, type, created_at, author_key, raw) values ($1, $1, $2, 'Comment', $3, $4, $5)`,
          [reference, ticketId, at, key, { id: reference, type: 'Comment', created_at: at, author: who }],
        );
      }

      await migrateDatabase(db.pool, silentLogger);

      const { rows } = await db.pool.query('select author_key, type, display_name, written_at from zendesk.authors order by 1');
      expect(rows).toEqual([
        // Lee's record (2024-06) is newer than their only event (2023): it stays.
        { author_key: 'support:17', type: 'agent', display_name: 'Lee (Support)', written_at: new Date('2023-01-01T10:00:00Z') },
        { author_key: 'support:7', type: 'agent', display_name: 'Kim Park', written_at: new Date('2024-06-01T10:05:00Z') },
        // Named by no event: left as it was.
        { author_key: 'support:99', type: 'agent', display_name: 'Alex', written_at: null },
      ]);
    } finally {
      await db.close();
      await empty.drop();
      earlier.remove();
    }
  });
});
