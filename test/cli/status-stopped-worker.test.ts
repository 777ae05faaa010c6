// `convlog status` tells running jobs whose worker stopped (killed: no heartbeat since) from jobs
// in progress. A job stays `active` in pg-boss until a supervising worker takes it over, so with no
// worker up status showed a killed worker's jobs as "running" for as long as nothing started.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 3, seed: 1 }, { queue: [1, 2, 3] });
  // As a worker leaves its jobs: claimed, then beating until it dies (tickets 1 and 2, an hour
  // ago) or still beating (ticket 3).
  await fixture.database.pool.query(
    `update pgboss.job set state = 'active', started_on = now() - interval '1 hour',
            heartbeat_on = case when singleton_key = '3' then now() else now() - interval '1 hour' end
      where name = 'ticket-sync'`,
  );
});
afterAll(async () => {
  await fixture?.close();
});

it('running jobs without a heartbeat are named as those of a stopped worker', { timeout: 60_000 }, async () => {
  const text = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(text.stdout, text.stderr).toMatch(
    /^queue +0 queued, 0 waiting to retry, 3 running \(2 without a heartbeat for 60 s: their worker stopped; the next "convlog work" takes them over\), 0 dead/m,
  );
  const json = await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 });
  expect(JSON.parse(json.stdout).queue).toMatchObject({ running: 3, running_without_heartbeat: 2 });
});
