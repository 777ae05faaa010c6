// Counting files by type must not read the wide attachments table: at two million files that
// took about a second. The README's query, through attachments_with_context, is answered from
// attachments_by_type_idx alone (migrations/0015_attachments_by_type.sql).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const README = fs.readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const byType = [...README.matchAll(/^```sql\n([\s\S]*?)^```$/gm)]
  .map((m) => m[1])
  .filter((sql) => sql.includes('FROM zendesk.attachments_with_context') && sql.includes('GROUP BY content_type'));

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

it('answers the README query counting files by type from the index alone', async () => {
  expect(byType).toHaveLength(1);
  const client = await database.pool.connect();
  try {
    // An empty table would be read whole whatever its indexes: ask for the plan the planner
    // takes once a sequential scan costs more, as it does at a million files.
    await client.query('begin');
    await client.query('set local enable_seqscan = off');
    const { rows } = await client.query(`explain (format json) ${byType[0]}`);
    const plan = JSON.stringify(rows);
    expect(plan).toMatch(/"Node Type":"Index Only Scan"[^}]*"Index Name":"attachments_by_type_idx"/);
    expect(plan).not.toMatch(/"Relation Name":"conversation_events"/);
    await client.query('rollback');
  } finally {
    client.release();
  }
});
