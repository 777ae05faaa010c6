// node-postgres, like libpq, takes ?host= and ?port= in DATABASE_URL over the URL's own. Messages
// name the server it tried, not the one the URL's host part names (which it never reached).
import { expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { runCli } from '../helpers/cli.ts';

it('names the port of ?port=, which is the one connected to', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const run = await runCli(['status'], { env: { DATABASE_URL: `postgres://convlog@127.0.0.1:1/convlog?port=${port}` } });
  expect(run.code).toBe(2);
  expect(run.stderr.split('\n')[0]).toBe(`convlog status: cannot connect to Postgres at 127.0.0.1:${port}/convlog: connection refused (is Postgres running there?) (check DATABASE_URL)`);
});
