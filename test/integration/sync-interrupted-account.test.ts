// Ctrl-C while `convlog sync` starts (Postgres, migrations, the credential check) queues nothing,
// and records nothing either: the database did not become the Zendesk account's for a command
// that did nothing. It was recorded, and a later sync of another account was refused.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 3 });
});
afterAll(async () => {
  await fixture?.close();
});

it('a stop that came while sync was starting records no Zendesk account', async () => {
  const result = await runCli(['sync', '1', '2'], { env: fixture.env, signal: AbortSignal.abort(), timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/^convlog sync: interrupted while starting; nothing was queued$/m);
  expect(result.stderr).not.toMatch(/as the Zendesk account this database holds/);
  const { rows } = await fixture.database.pool.query(`select key from convlog.sync_state where key = 'zendesk_account'`);
  expect(rows).toEqual([]);
});
