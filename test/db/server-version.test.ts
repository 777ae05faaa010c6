// A server older than convlog supports is refused in one line naming it and its version, before
// anything is migrated: Postgres 12 took every migration and then failed the first sync with
// "function gen_random_uuid() does not exist". The suite's own server is read the same way and
// must pass, or every other test would fail here first.
import pg from 'pg';
import { expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/convlog-errors.ts';
import { OLDEST_SERVER, SERVER_VERSION_SQL, unsupportedServer, type ServerVersion } from '../../src/db/server-version.ts';
import { createEmptyDatabase } from '../helpers/database.ts';

it('refuses a release older than the oldest supported, naming the server and its version', () => {
  const error = unsupportedServer({ num: 120_022, version: '12.22' }, 'db.example.com:5432/convlog');
  expect(error).toBeInstanceOf(ConfigError);
  expect(error?.message).toBe(
    `db.example.com:5432/convlog runs Postgres 12.22, and convlog needs Postgres ${OLDEST_SERVER.name} or later: nothing was changed in it`,
  );
  expect(error?.message).not.toContain('\n');
  // The last minor release below the line, and the line itself.
  expect(unsupportedServer({ num: OLDEST_SERVER.num - 1, version: 'x' }, 'h')).toBeInstanceOf(ConfigError);
  expect(unsupportedServer({ num: OLDEST_SERVER.num, version: OLDEST_SERVER.name }, 'h')).toBeUndefined();
});

it("reads the suite's own server as supported, with the version it reports", async () => {
  const db = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: db.url });
  try {
    await client.connect();
    const [server] = (await client.query<ServerVersion>(SERVER_VERSION_SQL)).rows;
    const { rows } = await client.query<{ major: string }>(`select split_part(current_setting('server_version'), '.', 1) as major`);
    expect(server.num).toBeGreaterThanOrEqual(Number(rows[0].major) * 10_000);
    expect(server.version.startsWith(rows[0].major)).toBe(true);
    expect(unsupportedServer(server, 'h')).toBeUndefined();
  } finally {
    await client.end();
    await db.drop();
  }
});
