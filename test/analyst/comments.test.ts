// BI tools and psql show COMMENT ON text next to tables and columns: every table, view and
// column in schema zendesk must have one, so a column added later without words fails here.
import { expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

const RELATIONS = `
  select c.oid, c.relname, c.relkind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'zendesk' and c.relkind in ('r', 'p', 'v', 'm', 'f')`;

it('has the analyst views', async () => {
  const { rows } = await database.pool.query<{ relname: string }>(`${RELATIONS} and c.relkind = 'v' order by 2`);
  expect(rows.map((r) => r.relname)).toEqual([
    'agent_replies',
    'attachments_with_context',
    'author_activity',
    'conversation_timeline',
    'daily_activity',
    'hourly_profile',
    'ticket_conversations',
    'weekly_reply_times',
  ]);
});

it('comments every table and view in schema zendesk, and the schema itself', async () => {
  const { rows } = await database.pool.query<{ relname: string; comment: string | null }>(
    `select r.relname, obj_description(r.oid, 'pg_class') as comment from (${RELATIONS}) r order by 1`,
  );
  expect(rows.length).toBeGreaterThanOrEqual(11);
  expect(rows.filter((r) => !r.comment?.trim()).map((r) => r.relname)).toEqual([]);
  const schema = await database.pool.query(`select obj_description(oid, 'pg_namespace') as c from pg_namespace where nspname = 'zendesk'`);
  expect(schema.rows[0].c).toMatch(/\w+ \w+/);
});

it('comments every column of every table and view in schema zendesk, in words', async () => {
  const { rows } = await database.pool.query<{ col: string; comment: string | null }>(
    `select r.relname || '.' || a.attname as col, col_description(r.oid, a.attnum) as comment
       from (${RELATIONS}) r
       join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
      order by 1`,
  );
  expect(rows.length).toBeGreaterThan(150);
  expect(rows.filter((r) => !r.comment?.trim()).map((r) => r.col)).toEqual([]);
  // A sentence, not a placeholder.
  expect(rows.filter((r) => (r.comment ?? '').split(/\s+/).length < 3).map((r) => r.col)).toEqual([]);
});

it('says what the views do and README defines, where a comment once said otherwise (migration 0023)', async () => {
  const column = async (view: string, name: string) =>
    (
      await database.pool.query<{ c: string }>(
        `select col_description(attrelid, attnum) as c from pg_attribute where attrelid = $1::regclass and attname = $2`,
        [`zendesk.${view}`, name],
      )
    ).rows[0].c;
  // daily_activity has no row for a day without activity (test/analyst/definitions case 8); it promised zeros.
  const daily = (await database.pool.query<{ c: string }>(`select obj_description('zendesk.daily_activity'::regclass, 'pg_class') as c`)).rows[0].c;
  expect(daily).toMatch(/a day without activity has no row/);
  expect(daily).not.toMatch(/zeros/);
  // agent_first and handover_pending tickets have a bot and no handover, and are not contained.
  expect(await column('ticket_conversations', 'bot_handed_over')).not.toMatch(/was contained/);
  expect(await column('ticket_conversations', 'bot_handed_over')).toMatch(/bot_outcome/);
  expect(await column('ticket_conversations', 'bot_outcome')).toMatch(/contained \(no agent message at all and no transfer to an agent pending/);
  // A deleted ticket is in no view (test/analyst/views, the failed-tickets case): no not_found, no ticket_deleted = true.
  expect(await column('ticket_conversations', 'sync_status')).toMatch(/Tickets deleted in Zendesk are not in this view: their tombstones \(not_found\) are in ticket_sync/);
  expect(await column('ticket_conversations', 'ticket_deleted')).toMatch(/^False, or empty when/);
});

it('says of a bot that transferred without writing what migration 0030 made the figures do, in every table that holds them', async () => {
  const comments = async (table: string) =>
    Object.fromEntries(
      (
        await database.pool.query<{ name: string; c: string }>(
          `select attname as name, col_description(attrelid, attnum) as c from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
          [`zendesk.${table}`],
        )
      ).rows.map((r) => [r.name, r.c]),
    );
  const [summaries, conversations] = await Promise.all([comments('ticket_summaries'), comments('ticket_conversations')]);
  // The view passes these through from the table: a BI tool on either shows the same words.
  for (const name of ['bot_outcome', 'handed_over_at', 'unanswered_since']) expect(summaries[name], name).toBe(conversations[name]);
  expect(summaries.bot_outcome).not.toMatch(/without bot messages/);
  expect(conversations.bot_handed_over).toMatch(/or its transfer to an agent/);
  // A transfer alone is a bot in bot_outcome but not in had_bot: the comment says which to count.
  expect(conversations.had_bot).toMatch(/bot_outcome IS NOT NULL/);
});

