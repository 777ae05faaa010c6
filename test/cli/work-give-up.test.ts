// `work --until-idle` is what cron runs, and a cron run must end: while Zendesk or Postgres
// cannot be reached it waits --give-up-after seconds (600 by default), then exits with one line
// and the tickets still queued. Through the real command line.
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

const CREDENTIALS = { ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token-123' };

it('gives up on a Zendesk nothing answers for, exit 1, its tickets still queued with no retry spent', { timeout: 60_000 }, async () => {
  database = await createTestDatabase();
  const env = { DATABASE_URL: database.url, ZENDESK_BASE_URL: `http://127.0.0.1:${await freePort()}`, ...CREDENTIALS };
  expect((await runCli(['enqueue', '1', '2'], { env })).code).toBe(0);

  const run = await runCli(['work', '--until-idle', '--give-up-after', '2'], { env });
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/--until-idle gives up: Zendesk could not be reached for \d+ s \(cannot reach Zendesk at .*\); the tickets stay queued/);
  expect(run.ms).toBeLessThan(30_000);
  // The first line names the deadline: a cron run's log must not say it keeps going.
  expect(run.stderr).toMatch(/no ticket is taken until it answers .*; with --until-idle the worker waits up to 2 s for it \(--give-up-after\), then exits 1/);
  expect(run.stderr).not.toMatch(/keeps running/);
  const jobs = await database.pool.query(`select state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync'`);
  expect(jobs.rows).toEqual([
    { state: 'created', attempts_left: 8 },
    { state: 'created', attempts_left: 8 },
  ]);
});

it('gives up on a Postgres nothing answers for, exit 2, in one line', { timeout: 60_000 }, async () => {
  const env = { DATABASE_URL: `postgres://convlog@127.0.0.1:${await freePort()}/nowhere`, ZENDESK_SUBDOMAIN: 'acme', ...CREDENTIALS };
  const run = await runCli(['work', '--until-idle', '--give-up-after', '2'], { env });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/gave up after \d+ s/);
  expect(run.ms).toBeLessThan(30_000);
});

it('refuses --give-up-after without --until-idle: a service waits out any outage', async () => {
  const run = await runCli(['work', '--give-up-after', '5'], { env: { DATABASE_URL: 'postgres://convlog@127.0.0.1:1/nowhere', ZENDESK_SUBDOMAIN: 'acme', ...CREDENTIALS } });
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')[0]).toBe('convlog work: --give-up-after applies only with --until-idle: a service waits for as long as an outage lasts');
});
