// What `convlog enqueue` says: a span typed without --range, and its counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
const enqueue = (...args: string[]) => runCli(['enqueue', ...args], { env: { DATABASE_URL: database.url } });

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('convlog enqueue', { timeout: 60_000 }, () => {
  it('an id that is a span (1..5) is refused with the --range that queues it', async () => {
    const result = await enqueue('7', '1..5');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'convlog enqueue: invalid ticket id "1..5" (argument 2): ids are positive integers (for a span of ids, give --range 1..5); nothing was queued',
    );
  });
});
