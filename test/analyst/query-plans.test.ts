// The README's questions over every file or every ticket must not read more than they need: at
// ten million events each whole-table read costs hundreds of milliseconds of a one-second budget.
// Planner choices that do not depend on table sizes are checked here on an empty database.
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { readmeQuery } from '../helpers/docs.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** Every plan node, flattened, for `sql` planned with `settings` in a transaction rolled back. */
async function planNodes(sql: string, settings: string[] = []): Promise<Record<string, unknown>[]> {
  const client: PoolClient = await database.pool.connect();
  try {
    await client.query('begin');
    for (const setting of settings) await client.query(`set local ${setting}`);
    const { rows } = await client.query(`explain (format json) ${sql}`);
    const nodes: Record<string, unknown>[] = [];
    const walk = (node: Record<string, unknown>) => {
      nodes.push(node);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return nodes;
  } finally {
    await client.query('rollback');
    client.release();
  }
}

it('answers the README query counting files by type from attachments_by_type_idx alone', async () => {
  // An empty table is read whole whatever its indexes: ask for the plan the planner takes once a
  // sequential scan costs more, as it does at a million files.
  const nodes = await planNodes(readmeQuery('FROM zendesk.attachments_with_context', 'GROUP BY content_type'), ['enable_seqscan = off']);
  expect(nodes).toContainEqual(expect.objectContaining({ 'Node Type': 'Index Only Scan', 'Index Name': 'attachments_by_type_idx' }));
  expect(nodes.filter((n) => n['Relation Name'] === 'conversation_events')).toEqual([]);
});

it('answers first reply by agent without reading the tickets, only asking which are deleted', async () => {
  // ticket_conversations joins tickets for its ticket columns; this question uses none, so the
  // join must go, and the deleted-ticket rule read only tickets_deleted_idx (migration 0016).
  const nodes = await planNodes(readmeQuery('FROM zendesk.ticket_conversations', 'first_reply_agent_name'));
  const ticketReads = nodes.filter((n) => n['Relation Name'] === 'tickets');
  expect(ticketReads.length).toBeGreaterThan(0);
  for (const read of ticketReads) expect(read).toMatchObject({ Alias: 'd' });
});

/** The statements of a SQL function, with its `ticket_ids` argument given as a literal. */
async function upkeepStatements(name: string, ticketIds: string): Promise<string[]> {
  const { rows } = await database.pool.query<{ body: string }>(`select prosrc as body from pg_proc where proname = $1`, [name]);
  expect(rows).toHaveLength(1);
  return rows[0].body
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement !== '')
    .map((statement) => statement.replaceAll('ticket_ids', `'${ticketIds}'::bigint[]`));
}

it("keeps each ticket's answers from that ticket's events only: no statement of the upkeep reads other tickets", async () => {
  // Its cost must not grow with the table. The first statement once joined its numbered rows
  // back to every event (on `reference` alone): with statistics older than the table, as during
  // a first sync, Postgres read all the events for each ticket refreshed (migration 0017).
  const statements = [...(await upkeepStatements('refresh_ticket_analytics', '{7}')), ...(await upkeepStatements('refresh_ticket_hours', '{7}'))];
  expect(statements.length).toBeGreaterThanOrEqual(9);
  for (const statement of statements) {
    for (const settings of [[], ['enable_seqscan = off']]) {
      const reads = (await planNodes(statement, settings)).filter((n) => n['Relation Name'] === 'conversation_events' && n['Node Type'] !== 'ModifyTable');
      for (const read of reads) {
        const conditions = [read['Index Cond'], read['Recheck Cond'], read.Filter].filter(Boolean).join(' and ');
        expect(conditions, `${read['Node Type']} on conversation_events in:\n${statement.slice(0, 200)}`).toMatch(/ticket_id/);
      }
    }
  }
});
