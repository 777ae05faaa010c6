// `convlog status` must answer at once however large the tables: past a million rows it gives
// Postgres's estimate of a table's rows, said to be one, instead of counting them all.
import { beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

const AUTHORS = 1_200_000;

const database = useTestDatabase();
beforeAll(async () => {
  // Authors are the narrowest table to fill past a million; three events stay few enough to count.
  await database.pool.query(`insert into zendesk.authors (author_key) select 'sunco:' || i from generate_series(1, $1::int) i`, [AUTHORS]);
  await database.pool.query(
    `insert into zendesk.conversation_events (reference, event_id, ticket_id, type, created_at, raw)
     select 'zen:ticket_event:' || i, i::text, 1, 'Comment', now(), '{}'::jsonb from generate_series(1, 3) i`,
  );
  await database.pool.query('analyze zendesk.authors');
  // Rows added since the last ANALYZE count too: the estimate follows the table's pages.
  await database.pool.query(`insert into zendesk.authors (author_key) select 'support:' || i from generate_series(1, 300000) i`);
}, 120_000);

it('estimates a table past a million rows, says so, and counts the others', async () => {
  const env = cliEnvFor(database.url, 'http://127.0.0.1:2');
  const json = await runCli(['status', '--json'], { env });
  expect(json.code, json.stderr).toBe(0);
  const { stored } = JSON.parse(json.stdout);
  expect({ ...stored, authors: Math.abs(stored.authors - 1_500_000) < 15_000 }).toEqual({
    events: 3,
    authors: true,
    attachments: 0,
    thumbnails: 0,
    estimated: ['authors'],
  });

  const text = await runCli(['status'], { env });
  expect(text.stdout).toMatch(/^stored {5}3 events, about 1\.5 million authors, 0 attachments, 0 thumbnails$/m);
});
