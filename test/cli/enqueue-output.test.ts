// What `convlog enqueue` says: a span typed without --range, and its counts.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';

const enqueue = (...args: string[]) => runCli(['enqueue', ...args], { env: { DATABASE_URL: database.url } });

const database = useTestDatabase();

describe('convlog enqueue', { timeout: 60_000 }, () => {
  it('an id that is a span (1..5) is refused with the --range that queues it', async () => {
    const result = await enqueue('7', '1..5');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'convlog enqueue: invalid ticket id "1..5" (argument 2): ids are positive integers (for a span of ids, give --range 1..5); nothing was queued',
    );
  });

  it('writes every count of its summary with thousands separators', async () => {
    // "queued 1,000 tickets" came with "1500 already queued".
    expect((await enqueue('--range', '1..1500')).code).toBe(0);
    const result = await enqueue('--range', '1..2500', '7');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 1,000 tickets, 1,500 already queued, 1 duplicate id ignored \(\d+\.\d s\)\n$/);
  });
});
