// Ctrl-C during a long enqueue stops it at a batch boundary: each batch's jobs and its tickets'
// queued rows commit together, so what is queued is whole (as many jobs as queued rows), and the
// same command run again queues the rest. It went on to the end before, and a second Ctrl-C then
// left jobs without queued rows (the jobs were committed apart from the rows).
import { afterEach, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';

let database: TestDatabase | undefined;
afterEach(async () => {
  await killAll();
  await database?.close();
  database = undefined;
});

const TOTAL = 300_000;

async function counts(): Promise<{ jobs: number; queuedRows: number }> {
  const { rows } = await database!.pool.query<{ jobs: number; queued_rows: number }>(
    `select (select count(*)::int from pgboss.job where name = 'ticket-sync') as jobs,
            (select count(*)::int from zendesk.ticket_sync where status = 'queued') as queued_rows`,
  );
  return { jobs: rows[0].jobs, queuedRows: rows[0].queued_rows };
}

it('stops at a batch boundary on Ctrl-C, saying how far it got, with every queued job matched by a queued row; run again, it queues the rest', { timeout: 240_000 }, async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, LOG_LEVEL: 'info' };
  const child = startConvlog(['enqueue', '--range', `1..${TOTAL}`], { env });
  await vi.waitUntil(() => /"msg":"enqueueing"/.test(child.stderr()), { timeout: 120_000, interval: 20 });
  child.kill('SIGINT');
  const exit = await child.exited;

  expect(exit.code, child.stderr().slice(-2000)).toBe(1);
  const said = /interrupted: queued ([\d,]+) tickets \(0 already queued\) of the ([\d,]+) ids gone through, of 300,000; run the same command again for the rest/.exec(child.stderr());
  expect(said, child.stderr().slice(-2000)).not.toBeNull();
  const queued = Number(said![1].replaceAll(',', ''));
  expect(queued).toBeLessThan(TOTAL);
  expect(await counts()).toEqual({ jobs: queued, queuedRows: queued });

  const again = await runCli(['enqueue', '--range', `1..${TOTAL}`], { env: { DATABASE_URL: database.url }, timeoutMs: 180_000 });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain(`queued ${(TOTAL - queued).toLocaleString('en-US')} tickets, ${queued.toLocaleString('en-US')} already queued`);
  expect(await counts()).toEqual({ jobs: TOTAL, queuedRows: TOTAL });
});
