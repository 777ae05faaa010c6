// The README's questions over every file or every ticket must not read more than they need: at
// ten million events each whole-table read costs hundreds of milliseconds of a one-second budget.
// Planner choices that do not depend on table sizes are checked here on an empty database.
import type { PoolClient } from 'pg';
import { expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { readmeQuery } from '../helpers/docs.ts';

const database = useTestDatabase();

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
