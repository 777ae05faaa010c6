// `work` with a wrong API token exits 2 naming the refused credentials; the tickets it had in
// flight when it stopped used to be recorded as "interrupted by shutdown" and retried (spending an
// attempt), so `status` blamed a shutdown and the 401 appeared nowhere. Each ticket the run left
// now names the credentials, and waits with its attempt unspent. Through the real command line.
import { afterEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

let database: TestDatabase | undefined;
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  await database?.close();
  database = sim = undefined;
});

it('a wrong token: every ticket the run left names the refused credentials, none a shutdown, and no attempt is spent', { timeout: 60_000 }, async () => {
  database = await createTestDatabase();
  // Slow answers: the tickets' requests are in flight when the check at start meets the 401.
  sim = await startSimulator({ tickets: 12, rateLimit: 0, latency: 300, apiToken: 'right-token' });
  const env = { ...cliEnvFor(database.url, sim.url), ZENDESK_API_TOKEN: 'wrong-token' };
  expect((await runCli(['enqueue', '--range', '1..12'], { env })).code).toBe(0);

  const run = await runCli(['work', '--until-idle', '--concurrency', '4'], { env });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/refused the credentials \(401/);
  // Said once, in the command's own line, as what it is: the worker stops, and no ticket fails.
  expect(run.stderr.match(/refused the credentials/g), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(/^convlog work: .*refused the credentials \(401.*; the worker stops, its tickets left queued, not failed$/m);

  const { rows } = await database.pool.query<{ ticket_id: number; status: string; last_error: string }>(
    `select ticket_id, status, last_error from zendesk.ticket_sync where last_error is not null order by ticket_id`,
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.status).toBe('queued');
    expect(row.last_error).toMatch(/refused the credentials \(401/);
    expect(row.last_error).not.toMatch(/shutdown/);
  }
  // Held, not retried: each job is due at once and keeps all its attempts for a run with the right token.
  const jobs = await database.pool.query(`select state::text as state, count(*)::int as n from pgboss.job where name = 'ticket-sync' group by 1`);
  expect(jobs.rows).toEqual([{ state: 'created', n: 12 }]);
  const status = await runCli(['status'], { env });
  expect(status.stdout).not.toMatch(/shutdown/);
  expect(status.stdout).toMatch(/refused the credentials/);
});
