// An existing database migrates with its answers intact. A database is built at the previous
// release's schema (migrations 0000-0007 only), filled the way that release wrote rows (plain SQL,
// with the content / metadata / body_html copies of raw it kept), and the analyst views' answers
// are captured. Then the full migrations run on it, and each view must answer as before, except
// where the analytics spec (migration 0008) changed a definition on purpose. No Zendesk involved.
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';
import { generateEvent } from '../../src/simulator/generate.ts';
import { defaultTicketSize, ticketProfile } from '../../src/simulator/profile.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { BOT, comment, message, supportUser, transferToAgent, visitor } from '../analyst/hand-written.ts';
import { createEmptyDatabase } from '../helpers/database.ts';
import { earlierMigrations } from '../helpers/earlier-migrations.ts';

const PREVIOUS_RELEASE = 8; // migrations 0000..0007
const ALEX = supportUser('agent', 99, 'Alex');
// Kim wrote as a customer, then as an agent (same Support id): the one deliberate difference in this data.
const KIM_TICKET = 1001;
const HAND_WRITTEN: Record<number, ApiEvent[]> = {
  [KIM_TICKET]: [comment('2024-01-01T10:00:00Z', supportUser('user', 7, 'Kim')), comment('2024-01-01T10:05:00Z', ALEX), comment('2024-01-01T11:00:00Z', supportUser('agent', 7, 'Kim'))],
  // Answered in the same second; a bot hands over; a bot contains; an email thread with a note; an agent before the bot.
  1002: [message('2024-03-01T10:00:00Z', visitor('v-1002'), { receivedAt: '2024-03-01T10:00:00.200Z' }), message('2024-03-01T10:00:00Z', ALEX, { receivedAt: '2024-03-01T10:00:00.700Z' })],
  1003: [message('2024-04-10T10:00:00Z', BOT), message('2024-04-10T10:01:00Z', visitor('v-1003')), transferToAgent('2024-04-10T10:02:00Z'), message('2024-04-10T10:05:00Z', ALEX)],
  1004: [message('2024-04-10T10:00:00Z', BOT), message('2024-04-10T10:01:00Z', visitor('v-1004')), message('2024-04-10T10:02:00Z', BOT)],
  1005: [comment('2024-05-01T10:00:00Z', supportUser('user', 201, 'Ana')), comment('2024-05-01T10:30:00Z', ALEX), comment('2024-05-03T09:05:00Z', ALEX, { public: false }), comment('2024-05-03T09:10:00Z', ALEX)],
  1006: [message('2024-04-10T10:00:00Z', ALEX), message('2024-04-10T10:01:00Z', BOT), message('2024-04-10T10:02:00Z', visitor('v-1006'))],
};
// Simulator tickets 1..20 (seed 1): comments, messaging, attachments, empty tickets (2, 12), one-event ones; 44 has a call.
const SIMULATED = [...Array.from({ length: 20 }, (_, i) => i + 1), 44];
const simulated = (id: number) => Array.from({ length: defaultTicketSize(id) }, (_, i) => generateEvent(ticketProfile(1, id), i) as unknown as ApiEvent);

/** One ticket's rows as the previous release stored them, column by column, in plain SQL. */
async function writePreviousRelease(client: pg.PoolClient, ticketId: number, events: ApiEvent[]): Promise<void> {
  const mapped = mapPage(events, { ticketId });
  // That release gave a call's transcription no body_text.
  const rows = { ...mapped, events: mapped.events.map((e) => (e.contentType === 'voice_recording' ? { ...e, bodyText: null } : e)) };
  await client.query(
    `insert into zendesk.authors as a (author_key, support_user_id, sunco_user_id, type, display_name, avatar_url)
     select "authorKey", "supportUserId", "suncoUserId", type, "displayName", "avatarUrl"
       from jsonb_to_recordset($1::jsonb) as r("authorKey" text, "supportUserId" bigint, "suncoUserId" text, type text, "displayName" text, "avatarUrl" text)
     on conflict (author_key) do update set type = coalesce(excluded.type, a.type), display_name = coalesce(excluded.display_name, a.display_name)`,
    [JSON.stringify(rows.authors)],
  );
  // content, metadata and body_html were copies of raw: the columns 0008 drops.
  await client.query(
    `insert into zendesk.conversation_events (reference, event_id, ticket_id, type, created_at, author_key, content_type, body_text, public,
        source_type, received_at, ticket_version, raw, content, metadata, body_html)
     select raw->>'reference', raw->>'id', "ticketId", raw->>'type', "createdAt", "authorKey", "contentType", "bodyText", public,
        "sourceType", "receivedAt", "ticketVersion", raw, nullif(raw->'content', 'null'), nullif(raw->'metadata', 'null'),
        case when raw->'content'->>'type' = 'html' and jsonb_typeof(raw->'content'->'body') = 'string' then raw->'content'->>'body' end
       from jsonb_to_recordset($1::jsonb) as r("ticketId" bigint, "createdAt" timestamptz, "authorKey" text, "contentType" text, "bodyText" text,
        public boolean, "sourceType" text, "receivedAt" timestamptz, "ticketVersion" integer, raw jsonb)`,
    [JSON.stringify(rows.events)],
  );
  // Attachments count in conversation_timeline.attachment_count (thumbnails in no compared view).
  await client.query(
    `insert into zendesk.attachments (id, ticket_id, event_reference, file_name, content_type, size, inline, deleted)
     select id, "ticketId", "eventReference", "fileName", "contentType", size, inline, deleted
       from jsonb_to_recordset($1::jsonb) as r(id bigint, "ticketId" bigint, "eventReference" text, "fileName" text, "contentType" text, size bigint, inline boolean, deleted boolean)`,
    [JSON.stringify(rows.attachments)],
  );
  await client.query(
    `insert into zendesk.ticket_sync (ticket_id, status, events_synced, pages_synced, events_last_run, requests_last_run, attempts, started_at, last_synced_at, last_full_read_at)
     values ($1, 'synced', $2, 1, $2, 1, 1, now(), now(), now())`,
    [ticketId, events.length],
  );
}

// Every view is read whole, in a fixed order. sync_age is now() - last_synced_at: it changes between two reads.
const VIEWS = {
  ticket_conversations: 'order by ticket_id',
  conversation_timeline: 'order by ticket_id, position',
  agent_replies: 'order by ticket_id, reply_number',
  daily_activity: 'order by day',
};
type View = keyof typeof VIEWS;
const read = async (database: Database, view: View) =>
  (await database.pool.query(`select * from zendesk.${view} ${VIEWS[view]}`)).rows.map(({ sync_age: _, ...row }) => row);
/** The new rows cut to the columns the old view had: appended columns are new, not changes. */
const oldColumns = (before: Record<string, unknown>[], after: Record<string, unknown>[]) =>
  after.map((row) => Object.fromEntries(Object.keys(before[0]).map((k) => [k, row[k]])));
const withoutCallText = (rows: Record<string, unknown>[]) => rows.map((row) => (row.content_type === 'voice_recording' ? { ...row, body_text: '(a call)' } : row));
const notKim = (rows: Record<string, unknown>[]) => rows.filter((r) => Number(r.ticket_id) !== KIM_TICKET);

let database: Database;
let drop: () => Promise<void>;
// The previous release's migrations: its SQL files and a journal that stops at 0007.
const previous = earlierMigrations(PREVIOUS_RELEASE);
const before = {} as Record<View, Record<string, unknown>[]>;
let eventsBefore: { reference: string; raw: unknown }[];
let copiesBefore: Record<string, unknown>[];

beforeAll(async () => {
  const empty = await createEmptyDatabase();
  drop = empty.drop;
  database = await connect(empty.url, silentLogger, 2);
  const client = await database.pool.connect();
  try {
    await migrate(drizzle(client), { migrationsFolder: previous.folder });
    const tickets = [...SIMULATED.map((id) => [id, simulated(id)] as const), ...Object.entries(HAND_WRITTEN).map(([id, e]) => [Number(id), e] as const)];
    for (const [id, events] of tickets) await writePreviousRelease(client, id, events);
    // Tickets the views show without events: a failed sync, a forbidden one; and ticket rows with a status.
    await client.query(`insert into zendesk.ticket_sync (ticket_id, status, attempts, last_error, last_error_at) values
      (2001, 'failed', 3, 'malformed page', '2024-08-01T00:00:00Z'), (2002, 'forbidden', 1, 'Zendesk answered 403', '2024-08-01T00:00:00Z')`);
    await client.query(`insert into zendesk.tickets (id, status, subject, deleted, raw) values
      (1002, 'solved', 'Same second', false, '{}'), (1003, 'open', 'Handed over', false, '{}'), (1, 'closed', 'Simulated', false, '{}')`);
  } finally {
    client.release();
  }
  for (const view of Object.keys(VIEWS) as View[]) before[view] = await read(database, view);
  eventsBefore = (await database.pool.query(`select reference, raw from zendesk.conversation_events order by reference`)).rows;
  copiesBefore = (await database.pool.query(`select reference, content, metadata, body_html from zendesk.conversation_events order by reference`)).rows;
  // The release being tested, on the same database.
  await migrateDatabase(database.pool, silentLogger);
}, 120_000);

afterAll(async () => {
  await database?.close();
  await drop?.();
  previous.remove();
});

describe('migrating a database of the previous release', () => {
  it('keeps every event with the same raw, and fills position and the generated columns', async () => {
    expect(eventsBefore.length).toBeGreaterThan(300);
    expect((await database.pool.query(`select reference, raw from zendesk.conversation_events order by reference`)).rows).toEqual(eventsBefore);
    // The stored columns give what the old timeline computed (Kim's ticket aside: author_type changed on purpose).
    const { rows } = await database.pool.query(
      `select ticket_id, position, event_kind, channel, is_public, author_type, attachment_count, reference
         from zendesk.conversation_events order by ticket_id, position`,
    );
    const keys = ['ticket_id', 'position', 'event_kind', 'channel', 'is_public', 'author_type', 'attachment_count', 'reference'];
    expect(notKim(rows)).toEqual(notKim(before.conversation_timeline).map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))));
  });

  it('reads content, metadata and body_html from raw, with the values the dropped columns held', async () => {
    const { rows } = await database.pool.query(`select reference, content, metadata, body_html from zendesk.conversation_timeline order by reference`);
    expect(rows).toEqual(copiesBefore);
    // The data has HTML comments and messaging content, so the comparison is not of empty columns.
    expect(copiesBefore.filter((r) => r.body_html !== null).length).toBeGreaterThan(10);
  });

  it("gives a call stored without it its transcription as body_text (migration 0033)", async () => {
    const { rows } = await database.pool.query(
      `select body_text, raw #>> '{content,transcription_text}' as transcription from zendesk.conversation_events where content_type = 'voice_recording'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.body_text).toBe(row.transcription);
  });

  it('has one ticket_summaries row per ticket with events', async () => {
    const withEvents = [...new Set(before.conversation_timeline.map((r) => Number(r.ticket_id)))].sort((a, b) => a - b);
    // Simulator tickets 2 and 12 have no events: no summary.
    expect(withEvents).not.toContain(2);
    const { rows } = await database.pool.query(`select ticket_id::int as id from zendesk.ticket_summaries order by 1`);
    expect(rows.map((r) => r.id)).toEqual(withEvents);
  });

  it("gives every file its event's author type as written (migration 0010)", async () => {
    const { rows } = await database.pool.query<{ files: number; copied: number }>(`
      select count(*)::int as files,
             count(*) filter (where f.author_type is not distinct from e.raw #>> '{author,type}')::int as copied
        from zendesk.attachments f join zendesk.conversation_events e on e.reference = f.event_reference`);
    expect(rows[0].files).toBeGreaterThan(0);
    expect(rows[0].copied).toBe(rows[0].files);
    const { rows: missing } = await database.pool.query(`select 1 from zendesk.attachments where author_type is null`);
    expect(missing).toEqual([]);
  });

  it.each(['ticket_conversations', 'conversation_timeline', 'agent_replies'] as const)('%s answers as before, in every old column', async (view) => {
    const after = await read(database, view);
    expect(before[view].length).toBeGreaterThan(0);
    // A call's body_text is its transcription now (migration 0033, checked above).
    expect(withoutCallText(notKim(oldColumns(before[view], after)))).toEqual(withoutCallText(notKim(before[view])));
  });

  it("counts Kim's first message as a customer's now: the author type as written on the event", async () => {
    const types = async () =>
      (await database.pool.query(`select author_type from zendesk.conversation_timeline where ticket_id = $1 order by position`, [KIM_TICKET])).rows.map((r) => r.author_type);
    // Before: authors.type, Kim's type today ('agent'), for all three. After: as each event was written.
    expect(notKim(before.conversation_timeline).length).toBeLessThan(before.conversation_timeline.length);
    expect(before.conversation_timeline.filter((r) => Number(r.ticket_id) === KIM_TICKET).map((r) => r.author_type)).toEqual(['agent', 'agent', 'agent']);
    expect(await types()).toEqual(['user', 'agent', 'agent']);
    const [conversation] = (await database.pool.query(`select end_user_messages, agent_messages from zendesk.ticket_conversations where ticket_id = $1`, [KIM_TICKET])).rows;
    expect(conversation).toEqual({ end_user_messages: 1, agent_messages: 2 });
  });

  it('daily_activity keeps the days with activity, and drops the empty days it used to list', async () => {
    const active = before.daily_activity.filter((r) => (r.events as number) > 0);
    // The simulator's tickets are months apart: the old view listed empty days between them.
    expect(active.length).toBeLessThan(before.daily_activity.length);
    // Kim's ticket changes its day's message counts: compare the other days exactly, and that day's totals.
    const kimDay = '2024-01-01';
    // node-pg reads a date as local midnight: its local calendar fields are the day.
    const day = (r: Record<string, unknown>) => (r.day as Date).toLocaleDateString('sv-SE');
    const after = await read(database, 'daily_activity');
    expect(oldColumns(active, after).filter((r) => day(r) !== kimDay)).toEqual(active.filter((r) => day(r) !== kimDay));
    expect(after.find((r) => day(r) === kimDay)).toMatchObject({ events: 3, end_user_messages: 1, agent_messages: 2 });
  });
});
