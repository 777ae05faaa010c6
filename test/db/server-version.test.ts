// A server older than convlog supports is refused in one line naming it and its version, before
// anything is migrated: Postgres 12 took every migration and then failed the first sync with
// "function gen_random_uuid() does not exist". So is a database not encoded UTF8: LATIN1 took the
// migrations, then failed every ticket holding an emoji or a dash, each after all its retries. The
// suite's own server is read the same way and must pass, or every other test would fail here first.
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import { ConfigError } from '../../src/errors/convlog-errors.ts';
import { OLDEST_SERVER, SERVER_VERSION_SQL, unsupportedServer, type ServerVersion } from '../../src/db/server-version.ts';
import { adminQuery, createEmptyDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { withDatabase } from '../setup/global-postgres.ts';

it('refuses a release older than the oldest supported, naming the server and its version', () => {
  const error = unsupportedServer({ num: 120_022, version: '12.22', encoding: 'UTF8' }, 'db.example.com:5432/convlog');
  expect(error).toBeInstanceOf(ConfigError);
  expect(error?.message).toBe(
    `db.example.com:5432/convlog runs Postgres 12.22, and convlog needs Postgres ${OLDEST_SERVER.name} or later: nothing was changed in it`,
  );
  expect(error?.message).not.toContain('\n');
  // The last minor release below the line, and the line itself.
  expect(unsupportedServer({ num: OLDEST_SERVER.num - 1, version: 'x', encoding: 'UTF8' }, 'h')).toBeInstanceOf(ConfigError);
  expect(unsupportedServer({ num: OLDEST_SERVER.num, version: OLDEST_SERVER.name, encoding: 'UTF8' }, 'h')).toBeUndefined();
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
    expect(server.encoding).toBe('UTF8');
    expect(unsupportedServer(server, 'h')).toBeUndefined();
  } finally {
    await client.end();
    await db.drop();
  }
});

it.each(['LATIN1', 'SQL_ASCII'])('refuses a database encoded %s in one line, exit 2, before migrating anything', async (encoding) => {
  const adminUrl = inject('pgAdminUrl');
  const name = `convlog_test_${encoding.toLowerCase()}_${process.pid}`;
  await adminQuery(adminUrl, `drop database if exists ${name}`);
  await adminQuery(adminUrl, `create database ${name} encoding '${encoding}' lc_collate 'C' lc_ctype 'C' template template0`);
  const url = withDatabase(adminUrl, name);
  try {
    const run = await runCli(['migrate'], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      new RegExp(`^convlog migrate: [^ ]+/${name} is a database encoded ${encoding}, and convlog needs one encoded UTF8, .*: nothing was changed in it; create one with CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0$`),
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`select nspname from pg_namespace where nspname in ('zendesk', 'convlog', 'pgboss', 'drizzle')`);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  } finally {
    await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
  }
});
