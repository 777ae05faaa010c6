// README.md's SQL cannot rot: every ```sql block in it runs against a synced simulator
// database (read-only, rolled back) and must return rows. The entity diagram and the list of
// views must keep naming what schema zendesk actually holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fencedBlocks, repositoryText } from '../helpers/docs.ts';
import { syncedDataset, type Dataset } from './dataset.ts';

const README = repositoryText('README.md');

const queries = fencedBlocks(README, 'sql');

let data: Dataset;
beforeAll(async () => {
  data = await syncedDataset();
}, 120_000);
afterAll(async () => {
  await data?.close();
});

describe('README.md', () => {
  it('shows at least five example queries, among them the ones analysts ask for first', () => {
    expect(queries.length).toBeGreaterThanOrEqual(5);
    const all = queries.join('\n');
    for (const needle of ["channel = 'messaging'", 'bot_handed_over', 'first_agent_reply_seconds', 'attachments_with_context', "'failed'"]) {
      expect(all).toContain(needle);
    }
  });

  it.each(queries.map((sql, i) => [i + 1, sql.split('\n')[0], sql]))('sql block %i (%s) runs and returns rows', async (_n, _first, sql) => {
    const client = await data.database.pool.connect();
    try {
      await client.query('begin read only');
      const result = await client.query(sql as string);
      const results = Array.isArray(result) ? result : [result];
      expect(results.at(-1)!.rows.length, `no rows from:\n${sql}`).toBeGreaterThan(0);
    } finally {
      await client.query('rollback').catch(() => {});
      client.release();
    }
  });

  it('describes every view in schema zendesk and draws every table', async () => {
    const { rows } = await data.database.pool.query<{ relname: string; relkind: string }>(
      `select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'zendesk' and c.relkind in ('r', 'v') order by 1`,
    );
    const diagram = fencedBlocks(README, 'mermaid').find((block) => block.includes('erDiagram'));
    expect(diagram, 'README.md has a Mermaid erDiagram').toBeDefined();
    for (const { relname, relkind } of rows) {
      if (relkind === 'r') expect(diagram, `table ${relname} in the entity diagram`).toMatch(new RegExp(`^\\s*${relname} \\{`, 'm'));
      else expect(README, `view ${relname} described in README.md`).toContain(`| \`${relname}\` |`);
    }
  });
});
